package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"
)

const (
	sessionCookie = "hookyard_session"
	// loginCookie carries the CSRF token of the login form, before there is
	// a session to hold it (double-submit).
	loginCookie = "hookyard_login"
	csrfField   = "csrf"
)

// session is one login. The token stays in this process's memory only: the
// cookie holds a random id, and the map is keyed by the id's digest.
type session struct {
	token   string
	name    string
	role    string
	csrf    string
	expires time.Time
}

type sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[[sha256.Size]byte]*session
}

func newSessions(ttl time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, max: max, now: now, m: map[[sha256.Size]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create stores a session for the identity and returns its cookie value.
func (s *sessions) create(token, name, role string) (id string, sess *session) {
	id = randomToken()
	sess = &session{token: token, name: name, role: role, csrf: randomToken(), expires: s.now().Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.m) >= s.max {
		var oldest [sha256.Size]byte
		var oldestExp time.Time
		for k, v := range s.m {
			if !v.expires.After(now) {
				delete(s.m, k)
				continue
			}
			if oldestExp.IsZero() || v.expires.Before(oldestExp) {
				oldest, oldestExp = k, v.expires
			}
		}
		if len(s.m) >= s.max {
			delete(s.m, oldest)
		}
	}
	s.m[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns r's live session, or nil.
func (s *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	k := sha256.Sum256([]byte(c.Value))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[k]
	if sess == nil {
		return nil
	}
	if !sess.expires.After(s.now()) {
		delete(s.m, k)
		return nil
	}
	return sess
}

// drop ends r's session, if any.
func (s *sessions) drop(r *http.Request) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return
	}
	s.mu.Lock()
	delete(s.m, sha256.Sum256([]byte(c.Value)))
	s.mu.Unlock()
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
