package verify

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Every EasyPost vector, including the three keyed with "sécret", which
// only verify after NFKD normalisation of the secret.
func TestEasyPostVectors(t *testing.T) {
	ext := vectorExts(t)
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("easypost"), v.Provider == "easypost" && !ext[v.ID].SecretAlreadyNormalised
	})
	if n != 3 {
		t.Fatalf("ran %d easypost vectors, want 3", n)
	}
	// The flagged vector keys with the secret's bytes as given (NFC),
	// skipping normalisation: that must fail, which is why hookyard
	// normalises.
	vec := findVector(t, "easypost-invalid-nfc-secret")
	raw := &easypost{keys: newMACKeys(sha256.New, []string{vec.Secret})}
	if _, err := raw.Verify(vec.request()); err == nil {
		t.Error("the NFC bytes of the secret verified; the vector says they must not")
	}
	// Without normalisation the NFC secret would be the wrong key.
	if easypostKey("sécret") != "se\u0301cret" {
		t.Fatalf("NFKD(sécret) = %q", easypostKey("sécret"))
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
	h2, _ := signEasyPost("sécret", body, SignOptions{})
	v2, _ := newEasyPost(config.Source{Secrets: []string{"se\u0301cret"}})
	if _, err := v2.Verify(&Request{Header: h2, Body: body}); err != nil {
		t.Errorf("NFC and NFD spellings of one secret disagree: %v", err)
	}
	h.Set(easypostSigHeader, strings.TrimPrefix(h.Get(easypostSigHeader), easypostSigPrefix))
	if _, err := v.Verify(&Request{Header: h, Body: body}); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("without prefix: %v", err)
	}
}

// FuzzEasyPostSignature: no panic, and only the prefixed HMAC of the body
// is accepted.
func FuzzEasyPostSignature(f *testing.F) {
	fuzzBodyMAC(f, bodyFuzz{provider: "easypost", header: easypostSigHeader, prefix: easypostSigPrefix, hex: true,
		newHash: sha256.New, secret: "easypost-webhook-secret", newV: newEasyPost})
}
