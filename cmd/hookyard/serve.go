package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/console"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/dest"
	"github.com/hookyard/hookyard/internal/ingest"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/route"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/verify"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "serve --config FILE")
	path := fs.String("config", "hookyard.yaml", "config file")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	profile := fs.Bool("pprof", false, "serve Go profiles at /debug/pprof/ on the admin listener (for performance work)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
	cfg, err := loadConfig(*path, e.getenv)
	if err != nil {
		return err
	}
	traced, stopTracing, err := setupTracing(ctx, e.getenv, logger) // tracing.go
	if err != nil {
		return err
	}
	defer stopTracing()
	srv, err := startServer(ctx, cfg, logger, *profile, traced)
	if err != nil {
		return err
	}
	return srv.wait()
}

func loadConfig(path string, getenv func(string) string) (*config.Config, error) {
	return config.Load(path, getenv, config.Options{Providers: verify.Names()})
}

// server is a running hookyard node: its listeners, store and delivery
// engine, wired together. Only this package knows the concrete types.
type server struct {
	cfg        *config.Config
	log        *slog.Logger
	store      store.Store
	leader     leader.Node // cluster leadership and named locks
	engine     *deliver.Engine
	alerts     *alerting
	routes     *route.Table
	senders    []dest.Sender
	public     *http.Server
	admin      *http.Server
	publicAddr string
	adminAddr  string
	errc       chan error
	done       chan struct{}
	err        error
}

