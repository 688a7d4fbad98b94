package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxBodyBytesLimit caps server.max_body_bytes: webhooks are small, and a
// body is held in memory while it is verified.
const maxBodyBytesLimit = 64 << 20

var (
	nameRE         = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	piiPathRE      = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)
	roles          = []string{"admin", "operator", "viewer"}
	drivers        = []string{"sqlite", "postgres"}
	destTypes      = []string{"http", "file", "postgres", "mysql", "sqlite", "nats", "amqp", "redis", "kafka"}
	hmacAlgorithms = []string{"sha1", "sha256", "sha512"}
	hmacEncodings  = []string{"hex", "base64"}
)

const minTokenLen = 16

// validator checks a decoded Config, collecting every problem. It skips
// paths that already failed to decode, so one mistake is reported once.
type validator struct {
	cfg  *Config
	opts Options
	d    *decoder
	errs []*Error
}

func (v *validator) errorf(path, format string, args ...any) {
	for p := path; p != ""; p = parent(p) {
		if v.d.bad[p] {
			return
		}
	}
	v.errs = append(v.errs, &Error{Line: v.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// line is the line of path, or of its nearest enclosing key when path is
// absent from the file (a missing required key).
func (v *validator) line(path string) int {
	for p := path; p != ""; p = parent(p) {
		if l, ok := v.d.lines[p]; ok {
			return l
		}
	}
	return 0
}

// show quotes value for a message, unless it came from the environment.
func (v *validator) show(path, value string) string {
	if v.d.env[path] {
		return "(value from the environment)"
	}
	return strconv.Quote(value)
}

func (v *validator) validate() {
	v.server()
	v.storage()
	v.admin()
	v.sources()
	v.destinations()
	v.routes()
	v.transforms()
	v.observability()
}

func (v *validator) server() {
	s := v.cfg.Server
	v.listen("server.listen", s.Listen)
	v.listen("server.admin_listen", s.AdminListen)
	if s.Listen == s.AdminListen && s.Listen != "" {
		if _, port, err := net.SplitHostPort(s.Listen); err == nil && port != "0" {
			v.errorf("server.admin_listen", "must differ from server.listen (both are %s)", v.show("server.admin_listen", s.AdminListen))
		}
	}
	if s.MaxBodyBytes <= 0 || s.MaxBodyBytes > maxBodyBytesLimit {
		v.errorf("server.max_body_bytes", "must be between 1 and %d (64 MiB), got %d", maxBodyBytesLimit, s.MaxBodyBytes)
	}
	v.positive("server.shutdown_timeout", s.ShutdownTimeout)
	v.positive("server.read_header_timeout", s.ReadHeaderTimeout)
	v.positive("server.read_timeout", s.ReadTimeout)
	v.positive("server.write_timeout", s.WriteTimeout)
	v.positive("server.idle_timeout", s.IdleTimeout)
	v.allowPrivate("server.allow_private", s.AllowPrivate)
	v.frontDoorServer()
}

func (v *validator) listen(path, addr string) {
	if addr == "" {
		v.errorf(path, "is required (host:port, e.g. 127.0.0.1:8080)")
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.errorf(path, "%s is not host:port (e.g. 127.0.0.1:8080 or :8080)", v.show(path, addr))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.errorf(path, "%s: port must be a number from 0 to 65535", v.show(path, addr))
	}
}

func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.errorf(path, "must be greater than zero, got %s", d)
	}
}

func (v *validator) storage() {
	s := v.cfg.Storage
	switch s.Driver {
	case "sqlite":
		if s.Path == "" {
			v.errorf("storage.path", "is required for driver sqlite")
		}
		if s.DSN != "" {
			v.errorf("storage.dsn", "is only used by driver postgres")
		}
	case "postgres":
		if s.DSN == "" {
			v.errorf("storage.dsn", "is required for driver postgres")
		}
		if s.Path != "" {
			v.errorf("storage.path", "is only used by driver sqlite")
		}
	case "":
		v.errorf("storage.driver", "is required (want one of %s)", strings.Join(drivers, ", "))
	default:
		v.errorf("storage.driver", "unknown driver %s (want one of %s)", v.show("storage.driver", s.Driver), strings.Join(drivers, ", "))
	}
	r := s.Retention
	if r.MaxAge < 0 {
		v.errorf("storage.retention.max_age", "must not be negative (0 keeps everything), got %s", r.MaxAge)
	}
	if r.DeadMaxAge < 0 {
		v.errorf("storage.retention.dead_max_age", "must not be negative (0 keeps dead letters), got %s", r.DeadMaxAge)
	}
	if r.AuditMaxAge < 0 {
		v.errorf("storage.retention.audit_max_age", "must not be negative (0 keeps the audit log), got %s", r.AuditMaxAge)
	}
	v.positive("storage.retention.interval", r.Interval)
	if r.BatchSize < 1 || r.BatchSize > 10000 {
		v.errorf("storage.retention.batch_size", "must be between 1 and 10000, got %d", r.BatchSize)
	}
}

func (v *validator) admin() {
	names := map[string]string{}
	tokens := map[string]string{}
	for i, t := range v.cfg.Admin.Tokens {
		p := fmt.Sprintf("admin.tokens[%d]", i)
		v.name(p+".name", t.Name, "token", names)
		switch {
		case t.Token == "":
			v.errorf(p+".token", "is required")
		case len(t.Token) < minTokenLen:
			v.errorf(p+".token", "is too short: use at least %d characters (e.g. openssl rand -hex 32)", minTokenLen)
		case strings.TrimSpace(t.Token) != t.Token:
			v.errorf(p+".token", "has leading or trailing whitespace")
		default:
			if first, dup := tokens[t.Token]; dup {
				v.errorf(p+".token", "is the same token as %s; each token must be unique", first)
			} else {
				tokens[t.Token] = p
			}
		}
		switch {
		case t.Role == "":
			v.errorf(p+".role", "is required (want one of %s)", strings.Join(roles, ", "))
		case !slices.Contains(roles, t.Role):
			v.errorf(p+".role", "unknown role %s (want one of %s)", v.show(p+".role", t.Role), strings.Join(roles, ", "))
		}
	}
	for i, path := range v.cfg.Admin.PIIPaths {
		p := fmt.Sprintf("admin.pii_paths[%d]", i)
		if !piiPathRE.MatchString(path) {
			v.errorf(p, "%s: want dot-separated keys (customer.email, items.card, *.ssn), with no empty key or whitespace",
				v.show(p, path))
		}
	}
}

// name checks a required, unique, well-formed name. seen maps names to the
// path that first used them.
func (v *validator) name(path, name, what string, seen map[string]string) {
	switch {
	case name == "":
		v.errorf(path, "is required")
	case !nameRE.MatchString(name):
		v.errorf(path, "invalid %s name %s: use 1-64 of a-z, 0-9, _ . - starting with a letter or digit", what, v.show(path, name))
	default:
		if first, dup := seen[name]; dup {
			v.errorf(path, "duplicate %s name %s (first at line %d)", what, v.show(path, name), v.line(first))
		} else {
			seen[name] = path
		}
	}
}

func (v *validator) sources() {
	seen := map[string]string{}
	for i := range v.cfg.Sources {
		s := &v.cfg.Sources[i]
		p := fmt.Sprintf("sources[%d]", i)
		v.name(p+".name", s.Name, "source", seen)

		switch {
		case s.Provider == "":
			v.errorf(p+".provider", "is required%s", v.wantProviders())
		case v.opts.Providers != nil && !slices.Contains(v.opts.Providers, s.Provider):
			v.errorf(p+".provider", "unknown provider %s%s", v.show(p+".provider", s.Provider), v.wantProviders())
		}

		if s.Provider == "none" {
			if len(s.Secrets) > 0 {
				v.errorf(p+".secrets", "must be empty for provider none, which verifies nothing")
			}
		} else if s.Provider == "basic" {
			if len(s.Secrets) > 0 {
				v.errorf(p+".secrets", "must be empty for provider basic, which checks basic_auth")
			}
		} else if s.Provider == "paypal" {
			if len(s.Secrets) > 0 {
				v.errorf(p+".secrets", "must be empty for provider paypal, which checks paypal.webhook_id against PayPal's certificate or API")
			}
		} else if s.Provider != "" && len(s.Secrets) == 0 {
			v.errorf(p+".secrets", "at least one secret is required for provider %s", v.show(p+".provider", s.Provider))
		}
		for j, sec := range s.Secrets {
			if sec == "" {
				v.errorf(fmt.Sprintf("%s.secrets[%d]", p, j), "must not be empty")
			}
		}
		// Absent is zero: the provider's default window. Written, it must
		// be positive.
		if _, set := v.d.lines[p+".tolerance"]; set {
			v.positive(p+".tolerance", s.Tolerance)
		}

		switch {
		case s.Provider == "hmac" && s.HMAC == nil:
			v.errorf(p+".hmac", "is required for provider hmac (at least hmac.header)")
		case s.Provider != "hmac" && s.HMAC != nil:
			v.errorf(p+".hmac", "is only used by provider hmac")
		case s.HMAC != nil:
			v.hmac(p+".hmac", s.HMAC)
		}

		switch {
		case slices.Contains(urlProviders, s.Provider) && s.NotificationURL == "":
			v.errorf(p+".notification_url", "is required for provider %s (the URL exactly as registered there)", s.Provider)
		case s.NotificationURL != "" && !slices.Contains(urlProviders, s.Provider):
			v.errorf(p+".notification_url", "is only used by providers %s", strings.Join(urlProviders, ", "))
		case s.NotificationURL != "":
			v.notificationURL(p+".notification_url", s.NotificationURL)
		}

		switch {
		case s.Provider == "basic" && s.BasicAuth == nil:
			v.errorf(p+".basic_auth", "is required for provider basic (username and password)")
		case s.BasicAuth != nil && !slices.Contains(basicAuthProviders, s.Provider):
			v.errorf(p+".basic_auth", "is only used by providers %s", strings.Join(basicAuthProviders, ", "))
		case s.BasicAuth != nil:
			v.basicAuth(p+".basic_auth", s.BasicAuth)
		}

		switch {
		case s.Provider == "token" && s.Token == nil:
			v.errorf(p+".token", "is required for provider token (at least token.header)")
		case s.Provider != "token" && s.Token != nil:
			v.errorf(p+".token", "is only used by provider token")
		case s.Token != nil:
			v.token(p+".token", s.Token)
		}

		switch {
		case s.Provider == "paypal" && s.PayPal == nil:
			v.errorf(p+".paypal", "is required for provider paypal (at least paypal.webhook_id)")
		case s.Provider != "paypal" && s.PayPal != nil:
			v.errorf(p+".paypal", "is only used by provider paypal")
		case s.PayPal != nil:
			v.paypal(p+".paypal", s.PayPal)
		}
		v.frontDoorSource(p, s)
		v.reconcile(p, s)
	}
}

// urlProviders sign the URL they deliver to, so they need notification_url.
var urlProviders = []string{"mandrill", "twilio", "square"}

// basicAuthProviders read sources[].basic_auth.
var basicAuthProviders = []string{"basic", "adyen"}

// notificationURL checks a URL-bound provider's URL. It is never quoted
// back: it may carry a token in its query.
func (v *validator) notificationURL(path, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.errorf(path, "must be an absolute http:// or https:// URL with a host, exactly as registered at the provider")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		v.errorf(path, "must not contain a fragment (#…): browsers and providers never send it, so configure the URL without it")
	}
}

