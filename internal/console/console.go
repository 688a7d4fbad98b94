// Package console is hookyard's web console: server-rendered HTML pages under
// /console/ on the admin listener, with no JavaScript.
//
// The console reads and acts only through the admin API, called in-process
// with the logged-in user's own token (api.Client over an in-memory
// transport). So a console user is authenticated, authorized, masked and
// audited exactly as an API caller with that token: a viewer's replay is
// refused by the API, not only hidden by the page.
//
// A login exchanges an admin token for a session cookie (HttpOnly,
// SameSite=Strict, Secure under TLS, absolute expiry). Sessions live in this
// process's memory: they end at restart, and behind a load balancer a
// console user needs to stick to one node. Every POST carries the session's
// CSRF token.
package console

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config wires the console. API is required.
type Config struct {
	// API is the admin API handler (api.New); the console calls it
	// in-process with each user's token.
	API    http.Handler
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default: time.Now
	// Sessions stores the logins (required): the node's store, so that
	// every node shares them and a restart keeps them.
	Sessions store.ConsoleSessions
	// SessionTTL is how long a login lasts (default 8h).
	SessionTTL time.Duration
	// MaxSessions bounds the sessions held at once (default 10000); beyond
	// it a login evicts the session closest to expiry.
	MaxSessions int
	// LoginsPerMinute bounds login attempts per client address (default
	// 10, as a burst refilled over a minute); beyond it a login answers 429.
	LoginsPerMinute int
}

// Console serves /console/.
type Console struct {
	api      http.Handler
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	logins   *loginLimiter
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New returns the console. Mount it at "/console/".
func New(cfg Config) (*Console, error) {
	if cfg.API == nil || cfg.Sessions == nil {
		return nil, errors.New("console: API and Sessions are required")
	}
	c := &Console{api: cfg.API, log: cfg.Logger, now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.sessions = &sessions{store: cfg.Sessions, ttl: cmp.Or(cfg.SessionTTL, 8*time.Hour),
		max: cmp.Or(cfg.MaxSessions, 10000), now: c.now}
	c.logins = newLoginLimiter(cmp.Or(cfg.LoginsPerMinute, 10), 10000)
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	c.pages = pages
	c.mux = c.routes()
	return c, nil
}

// ServeHTTP adds the security headers every console answer carries.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No script runs on any page; styles and images come from here only.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// routes is the console's whole surface.
func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", cacheStatic(http.FileServerFS(static))))

	mux.HandleFunc("GET /console/login", c.loginForm)
	mux.HandleFunc("POST /console/login", c.login)
	mux.Handle("POST /console/logout", c.page(c.logout))

	mux.Handle("GET /console/{$}", c.page(c.status))
	mux.Handle("GET /console/events", c.page(c.events))
	mux.Handle("GET /console/events/{id}", c.page(c.event))
	mux.Handle("POST /console/deliveries/{id}/replay", c.page(c.deliveryReplay))
	mux.Handle("POST /console/deliveries/{id}/cancel", c.page(c.deliveryCancel))
	mux.Handle("GET /console/dlq", c.page(c.dlq))
	mux.Handle("POST /console/dlq/replay", c.page(c.dlqReplay))
	mux.Handle("GET /console/destinations", c.page(c.destinations))
	mux.Handle("POST /console/destinations/{name}/{action}", c.page(c.destinationAction))
	mux.Handle("GET /console/quarantine", c.page(c.quarantine))
	mux.Handle("GET /console/drift", c.page(c.drift))
	mux.Handle("POST /console/drift/freeze", c.page(c.driftFreeze))
	mux.Handle("GET /console/alerts", c.page(c.alerts))
	mux.Handle("GET /console/routes", c.page(c.routeList))
	mux.Handle("POST /console/routes/preview", c.page(c.routePreview))
	mux.Handle("GET /console/audit", c.page(c.audit))
	mux.Handle("GET /console/audit/verify", c.page(c.auditVerify))
	mux.Handle("/console/", c.page(func(w http.ResponseWriter, r *http.Request, _ *request) error {
		return &pageError{status: http.StatusNotFound, msg: "No console page " + r.URL.Path}
	}))
	return mux
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// request is what a page handler gets beside the HTTP request: the
// session and an API client acting with the session's token.
type request struct {
	sess   *session
	client *api.Client
}

type pageFunc func(w http.ResponseWriter, r *http.Request, q *request) error

// page requires a live session (GET without one redirects to the login
// page), checks the CSRF token of every POST, runs h and renders its error.
func (c *Console) page(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		sess, err := c.sessions.get(r)
		if err != nil {
			c.renderError(w, r, nil, err)
			return
		}
		if sess == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/console/login", http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, &pageError{status: http.StatusUnauthorized,
				msg: "Your session has ended. Log in again."})
			return
		}
		if r.Method == http.MethodPost {
			if err := checkPost(r, sess.csrf); err != nil {
				c.log.Warn("console request refused", "method", r.Method, "path", r.URL.Path,
					"remote", r.RemoteAddr, "error", err.Error())
				c.renderError(w, r, sess, err)
				return
			}
		}
		// The API sees the browser's address, not the console's.
		r = r.WithContext(context.WithValue(r.Context(), remoteKey{}, r.RemoteAddr))
		q := &request{sess: sess, client: c.client(sess.token)}
		if err := h(w, r, q); err != nil {
			var p *api.Problem
			if errors.As(err, &p) && p.Status == http.StatusUnauthorized {
				// The token was revoked or expired since login.
				if err := c.sessions.drop(r); err != nil {
					c.log.Warn("console session not removed", "error", err.Error())
				}
				clearSessionCookie(w, r)
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/console/login", http.StatusSeeOther)
					return
				}
			}
			c.renderError(w, r, sess, err)
		}
	})
}