// startServer opens the store, builds every component from cfg and starts
// serving; it returns once both listeners are bound. The node stops when
// ctx ends (SIGTERM): it stops accepting, lets in-flight ingests and sends
// finish (bounded by server.shutdown_timeout), releases what is left, and
// closes the store.
func startServer(ctx context.Context, cfg *config.Config, logger *slog.Logger, profile bool, opts ...serverOption) (*server, error) {
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	tracer := tracing.New(o.tracerProvider)
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	ld, err := openLeader(ctx, cfg, logger)
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &server{cfg: cfg, log: logger, store: st, leader: ld, errc: make(chan error, 4), done: make(chan struct{})}
	fail := func(err error) (*server, error) {
		for _, snd := range s.senders {
			snd.Close()
		}
		ld.Close()
		st.Close()
		return nil, err
	}

	var allowPrivate []netip.Prefix
	for i, c := range cfg.Server.AllowPrivate {
		n, err := config.ParsePrefix(c)
		if err != nil {
			return fail(fmt.Errorf("server.allow_private[%d]: %w", i, err))
		}
		allowPrivate = append(allowPrivate, n)
	}
	var dests []deliver.Destination
	for _, d := range cfg.Destinations {
		// The SSRF guard is always on: private, loopback and metadata
		// targets need an explicit allow_private.
		snd, err := dest.New(d, dest.Options{Version: version, SSRFGuard: true, AllowPrivate: allowPrivate, Dir: cfg.Dir})
		if err != nil {
			return fail(err)
		}
		s.senders = append(s.senders, snd)
		dests = append(dests, deliveryDestination(d, snd)) // controls.go
	}
	host, _ := os.Hostname()
	m := metrics.New()
	var destNames []string
	for _, d := range cfg.Destinations {
		destNames = append(destNames, d.Name)
	}
	m.RegisterQueue(st, destNames, logger)
	alerts, err := newAlerting(cfg, m, st, logger, func(d string) { s.engine.Wake(d) }, ld, tracer) // observability.go
	if err != nil {
		return fail(err)
	}
	s.alerts = alerts
	dests = append(dests, alerts.engine.Destinations(nil)...)
	lib, err := transformOptions(cfg) // pipeline.go
	if err != nil {
		return fail(err)
	}
	if lib.Tables != nil {
		m.RegisterTables(tableStats(lib.Tables))
	}
	routes, err := buildRoutesWith(cfg, lib, logger, m)
	if err != nil {
		return fail(err)
	}
	s.routes = routes
	ctl, _ := st.(store.Destinations) // both stores implement it
	s.engine = deliver.New(deliver.Config{Store: st, Destinations: dests, Logger: logger, Observer: alerts.observer(m), Transformer: routes,
		Owner: host + ":" + strconv.Itoa(os.Getpid()), Grace: cfg.Server.ShutdownTimeout.D(), Tracer: tracer,
		Controls: ctl, Events: alerts.engine.Event, ControlObserver: m.NewControls(destNames)})
	m.SetHeld(s.engine.Held)

	sources, err := ingestSources(cfg)
	if err != nil {
		return fail(err)
	}
	tracker, err := newDrift(cfg, st, m, logger) // drift.go
	if err != nil {
		return fail(err)
	}
	var ingStore ingest.Store = st
	var driftAPI api.DriftTracker // stays nil (404s) while tracking is off
	if tracker != nil {
		ingStore, driftAPI = driftIngest{st, tracker}, tracker
	}
	ing := ingest.New(ingest.Config{Sources: sources, Store: ingStore, Router: routes, Waker: s.engine,
		MaxBodyBytes: cfg.Server.MaxBodyBytes, MaxJSONDepth: cfg.Server.MaxJSONDepth,
		MaxInFlight: cfg.Server.MaxInFlight, Logger: logger, Observer: m, Tracer: tracer})

	recon, err := buildReconciler(cfg, st, routes, s.engine, ing, ld, m, alerts, logger) // reconcile.go
	if err != nil {
		return fail(err)
	}
	var reconAPI api.Reconciler
	if recon != nil {
		reconAPI = reconcile.Manual{Runner: recon}
	}

	pub := http.NewServeMux()
	pub.Handle("POST /ingest/{source}", ing)
	s.health(pub)
	adm := http.NewServeMux()
	// One authenticator for everything on the admin listener: config tokens
	// and the ones created through the API.
	storedTokens, _ := st.(store.Tokens)
	auth := api.NewAuthenticator(cfg.Admin.Tokens, storedTokens, nil)
	adminAPI := api.New(api.Config{Store: st, Auth: auth, PIIPaths: cfg.Admin.PIIPaths,
		Logger: logger, Wake: s.engine.WakeAll, Alerts: alerts.api(), Routes: routes,
		Destinations: destNames, Reconciler: reconAPI, DestinationControls: destinationControls(ctl, s.engine),
		Drift: driftAPI})
	adm.Handle("/api/", adminAPI)
	// The console acts through the admin API with each user's own token, so
	// roles, masking and the audit log apply to it unchanged.
	consoleSessions, ok := st.(store.ConsoleSessions)
	if !ok {
		return fail(fmt.Errorf("storage driver %q keeps no console sessions", cfg.Storage.Driver))
	}
	con, err := console.New(console.Config{API: adminAPI, Sessions: consoleSessions, Logger: logger})
	if err != nil {
		return fail(err)
	}
	adm.Handle("/console/", con)
	adm.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	s.health(adm)
	if profile {
		adm.HandleFunc("/debug/pprof/", pprof.Index)
		adm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		adm.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}

	sv := cfg.Server
	s.public = &http.Server{Handler: pub, ReadHeaderTimeout: sv.ReadHeaderTimeout.D(), ReadTimeout: sv.ReadTimeout.D(),
		WriteTimeout: sv.WriteTimeout.D(), IdleTimeout: sv.IdleTimeout.D(), MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	s.admin = &http.Server{Handler: adm, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	pl, err := net.Listen("tcp", sv.Listen)
	if err != nil {
		return fail(fmt.Errorf("server.listen: %w", err))
	}
	al, err := net.Listen("tcp", sv.AdminListen)
	if err != nil {
		pl.Close()
		return fail(fmt.Errorf("server.admin_listen: %w", err))
	}
	s.publicAddr, s.adminAddr = pl.Addr().String(), al.Addr().String()
	if t := sv.TLS; t != nil {
		certs, err := newCertReloader(resolve(cfg.Dir, t.CertFile), resolve(cfg.Dir, t.KeyFile), logger)
		if err != nil {
			pl.Close()
			al.Close()
			return fail(fmt.Errorf("server.tls: %w", err))
		}
		s.public.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get}
		pl = tls.NewListener(pl, s.public.TLSConfig)
	}

	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		s.engine.Run(engineCtx)
	}()
	alerts.start(engineCtx)
	driftDone := make(chan struct{})
	go func() {
		defer close(driftDone)
		if tracker != nil {
			if err := tracker.InitMetrics(engineCtx); err != nil {
				logger.Warn("schema drift: reading the streams failed", "error", err.Error())
			}
			tracker.Run(engineCtx)
		}
	}()
	retentionDone := startRetention(engineCtx, cfg, st, ld, logger) // retention.go
	reconDone := make(chan struct{})
	if recon != nil {
		recon.Bind(engineCtx)
	}
	go func() {
		defer close(reconDone)
		if recon != nil {
			recon.Schedule(engineCtx)
			recon.Wait()
		}
	}()
	if l, ok := st.(listener); ok {
		// An empty destination means "notifications may have been missed"
		// (the listener reconnected): wake every destination.
		go l.Listen(engineCtx, func(dest string) {
			if dest == "" {
				s.engine.WakeAll()
				return
			}
			s.engine.Wake(dest)
		})
	}
	go func() { s.errc <- serveErr(s.public.Serve(pl)) }()
	go func() { s.errc <- serveErr(s.admin.Serve(al)) }()
	logger.Info("listening", "public", s.publicAddr, "admin", s.adminAddr, "storage", cfg.Storage.Driver,
		"sources", len(cfg.Sources), "destinations", len(cfg.Destinations), "version", version)

	go func() {
		defer close(s.done)
		var runErr error
		select {
		case <-ctx.Done():
		case runErr = <-s.errc:
		}
		logger.Info("shutting down")
		timeout := sv.ShutdownTimeout.D()
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		// 1. Stop accepting webhooks; ingests in progress finish (and commit).
		s.public.Shutdown(sctx)
		// 2. Stop claiming; in-flight sends finish or are released.
		stopEngine()
		<-engineDone
		<-driftDone // the tracker flushes what it learned
		<-reconDone // runs in progress stop at their checkpoint
		alerts.wait()
		<-retentionDone
		// 3. The admin API last, so operators can watch the drain.
		s.admin.Shutdown(sctx)
		for _, snd := range s.senders {
			snd.Close()
		}
		s.err = errors.Join(runErr, ld.Close(), st.Close())
		logger.Info("stopped")
	}()
	return s, nil
}

