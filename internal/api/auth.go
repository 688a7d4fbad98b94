package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// role orders what a token may do; each includes the ones below it.
type role int

const (
	roleNone     role = iota // unknown role string: may do nothing
	roleViewer               // read everything
	roleOperator             // + replay and cancel
	roleAdmin                // everything
)

func parseRole(s string) role {
	switch s {
	case "viewer":
		return roleViewer
	case "operator":
		return roleOperator
	case "admin":
		return roleAdmin
	}
	return roleNone
}

func (r role) String() string {
	switch r {
	case roleViewer:
		return "viewer"
	case roleOperator:
		return "operator"
	case roleAdmin:
		return "admin"
	}
	return "none"
}

// credential is a configured token, kept only as its SHA-256 digest.
type credential struct {
	digest [sha256.Size]byte
	name   string
	role   role
}

type authenticator struct{ creds []credential }

func newAuthenticator(tokens []config.Token) *authenticator {
	a := &authenticator{}
	for _, t := range tokens {
		if t.Token == "" {
			continue // never matches; config validation rejects it anyway
		}
		a.creds = append(a.creds, credential{digest: sha256.Sum256([]byte(t.Token)), name: t.Name, role: parseRole(t.Role)})
	}
	return a
}

// who is the caller a request authenticated as.
type who struct {
	name string
	role role
}

// authenticate checks the bearer token in r. Comparing fixed-size digests
// makes the comparison independent of the tokens' lengths, and every
// configured token is compared, so timing reveals neither which token
// matched nor how much of one did.
func (a *authenticator) authenticate(r *http.Request) (who, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return who{}, fmt.Errorf("%w: send the admin API token as Authorization: Bearer <token>", webhook.ErrUnauthorized)
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := -1
	for i := range a.creds {
		eq := subtle.ConstantTimeCompare(sum[:], a.creds[i].digest[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return who{}, fmt.Errorf("%w: the bearer token is not valid", webhook.ErrUnauthorized)
	}
	c := &a.creds[match]
	return who{name: c.name, role: c.role}, nil
}

// authorize checks that the caller's role reaches min.
func authorize(w who, min role, r *http.Request) error {
	if w.role < min {
		return fmt.Errorf("%w: token %q has role %s; %s %s needs %s", webhook.ErrForbidden, w.name, w.role,
			r.Method, r.URL.Path, min)
	}
	return nil
}
