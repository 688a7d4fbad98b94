package config

import "time"

// Config is the whole hookyard configuration file; the README's configuration reference documents
// every key. Defaults noted on fields apply when a key is absent.
type Config struct {
	Server       Server        `yaml:"server"`
	Storage      Storage       `yaml:"storage"`
	Admin        Admin         `yaml:"admin"`
	Sources      []Source      `yaml:"sources"`
	Destinations []Destination `yaml:"destinations"`
	Routes       []Route       `yaml:"routes"`
	// Transforms configures what the jq commerce functions read: the
	// hash_pii key, lookup tables and risk rules (transforms.go).
	Transforms Transforms `yaml:"transforms,omitempty"`
	// Drift configures schema drift tracking (transforms.go).
	Drift Drift `yaml:"drift,omitempty"`
	// SLOs and Alerts drive the in-process SLO evaluation and the notifiers
	// alerts go to; their types and validation are in slo.go.
	SLOs   []SLO   `yaml:"slos"`
	Alerts []Alert `yaml:"alerts"`

	// Dir is the directory of the config file (set by Load); relative file
	// names in the config, such as schema files, are resolved against it.
	Dir string `yaml:"-"`
	// lines maps key paths to their line, for Errorf.
	lines map[string]int
}

// Server configures the two listeners.
type Server struct {
	Listen       string `yaml:"listen"`         // public ingest listener; default 127.0.0.1:8080
	AdminListen  string `yaml:"admin_listen"`   // admin API and metrics; default 127.0.0.1:8081
	MaxBodyBytes int64  `yaml:"max_body_bytes"` // default 1 MiB
	// ShutdownTimeout bounds a graceful stop (SIGTERM); default 15s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout protect
	// the public listener from slow clients; defaults 5s, 30s, 30s, 120s.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	WriteTimeout      Duration `yaml:"write_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	// MaxJSONDepth bounds object/array nesting in JSON bodies, checked
	// before anything parses them; default 64.
	MaxJSONDepth int `yaml:"max_json_depth"`
	// MaxInFlight bounds concurrent ingest requests (503 beyond); default 1024.
	MaxInFlight int `yaml:"max_in_flight"`
	// TLS serves the public listener over HTTPS when set.
	TLS *TLS `yaml:"tls,omitempty"`
	// AllowPrivate lists networks (CIDR or single address) every http
	// destination may reach despite the SSRF guard; cloud metadata
	// addresses stay refused.
	AllowPrivate []string `yaml:"allow_private,omitempty"`
}

// TLS names a certificate and key (PEM). Both files are re-read when they
// change, without a restart.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Storage selects the database.
type Storage struct {
	Driver string `yaml:"driver"` // sqlite (default)
	Path   string `yaml:"path"`   // sqlite file; default ./data/hookyard.db
	DSN    string `yaml:"dsn"`    // postgres (later)
	// Retention deletes old finished work (storage.retention).
	Retention Retention `yaml:"retention"`
}

// Retention configures the deletion of old finished events, with their
// deliveries and attempts, and of old quarantined requests. It runs on the
// cluster leader, in batches.
type Retention struct {
	MaxAge     Duration `yaml:"max_age"`      // default 30d; 0 keeps everything
	DeadMaxAge Duration `yaml:"dead_max_age"` // default 0: events with a dead letter are kept
	// AuditMaxAge: audit-log entries recorded longer ago are deleted (the
	// chain stays verifiable from an anchor); default 0 keeps them.
	AuditMaxAge Duration `yaml:"audit_max_age"`
	Interval    Duration `yaml:"interval"`   // between runs; default 10m
	BatchSize   int      `yaml:"batch_size"` // events per transaction; default 500
}

// Admin configures the admin API.
type Admin struct {
	Tokens []Token `yaml:"tokens"`
	// PIIPaths are JSON paths in event bodies ("customer.email", "*.ssn")
	// that the admin API masks for roles below admin.
	PIIPaths []string `yaml:"pii_paths"`
}

