package dest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Defaults for an HTTP destination whose config leaves them unset.
const (
	DefaultTimeout     = 15 * time.Second // per attempt, connect to last body byte (as config)
	DefaultConcurrency = 16
)

const (
	// maxDrain is how much of a response beyond the kept 4 KiB is read and
	// discarded so the connection can be reused; a longer body costs a new
	// connection rather than unbounded reading.
	maxDrain = 64 << 10
	// maxResponseHeader bounds the memory a destination's headers can take.
	maxResponseHeader = 64 << 10
)

// reservedHeaders may not be set as static headers: they frame the request
// (set by net/http) or carry hookyard's delivery contract. Hookyard-* is
// reserved as a prefix.
var reservedHeaders = []string{
	"Connection", "Content-Length", "Host", "Idempotency-Key", "Keep-Alive",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// HTTP sends deliveries to one URL: the body byte for byte (the event's, or
// a transform's output), with hookyard's delivery headers, optional auth,
// and optional Standard Webhooks signatures. It never follows redirects, so
// a 3xx is reported as it arrived. Each HTTP destination has its own client
// and connection pool, so a slow destination cannot exhaust another's.
//
// URL templates (/orders/{{ .body.id }}) wait for the transform envelope;
// header values may already be templates (see headerTemplate).
type HTTP struct {
	name      string
	url       string
	method    string
	header    http.Header // static headers, canonical keys
	templates []headerTemplate
	authName  string // header auth sets, canonical; "" for none
	authValue string
	signer    *signer // nil when requests are not signed
	userAgent string
	timeout   time.Duration
	now       func() time.Time
	transport *http.Transport
	client    *http.Client
}

// NewHTTP returns the sender for an http destination. It rejects a URL that
// is not absolute http(s), a method other than POST, PUT or PATCH, static
// headers with invalid names, control characters (CR, LF) in values,
// reserved names or template syntax errors, incomplete auth, malformed
// signing secrets, and unreadable tls files.
//
// Requests go direct: environment proxies are not used, because a proxy
// would dial on hookyard's behalf and bypass the SSRF guard and
// Options.Control.
func NewHTTP(d config.Destination, o Options) (*HTTP, error) {
	u, err := url.Parse(d.URL)
	if err != nil {
		// url.Error quotes the URL, which may carry credentials.
		return nil, fmt.Errorf("destination %q: url: invalid", d.Name)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("destination %q: url %q: want an absolute http or https URL", d.Name, u.Redacted())
	}
	method := cmp.Or(d.Method, http.MethodPost)
	if !slices.Contains([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, method) {
		return nil, fmt.Errorf("destination %q: method %q: want POST, PUT or PATCH", d.Name, d.Method)
	}
	h := &HTTP{
		name:      d.Name,
		url:       u.String(),
		method:    method,
		header:    make(http.Header, len(d.Headers)),
		userAgent: "hookyard/" + cmp.Or(o.Version, "dev"),
		timeout:   cmp.Or(max(d.Timeout.D(), 0), DefaultTimeout),
		now:       o.Now,
	}
	if h.now == nil {
		h.now = time.Now
	}
	for _, name := range slices.Sorted(maps.Keys(d.Headers)) {
		value := d.Headers[name]
		if err := checkHeader(name, value); err != nil {
			return nil, fmt.Errorf("destination %q: headers: %w", d.Name, err)
		}
		canonical := http.CanonicalHeaderKey(name)
		if _, dup := h.header[canonical]; dup || slices.ContainsFunc(h.templates, func(t headerTemplate) bool { return t.name == canonical }) {
			return nil, fmt.Errorf("destination %q: headers: %q: given twice (names are case-insensitive)", d.Name, name)
		}
		if strings.Contains(value, "{{") {
			t, err := parseHeaderTemplate(canonical, value)
			if err != nil {
				return nil, fmt.Errorf("destination %q: headers: %w", d.Name, err)
			}
			h.templates = append(h.templates, t)
			continue
		}
		h.header.Set(name, value)
	}
	if d.Auth != nil {
		if h.authName, h.authValue, err = authHeader(d.Auth); err != nil {
			return nil, fmt.Errorf("destination %q: auth: %w", d.Name, err)
		}
		if h.setsHeader(h.authName) {
			return nil, fmt.Errorf("destination %q: headers: %s is also set by auth; keep one", d.Name, h.authName)
		}
	}
	if d.Signing != nil {
		if h.signer, err = newSigner(d.Signing.Secrets); err != nil {
			return nil, fmt.Errorf("destination %q: signing: %w", d.Name, err)
		}
		for _, name := range signatureHeaders {
			if h.setsHeader(name) || h.authName == name {
				return nil, fmt.Errorf("destination %q: headers: %s is set by signing", d.Name, name)
			}
		}
	}

	concurrency := cmp.Or(max(d.Concurrency, 0), DefaultConcurrency)
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		tlsConfig = o.TLSConfig.Clone()
		tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)
	}
	if d.TLS != nil {
		if err := clientTLS(tlsConfig, d.TLS, o.Dir); err != nil {
			return nil, fmt.Errorf("destination %q: tls: %w", d.Name, err)
		}
	}
	control := o.Control
	if o.SSRFGuard {
		allow := slices.Clone(o.AllowPrivate)
		for i, c := range d.AllowPrivate {
			p, err := config.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("destination %q: allow_private[%d]: %w", d.Name, i, err)
			}
			allow = append(allow, p)
		}
		control = ssrfControl(allow, o.Control)
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   control,
		Resolver:  o.Resolver,
	}
	h.transport = &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true, // a custom TLS config would otherwise turn HTTP/2 off
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           concurrency,
		MaxIdleConnsPerHost:    concurrency,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: maxResponseHeader,
	}
	h.client = &http.Client{
		Transport: h.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		// No Client.Timeout: Send bounds each attempt with its context.
	}
	return h, nil
}

