package verify

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
)

func TestNone(t *testing.T) {
	v, err := newNone(config.Source{Provider: "none"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(&Request{Header: http.Header{}, Body: []byte("anything")})
	if err != nil || res != (Result{SecretIndex: -1}) {
		t.Fatalf("Verify = %+v, %v; want SecretIndex -1", res, err)
	}
	h, err := signNone("", []byte("x"), SignOptions{})
	if err != nil || len(h) != 0 {
		t.Fatalf("Sign = %v, %v; want no headers", h, err)
	}
	_, err = newNone(config.Source{Provider: "none", Secrets: []string{"s3cret-value"}})
	if err == nil || !strings.HasPrefix(err.Error(), "secrets:") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("New with secrets: %v, want an error naming secrets", err)
	}
}