func (v *validator) basicAuth(p string, b *BasicAuth) {
	switch {
	case b.Username == "":
		v.errorf(p+".username", "is required")
	case strings.Contains(b.Username, ":"):
		v.errorf(p+".username", "must not contain a colon (HTTP Basic separates username and password with one)")
	}
	if b.Password == "" {
		v.errorf(p+".password", "is required (use ${VAR})")
	}
}

// paypal checks provider paypal's block. Credentials are never quoted.
func (v *validator) paypal(p string, c *PayPal) {
	if c.WebhookID == "" {
		v.errorf(p+".webhook_id", "is required: the webhook id PayPal shows for this webhook (it is part of the signed string)")
	}
	api := c.Mode == "api"
	switch c.Mode {
	case "", "cert", "api":
	default:
		v.errorf(p+".mode", "unknown mode %s (want cert or api)", v.show(p+".mode", c.Mode))
		return
	}
	if api {
		if len(c.CertHosts) > 0 {
			v.errorf(p+".cert_hosts", "is only used by mode cert")
		}
		if c.ClientID == "" {
			v.errorf(p+".client_id", "is required for mode api")
		}
		if c.ClientSecret == "" {
			v.errorf(p+".client_secret", "is required for mode api (use ${VAR})")
		}
		if c.APIBaseURL != "" {
			v.paypalBaseURL(p+".api_base_url", c.APIBaseURL)
		}
		return
	}
	for _, f := range []struct{ key, val string }{
		{"api_base_url", c.APIBaseURL}, {"client_id", c.ClientID}, {"client_secret", c.ClientSecret},
	} {
		if f.val != "" {
			v.errorf(p+"."+f.key, "is only used by mode api")
		}
	}
	for i, h := range c.CertHosts {
		hp := fmt.Sprintf("%s.cert_hosts[%d]", p, i)
		if u, err := url.Parse("https://" + h); h == "" || err != nil || u.Host != h || u.User != nil || strings.ContainsAny(h, "/?#@") {
			v.errorf(hp, "%s is not a host name or host:port (no scheme or path)", v.show(hp, h))
		}
	}
}