// setsHeader reports whether a static or templated header has the
// canonical name.
func (h *HTTP) setsHeader(canonical string) bool {
	_, ok := h.header[canonical]
	return ok || slices.ContainsFunc(h.templates, func(t headerTemplate) bool { return t.name == canonical })
}

// Send sends one attempt and returns the response, with its body cut to
// webhook.MaxAttemptResponse bytes, or the transport error unchanged. A
// non-2xx status is not an error here; the caller classifies it. A header
// template that fails on this event is a permanent error of class
// transform.
func (h *HTTP) Send(ctx context.Context, m *Message) Response {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()

	body := m.Body()
	req, err := http.NewRequestWithContext(ctx, h.method, h.url, bytes.NewReader(body))
	if err != nil {
		return Response{Err: err}
	}
	req.Header = make(http.Header, len(h.header)+len(h.templates)+12)
	req.Header.Set("Content-Type", m.contentType())
	req.Header.Set("User-Agent", h.userAgent)
	for name, values := range h.header { // may replace Content-Type and User-Agent
		req.Header[name] = slices.Clone(values)
	}
	if len(h.templates) > 0 {
		env := newEnvelope(m.Event)
		for _, t := range h.templates {
			v, err := t.execute(env)
			if err != nil {
				return Response{Err: &outcome.Error{Err: err, Permanent: true, Class: webhook.ClassTransform}}
			}
			req.Header[t.name] = []string{v}
		}
	}
	if h.authName != "" {
		req.Header.Set(h.authName, h.authValue)
	}
	key := m.Delivery.IdempotencyKey()
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Hookyard-Delivery-Id", m.Delivery.ID)
	req.Header.Set("Hookyard-Event-Id", m.Event.ID)
	req.Header.Set("Hookyard-Source", m.Event.Source)
	req.Header.Set("Hookyard-Topic", m.Event.Topic)
	req.Header.Set("Hookyard-Attempt", strconv.Itoa(m.Attempt))
	if o := m.Event.Headers.Get("Hookyard-Origin"); o != "" { // "reconcile": backfilled from the provider's API
		req.Header.Set("Hookyard-Origin", o)
	}
	// The attempt's span, when tracing is on, continues at the destination
	// (W3C traceparent; replaces a static header of that name).
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	if h.signer != nil {
		h.signer.sign(req.Header, key, h.now(), body)
	}

	resp, err := h.client.Do(req)
	if err != nil {
		return Response{Err: err}
	}
	defer resp.Body.Close()
	// The status is the destination's answer; a body cut short (by the
	// deadline or a reset) does not change it, so read errors are dropped.
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, webhook.MaxAttemptResponse))
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: respBody}
}

// Close closes the destination's idle connections. Call it after the last
// Send.
func (h *HTTP) Close() error {
	h.transport.CloseIdleConnections()
	return nil
}

