package dest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
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

// HTTP posts deliveries to one URL: the event body byte for byte, with
// hookyard's delivery headers. It never follows redirects, so a 3xx is
// reported as it arrived. Each HTTP destination has its own client and
// connection pool, so a slow destination cannot exhaust another's.
type HTTP struct {
	name      string
	url       string
	header    http.Header // static headers, canonical keys
	userAgent string
	timeout   time.Duration
	transport *http.Transport
	client    *http.Client
}

// NewHTTP returns the sender for an http destination. It rejects a URL that
// is not absolute http(s), and static headers with invalid names, control
// characters (CR, LF) in values, or reserved names.
//
// Requests go direct: environment proxies are not used, because a proxy
// would dial on hookyard's behalf and bypass Options.Control.
func NewHTTP(d config.Destination, o Options) (*HTTP, error) {
	u, err := url.Parse(d.URL)
	if err != nil {
		// url.Error quotes the URL, which may carry credentials.
		return nil, fmt.Errorf("destination %q: url: invalid", d.Name)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("destination %q: url %q: want an absolute http or https URL", d.Name, u.Redacted())
	}
	header := make(http.Header, len(d.Headers))
	for name, value := range d.Headers {
		if err := checkHeader(name, value); err != nil {
			return nil, fmt.Errorf("destination %q: headers: %w", d.Name, err)
		}
		if _, dup := header[http.CanonicalHeaderKey(name)]; dup {
			return nil, fmt.Errorf("destination %q: headers: %q: given twice (names are case-insensitive)", d.Name, name)
		}
		header.Set(name, value)
	}

	concurrency := cmp.Or(max(d.Concurrency, 0), DefaultConcurrency)
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		tlsConfig = o.TLSConfig.Clone()
		tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   o.Control,
	}
	transport := &http.Transport{
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
	return &HTTP{
		name:      d.Name,
		url:       u.String(),
		header:    header,
		userAgent: "hookyard/" + cmp.Or(o.Version, "dev"),
		timeout:   cmp.Or(max(d.Timeout.D(), 0), DefaultTimeout),
		transport: transport,
		client: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
			// No Client.Timeout: Send bounds each attempt with its context.
		},
	}, nil
}

// Send posts one attempt and returns the response, with its body cut to
// webhook.MaxAttemptResponse bytes, or the transport error unchanged. A
// non-2xx status is not an error here; the caller classifies it.
func (h *HTTP) Send(ctx context.Context, m *Message) Response {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(m.Event.Body))
	if err != nil {
		return Response{Err: err}
	}
	req.Header = make(http.Header, len(h.header)+8)
	req.Header.Set("Content-Type", cmp.Or(m.Event.Headers.Get("Content-Type"), "application/json"))
	req.Header.Set("User-Agent", h.userAgent)
	for name, values := range h.header { // may replace Content-Type and User-Agent
		req.Header[name] = slices.Clone(values)
	}
	req.Header.Set("Idempotency-Key", m.Delivery.IdempotencyKey())
	req.Header.Set("Hookyard-Delivery-Id", m.Delivery.ID)
	req.Header.Set("Hookyard-Event-Id", m.Event.ID)
	req.Header.Set("Hookyard-Source", m.Event.Source)
	req.Header.Set("Hookyard-Topic", m.Event.Topic)
	req.Header.Set("Hookyard-Attempt", strconv.Itoa(m.Attempt))

	resp, err := h.client.Do(req)
	if err != nil {
		return Response{Err: err}
	}
	defer resp.Body.Close()
	// The status is the destination's answer; a body cut short (by the
	// deadline or a reset) does not change it, so read errors are dropped.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, webhook.MaxAttemptResponse))
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
}

// Close closes the destination's idle connections. Call it after the last
// Send.
func (h *HTTP) Close() error {
	h.transport.CloseIdleConnections()
	return nil
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
