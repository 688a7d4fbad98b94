package dest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
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

func TestHTTPMethod(t *testing.T) {
	srv, got := newServer(t, status(200))
	for _, method := range []string{"", "POST", "PUT", "PATCH"} {
		h := newHTTP(t, config.Destination{URL: srv.URL, Method: method}, Options{})
		if r := h.Send(t.Context(), message([]byte(`{}`), "")); !r.OK() {
			t.Fatalf("%s: %+v", method, r)
		}
		if r, want := <-got, cmp.Or(method, "POST"); r.method != want {
			t.Errorf("method %q: server saw %s, want %s", method, r.method, want)
		}
	}
	for _, method := range []string{"GET", "DELETE", "post"} {
		if _, err := NewHTTP(config.Destination{Name: "oms", Type: "http", URL: srv.URL, Method: method}, Options{}); err == nil {
			t.Errorf("method %q accepted", method)
		}
	}
}

func TestHTTPAuth(t *testing.T) {
	srv, got := newServer(t, status(200))
	tests := []struct {
		auth        config.Auth
		name, value string
	}{
		{config.Auth{Type: "bearer", Token: "tok_1"}, "Authorization", "Bearer tok_1"},
		{config.Auth{Type: "basic", Username: "hy", Password: "pa:ss"}, "Authorization", "Basic aHk6cGE6c3M="},
		{config.Auth{Type: "header", Header: "x-api-key", Value: "k_1"}, "X-Api-Key", "k_1"},
	}
	for _, tt := range tests {
		h := newHTTP(t, config.Destination{URL: srv.URL, Auth: &tt.auth}, Options{})
		h.Send(t.Context(), message([]byte(`{}`), ""))
		if r := <-got; r.header.Get(tt.name) != tt.value {
			t.Errorf("%s: %s = %q, want %q", tt.auth.Type, tt.name, r.header.Get(tt.name), tt.value)
		}
	}

	rejects := []struct {
		name    string
		d       config.Destination
		errText string
	}{
		{"no token", config.Destination{Auth: &config.Auth{Type: "bearer"}}, "token is required"},
		{"colon in username", config.Destination{Auth: &config.Auth{Type: "basic", Username: "a:b", Password: "p"}}, "without a colon"},
		{"reserved header", config.Destination{Auth: &config.Auth{Type: "header", Header: "Idempotency-Key", Value: "v"}}, "reserved"},
		{"CRLF in value", config.Destination{Auth: &config.Auth{Type: "header", Header: "X-Key", Value: "v\r\nX-Evil: 1"}}, "CR or LF"},
		{"also a static header", config.Destination{Auth: &config.Auth{Type: "bearer", Token: "t"}, Headers: map[string]string{"authorization": "x"}}, "also set by auth"},
		{"unknown type", config.Destination{Auth: &config.Auth{Type: "digest"}}, "want bearer, basic or header"},
	}
	for _, tt := range rejects {
		tt.d.Name, tt.d.Type, tt.d.URL = "oms", "http", srv.URL
		if _, err := NewHTTP(tt.d, Options{}); err == nil || !strings.Contains(err.Error(), tt.errText) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.errText)
		}
	}
}

