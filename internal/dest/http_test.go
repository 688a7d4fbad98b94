package dest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// request is what a test server saw.
type request struct {
	method string
	path   string
	header http.Header
	body   []byte
	proto  int
	tls    *tls.ConnectionState
}

// newServer starts a destination that records each request on the returned
// channel and answers with respond.
func newServer(t *testing.T, respond http.HandlerFunc) (*httptest.Server, <-chan request) {
	t.Helper()
	srv, got := unstartedServer(t, respond)
	srv.Start()
	return srv, got
}

func unstartedServer(t *testing.T, respond http.HandlerFunc) (*httptest.Server, <-chan request) {
	t.Helper()
	got := make(chan request, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server: read body: %v", err)
		}
		got <- request{r.Method, r.URL.Path, r.Header.Clone(), body, r.ProtoMajor, r.TLS}
		respond(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func newHTTP(t *testing.T, d config.Destination, o Options) *HTTP {
	t.Helper()
	d.Name = "oms"
	d.Type = "http"
	h, err := NewHTTP(d, o)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

func TestHTTPSend(t *testing.T) {
	// Not valid UTF-8, trailing whitespace, a CR: all must arrive untouched.
	body := []byte("{\"id\": 1, \"name\": \"caf\xe9\"}\r\n  ")
	srv, got := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "rq_9")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"ok":true}`)
	})
	h := newHTTP(t, config.Destination{URL: srv.URL + "/hooks/orders?v=2"}, Options{Version: "1.2.3"})

	resp := h.Send(t.Context(), message(body, "application/json; charset=iso-8859-1"))
	if resp.Err != nil || resp.StatusCode != http.StatusAccepted || !resp.OK() {
		t.Fatalf("Send = %d, %v", resp.StatusCode, resp.Err)
	}
	if string(resp.Body) != `{"ok":true}` || resp.Header.Get("X-Request-Id") != "rq_9" {
		t.Errorf("response body %q, header %v", resp.Body, resp.Header)
	}

	r := <-got
	if r.method != http.MethodPost || r.path != "/hooks/orders" {
		t.Errorf("request %s %s", r.method, r.path)
	}
	if !bytes.Equal(r.body, body) {
		t.Errorf("body = %q, want %q byte for byte", r.body, body)
	}
	want := map[string]string{
		"Content-Type":         "application/json; charset=iso-8859-1",
		"Idempotency-Key":      "hy_dlv_1",
		"Hookyard-Delivery-Id": "dlv_1",
		"Hookyard-Event-Id":    "evt_1",
		"Hookyard-Source":      "shop",
		"Hookyard-Topic":       "orders/create",
		"Hookyard-Attempt":     "3",
		"User-Agent":           "hookyard/1.2.3",
	}
	for name, v := range want {
		if r.header.Get(name) != v {
			t.Errorf("%s = %q, want %q", name, r.header.Get(name), v)
		}
	}
	if r.header.Get("Idempotency-Key") != webhook.IdempotencyKey("dlv_1") {
		t.Errorf("Idempotency-Key does not match the domain's key")
	}

	// Retries repeat the idempotency key and count the attempt.
	m := message(body, "")
	m.Attempt = 4
	h.Send(t.Context(), m)
	r = <-got
	if r.header.Get("Idempotency-Key") != "hy_dlv_1" || r.header.Get("Hookyard-Attempt") != "4" {
		t.Errorf("retry headers: %v", r.header)
	}
}

func TestHTTPContentType(t *testing.T) {
	srv, got := newServer(t, status(200))
	h := newHTTP(t, config.Destination{URL: srv.URL}, Options{})
	for _, tt := range []struct{ in, want string }{
		{"", "application/json"},
		{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
		{"text/xml; charset=utf-8", "text/xml; charset=utf-8"},
	} {
		h.Send(t.Context(), message([]byte("x"), tt.in))
		r := <-got
		if ct := r.header.Get("Content-Type"); ct != tt.want {
			t.Errorf("event Content-Type %q: sent %q, want %q", tt.in, ct, tt.want)
		}
		if ua := r.header.Get("User-Agent"); ua != "hookyard/dev" {
			t.Errorf("User-Agent = %q, want hookyard/dev", ua)
		}
	}
}

func TestHTTPEmptyBody(t *testing.T) {
	srv, got := newServer(t, status(204))
	h := newHTTP(t, config.Destination{URL: srv.URL}, Options{})
	if resp := h.Send(t.Context(), message(nil, "")); !resp.OK() || resp.StatusCode != 204 {
		t.Fatalf("Send = %d, %v", resp.StatusCode, resp.Err)
	}
	if r := <-got; len(r.body) != 0 {
		t.Errorf("body = %q, want empty", r.body)
	}
}

func TestHTTPStaticHeaders(t *testing.T) {
	srv, got := newServer(t, status(200))
	h := newHTTP(t, config.Destination{URL: srv.URL, Headers: map[string]string{
		"x-api-key":    "s3cret",
		"Content-Type": "application/vnd.oms+json",
		"User-Agent":   "acme-gateway",
		"X-Tab":        "a\tb",
	}}, Options{Version: "1.0.0"})

	// A second send carries each header once: nothing accumulates.
	for range 2 {
		h.Send(t.Context(), message([]byte("{}"), "application/json"))
		r := <-got
		for name, v := range map[string]string{
			"X-Api-Key":       "s3cret",
			"Content-Type":    "application/vnd.oms+json",
			"User-Agent":      "acme-gateway",
			"X-Tab":           "a\tb",
			"Idempotency-Key": "hy_dlv_1",
		} {
			if got := r.header.Values(name); len(got) != 1 || got[0] != v {
				t.Errorf("%s = %q, want [%q]", name, got, v)
			}
		}
	}
}

func TestNewHTTPRejects(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		headers map[string]string
		errText string
	}{
		{"LF in value", "http://x", map[string]string{"X-Key": "s3cret\nX-Evil: 1"}, "CR or LF"},
		{"CR in value", "http://x", map[string]string{"X-Key": "s3cret\r"}, "CR or LF"},
		{"CRLF in value", "http://x", map[string]string{"X-Key": "s3cret\r\n"}, "CR or LF"},
		{"NUL in value", "http://x", map[string]string{"X-Key": "s3cret\x00"}, "control character"},
		{"DEL in value", "http://x", map[string]string{"X-Key": "s3cret\x7f"}, "control character"},
		{"LF in name", "http://x", map[string]string{"X-Key\nX-Evil": "v"}, "invalid header name"},
		{"space in name", "http://x", map[string]string{"X Key": "v"}, "invalid header name"},
		{"colon in name", "http://x", map[string]string{"X-Key:": "v"}, "invalid header name"},
		{"empty name", "http://x", map[string]string{"": "v"}, "invalid header name"},
		{"Idempotency-Key", "http://x", map[string]string{"idempotency-key": "v"}, "reserved"},
		{"Hookyard- prefix", "http://x", map[string]string{"hookyard-attempt": "v"}, "reserved"},
		{"Host", "http://x", map[string]string{"Host": "v"}, "reserved"},
		{"Content-Length", "http://x", map[string]string{"Content-Length": "1"}, "reserved"},
		{"Transfer-Encoding", "http://x", map[string]string{"Transfer-Encoding": "chunked"}, "reserved"},
		{"same name twice", "http://x", map[string]string{"X-Key": "a", "x-key": "b"}, "given twice"},
		{"no URL", "", nil, "absolute http or https"},
		{"relative URL", "/hooks", nil, "absolute http or https"},
		{"no host", "http:///hooks", nil, "absolute http or https"},
		{"other scheme", "ftp://example.com/", nil, "absolute http or https"},
		{"unparseable URL", "http://user:s3cret@[::1", nil, "url: invalid"},
		{"credentials redacted", "ftp://user:s3cret@example.com/", nil, "absolute http or https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHTTP(config.Destination{Name: "oms", Type: "http", URL: tt.url, Headers: tt.headers}, Options{})
			if err == nil {
				h.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.errText) || !strings.Contains(err.Error(), `"oms"`) {
				t.Errorf("error %q, want it to name the destination and contain %q", err, tt.errText)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
}

func TestHTTPRedirectNotFollowed(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/old/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		http.Redirect(w, r, "/new", code)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	srv, _ := newServer(t, mux.ServeHTTP)

	for _, code := range []int{301, 302, 303, 307, 308} {
		h := newHTTP(t, config.Destination{URL: srv.URL + "/old/" + strconv.Itoa(code)}, Options{})
		resp := h.Send(t.Context(), message([]byte("{}"), ""))
		if resp.Err != nil || resp.StatusCode != code || resp.OK() {
			t.Fatalf("Send = %d, %v; want %d as it arrived", resp.StatusCode, resp.Err, code)
		}
		if loc := resp.Header.Get("Location"); loc != "/new" {
			t.Errorf("%d: Location = %q", code, loc)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("redirect followed %d times", n)
	}
}

func TestHTTPResponseBodyCap(t *testing.T) {
	for _, size := range []int{0, 100, webhook.MaxAttemptResponse, webhook.MaxAttemptResponse + 1, 10 << 10, 1 << 20} {
		payload := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write(payload)
		})
		h := newHTTP(t, config.Destination{URL: srv.URL}, Options{})
		resp := h.Send(t.Context(), message([]byte("{}"), ""))
		if resp.Err != nil || resp.StatusCode != 500 {
			t.Fatalf("size %d: Send = %d, %v", size, resp.StatusCode, resp.Err)
		}
		want := payload[:min(size, webhook.MaxAttemptResponse)]
		if !bytes.Equal(resp.Body, want) {
			t.Errorf("size %d: kept %d bytes, want the first %d", size, len(resp.Body), len(want))
		}
	}
}

func TestHTTPTimeout(t *testing.T) {
	srv, got := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hold the request until the client gives up
	})
	h := newHTTP(t, config.Destination{URL: srv.URL, Timeout: config.Duration(50 * time.Millisecond)}, Options{})

	resp := h.Send(t.Context(), message([]byte("{}"), ""))
	<-got
	if resp.Err == nil {
		t.Fatalf("Send = %d, want a timeout error", resp.StatusCode)
	}
	if !errors.Is(resp.Err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", resp.Err)
	}
	var ne net.Error
	if !errors.As(resp.Err, &ne) || !ne.Timeout() {
		t.Errorf("error %v (%T) is not a net.Error timeout", resp.Err, resp.Err)
	}
}

func TestHTTPCallerCancel(t *testing.T) {
	srv, got := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	h := newHTTP(t, config.Destination{URL: srv.URL}, Options{})

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-got // the request has arrived
		cancel()
	}()
	resp := h.Send(ctx, message([]byte("{}"), ""))
	if !errors.Is(resp.Err, context.Canceled) {
		t.Errorf("Send error = %v, want context.Canceled", resp.Err)
	}
	var ne net.Error
	if errors.As(resp.Err, &ne) && ne.Timeout() {
		t.Errorf("a cancelled send must not look like a timeout: %v", resp.Err)
	}
}

func TestHTTPConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	h := newHTTP(t, config.Destination{URL: url}, Options{})

	resp := h.Send(t.Context(), message([]byte("{}"), ""))
	if !errors.Is(resp.Err, syscall.ECONNREFUSED) {
		t.Errorf("Send error = %v, want connection refused", resp.Err)
	}
	if resp.StatusCode != 0 || resp.OK() {
		t.Errorf("Send = %d, OK %v", resp.StatusCode, resp.OK())
	}
}

func TestHTTPControl(t *testing.T) {
	errBlocked := errors.New("address blocked")
	srv, got := newServer(t, status(200))
	var dialed atomic.Value
	h := newHTTP(t, config.Destination{URL: srv.URL}, Options{
		Control: func(network, address string, _ syscall.RawConn) error {
			dialed.Store(address)
			return errBlocked
		},
	})

	resp := h.Send(t.Context(), message([]byte("{}"), ""))
	if !errors.Is(resp.Err, errBlocked) {
		t.Errorf("Send error = %v, want the Control error", resp.Err)
	}
	if want := srv.Listener.Addr().String(); dialed.Load() != want {
		t.Errorf("Control saw %v, want %s", dialed.Load(), want)
	}
	select {
	case <-got:
		t.Error("a blocked request reached the server")
	default:
	}
}

func TestHTTPTLSAndHTTP2(t *testing.T) {
	srv, got := unstartedServer(t, status(200))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	h := newHTTP(t, config.Destination{URL: srv.URL}, Options{TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10}})

	if resp := h.Send(t.Context(), message([]byte("{}"), "")); !resp.OK() {
		t.Fatalf("Send = %d, %v", resp.StatusCode, resp.Err)
	}
	r := <-got
	if r.proto != 2 {
		t.Errorf("protocol HTTP/%d, want HTTP/2", r.proto)
	}
	if r.tls == nil || r.tls.Version < tls.VersionTLS12 {
		t.Errorf("TLS state %+v, want TLS 1.2 or later", r.tls)
	}
}

func TestNewHTTPTransport(t *testing.T) {
	tests := []struct {
		d           config.Destination
		idle        int
		timeout     time.Duration
		userDefined *tls.Config
	}{
		{d: config.Destination{URL: "https://x"}, idle: DefaultConcurrency, timeout: DefaultTimeout},
		{d: config.Destination{URL: "https://x", Concurrency: 4, Timeout: config.Duration(5 * time.Second)}, idle: 4, timeout: 5 * time.Second},
		{d: config.Destination{URL: "https://x", Concurrency: -1, Timeout: config.Duration(-time.Second)}, idle: DefaultConcurrency, timeout: DefaultTimeout},
		{d: config.Destination{URL: "https://x"}, idle: DefaultConcurrency, timeout: DefaultTimeout, userDefined: &tls.Config{MinVersion: tls.VersionTLS10}},
	}
	for _, tt := range tests {
		h := newHTTP(t, tt.d, Options{TLSConfig: tt.userDefined})
		tr := h.transport
		if tr.MaxIdleConnsPerHost != tt.idle || tr.MaxIdleConns != tt.idle || h.timeout != tt.timeout {
			t.Errorf("%+v: idle %d/%d, timeout %v; want %d, %v", tt.d, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, h.timeout, tt.idle, tt.timeout)
		}
		if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || !tr.ForceAttemptHTTP2 || tr.Proxy != nil {
			t.Errorf("transport: TLS min %x, HTTP/2 %v, proxy set %v", tr.TLSClientConfig.MinVersion, tr.ForceAttemptHTTP2, tr.Proxy != nil)
		}
		if h.client.Timeout != 0 || h.client.CheckRedirect == nil {
			t.Errorf("client: timeout %v, CheckRedirect set %v", h.client.Timeout, h.client.CheckRedirect != nil)
		}
		if tt.userDefined != nil && tt.userDefined.MinVersion != tls.VersionTLS10 {
			t.Errorf("the caller's TLS config was modified")
		}
	}
}
