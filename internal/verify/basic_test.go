package verify

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Provider "basic" has one credential and no secrets list, so it is not in
// the conformance suite (rotation); these tests cover the same ground.

func basicSource(user, pass string) config.Source {
	return config.Source{Provider: "basic", BasicAuth: &config.BasicAuth{Username: user, Password: pass}}
}

func TestBasic(t *testing.T) {
	v, err := newBasic(basicSource("adyen", "s3cret:with:colons"))
	if err != nil {
		t.Fatal(err)
	}
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, header, want string // want: error text; "" when accepted
	}{
		{"round trip", "Basic " + enc("adyen:s3cret:with:colons"), ""},
		{"scheme case", "bAsIc " + enc("adyen:s3cret:with:colons"), ""},
		{"wrong password", "Basic " + enc("adyen:s3cret"), "Authorization credentials do not match"},
		{"wrong user", "Basic " + enc("Adyen:s3cret:with:colons"), "credentials do not match"},
		{"no colon", "Basic " + enc("adyen"), "is not HTTP Basic credentials"},
		{"bearer", "Bearer " + enc("adyen:s3cret:with:colons"), "is not HTTP Basic credentials"},
		{"not base64", "Basic %%%", "is not HTTP Basic credentials"},
		{"missing", "", "missing Authorization header"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Authorization", tt.header)
		}
		res, err := v.Verify(&Request{Header: h, Body: []byte("{}")})
		switch {
		case tt.want == "" && (err != nil || res.SecretIndex != 0):
			t.Errorf("%s: %+v, %v", tt.name, res, err)
		case tt.want != "" && (!errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want ErrBadSignature containing %q", tt.name, err, tt.want)
		case err != nil:
			assertNoSecret(t, err, "s3cret:with:colons", "s3cret")
		}
	}

	h, err := signBasic("adyen:s3cret:with:colons", nil, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(&Request{Header: h}); err != nil {
		t.Errorf("signed: %v", err)
	}
	if _, err := signBasic("no-colon", nil, SignOptions{}); err == nil {
		t.Error("signed a secret without a username")
	}
}

func TestBasicNew(t *testing.T) {
	for _, tt := range []struct {
		src  config.Source
		want string
	}{
		{config.Source{Provider: "basic"}, "basic_auth: required"},
		{basicSource("", "p"), "basic_auth.username: required"},
		{basicSource("a:b", "p"), "basic_auth.username: required, without a colon"},
		{basicSource("u", ""), "basic_auth.password: required"},
		{config.Source{Provider: "basic", Secrets: []string{"x"}, BasicAuth: &config.BasicAuth{Username: "u", Password: "p"}}, "secrets: provider \"basic\" checks basic_auth"},
	} {
		if _, err := newBasic(tt.src); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.src, err, tt.want)
		}
	}
}

// FuzzBasicAuthorization: no panic, and only the configured credentials are
// accepted.
func FuzzBasicAuthorization(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("user:pass")))
	f.Add("Basic dXNlcjpwYXNz\n")
	f.Add("basic ")
	f.Add("Bearer dXNlcjpwYXNz")
	v, err := newBasic(basicSource("user", "pass"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{}
		h.Set("Authorization", header)
		if _, err := v.Verify(&Request{Header: h}); err != nil {
			return
		}
		scheme, cred, _ := strings.Cut(header, " ")
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if !strings.EqualFold(scheme, "basic") || err != nil || string(raw) != "user:pass" {
			t.Fatalf("accepted %q", header)
		}
	})
}
