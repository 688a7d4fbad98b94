package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
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
	checkResult(t, res, want)
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
	k, _ := hex.DecodeString(testAdyenKeys[0])
	fuzzBodyMAC(f, bodyFuzz{provider: "adyen-platform", header: "HmacSignature",
		newHash: sha256.New, secret: testAdyenKeys[0], key: k, newV: newAdyenPlatform})
}