// Token is a static admin API bearer token.
type Token struct {
	Name  string `yaml:"name"`
	Token string `yaml:"token"`
	Role  string `yaml:"role"` // admin, operator or viewer
}

// Source is a named ingest endpoint: POST /ingest/{name}.
type Source struct {
	Name     string   `yaml:"name"`
	Provider string   `yaml:"provider"` // a verify provider name (verify.Names)
	Secrets  []string `yaml:"secrets"`  // any one may match (rotation)
	// Tolerance is the timestamp window for schemes that sign a timestamp;
	// zero (absent) means the provider's default, 5m each way for most.
	Tolerance Duration `yaml:"tolerance,omitempty"`
	// HMAC configures provider "hmac" (generic scheme).
	HMAC *HMAC `yaml:"hmac"`
	// NotificationURL is the URL exactly as registered at the provider, for
	// schemes that sign it (mandrill, twilio, square): behind a proxy the request's
	// own URL differs, so it is configured rather than reconstructed.
	NotificationURL string `yaml:"notification_url,omitempty"`
	// BasicAuth holds the credentials provider "basic" requires, and
	// provider "adyen" also checks when set.
	BasicAuth *BasicAuth `yaml:"basic_auth,omitempty"`
	// Token configures provider "token": the header that carries one of
	// Secrets.
	Token *HeaderToken `yaml:"token,omitempty"`
	// PayPal configures provider "paypal", which has no secrets: its
	// webhook id, and how signatures are checked.
	PayPal *PayPal `yaml:"paypal,omitempty"`
	// AllowIPs lists the client networks (CIDR or single address) accepted;
	// empty accepts any. Others get 403.
	AllowIPs []string `yaml:"allow_ips,omitempty"`
	// TrustedProxies are networks whose X-Forwarded-For is believed when
	// finding the client address.
	TrustedProxies []string `yaml:"trusted_proxies,omitempty"`
	// RateLimit caps the source's request rate ("100/s", "6000/m"); beyond
	// it the answer is 429 with Retry-After. Empty means no limit.
	RateLimit string `yaml:"rate_limit,omitempty"`
	// RateBurst is how many requests may arrive at once; default the rate
	// per second.
	RateBurst int `yaml:"rate_burst,omitempty"`
	// Schemas maps a topic, or "*" for every other topic, to a JSON Schema
	// file (relative paths are relative to the config file).
	Schemas map[string]string `yaml:"schemas,omitempty"`
	// Reconcile compares the source's events with its provider's API on a
	// schedule and backfills the gaps (reconcile.go).
	Reconcile *Reconcile `yaml:"reconcile,omitempty"`
}

// BasicAuth is an HTTP Basic username and password.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// PayPal is how provider "paypal" checks a delivery: offline against the
// certificate PayPal names in PAYPAL-CERT-URL (mode cert), or by asking
// PayPal's verify-webhook-signature API (mode api).
type PayPal struct {
	WebhookID string `yaml:"webhook_id"` // required: the id PayPal shows for this webhook
	Mode      string `yaml:"mode"`       // cert (default) or api
	// CertHosts replaces the hosts certificates may be downloaded from;
	// default api.paypal.com and api.sandbox.paypal.com. Mode cert only.
	CertHosts []string `yaml:"cert_hosts,omitempty"`
	// APIBaseURL, ClientID and ClientSecret are for mode api; the base URL
	// defaults to https://api-m.paypal.com (sandbox:
	// https://api-m.sandbox.paypal.com).
	APIBaseURL   string `yaml:"api_base_url,omitempty"`
	ClientID     string `yaml:"client_id,omitempty"`
	ClientSecret string `yaml:"client_secret,omitempty"`
}

// HeaderToken names the header a static token arrives in; the accepted
// tokens are the source's secrets, so they rotate like any other secret.
type HeaderToken struct {
	Header string `yaml:"header"` // required, e.g. Authorization
	Prefix string `yaml:"prefix"` // text before the token, e.g. "Bearer "
}