func (s *server) wait() error {
	<-s.done
	return s.err
}

func serveErr(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// health adds GET /healthz (process alive) and GET /readyz (store writable).
func (s *server) health(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.store.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "store not writable")
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	switch cfg.Storage.Driver {
	case "sqlite":
		return sqlite.Open(ctx, cfg.Storage.Path, sqlite.Config{})
	case "postgres":
		return postgres.Open(ctx, cfg.Storage.DSN, postgres.Config{Logger: log})
	}
	return nil, fmt.Errorf("storage.driver %q is not available", cfg.Storage.Driver)
}

// openLeader returns the node's cluster membership: on SQLite the one node
// always leads; on PostgreSQL leadership is an advisory lock.
func openLeader(ctx context.Context, cfg *config.Config, log *slog.Logger) (leader.Node, error) {
	if cfg.Storage.Driver != "postgres" {
		return leader.NewLocal(), nil
	}
	return leader.NewPostgres(ctx, cfg.Storage.DSN, leader.Options{Logger: log})
}

// listener is a store that tells idle nodes about work queued anywhere
// (PostgreSQL's LISTEN/NOTIFY).
type listener interface {
	Listen(ctx context.Context, fn func(destination string)) error
}

// ingestSources builds each source's verifier and front-door settings.
func ingestSources(cfg *config.Config) ([]ingest.Source, error) {
	var out []ingest.Source
	for i, src := range cfg.Sources {
		p, ok := verify.Lookup(src.Provider)
		if !ok {
			return nil, fmt.Errorf("sources[%d].provider: unknown provider %q", i, src.Provider)
		}
		v, err := p.New(src)
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s): %w", i, src.Name, err)
		}
		is := ingest.Source{Name: src.Name, Provider: src.Provider, Verifier: v, JSON: p.JSON, URL: src.NotificationURL}
		if err := frontDoor(cfg.Dir, i, &src, &is); err != nil {
			return nil, err
		}
		out = append(out, is)
	}
	return out, nil
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "migrate --config FILE")
	path := fs.String("config", "hookyard.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, e.getenv)
	if err != nil {
		return err
	}
	switch cfg.Storage.Driver {
	case "sqlite":
		if err := sqlite.Migrate(ctx, cfg.Storage.Path); err != nil {
			return err
		}
	case "postgres":
		if err := postgres.Migrate(ctx, cfg.Storage.DSN); err != nil {
			return err
		}
	default:
		return fmt.Errorf("storage.driver %q is not available", cfg.Storage.Driver)
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}