// pageError is an error a page answers with its own status and message.
type pageError struct {
	status int
	msg    string
}

func (e *pageError) Error() string { return e.msg }

// renderError answers err as an HTML page: API problems keep their status
// and detail (which names the parameter and never holds a body or token);
// anything else is a 500 whose cause goes to the log only.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	status, msg := http.StatusInternalServerError, "The page could not be built; see the server log."
	var pe *pageError
	var p *api.Problem
	switch {
	case errors.As(err, &pe):
		status, msg = pe.status, pe.msg
	case errors.As(err, &p) && p.Status < 500:
		status, msg = p.Status, p.Detail
	case errors.As(err, &p) && p.Status == http.StatusServiceUnavailable:
		status, msg = p.Status, "Storage is unavailable; retry later."
	case errors.Is(err, webhook.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, "Storage is unavailable; retry later."
		c.log.Warn("console page failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	case errors.Is(err, context.Canceled):
		return // the browser went away
	default:
		c.log.Error("console page failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	}
	c.render(w, r, sess, status, "error", map[string]any{"Status": status, "Title": http.StatusText(status), "Message": msg})
}

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, sess *session, status int, name string, data any) {
	t := c.pages[name]
	var buf bytes.Buffer
	v := view{Page: name, Data: data}
	if sess != nil {
		v.User, v.Role, v.CSRF = sess.name, sess.role, sess.csrf
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console template failed", "page", name, "error", err.Error())
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// view is what the layout template receives.
type view struct {
	Page       string
	User, Role string
	CSRF       string
	Data       any
}

// CanOperate reports whether the user's role may replay, cancel and
// preview. Pages use it to hide controls; the API decides anyway.
func (v view) CanOperate() bool { return v.Role == "operator" || v.Role == "admin" }

// IsAdmin reports whether the user's role may read the audit log. Pages
// use it to hide the link; the API decides anyway.
func (v view) IsAdmin() bool { return v.Role == "admin" }