// HMAC is a generic HMAC signature scheme.
type HMAC struct {
	Algorithm string `yaml:"algorithm"` // sha1, sha256 (default), sha512
	Encoding  string `yaml:"encoding"`  // hex (default) or base64
	Header    string `yaml:"header"`    // signature header name (required)
	Prefix    string `yaml:"prefix"`    // e.g. "sha256="
	// Content is the signed-content template; {body}, {timestamp} and {id}
	// are replaced. Default "{body}".
	Content         string `yaml:"content"`
	TimestampHeader string `yaml:"timestamp_header"`
	IDHeader        string `yaml:"id_header"`    // dedup key header
	TopicHeader     string `yaml:"topic_header"` // topic header
}

// Destination is where deliveries go.
type Destination struct {
	Name    string            `yaml:"name"`
	Type    string            `yaml:"type"` // http, file, postgres, mysql, sqlite, nats, amqp, redis or kafka
	URL     string            `yaml:"url"`  // http
	Path    string            `yaml:"path"` // file (JSON lines)
	Timeout Duration          `yaml:"timeout"`
	Headers map[string]string `yaml:"headers"` // extra static headers (http)
	Retry   Retry             `yaml:"retry"`
	// Concurrency is the number of in-flight deliveries to this destination
	// (its own worker budget); default 16.
	Concurrency int `yaml:"concurrency"`
	// MaxInFlight caps in-flight deliveries across every node sharing the
	// database (concurrency is per node); 0 is no cluster-wide cap.
	MaxInFlight int `yaml:"max_in_flight,omitempty"`
	// RateLimit caps sends across every node, e.g. "50/s" or "600/m";
	// empty is unlimited. Burst is how many may go at once after a quiet
	// spell; default the per-second rate rounded up.
	RateLimit string `yaml:"rate_limit,omitempty"`
	Burst     int    `yaml:"burst,omitempty"`
	// Breaker is the circuit breaker; absent means none.
	Breaker *Breaker `yaml:"breaker,omitempty"`
	// DisableAfter disables the destination after this long with every
	// attempt failing (default 5d; "0s" never). A 410 Gone disables at once.
	DisableAfter Duration `yaml:"disable_after,omitempty"`

	// The keys below belong to one or a few types each; the README's configuration reference has
	// a section per type, and validation rejects a key the type ignores.

	Method       string     `yaml:"method,omitempty"`        // http: POST (default), PUT or PATCH
	Auth         *Auth      `yaml:"auth,omitempty"`          // http
	Signing      *Signing   `yaml:"signing,omitempty"`       // http: Standard Webhooks
	TLS          *ClientTLS `yaml:"tls,omitempty"`           // http: custom CA, client certificate
	AllowPrivate []string   `yaml:"allow_private,omitempty"` // http: networks the SSRF guard lets through

	MaxBytes int64 `yaml:"max_bytes,omitempty"` // file: rotate beyond this size; 0 never rotates
	Keep     int   `yaml:"keep,omitempty"`      // file: rotated files kept; default 5

	DSN    string           `yaml:"dsn,omitempty"`    // postgres, mysql, sqlite
	Tables map[string]Table `yaml:"tables,omitempty"` // postgres, mysql, sqlite: the tables rows may go to

	Subject    string   `yaml:"subject,omitempty"`     // nats: JetStream subject
	Exchange   string   `yaml:"exchange,omitempty"`    // amqp: "" is the default exchange
	RoutingKey string   `yaml:"routing_key,omitempty"` // amqp
	Stream     string   `yaml:"stream,omitempty"`      // redis: stream key
	MaxLen     int64    `yaml:"max_len,omitempty"`     // redis: trim the stream to about this length; 0 never
	Brokers    []string `yaml:"brokers,omitempty"`     // kafka: seed brokers, host:port
	Topic      string   `yaml:"topic,omitempty"`       // kafka
	// IdempotencyTTL is how long redis remembers a delivered idempotency
	// key, so a redelivery within it adds nothing; default 7d.
	IdempotencyTTL Duration `yaml:"idempotency_ttl,omitempty"`
}