// authHeader returns the header a destination's auth sets.
func authHeader(a *config.Auth) (name, value string, err error) {
	switch a.Type {
	case "bearer":
		if a.Token == "" {
			return "", "", fmt.Errorf("type bearer: token is required")
		}
		name, value = "Authorization", "Bearer "+a.Token
	case "basic":
		if a.Username == "" || strings.Contains(a.Username, ":") || a.Password == "" {
			return "", "", fmt.Errorf("type basic: username (without a colon) and password are required")
		}
		name, value = "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password))
	case "header":
		if a.Value == "" {
			return "", "", fmt.Errorf("type header: value is required")
		}
		name, value = a.Header, a.Value
	default:
		return "", "", fmt.Errorf("type %q: want bearer, basic or header", a.Type)
	}
	if err := checkHeader(name, value); err != nil {
		return "", "", err
	}
	return http.CanonicalHeaderKey(name), value, nil
}

// clientTLS adds a destination's CA and client certificate to c. Relative
// file names are resolved against dir. The CA bundle replaces the system
// roots: a destination with a private CA trusts only that CA. The files
// are read once; rotating them needs a restart.
func clientTLS(c *tls.Config, t *config.ClientTLS, dir string) error {
	resolve := func(name string) string {
		if filepath.IsAbs(name) || dir == "" {
			return name
		}
		return filepath.Join(dir, name)
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(resolve(t.CAFile))
		if err != nil {
			return fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("ca_file %s: no PEM certificate found", t.CAFile)
		}
		c.RootCAs = pool
	}
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(resolve(t.CertFile), resolve(t.KeyFile))
		if err != nil {
			return fmt.Errorf("cert_file, key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	case t.CertFile != "" || t.KeyFile != "":
		return fmt.Errorf("cert_file and key_file go together")
	}
	return nil
}

// headerTemplate is a header value computed per event with text/template
// from the event envelope, e.g. X-Shop-Topic: "{{ .topic }}" or
// X-Order-Id: "{{ .body.id }}". A missing key fails the attempt rather
// than sending "<no value>".
type headerTemplate struct {
	name string // canonical
	t    *template.Template
}

func parseHeaderTemplate(name, value string) (headerTemplate, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(value)
	if err != nil {
		return headerTemplate{}, fmt.Errorf("%q: template: %w", name, err)
	}
	return headerTemplate{name: name, t: t}, nil
}

// execute renders the header value, refusing CR, LF and other control
// characters: event data must not be able to add headers.
func (h headerTemplate) execute(env map[string]any) (string, error) {
	var b strings.Builder
	if err := h.t.Execute(&b, env); err != nil {
		return "", fmt.Errorf("header %s: %w", h.name, err)
	}
	v := b.String()
	for i := range len(v) {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return "", fmt.Errorf("header %s: template produced a control character (CR, LF, …)", h.name)
		}
	}
	return v, nil
}

// newEnvelope is the data header templates see: the event envelope of the
// pipelines design ({id, source, provider, topic, received_at, body}),
// with body decoded from JSON (numbers kept exact) or nil when the body is
// not JSON. Request headers are left out: they may carry signatures.
func newEnvelope(ev *webhook.Event) map[string]any {
	var body any
	dec := json.NewDecoder(bytes.NewReader(ev.Body))
	dec.UseNumber()
	if dec.Decode(&body) != nil {
		body = nil
	}
	return map[string]any{
		"id":          ev.ID,
		"source":      ev.Source,
		"provider":    ev.Provider,
		"topic":       ev.Topic,
		"received_at": ev.ReceivedAt.UTC().Format(time.RFC3339Nano),
		"body":        body,
	}
}

// checkHeader validates one static header. The value is never quoted in an
// error: static headers often carry credentials.
func checkHeader(name, value string) error {
	if !validHeaderName(name) {
		return fmt.Errorf("%q: invalid header name", name)
	}
	canonical := http.CanonicalHeaderKey(name)
	if slices.Contains(reservedHeaders, canonical) || strings.HasPrefix(canonical, "Hookyard-") {
		return fmt.Errorf("%q: reserved header; hookyard sets it", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("%q: value contains CR or LF", name)
	}
	for i := range len(value) {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return fmt.Errorf("%q: value contains a control character", name)
		}
	}
	return nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := range len(name) {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

var _ Sender = (*HTTP)(nil)