func TestHTTPHeaderTemplates(t *testing.T) {
	var hits atomic.Int64
	srv, got := newServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	h := newHTTP(t, config.Destination{URL: srv.URL, Headers: map[string]string{
		"X-Topic":  "{{ .topic }}",
		"X-Order":  "orders/{{ .body.id }}",
		"X-Origin": "{{ .source }}/{{ .provider }}",
		"X-Static": "plain",
	}}, Options{})

	// Numbers stay exact: 2^64+1 does not become 1.8446744073709552e+19.
	if r := h.Send(t.Context(), message([]byte(`{"id": 18446744073709551617}`), "")); !r.OK() {
		t.Fatalf("Send: %+v", r)
	}
	r := <-got
	for name, want := range map[string]string{
		"X-Topic": "orders/create", "X-Order": "orders/18446744073709551617", "X-Origin": "shop/shopify", "X-Static": "plain",
	} {
		if v := r.header.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}

	// A template that fails on this event, or would inject a header, fails
	// the attempt for good, before any request.
	hits.Store(0)
	for _, body := range []string{`{}`, `not json`, `{"id": "1\r\nX-Evil: 1"}`, `{"id": "1\n"}`} {
		r := h.Send(t.Context(), message([]byte(body), ""))
		oe, ok := errors.AsType[*outcome.Error](r.Err)
		if !ok || !oe.Permanent || oe.Class != webhook.ClassTransform {
			t.Errorf("body %q: Send = %+v, want a permanent transform error", body, r)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent with a failed template", n)
	}

	if _, err := NewHTTP(config.Destination{Name: "oms", Type: "http", URL: srv.URL, Headers: map[string]string{"X-A": "{{ .topic "}}, Options{}); err == nil {
		t.Error("a template syntax error was accepted")
	}
}

func TestHTTPPayload(t *testing.T) {
	srv, got := newServer(t, status(200))
	h := newHTTP(t, config.Destination{URL: srv.URL}, Options{})
	m := message([]byte("raw=form"), "application/x-www-form-urlencoded")
	m.Payload = []byte(`{"order":1}`)
	h.Send(t.Context(), m)
	r := <-got
	if string(r.body) != `{"order":1}` || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("sent %q as %q, want the payload as application/json", r.body, r.header.Get("Content-Type"))
	}
}

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all PEM, into dir, and returns the CA pool and the server's
// certificate.
func testPKI(t *testing.T, dir, prefix string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: prefix + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(cn string, usage x509.ExtKeyUsage, ips ...net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := newKey()
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		}, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write(prefix+"ca.pem", "CERTIFICATE", caDER)
	clientDER, clientKey := issue("hookyard-client", x509.ExtKeyUsageClientAuth)
	write(prefix+"client.pem", "CERTIFICATE", clientDER)
	write(prefix+"client-key.pem", "PRIVATE KEY", keyDER(clientKey))
	serverDER, serverKey := issue("destination", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
}

func TestHTTPClientTLS(t *testing.T) {
	dir := t.TempDir()
	pool, serverCert := testPKI(t, dir, "")
	testPKI(t, dir, "other-")
	srv, got := unstartedServer(t, status(200))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()

	// Relative names resolve against Options.Dir (the config's directory).
	mtls := &config.ClientTLS{CAFile: "ca.pem", CertFile: "client.pem", KeyFile: "client-key.pem"}
	h := newHTTP(t, config.Destination{URL: srv.URL, TLS: mtls}, Options{Dir: dir})
	if r := h.Send(t.Context(), message([]byte(`{}`), "")); !r.OK() {
		t.Fatalf("Send with client certificate: %+v", r)
	}
	if r := <-got; r.tls == nil || len(r.tls.PeerCertificates) == 0 || r.tls.PeerCertificates[0].Subject.CommonName != "hookyard-client" {
		t.Errorf("server saw TLS state %+v, want the client certificate", r.tls)
	}

	failures := []struct {
		name string
		tls  *config.ClientTLS
	}{
		{"no client certificate", &config.ClientTLS{CAFile: "ca.pem"}},
		{"CA that did not sign the server", &config.ClientTLS{CAFile: "other-ca.pem", CertFile: "client.pem", KeyFile: "client-key.pem"}},
		{"client certificate of another CA", &config.ClientTLS{CAFile: "ca.pem", CertFile: "other-client.pem", KeyFile: "other-client-key.pem"}},
		{"system roots only", &config.ClientTLS{CertFile: "client.pem", KeyFile: "client-key.pem"}},
	}
	for _, tt := range failures {
		h := newHTTP(t, config.Destination{URL: srv.URL, TLS: tt.tls}, Options{Dir: dir})
		if r := h.Send(t.Context(), message([]byte(`{}`), "")); r.OK() {
			t.Errorf("%s: Send succeeded", tt.name)
		}
	}

	for _, bad := range []*config.ClientTLS{
		{CAFile: "missing.pem"},
		{CAFile: "client-key.pem"}, // no certificate in it
		{CertFile: "client.pem"},
		{CertFile: "client.pem", KeyFile: "other-client-key.pem"}, // mismatched pair
	} {
		if _, err := NewHTTP(config.Destination{Name: "oms", Type: "http", URL: srv.URL, TLS: bad}, Options{Dir: dir}); err == nil {
			t.Errorf("tls %+v accepted", bad)
		}
	}
}
