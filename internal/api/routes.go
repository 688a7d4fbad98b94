// Package api is hookyard's admin JSON API (/api/v1/…) and the Go client the
// CLI uses to call it. Every request needs a bearer token — from the config,
// or created through the API — whose role (viewer, operator, admin) decides
// what it may do; mutations are recorded in a hash-chained audit log.
// routes.go is the whole HTTP surface (openapi.json documents it); types.go
// is the wire format, shared by server and client.
package api

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Store is what the admin API needs of the store.
type Store interface {
	EventGet(ctx context.Context, id string) (webhook.Event, error)
	EventList(ctx context.Context, f store.EventFilter) ([]webhook.Event, string, error)
	DeliveryGet(ctx context.Context, id string) (webhook.Delivery, error)
	DeliveryList(ctx context.Context, f store.DeliveryFilter) ([]webhook.Delivery, string, error)
	DeliveryCount(ctx context.Context, f store.DeliveryFilter) (int, error)
	AttemptList(ctx context.Context, deliveryID string) ([]webhook.Attempt, error)
	DeliveryReplay(ctx context.Context, ids []string, now time.Time) (int, error)
	DeliveryCancel(ctx context.Context, ids []string, now time.Time) (int, error)
	QuarantineList(ctx context.Context, f store.QuarantineFilter) ([]webhook.Quarantined, string, error)
	QueueStats(ctx context.Context, now time.Time) ([]store.QueueStat, error)
}

// Config wires the admin API. Store is required.
type Config struct {
	Store  Store
	Tokens []config.Token
	// TokenStore keeps the tokens created through the API; default: Store,
	// when it implements store.Tokens. Without one, only config tokens
	// exist and the token endpoints answer 404.
	TokenStore store.Tokens
	// AuditLog records every mutation and unmasked-body read; default:
	// Store, when it implements store.Audit.
	AuditLog store.Audit
	// Auth, if set, replaces the Authenticator built from Tokens and
	// TokenStore (so the console can share one).
	Auth *Authenticator
	// PIIPaths are the JSON paths in event bodies masked for roles below
	// admin (admin.pii_paths): dot-separated keys, "*" for any key, arrays
	// crossed transparently.
	PIIPaths []string
	Logger   *slog.Logger     // default: discard
	Now      func() time.Time // default: time.Now
	// Wake, if set, is called after a replay so workers pick the replayed
	// deliveries up at once instead of at their next idle poll.
	Wake func()
	// Alerts, if set, serves GET /api/v1/alerts and /api/v1/slos.
	Alerts AlertSource
	// Reconciler, if set, serves /api/v1/reconcile/runs.
	Reconciler Reconciler
	// Series, if set, serves GET /api/v1/status/series; default: Alerts,
	// when it implements SeriesSource.
	Series SeriesSource
	// Routes, if set, serves GET /api/v1/routes and route previews.
	Routes RouteTable
	// Destinations names the configured destinations, so idle ones are
	// listed by GET /api/v1/destinations too.
	Destinations []string
	// Drift, if set, serves GET /api/v1/drift and its freeze command.
	Drift DriftTracker
	// DestinationControls serves pause, resume and enable and adds each
	// destination's status and breaker to the destination list.
	DestinationControls DestinationControls
}

// New returns the admin API handler. It serves paths under /api/, so mount
// it at "/api/".
func New(cfg Config) http.Handler {
	h, _ := newHandler(cfg)
	return h
}

// endpoint is one registered route, kept so tests can check the OpenAPI
// document against what is served.
type endpoint struct {
	pattern string
	min     role
}

