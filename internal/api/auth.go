package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// role orders what a token may do; each includes the ones below it.
type role int

const (
	roleNone     role = iota // unknown role string: may do nothing
	roleViewer               // read, with PII in bodies masked
	roleOperator             // + replay and cancel
	roleAdmin                // + tokens, the audit log, unmasked bodies
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

// Authenticator turns a presented bearer token into the principal it
// belongs to: a token from the config file (admin.tokens) or one created
// through the API and kept in the store. The admin API and the console
// share one, so both accept exactly the same tokens.
type Authenticator struct {
	creds  []credential
	stored store.Tokens // nil: config tokens only
	now    func() time.Time
}

// NewAuthenticator returns an Authenticator for the configured tokens and,
// if stored is not nil, the tokens created through the API. now defaults
// to time.Now.
func NewAuthenticator(tokens []config.Token, stored store.Tokens, now func() time.Time) *Authenticator {
	a := &Authenticator{stored: stored, now: now}
	if now == nil {
		a.now = time.Now
	}
	for _, t := range tokens {
		if t.Token == "" {
			continue // never matches; config validation rejects it anyway
		}
		a.creds = append(a.creds, credential{digest: sha256.Sum256([]byte(t.Token)), name: t.Name, role: parseRole(t.Role)})
	}
	return a
}

// touchEvery is how stale a stored token's last-used time may get before a
// request updates it: one write per token per minute, not one per request.
const touchEvery = time.Minute

// Authenticate returns the name and role of token. The error wraps
// webhook.ErrUnauthorized for a token that is unknown, revoked or expired,
// and webhook.ErrUnavailable when the store cannot be read.
//
// Digests of fixed size are compared in constant time, and every
// configured token is compared, so timing reveals neither which token
// matched nor how much of one did. A stored token is found by the id
// embedded in it (the id is not secret) and then compared the same way.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (Identity, error) {
	w, err := a.authenticate(ctx, token)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Name: w.name, Role: w.role.String(), TokenID: w.tokenID}, nil
}

func (a *Authenticator) authenticate(ctx context.Context, token string) (who, error) {
	if token == "" {
		return who{}, fmt.Errorf("%w: empty token", webhook.ErrUnauthorized)
	}
	sum := digest(token)
	match := -1
	for i := range a.creds {
		eq := subtle.ConstantTimeCompare(sum[:], a.creds[i].digest[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match >= 0 {
		c := &a.creds[match]
		return who{name: c.name, role: c.role}, nil
	}
	id, ok := storedTokenID(token)
	if !ok || a.stored == nil {
		return who{}, errBadToken
	}
	t, err := a.stored.TokenGet(ctx, id)
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return who{}, errBadToken
	case err != nil:
		return who{}, err
	case subtle.ConstantTimeCompare(sum[:], t.Digest[:]) != 1:
		return who{}, errBadToken
	}
	now := a.now()
	switch {
	case !t.RevokedAt.IsZero():
		return who{}, fmt.Errorf("%w: token %s was revoked", webhook.ErrUnauthorized, t.ID)
	case !now.Before(t.ExpiresAt):
		return who{}, fmt.Errorf("%w: token %s expired at %s", webhook.ErrUnauthorized, t.ID,
			t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if now.Sub(t.LastUsedAt) >= touchEvery {
		// Last-used is informational: a failed update must not refuse an
		// otherwise valid request (the store's own error surfaces on the
		// request's real work).
		_ = a.stored.TokenTouch(ctx, t.ID, now)
	}
	return who{name: t.Name, role: parseRole(t.Role), tokenID: t.ID}, nil
}

var errBadToken = fmt.Errorf("%w: the bearer token is not valid", webhook.ErrUnauthorized)

// Stored tokens read "hyt_<16 hex id>_<43 base64url secret>": the id
// finds the row, the whole string's digest must match it.
const (
	storedTokenPrefix = "hyt_"
	tokenIDHex        = 16
	tokenSecretBytes  = 32
)

// storedTokenID returns the store id ("tok_<hex>") embedded in a token of
// the stored format.
func storedTokenID(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, storedTokenPrefix)
	if !ok || len(rest) < tokenIDHex+2 || rest[tokenIDHex] != '_' {
		return "", false
	}
	id := rest[:tokenIDHex]
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return "tok_" + id, true
}

func digest(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// newStoredToken returns a fresh random token and its store id.
func newStoredToken() (token, id string, err error) {
	var idb [tokenIDHex / 2]byte
	var secret [tokenSecretBytes]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", "", err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", "", err
	}
	h := hex.EncodeToString(idb[:])
	return storedTokenPrefix + h + "_" + base64.RawURLEncoding.EncodeToString(secret[:]), "tok_" + h, nil
}

// who is the caller a request authenticated as.
type who struct {
	name    string
	role    role
	tokenID string // set for stored tokens
}

// bearer extracts the bearer token from r.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: send the admin API token as Authorization: Bearer <token>", webhook.ErrUnauthorized)
	}
	return strings.TrimSpace(tok), nil
}

// authorize checks that the caller's role reaches min.
func authorize(w who, min role, r *http.Request) error {
	if w.role < min {
		return fmt.Errorf("%w: token %q has role %s; %s %s needs %s", webhook.ErrForbidden, w.name, w.role,
			r.Method, r.URL.Path, min)
	}
	return nil
}
