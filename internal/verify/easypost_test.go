package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// The ASCII-secret vector runs as it is. The three with the secret
// "sécret" need NFKD, which hookyard cannot do without golang.org/x/text:
// New must refuse that secret, naming the reason, and the verification
// itself is checked with the secret decomposed by hand.
func TestEasyPostVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("easypost"), v.Provider == "easypost" && checkASCII(v.Secret) == nil
	})
	if n != 1 {
		t.Fatalf("ran %d ASCII-secret easypost vectors, want 1", n)
	}

	ext := vectorExts(t)
	m := 0
	for _, vec := range loadVectors(t) {
		if vec.Provider != "easypost" || checkASCII(vec.Secret) == nil {
			continue
		}
		m++
		_, err := newEasyPost(vec.source("easypost"))
		if err == nil || !strings.HasPrefix(err.Error(), "secrets[0]: contains non-ASCII characters") || strings.Contains(err.Error(), vec.Secret) {
			t.Errorf("%s: New: %v, want the non-ASCII refusal without the secret", vec.ID, err)
		}
		// "sécret" (NFC) decomposes to "se\u0301cret"; the flagged vector
		// shows that keying with the NFC bytes fails.
		key := strings.ReplaceAll(vec.Secret, "é", "e\u0301")
		if ext[vec.ID].SecretAlreadyNormalised {
			key = vec.Secret
		}
		v := &easypost{keys: newMACKeys(sha256.New, []string{key})}
		_, err = v.Verify(vec.request())
		if vec.ExpectedValid != (err == nil) {
			t.Errorf("%s: with the NFKD secret by hand: %v, want valid=%v", vec.ID, err, vec.ExpectedValid)
		}
	}
	if m != 3 {
		t.Fatalf("checked %d non-ASCII easypost vectors, want 3", m)
	}
}

func TestEasyPostResult(t *testing.T) {
	vec := findVector(t, "easypost-computed-2")
	v, err := newEasyPost(vec.source("easypost"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Topic: "tracker.updated", DeliveryID: "evt_example"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	body := []byte(`{"id":"evt_1","description":"batch.created","created_at":"2024-08-02T19:26:52.000Z"}`)
	h, err := signEasyPost("s3cret", body, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ = newEasyPost(config.Source{Secrets: []string{"s3cret"}})
	res, err = v.Verify(&Request{Header: h, Body: body})
	if err != nil || !res.Timestamp.Equal(time.Date(2024, 8, 2, 19, 26, 52, 0, time.UTC)) {
		t.Errorf("created_at: %+v, %v", res, err)
	}
	if _, err := signEasyPost("sécret", body, SignOptions{}); err == nil {
		t.Error("signed with a non-ASCII secret")
	}
	h.Set(easypostSigHeader, strings.TrimPrefix(h.Get(easypostSigHeader), easypostSigPrefix))
	if _, err := v.Verify(&Request{Header: h, Body: body}); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("without prefix: %v", err)
	}
}

// FuzzEasyPostSignature: no panic, and only the prefixed HMAC of the body
// is accepted.
func FuzzEasyPostSignature(f *testing.F) {
	const secret = "easypost-webhook-secret"
	for _, v := range loadVectors(f) {
		if v.Provider == "easypost" {
			f.Add(v.Headers["X-Hmac-Signature"], []byte(v.Body))
		}
	}
	ver, err := newEasyPost(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set(easypostSigHeader, sig)
		if _, err := ver.Verify(&Request{Header: h, Body: body}); err != nil {
			return
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if want := easypostSigPrefix + hex.EncodeToString(m.Sum(nil)); !strings.HasPrefix(sig, easypostSigPrefix) || !strings.EqualFold(sig, want) {
			t.Fatalf("accepted %q, want %s", sig, want)
		}
	})
}
