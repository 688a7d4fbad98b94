package verify

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestGitHubVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("github"), v.Provider == "github"
	})
	if n != 4 {
		t.Fatalf("ran %d github vectors, want 4", n)
	}
}

func TestGitHubResult(t *testing.T) {
	vec := findVector(t, "github-computed-ping")
	v, err := newGitHub(vec.source("github"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Topic: "ping", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// Only the legacy SHA-1 header: say why it is not enough.
	r := vec.request()
	r.Header.Del(githubSigHeader)
	_, err = v.Verify(r)
	if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), "legacy SHA-1") {
		t.Errorf("sha1 only: %v, want ErrBadSignature mentioning the legacy header", err)
	}

	// Upper-case hex is the same signature.
	r = vec.request()
	r.Header.Set(githubSigHeader, "sha256="+strings.ToUpper(strings.TrimPrefix(r.Header.Get(githubSigHeader), "sha256=")))
	if _, err := v.Verify(r); err != nil {
		t.Errorf("upper-case hex: %v", err)
	}
}

// FuzzGitHubSignature: no panic, and only the HMAC of the body is accepted.
func FuzzGitHubSignature(f *testing.F) {
	fuzzBodyMAC(f, bodyFuzz{provider: "github", header: githubSigHeader, prefix: "sha256=", hex: true,
		newHash: sha256.New, secret: "It's a Secret to Everybody", newV: newGitHub})
}