// Breaker configures a destination's circuit breaker: it opens after
// consecutive_failures failures in a row, or when failure_ratio of the
// attempts in window failed (once min_requests were made), holds due
// deliveries for open_for without using attempts, then lets probes through.
type Breaker struct {
	ConsecutiveFailures int      `yaml:"consecutive_failures"`
	FailureRatio        float64  `yaml:"failure_ratio"`
	Window              Duration `yaml:"window"`
	MinRequests         int      `yaml:"min_requests"`
	OpenFor             Duration `yaml:"open_for"`
	Probes              int      `yaml:"probes"`
	// OnOpen is what happens to due deliveries while open: hold (wait,
	// using no attempts) or dead_letter.
	OnOpen string `yaml:"on_open"`
}

// Auth is how an http destination authenticates hookyard's requests.
type Auth struct {
	Type     string `yaml:"type"`     // bearer, basic or header
	Token    string `yaml:"token"`    // bearer
	Username string `yaml:"username"` // basic
	Password string `yaml:"password"` // basic
	Header   string `yaml:"header"`   // header: its name
	Value    string `yaml:"value"`    // header: its value
}

// Signing signs outbound requests in the Standard Webhooks format.
type Signing struct {
	// Secrets are whsec_<base64> keys; each signs every request, so the
	// receiver can move from one to the next without a gap.
	Secrets []string `yaml:"secrets"`
}

// ClientTLS configures the TLS client of an http destination (PEM files).
type ClientTLS struct {
	CAFile   string `yaml:"ca_file"`   // trust only this CA bundle instead of the system roots
	CertFile string `yaml:"cert_file"` // client certificate (mTLS); needs key_file
	KeyFile  string `yaml:"key_file"`
}

// Table is one table an SQL destination upserts into.
type Table struct {
	Key []string `yaml:"key"` // the columns of its primary key or a unique index
	// VersionColumn, if set, guards updates: a row replaces the stored one
	// only if its version is not older.
	VersionColumn string `yaml:"version_column"`
}

// Retry is a destination's retry policy.
type Retry struct {
	MaxAttempts     int      `yaml:"max_attempts"`     // default 50
	InitialInterval Duration `yaml:"initial_interval"` // default 5s
	MaxInterval     Duration `yaml:"max_interval"`     // default 6h
}

// Route sends a source's events to a destination.
type Route struct {
	Name        string `yaml:"name"` // default "<source>-><destination>"
	Source      string `yaml:"source"`
	Destination string `yaml:"destination"`
	// Filter is a jq expression over the event envelope; the route applies
	// when it yields true. Empty matches every event.
	Filter string `yaml:"filter,omitempty"`
	// Priority is a jq expression yielding "high", "normal" or "low";
	// empty means normal.
	Priority string `yaml:"priority,omitempty"`
	// OrderingKey is a jq expression; deliveries with the same key reach
	// the destination one at a time, in the order received.
	OrderingKey string `yaml:"ordering_key,omitempty"`
	// OnDead says what a dead-lettered delivery does to its ordering key:
	// skip (default: the key moves on) or block (until replayed).
	OnDead string `yaml:"on_dead,omitempty"`
	// Transform is a jq program (a file name ending in .jq, or inline)
	// that shapes the payload, run by the worker just before sending.
	Transform string `yaml:"transform,omitempty"`
	// Shadow is a candidate transform run beside Transform without being
	// sent; differences are counted and the first ones kept.
	Shadow string `yaml:"shadow,omitempty"`
	// Canary sends a candidate transform for a deterministic share of
	// events (by event id).
	Canary *Canary `yaml:"canary,omitempty"`
}

// Canary is a candidate transform sent for a share of events.
type Canary struct {
	Transform string  `yaml:"transform"`
	Percent   float64 `yaml:"percent"`
}

// Duration is a time.Duration written as "15s", "6h", "72h" or "3d" in
// YAML; see ParseDuration.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
