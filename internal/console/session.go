package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

const (
	sessionCookie = "hookyard_session"
	// loginCookie carries the CSRF token of the login form, before there is
	// a session to hold it (double-submit).
	loginCookie = "hookyard_login"
	csrfField   = "csrf"
)

// session is one login as a request sees it. The stored row
// (store.ConsoleSession) is found by the digest of the cookie's random id
// and holds the API token sealed under a key derived from that id, so the
// database alone gives no access; the CSRF token is derived from the id
// too. Every node shares the rows, and a restart keeps them.
type session struct {
	token string
	name  string
	role  string
	csrf  string
}

type sessions struct {
	store store.ConsoleSessions
	ttl   time.Duration
	max   int
	now   func() time.Time
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// derive returns HMAC-SHA256 keyed by a session id, for one purpose.
func derive(id, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("hookyard console session: " + purpose))
	return m.Sum(nil)
}

func idHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

func sessionAEAD(id string) cipher.AEAD {
	b, _ := aes.NewCipher(derive(id, "seal")) // a 32-byte key is always valid
	g, _ := cipher.NewGCM(b)
	return g
}

// sealedWith is the data authenticated with the sealed token: a row whose
// name or role was edited does not open.
func sealedWith(name, role string) []byte { return []byte(name + "\x00" + role) }

// create stores a session for the identity and returns its cookie value.
func (s *sessions) create(ctx context.Context, token, name, role string) (string, error) {
	id := randomToken()
	g := sessionAEAD(id)
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	now := s.now()
	err := s.store.SessionCreate(ctx, store.ConsoleSession{IDHash: idHash(id),
		Sealed: g.Seal(nonce, nonce, []byte(token), sealedWith(name, role)), Name: name, Role: role,
		CreatedAt: now, ExpiresAt: now.Add(s.ttl)}, now, s.max)
	return id, err
}

// get returns r's live session, nil if it has none. An error means the
// store could not answer.
func (s *sessions) get(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	row, ok, err := s.store.SessionGet(r.Context(), idHash(c.Value), s.now())
	if err != nil || !ok {
		return nil, err
	}
	g := sessionAEAD(c.Value)
	if len(row.Sealed) < g.NonceSize() {
		return nil, nil
	}
	token, err := g.Open(nil, row.Sealed[:g.NonceSize()], row.Sealed[g.NonceSize():], sealedWith(row.Name, row.Role))
	if err != nil {
		return nil, nil // not sealed under this id: no session
	}
	return &session{token: string(token), name: row.Name, role: row.Role,
		csrf: base64.RawURLEncoding.EncodeToString(derive(c.Value, "csrf"))}, nil
}

// drop ends r's session, if any, on every node.
func (s *sessions) drop(r *http.Request) error {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return s.store.SessionDelete(r.Context(), idHash(c.Value))
}

// secure reports whether the browser reached us over TLS (directly or
// through a proxy that says so); cookies are then Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}

var errCSRF = &pageError{status: http.StatusForbidden,
	msg: "The form's security token is missing or stale. Reload the page and try again."}

// checkPost refuses a POST whose CSRF field does not match want, or that a
// browser marks as coming from another site.
func checkPost(r *http.Request, want string) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errCSRF
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &pageError{status: http.StatusRequestEntityTooLarge, msg: "The form is too large."}
		}
		return &pageError{status: http.StatusBadRequest, msg: "The form could not be read."}
	}
	got := r.PostForm.Get(csrfField)
	if got == "" || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}
