package config

import "time"

// Config is the whole hookyard configuration file; docs/CONFIG.md documents
// every key. Defaults noted on fields apply when a key is absent.
type Config struct {
	Server       Server        `yaml:"server"`
	Storage      Storage       `yaml:"storage"`
	Admin        Admin         `yaml:"admin"`
	Sources      []Source      `yaml:"sources"`
	Destinations []Destination `yaml:"destinations"`
	Routes       []Route       `yaml:"routes"`

	// Dir is the directory of the config file (set by Load); relative file
	// names in the config, such as schema files, are resolved against it.
	Dir string `yaml:"-"`
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
}

// Admin configures the admin API.
type Admin struct {
	Tokens []Token `yaml:"tokens"`
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
	// schemes that sign it (mandrill, twilio): behind a proxy the request's
	// own URL differs, so it is configured rather than reconstructed.
	NotificationURL string `yaml:"notification_url,omitempty"`
	// BasicAuth holds the credentials provider "basic" requires.
	BasicAuth *BasicAuth `yaml:"basic_auth,omitempty"`
	// Token configures provider "token": the header that carries one of
	// Secrets.
	Token *HeaderToken `yaml:"token,omitempty"`
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
}

// BasicAuth is an HTTP Basic username and password.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
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
	Type    string            `yaml:"type"` // http or file
	URL     string            `yaml:"url"`  // http
	Path    string            `yaml:"path"` // file (JSON lines)
	Timeout Duration          `yaml:"timeout"`
	Headers map[string]string `yaml:"headers"` // extra static headers (http)
	Retry   Retry             `yaml:"retry"`
	// Concurrency is the number of in-flight deliveries to this destination
	// (its own worker budget); default 16.
	Concurrency int `yaml:"concurrency"`
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
}

// Duration is a time.Duration written as "15s", "6h", "72h" or "3d" in
// YAML; see ParseDuration.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