// paypalBaseURL checks mode api's base URL: https, or http to a loopback
// address (a local fake in tests), since the client secret is sent to it.
func (v *validator) paypalBaseURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		v.errorf(path, "must be an absolute https:// URL with a host, e.g. https://api-m.sandbox.paypal.com")
		return
	}
	if u.Scheme == "http" {
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			v.errorf(path, "must use https:// (http:// only to a loopback address): the client secret is sent to it")
		}
	}
}

func (v *validator) token(p string, t *HeaderToken) {
	if t.Header == "" {
		v.errorf(p+".header", "is required: the header that carries the token")
	}
	v.headerName(p+".header", t.Header)
	if strings.ContainsAny(t.Prefix, "\r\n\x00") {
		v.errorf(p+".prefix", "must not contain CR, LF or NUL")
	}
}

func (v *validator) wantProviders() string {
	if v.opts.Providers == nil {
		return ""
	}
	return " (want one of " + strings.Join(v.opts.Providers, ", ") + ")"
}

func (v *validator) hmac(p string, h *HMAC) {
	if !slices.Contains(hmacAlgorithms, h.Algorithm) {
		v.errorf(p+".algorithm", "unknown algorithm %s (want one of %s)", v.show(p+".algorithm", h.Algorithm), strings.Join(hmacAlgorithms, ", "))
	}
	if !slices.Contains(hmacEncodings, h.Encoding) {
		v.errorf(p+".encoding", "unknown encoding %s (want one of %s)", v.show(p+".encoding", h.Encoding), strings.Join(hmacEncodings, ", "))
	}
	if h.Header == "" {
		v.errorf(p+".header", "is required: the header that carries the signature")
	}
	v.headerName(p+".header", h.Header)
	v.headerName(p+".timestamp_header", h.TimestampHeader)
	v.headerName(p+".id_header", h.IDHeader)
	v.headerName(p+".topic_header", h.TopicHeader)
	switch {
	case h.Content == "":
		v.errorf(p+".content", "must not be empty (default {body})")
	case strings.Contains(h.Content, "{timestamp}") && h.TimestampHeader == "":
		v.errorf(p+".content", "uses {timestamp}, so timestamp_header is required")
	case strings.Contains(h.Content, "{id}") && h.IDHeader == "":
		v.errorf(p+".content", "uses {id}, so id_header is required")
	}
}

