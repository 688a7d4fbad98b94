// Package api is hookyard's admin JSON API (/api/v1/…) and the Go client the
// CLI uses to call it. Every request needs a bearer token from the config;
// the token's role (viewer, operator, admin) decides what it may do.
// routes.go is the whole HTTP surface; types.go is the wire format, shared
// by server and client.
package api

import (
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
}

// Config wires the admin API. Store is required.
type Config struct {
	Store  Store
	Tokens []config.Token
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default: time.Now
	// Wake, if set, is called after a replay so workers pick the replayed
	// deliveries up at once instead of at their next idle poll.
	Wake func()
	// Alerts, if set, serves GET /api/v1/alerts and /api/v1/slos.
	Alerts AlertSource
	// Destinations serves /api/v1/destinations (status, pause, resume,
	// enable); without Controls those endpoints answer 404.
	Destinations Destinations
}

// New returns the admin API handler. It serves paths under /api/, so mount
// it at "/api/".
func New(cfg Config) http.Handler {
	s := &server{store: replayWaker{cfg.Store, cfg.Wake}, auth: newAuthenticator(cfg.Tokens), log: cfg.Logger, now: cfg.Now,
		alerts: cfg.Alerts, dests: cfg.Destinations}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	mux := http.NewServeMux()
	handle := func(pattern string, min role, h handlerFunc) { mux.Handle(pattern, s.route(min, h)) }

	handle("GET /api/v1/whoami", roleViewer, s.whoami)

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

	// Anything else under /api/ is authenticated first, so an anonymous
	// caller learns nothing about which paths exist.
	handle("/api/", roleViewer, s.fallback(mux))
	return mux
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
	auth  *authenticator
	log   *slog.Logger
	now   func() time.Time
	// alerts is optional (nil: the alert endpoints answer 404).
	alerts AlertSource
	dests  Destinations
}

// handlerFunc is an endpoint: it writes a success answer or returns an
// error, which route translates.
type handlerFunc func(w http.ResponseWriter, r *http.Request, caller who) error

// route authenticates, checks the role, runs h and answers its error.
func (s *server) route(min role, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.auth.authenticate(r)
		if err == nil {
			err = authorize(caller, min, r)
		}
		if err != nil {
			s.log.Debug("admin API request denied", "method", r.Method, "path", r.URL.Path,
				"remote", r.RemoteAddr, "error", err.Error())
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r, caller); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// fallback answers paths no route matched: 405 with Allow when the path
// exists for another method, else 404.
func (s *server) fallback(mux *http.ServeMux) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ who) error {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
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
	return writeJSON(w, http.StatusOK, Identity{Name: caller.name, Role: caller.role.String()})
}
