package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestAdyenPlatformVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("adyen-platform"), v.Provider == "adyen-platform"
	})
	if n != 4 {
		t.Fatalf("ran %d adyen-platform vectors, want 4", n)
	}
}

func TestAdyenPlatformResult(t *testing.T) {
	vec := findVector(t, "adyen-platform-computed-2")
	v, err := newAdyenPlatform(vec.source("adyen-platform"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "balancePlatform.accountHolder.created", Timestamp: time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC)}
	if !res.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", res.Timestamp, want.Timestamp)
	}
	res.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	h, _ := signAdyenPlatform(vec.Secret, []byte(vec.Body), SignOptions{})
	if got := h.Get("HmacSignature"); got != vec.Headers["HmacSignature"] {
		t.Errorf("signature %q, want %q", got, vec.Headers["HmacSignature"])
	}
	if _, err := signAdyenPlatform("xyz", nil, SignOptions{}); err == nil {
		t.Error("signed with a key that is not hex")
	}
}

// FuzzAdyenPlatformSignature: no panic; only the base64 HMAC of the body
// under the hex-decoded key.
func FuzzAdyenPlatformSignature(f *testing.F) {
	key := testAdyenKeys[0]
	for _, v := range loadVectors(f) {
		if v.Provider == "adyen-platform" {
			f.Add(v.Headers["HmacSignature"], []byte(v.Body))
		}
	}
	ver, err := newAdyenPlatform(config.Source{Secrets: []string{key}})
	if err != nil {
		f.Fatal(err)
	}
	k, _ := hex.DecodeString(key)
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set("HmacSignature", sig)
		if _, err := ver.Verify(&Request{Header: h, Body: body}); err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		m := hmac.New(sha256.New, k)
		m.Write(body)
		if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
			t.Fatalf("accepted %q, want %q", sig, want)
		}
	})
}
