package verify

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/hookyard/hookyard/internal/config"
)

// Provider "token" accepts requests whose token.header carries one of the
// source's secrets, after token.prefix ("Bearer " for an Authorization
// header): for senders that can only add a static header. Like "basic" it
// proves knowledge of a secret, not an unchanged body, and signs no time.
// The tokens are the source's secrets, so they rotate like any other
// provider's: list the new token beside the old one. Each comparison is of
// SHA-256 digests in constant time, which hides the tokens' lengths too.
var tokenProvider = Provider{
	Name: "token",
	JSON: false,
	New:  newToken,
	Sign: signToken,
}

// defaultSignToken is what "hookyard send --provider token" sends when no
// header is configured.
var defaultSignToken = config.HeaderToken{Header: "Authorization", Prefix: "Bearer "}

type token struct {
	header    string // as configured, for messages
	headerKey string
	prefix    string
	sums      [][sha256.Size]byte
}

func newToken(src config.Source) (Verifier, error) {
	t := src.Token
	switch {
	case t == nil:
		return nil, errors.New(`token: required for provider "token" (at least token.header)`)
	case t.Header == "" || strings.ContainsAny(t.Header, " \t\r\n:"):
		return nil, errors.New("token.header: required, a header name")
	}
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	v := &token{header: t.Header, headerKey: http.CanonicalHeaderKey(t.Header), prefix: t.Prefix}
	for _, s := range src.Secrets {
		v.sums = append(v.sums, sha256.Sum256([]byte(s)))
	}
	return v, nil
}

func (v *token) Verify(r *Request) (Result, error) {
	h := r.Header.Get(v.headerKey)
	if h == "" {
		return Result{}, badSignature("missing %s header", v.header)
	}
	tok, ok := strings.CutPrefix(h, v.prefix)
	if !ok {
		return Result{}, badSignature("%s does not start with %q", v.header, v.prefix)
	}
	got := sha256.Sum256([]byte(tok))
	for i, want := range v.sums {
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return Result{SecretIndex: i}, nil
		}
	}
	return Result{}, badSignature("%s does not hold a configured token", v.header)
}

// signToken sends secret in o.Token's header, or as a bearer token.
func signToken(secret string, _ []byte, o SignOptions) (http.Header, error) {
	t := o.Token
	if t == nil {
		t = &defaultSignToken
	}
	if t.Header == "" {
		return nil, errors.New("token: the header to send the token in is required")
	}
	h := http.Header{}
	h.Set(t.Header, t.Prefix+secret)
	return h, nil
}