// headerName checks an optional HTTP header name.
func (v *validator) headerName(path, name string) {
	if name == "" {
		return
	}
	if strings.ContainsAny(name, "\r\n") {
		v.errorf(path, "header name must not contain CR or LF")
	} else if !isToken(name) {
		v.errorf(path, "invalid header name %s", v.show(path, name))
	}
}

func (v *validator) destinations() {
	seen := map[string]string{}
	for i := range v.cfg.Destinations {
		d := &v.cfg.Destinations[i]
		p := fmt.Sprintf("destinations[%d]", i)
		v.name(p+".name", d.Name, "destination", seen)

		switch d.Type {
		case "http":
			v.destURL(p+".url", d.URL)
			if d.Path != "" {
				v.errorf(p+".path", "is only used by type file")
			}
		case "file":
			if d.Path == "" {
				v.errorf(p+".path", "is required for type file (a JSON-lines file to append to)")
			}
			if d.URL != "" {
				v.errorf(p+".url", "is only used by type http")
			}
			if len(d.Headers) > 0 {
				v.errorf(p+".headers", "are only used by type http")
			}
		case "":
			v.errorf(p+".type", "is required (want one of %s)", strings.Join(destTypes, ", "))
		default:
			v.destKind(p, d) // destkinds.go: the other types, or unknown
		}
		v.destOptions(p, d)

		for _, k := range slices.Sorted(maps.Keys(d.Headers)) {
			hp := mapKeyPath(p+".headers", k)
			switch {
			case k == "":
				v.errorf(hp, "header name must not be empty")
			case strings.ContainsAny(k, "\r\n"):
				v.errorf(hp, "header name must not contain CR or LF")
			case !isToken(k):
				v.errorf(hp, "invalid header name")
			}
			if strings.ContainsAny(d.Headers[k], "\r\n\x00") {
				v.errorf(hp, "header value must not contain CR, LF or NUL")
			}
		}

		v.positive(p+".timeout", d.Timeout)
		if d.Concurrency < 1 {
			v.errorf(p+".concurrency", "must be at least 1, got %d", d.Concurrency)
		}
		v.deliveryControls(p, d)
		r := d.Retry
		if r.MaxAttempts < 1 {
			v.errorf(p+".retry.max_attempts", "must be at least 1, got %d", r.MaxAttempts)
		}
		v.positive(p+".retry.initial_interval", r.InitialInterval)
		v.positive(p+".retry.max_interval", r.MaxInterval)
		if r.InitialInterval > 0 && r.MaxInterval > 0 && r.InitialInterval > r.MaxInterval {
			v.errorf(p+".retry.initial_interval", "%s is longer than retry.max_interval %s", r.InitialInterval, r.MaxInterval)
		}
	}
}

