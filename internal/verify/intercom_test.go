package verify

import (
	"crypto/sha1"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestIntercomVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("intercom"), v.Provider == "intercom"
	})
	if n != 4 {
		t.Fatalf("ran %d intercom vectors, want 4", n)
	}
}

func TestIntercomResult(t *testing.T) {
	vec := findVector(t, "intercom-computed-1")
	v, err := newIntercom(vec.source("intercom"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "conversation.user.created", DeliveryID: "notif_78c122d0-23ba-11e4-9464-79b01267cc2e"}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	body := []byte(`{"type":"notification_event","id":"notif_1","topic":"ping","created_at":1700000000}`)
	h, _ := signIntercom(vec.Secret, body, SignOptions{})
	res, err = v.Verify(&Request{Header: h, Body: body})
	if err != nil || !res.Timestamp.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created_at: %+v, %v", res, err)
	}
	// Prefix and encoding are checked.
	for _, sig := range []string{strings.TrimPrefix(h.Get(intercomSigHeader), "sha1="), "sha256=" + strings.TrimPrefix(h.Get(intercomSigHeader), "sha1=")} {
		h.Set(intercomSigHeader, sig)
		if _, err := v.Verify(&Request{Header: h, Body: body}); !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), `"sha1=" followed by a hex HMAC-SHA1`) {
			t.Errorf("%q: %v", sig, err)
		}
	}
}

// FuzzIntercomSignature: no panic, and only the HMAC-SHA1 of the body is
// accepted.
func FuzzIntercomSignature(f *testing.F) {
	fuzzBodyMAC(f, bodyFuzz{provider: "intercom", header: intercomSigHeader, prefix: "sha1=", hex: true,
		newHash: sha1.New, secret: "intercom-client-secret-example", newV: newIntercom})
}