func newHandler(cfg Config) (http.Handler, *server) {
	s := &server{store: replayWaker{cfg.Store, cfg.Wake}, log: cfg.Logger, now: cfg.Now,
		alerts: cfg.Alerts, routes: cfg.Routes, drift: cfg.Drift, destinations: cfg.Destinations, ctl: cfg.DestinationControls, tokens: cfg.TokenStore, audit: cfg.AuditLog, pii: parsePIIPaths(cfg.PIIPaths),
		recon: cfg.Reconciler}
	if s.tokens == nil {
		s.tokens, _ = cfg.Store.(store.Tokens)
	}
	if s.audit == nil {
		s.audit, _ = cfg.Store.(store.Audit)
	}
	s.series = cfg.Series
	if s.series == nil {
		s.series, _ = cfg.Alerts.(SeriesSource)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.auth = cfg.Auth
	if s.auth == nil {
		s.auth = NewAuthenticator(cfg.Tokens, s.tokens, s.now)
	}
	mux := http.NewServeMux()
	handle := func(pattern string, min role, h handlerFunc) {
		s.endpoints = append(s.endpoints, endpoint{pattern, min})
		mux.Handle(pattern, s.route(min, h))
	}

	handle("GET /api/v1/whoami", roleViewer, s.whoami)
	handle("GET /api/v1/openapi.json", roleViewer, s.openAPI)

	handle("GET /api/v1/events", roleViewer, s.eventList)
	handle("GET /api/v1/events/{id}", roleViewer, s.eventGet)

	handle("GET /api/v1/deliveries", roleViewer, s.deliveryList)
	handle("GET /api/v1/deliveries/{id}", roleViewer, s.deliveryGet)
	handle("POST /api/v1/deliveries/{id}/replay", roleOperator, s.deliveryReplay)
	handle("POST /api/v1/deliveries/{id}/cancel", roleOperator, s.deliveryCancel)

	handle("GET /api/v1/dlq", roleViewer, s.dlqList)
	handle("POST /api/v1/dlq/replay", roleOperator, s.dlqReplay)

	handle("GET /api/v1/quarantine", roleViewer, s.quarantineList)

	handle("GET /api/v1/destinations", roleViewer, s.destinationList)
	handle("GET /api/v1/destinations/{name}", roleViewer, s.destinationGet)
	handle("POST /api/v1/destinations/{name}/pause", roleOperator, s.destinationAction([]string{store.StatusActive}, store.StatusPaused))
	handle("POST /api/v1/destinations/{name}/resume", roleOperator, s.destinationAction([]string{store.StatusPaused}, store.StatusActive))
	handle("POST /api/v1/destinations/{name}/enable", roleOperator, s.destinationAction([]string{store.StatusDisabled}, store.StatusActive))

	handle("GET /api/v1/alerts", roleViewer, s.alertList)
	handle("GET /api/v1/slos", roleViewer, s.sloList)
	handle("GET /api/v1/status/series", roleViewer, s.statusSeries)

	handle("GET /api/v1/routes", roleViewer, s.routeList)
	handle("POST /api/v1/routes/{name}/preview", roleViewer, s.routePreview)
	handle("GET /api/v1/routes/{name}/shadow", roleViewer, s.routeShadow)

	handle("GET /api/v1/drift", roleViewer, s.driftList)
	handle("POST /api/v1/drift/freeze", roleOperator, s.driftFreeze)

	handle("GET /api/v1/tokens", roleAdmin, s.tokenList)
	handle("POST /api/v1/tokens", roleAdmin, s.tokenCreate)
	handle("DELETE /api/v1/tokens/{id}", roleAdmin, s.tokenRevoke)

	handle("GET /api/v1/audit", roleAdmin, s.auditList)
	handle("GET /api/v1/audit/verify", roleAdmin, s.auditVerify)

	handle("GET /api/v1/reconcile/runs", roleViewer, s.reconcileRunList)
	handle("GET /api/v1/reconcile/runs/{id}", roleViewer, s.reconcileRunGet)
	handle("POST /api/v1/reconcile/runs", roleOperator, s.reconcileStart)

	// Anything else under /api/ is authenticated first, so an anonymous
	// caller learns nothing about which paths exist.
	mux.Handle("/api/", s.route(roleViewer, s.fallback(mux)))
	return mux, s
}

// replayWaker wakes the delivery workers after every successful replay.
type replayWaker struct {
	Store
	wake func()
}

func (r replayWaker) DeliveryReplay(ctx context.Context, ids []string, now time.Time) (int, error) {
	n, err := r.Store.DeliveryReplay(ctx, ids, now)
	if n > 0 && r.wake != nil {
		r.wake()
	}
	return n, err
}

// server holds what the handlers share.
type server struct {
	store Store
	auth  *Authenticator
	log   *slog.Logger
	now   func() time.Time
	// alerts is optional (nil: the alert endpoints answer 404).
	alerts       AlertSource
	series       SeriesSource // nil: the series endpoint answers 404
	routes       RouteTable   // nil: the route endpoints answer 404
	drift        DriftTracker // nil: the drift endpoints answer 404
	destinations []string
	ctl          DestinationControls
	tokens       store.Tokens // nil: the token endpoints answer 404
	audit        store.Audit  // nil: nothing is recorded
	pii          piiPaths
	// endpoints lists every route registered, for the OpenAPI sync test.
	endpoints []endpoint
	// recon is optional (nil: the reconcile endpoints answer 404).
	recon Reconciler
}

// handlerFunc is an endpoint: it writes a success answer or returns an
// error, which route translates.
type handlerFunc func(w http.ResponseWriter, r *http.Request, caller who) error

// route authenticates, checks the role, runs h and answers its error. It
// gives every answer an X-Request-Id, and records in the audit log every
// request to a mutating route by an authenticated caller (including
// refusals) and every read a handler marks as auditable.
func (s *server) route(min role, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := requestID(r)
		w.Header().Set("X-Request-Id", reqID)
		caller, err := s.authenticate(r)
		if err != nil {
			s.deny(w, r, err)
			return
		}
		note := &auditNote{target: cmp.Or(r.PathValue("id"), r.PathValue("name")), record: r.Method != http.MethodGet && r.Method != http.MethodHead}
		sw := &statusWriter{ResponseWriter: w}
		if err := authorize(caller, min, r); err != nil {
			s.deny(sw, r, err)
			note.detail = err.Error()
		} else if err := h(sw, r.WithContext(context.WithValue(r.Context(), auditKey{}, note)), caller); err != nil {
			s.writeError(sw, r, err)
			if statusOf(err) < 500 {
				note.detail = err.Error()
			}
		}
		if note.record && r.Pattern != "/api/" {
			s.record(r, caller, reqID, sw.status, note)
		}
	})
}

func (s *server) authenticate(r *http.Request) (who, error) {
	tok, err := bearer(r)
	if err != nil {
		return who{}, err
	}
	return s.auth.authenticate(r.Context(), tok)
}

func (s *server) deny(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Debug("admin API request denied", "method", r.Method, "path", r.URL.Path,
		"remote", r.RemoteAddr, "error", err.Error())
	s.writeError(w, r, err)
}

// fallback answers paths no route matched: 405 with Allow when the path
// exists for another method, else 404.
func (s *server) fallback(mux *http.ServeMux) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ who) error {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
			if _, p := mux.Handler(probe); p != "" && p != "/api/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return fmt.Errorf("%w: %s %s (allowed: %s)", errMethodNotAllowed, r.Method, r.URL.Path,
				strings.Join(allow, ", "))
		}
		return fmt.Errorf("%w: no endpoint %s %s", webhook.ErrNotFound, r.Method, r.URL.Path)
	}
}

func (s *server) whoami(w http.ResponseWriter, _ *http.Request, caller who) error {
	return writeJSON(w, http.StatusOK, Identity{Name: caller.name, Role: caller.role.String(), TokenID: caller.tokenID})
}
