package verify

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/hookyard/hookyard/internal/config"
)

// Provider "basic" accepts requests whose Authorization header carries the
// source's basic_auth username and password (HTTP Basic, RFC 7617): for
// senders that offer nothing stronger, or whose signature covers only part
// of the body. It proves the sender knows a password, not that the body is
// unchanged, and signs no time, so use it only over TLS. Both fields are
// compared as SHA-256 digests in constant time, which hides their lengths
// as well as their bytes. It has no secrets list: a source rotates the
// password by changing basic_auth.
const basicAuthHeader = "Authorization"

var basicProvider = Provider{
	Name: "basic",
	JSON: false,
	New:  newBasic,
	Sign: signBasic,
}

type basic struct {
	user, pass [sha256.Size]byte
}

func newBasic(src config.Source) (Verifier, error) {
	if len(src.Secrets) > 0 {
		return nil, errors.New(`secrets: provider "basic" checks basic_auth, not secrets; remove them`)
	}
	b := src.BasicAuth
	switch {
	case b == nil:
		return nil, errors.New(`basic_auth: required for provider "basic" (username and password)`)
	case b.Username == "" || strings.Contains(b.Username, ":"):
		return nil, errors.New("basic_auth.username: required, without a colon")
	case b.Password == "":
		return nil, errors.New("basic_auth.password: required (is its environment variable set?)")
	}
	return &basic{user: sha256.Sum256([]byte(b.Username)), pass: sha256.Sum256([]byte(b.Password))}, nil
}

func (v *basic) Verify(r *Request) (Result, error) {
	h := r.Header.Get(basicAuthHeader)
	if h == "" {
		return Result{}, badSignature("missing %s header", basicAuthHeader)
	}
	user, pass, ok := parseBasic(h)
	if !ok {
		return Result{}, badSignature("%s is not HTTP Basic credentials", basicAuthHeader)
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	// & rather than &&: both comparisons always run.
	if subtle.ConstantTimeCompare(u[:], v.user[:])&subtle.ConstantTimeCompare(p[:], v.pass[:]) != 1 {
		return Result{}, badSignature("%s credentials do not match", basicAuthHeader)
	}
	return Result{SecretIndex: 0}, nil
}

// parseBasic splits "Basic base64(user:pass)"; the scheme name is
// case-insensitive.
func parseBasic(h string) (user, pass string, ok bool) {
	const scheme = "Basic "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(scheme):]))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

// signBasic sends secret, written "username:password", as Basic
// credentials.
func signBasic(secret string, _ []byte, _ SignOptions) (http.Header, error) {
	if user, _, ok := strings.Cut(secret, ":"); !ok || user == "" {
		return nil, errors.New(`basic: write the secret as "username:password"`)
	}
	h := http.Header{}
	h.Set(basicAuthHeader, "Basic "+base64.StdEncoding.EncodeToString([]byte(secret)))
	return h, nil
}