// destURL checks an http destination URL. The URL is never quoted back: it
// may carry credentials.
func (v *validator) destURL(path, raw string) {
	if raw == "" {
		v.errorf(path, "is required for type http")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path, "must be an absolute http:// or https:// URL with a host")
	}
}

func (v *validator) routes() {
	names := map[string]string{}
	pairs := map[[4]string]string{}
	for i := range v.cfg.Routes {
		r := &v.cfg.Routes[i]
		p := fmt.Sprintf("routes[%d]", i)
		ok := true
		if r.Source == "" {
			v.errorf(p+".source", "is required")
			ok = false
		} else if _, found := v.cfg.Source(r.Source); !found && !v.anyBad("sources") {
			v.errorf(p+".source", "unknown source %s (defined: %s)", v.show(p+".source", r.Source), v.defined("sources"))
			ok = false
		}
		if r.Destination == "" {
			v.errorf(p+".destination", "is required")
			ok = false
		} else if _, found := v.cfg.Destination(r.Destination); !found && !v.anyBad("destinations") {
			v.errorf(p+".destination", "unknown destination %s (defined: %s)", v.show(p+".destination", r.Destination), v.defined("destinations"))
			ok = false
		}
		if r.Name == "" {
			continue // no default without both ends; already reported
		}
		if r.Name != r.Source+"->"+r.Destination { // given, not defaulted
			v.name(p+".name", r.Name, "route", names)
		} else if first, dup := names[r.Name]; dup {
			v.errorf(p, "duplicate route name %q (first at line %d); give one a name", r.Name, v.line(first))
		} else {
			names[r.Name] = p
		}
		if ok {
			// Two routes between the same ends are fine when they select or
			// shape differently; identical ones would deliver twice.
			pair := [4]string{r.Source, r.Destination, r.Filter, r.Transform}
			if first, dup := pairs[pair]; dup {
				v.errorf(p, "repeats %s (same source, destination, filter and transform would deliver twice)", first)
			} else {
				pairs[pair] = p
			}
		}
		v.routePipeline(p, r)
	}
}

func (v *validator) routePipeline(p string, r *Route) {
	switch r.OnDead {
	case "", "skip", "block":
	default:
		v.errorf(p+".on_dead", "must be skip or block, got %s", v.show(p+".on_dead", r.OnDead))
	}
	if r.OnDead != "" && r.OrderingKey == "" {
		v.errorf(p+".on_dead", "only applies with an ordering_key")
	}
	if c := r.Canary; c != nil {
		if c.Transform == "" {
			v.errorf(p+".canary.transform", "is required")
		}
		if c.Percent <= 0 || c.Percent > 100 {
			v.errorf(p+".canary.percent", "must be in (0, 100], got %v", c.Percent)
		}
		if r.Transform == "" {
			v.errorf(p+".canary", "needs the live transform it is a candidate for (routes[].transform)")
		}
	}
	if r.Shadow != "" && r.Transform == "" {
		v.errorf(p+".shadow", "needs the live transform it is compared with (routes[].transform)")
	}
}

// anyBad reports whether a name in list (or the list itself) failed to
// decode, in which case references to that list are not checked: they
// would all look wrong.
func (v *validator) anyBad(list string) bool {
	for p := range v.d.bad {
		rest, ok := strings.CutPrefix(p, list)
		if !ok {
			continue
		}
		if rest == "" || badItemRE.MatchString(rest) {
			return true
		}
	}
	return false
}

var badItemRE = regexp.MustCompile(`^\[\d+\](\.name)?$`)

func (v *validator) defined(list string) string {
	var names []string
	switch list {
	case "sources":
		for _, s := range v.cfg.Sources {
			names = append(names, s.Name)
		}
	case "destinations":
		for _, d := range v.cfg.Destinations {
			names = append(names, d.Name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), the
// syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
