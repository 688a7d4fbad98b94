package verify

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestToken(t *testing.T) {
	src := config.Source{Provider: "token", Secrets: []string{"tok-old-0123456789", "tok-new-0123456789"},
		Token: &config.HeaderToken{Header: "authorization", Prefix: "Bearer "}}
	v, err := newToken(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		header, want string
		index        int
	}{
		{"Bearer tok-new-0123456789", "", 1},
		{"Bearer tok-old-0123456789", "", 0},
		{"bearer tok-new-0123456789", `authorization does not start with "Bearer "`, 0},
		{"Bearer tok-new-012345678", "authorization does not hold a configured token", 0},
		{"Bearer tok-new-0123456789 ", "does not hold a configured token", 0},
		{"", "missing authorization header", 0},
	} {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Authorization", tt.header)
		}
		res, err := v.Verify(&Request{Header: h})
		switch {
		case tt.want == "" && (err != nil || res.SecretIndex != tt.index):
			t.Errorf("%q: %+v, %v", tt.header, res, err)
		case tt.want != "" && (!errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want ErrBadSignature containing %q", tt.header, err, tt.want)
		case err != nil:
			assertNoSecret(t, err, src.Secrets...)
		}
	}
	for _, tt := range []struct {
		src  config.Source
		want string
	}{
		{config.Source{Secrets: []string{"x"}}, "token: required"},
		{config.Source{Secrets: []string{"x"}, Token: &config.HeaderToken{}}, "token.header: required"},
		{config.Source{Secrets: []string{"x"}, Token: &config.HeaderToken{Header: "X Token"}}, "token.header: required"},
		{config.Source{Token: &config.HeaderToken{Header: "X-Token"}}, "secrets: at least one is required"},
	} {
		if _, err := newToken(tt.src); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.src, err, tt.want)
		}
	}
	h, _ := signToken("abc", nil, SignOptions{})
	if got := h.Get("Authorization"); got != "Bearer abc" {
		t.Errorf("default signed header %q", got)
	}
}

// FuzzTokenHeader: no panic, and only prefix+token is accepted.
func FuzzTokenHeader(f *testing.F) {
	f.Add("Bearer tok-0123456789")
	f.Add("Bearer ")
	f.Add("tok-0123456789")
	v, err := newToken(config.Source{Secrets: []string{"tok-0123456789"}, Token: &config.HeaderToken{Header: "Authorization", Prefix: "Bearer "}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{}
		h.Set("Authorization", header)
		if _, err := v.Verify(&Request{Header: h}); err == nil && header != "Bearer tok-0123456789" {
			t.Fatalf("accepted %q", header)
		}
	})
}
