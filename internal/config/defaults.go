package config

import "time"

// Defaults for keys absent from the file. They are filled before a mapping
// is decoded, so only absent (or null) keys take them; an explicit zero is
// kept and rejected by validation.
const (
	defaultListen            = "127.0.0.1:8080"
	defaultAdminListen       = "127.0.0.1:8081"
	defaultMaxBodyBytes      = 1 << 20
	defaultShutdownTimeout   = Duration(15 * time.Second)
	defaultReadHeaderTimeout = Duration(5 * time.Second)
	defaultReadTimeout       = Duration(30 * time.Second)
	defaultWriteTimeout      = Duration(30 * time.Second)
	defaultIdleTimeout       = Duration(120 * time.Second)
	defaultMaxJSONDepth      = 64
	defaultMaxInFlight       = 1024

	defaultDriver     = "sqlite"
	defaultSQLitePath = "./data/hookyard.db"

	defaultDestinationTimeout = Duration(15 * time.Second)
	defaultConcurrency        = 16
	defaultDisableAfter       = Duration(5 * 24 * time.Hour)
	defaultMaxAttempts        = 50
	defaultInitialInterval    = Duration(5 * time.Second)
	defaultMaxInterval        = Duration(6 * time.Hour)

	defaultRetentionMaxAge    = Duration(30 * 24 * time.Hour)
	defaultRetentionInterval  = Duration(10 * time.Minute)
	defaultRetentionBatchSize = 500

	defaultHMACAlgorithm = "sha256"
	defaultHMACEncoding  = "hex"
	defaultHMACContent   = "{body}"
)

func (c *Config) setDefaults() {
	c.Server.setDefaults()
	c.Storage.setDefaults()
}

// setDerivedDefaults fills defaults that depend on other keys, after
// decoding.
func (c *Config) setDerivedDefaults() {
	if c.Storage.Driver == "sqlite" && c.Storage.Path == "" {
		c.Storage.Path = defaultSQLitePath
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.Name == "" && r.Source != "" && r.Destination != "" {
			r.Name = r.Source + "->" + r.Destination
		}
	}
}

func (s *Server) setDefaults() {
	setZero(&s.Listen, defaultListen)
	setZero(&s.AdminListen, defaultAdminListen)
	setZero(&s.MaxBodyBytes, defaultMaxBodyBytes)
	setZero(&s.ShutdownTimeout, defaultShutdownTimeout)
	setZero(&s.ReadHeaderTimeout, defaultReadHeaderTimeout)
	setZero(&s.ReadTimeout, defaultReadTimeout)
	setZero(&s.WriteTimeout, defaultWriteTimeout)
	setZero(&s.IdleTimeout, defaultIdleTimeout)
	setZero(&s.MaxJSONDepth, defaultMaxJSONDepth)
	setZero(&s.MaxInFlight, defaultMaxInFlight)
}

// setDefaults sets only the driver: the path default belongs to sqlite and
// is filled once the driver is known (setDerivedDefaults).
func (s *Storage) setDefaults() {
	setZero(&s.Driver, defaultDriver)
	s.Retention.setDefaults()
}

// setDefaults runs before the mapping is decoded, so an explicit
// max_age: 0 stays zero and turns retention off.
func (r *Retention) setDefaults() {
	setZero(&r.MaxAge, defaultRetentionMaxAge)
	setZero(&r.Interval, defaultRetentionInterval)
	setZero(&r.BatchSize, defaultRetentionBatchSize)
}

// Source has no defaults here: an absent tolerance stays zero, and each
// verify provider applies its own window (recharge 48h, most others 5m).

func (h *HMAC) setDefaults() {
	setZero(&h.Algorithm, defaultHMACAlgorithm)
	setZero(&h.Encoding, defaultHMACEncoding)
	setZero(&h.Content, defaultHMACContent)
}

func (d *Destination) setDefaults() {
	setZero(&d.Timeout, defaultDestinationTimeout)
	setZero(&d.Concurrency, defaultConcurrency)
	d.DisableAfter = defaultDisableAfter // before decoding: an explicit 0s stays 0 (never)
	d.Retry.setDefaults()
}

func (b *Breaker) setDefaults() {
	setZero(&b.Window, Duration(time.Minute))
	setZero(&b.MinRequests, 20)
	setZero(&b.OpenFor, Duration(30*time.Second))
	setZero(&b.Probes, 1)
	setZero(&b.OnOpen, "hold")
}

func (r *Retry) setDefaults() {
	setZero(&r.MaxAttempts, defaultMaxAttempts)
	setZero(&r.InitialInterval, defaultInitialInterval)
	setZero(&r.MaxInterval, defaultMaxInterval)
}

func setZero[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Reconciliation defaults (sources[].reconcile).
const (
	DefaultReconcileEvery    = 15 * time.Minute
	DefaultReconcileLookback = 6 * time.Hour
	DefaultReconcileSettle   = 5 * time.Minute
)
