package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestZendeskVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("zendesk"), v.Provider == "zendesk"
	})
	if n != 5 {
		t.Fatalf("ran %d zendesk vectors, want 5", n)
	}
}

func TestZendeskResult(t *testing.T) {
	vec := findVector(t, "zendesk-computed-1")
	v, err := newZendesk(vec.source("zendesk"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "zen:event-type:ticket.created", DeliveryID: "8350205582",
		Timestamp: time.Date(2021, 3, 25, 5, 9, 27, 0, time.UTC)}
	if !res.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", res.Timestamp, want.Timestamp)
	}
	res.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// The signature reproduces, and a bad timestamp is named.
	h, _ := signZendesk(vec.Secret, []byte(vec.Body), SignOptions{Now: time.Date(2021, 3, 25, 5, 9, 27, 0, time.UTC)})
	if got := h.Get(zendeskSigHeader); got != vec.Headers["x-zendesk-webhook-signature"] {
		t.Errorf("signature %q, want %q", got, vec.Headers["x-zendesk-webhook-signature"])
	}
	r := vec.request()
	r.Header.Set(zendeskTimestampHeader, "1616648967")
	if _, err := v.Verify(r); !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), "not an RFC 3339 time") {
		t.Errorf("unix timestamp: %v", err)
	}
}

// FuzzZendeskSignature: no panic; only the base64 HMAC of timestamp+body is
// accepted, with the timestamp inside the window.
func FuzzZendeskSignature(f *testing.F) {
	const secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
	for _, v := range loadVectors(f) {
		if v.Provider == "zendesk" {
			f.Add(v.Headers["x-zendesk-webhook-signature"], v.Headers["x-zendesk-webhook-signature-timestamp"], []byte(v.Body), v.VerifyAt)
		}
	}
	ver, err := newZendesk(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte, now int64) {
		h := http.Header{}
		h.Set(zendeskSigHeader, sig)
		h.Set(zendeskTimestampHeader, ts)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		at, perr := time.Parse(time.RFC3339, ts)
		if perr != nil || at.Unix() < now-300 || at.Unix() > now+300 {
			t.Fatalf("accepted timestamp %q at %d", ts, now)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(ts))
		m.Write(body)
		if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
			t.Fatalf("accepted %q, want %q", sig, want)
		}
	})
}
