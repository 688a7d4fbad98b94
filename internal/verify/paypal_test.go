package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// paypalVector holds the PayPal-only fields of a vector.
type paypalVector struct {
	WebhookID string `json:"webhook_id"`
	CertPEM   string `json:"public_cert_pem"`
}

func paypalVectors(t testing.TB) map[string]paypalVector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		ID string `json:"id"`
		paypalVector
	}
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	m := map[string]paypalVector{}
	for _, v := range vs {
		if v.WebhookID != "" {
			m[v.ID] = v.paypalVector
		}
	}
	return m
}

func parseCertPEM(t testing.TB, s string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		t.Fatal("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// paypalSource is a mode cert source for webhookID.
func paypalSource(webhookID string, hosts ...string) config.Source {
	return config.Source{Name: "pp", Provider: "paypal", PayPal: &config.PayPal{WebhookID: webhookID, CertHosts: hosts}}
}

// The vectors' certificates expired years ago and come without their
// chain, so they are injected as already trusted: the vectors prove the
// signed string and the RSA check; the download tests below prove the
// chain, name, date and cache.
func TestPayPalVectors(t *testing.T) {
	ext := paypalVectors(t)
	n := 0
	for _, vec := range loadVectors(t) {
		if vec.Provider != "paypal" {
			continue
		}
		n++
		t.Run(vec.ID, func(t *testing.T) {
			pv := ext[vec.ID]
			if pv.WebhookID != vec.Secret {
				t.Fatalf("webhook_id %q differs from secret %q", pv.WebhookID, vec.Secret)
			}
			cert := parseCertPEM(t, pv.CertPEM)
			var asked []string
			v, err := newPayPal(paypalSource(pv.WebhookID), paypalOptions{leaf: func(u string) (*x509.Certificate, error) {
				asked = append(asked, u)
				return cert, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(vec.request())
			if vec.ExpectedValid {
				if err != nil || res.SecretIndex != 0 {
					t.Fatalf("Verify: %+v, %v; want valid", res, err)
				}
			} else if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("Verify: %v, want ErrBadSignature (%s)", err, vec.Failure)
			}
			if len(asked) != 1 || asked[0] != vec.Headers["PAYPAL-CERT-URL"] {
				t.Errorf("certificates asked for %q", asked)
			}
		})
	}
	if n != 4 {
		t.Fatalf("ran %d paypal vectors, want 4", n)
	}
}

func TestPayPalSignedString(t *testing.T) {
	vec := findVector(t, "paypal-official-2017")
	got := string(paypalSigned(vec.Headers["PAYPAL-TRANSMISSION-ID"], vec.Headers["PAYPAL-TRANSMISSION-TIME"], vec.Secret, []byte(vec.Body)))
	if want := "071f7d20-1584-11e7-abf0-6b62a8a99ac4|2017-03-30T20:04:05Z|96605875FF6516633|3494065244"; got != want {
		t.Errorf("signed string %q, want %q", got, want)
	}
}

func TestPayPalResult(t *testing.T) {
	vec := findVector(t, "paypal-official-2017")
	cert := parseCertPEM(t, paypalVectors(t)[vec.ID].CertPEM)
	v, err := newPayPal(paypalSource(vec.Secret), paypalOptions{leaf: func(string) (*x509.Certificate, error) { return cert, nil }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "BILLING.PLAN.CREATED", DeliveryID: "WH-2MW4820926242972J-6SG447389E205703U",
		Timestamp: time.Date(2017, 3, 30, 20, 4, 5, 613e6, time.UTC)}
	checkResult(t, res, want)
}

// testPKI is a root CA, an intermediate and PayPal-like signing
// certificates, generated once.
type testPKI struct {
	root, other  *x509.CertPool // other: a CA nobody trusts
	chain        [2][]byte      // PEM leaf+intermediate, one per signing key
	key          [2]*rsa.PrivateKey
	keyPEM       [2]string // PKCS #8
	wrongCN      []byte    // chains to root, CN not PayPal's
	untrusted    []byte    // CN right, signed by the other CA
	leafNotAfter time.Time
}

var testPayPalPKI = sync.OnceValue(func() *testPKI {
	p := &testPKI{root: x509.NewCertPool(), other: x509.NewCertPool()}
	notBefore, notAfter := testNow.Add(-24*time.Hour), testNow.Add(90*24*time.Hour)
	p.leafNotAfter = notAfter
	serial := int64(1)
	mk := func(tmpl *x509.Certificate, parent *x509.Certificate, pub, signer any) *x509.Certificate {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			panic(err)
		}
		cert, _ := x509.ParseCertificate(der)
		return cert
	}
	ca := func(name string, parent *x509.Certificate, parentKey any) (*x509.Certificate, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		signer := any(k)
		if parentKey != nil {
			signer = parentKey
		}
		c := mk(&x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}, parent, &k.PublicKey, signer)
		return c, k
	}
	pemOf := func(certs ...*x509.Certificate) []byte {
		var b bytes.Buffer
		for _, c := range certs {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		return b.Bytes()
	}
	root, rootKey := ca("Test Root CA", nil, nil)
	inter, interKey := ca("Test EV Server CA", root, rootKey)
	other, otherKey := ca("Other CA", nil, nil)
	p.root.AddCert(root)
	p.other.AddCert(other)
	leaf := func(cn string, key *rsa.PrivateKey, parent *x509.Certificate, parentKey any) *x509.Certificate {
		return mk(&x509.Certificate{Subject: pkix.Name{CommonName: cn}, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, parent, &key.PublicKey, parentKey)
	}
	for i := range p.key {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		p.key[i] = k
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		p.keyPEM[i] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		p.chain[i] = pemOf(leaf("messageverificationcerts.sandbox.paypal.com", k, inter, interKey), inter)
	}
	p.wrongCN = pemOf(leaf("hooks.example.com", p.key[0], inter, interKey), inter)
	p.untrusted = pemOf(leaf("messageverificationcerts.paypal.com", p.key[0], other, otherKey))
	return p
})

// paypalCertServer serves the test certificates over TLS and counts
// downloads per path.
type paypalCertServer struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	block chan struct{} // /slow waits on it (or the client giving up)
}

func newPayPalCertServer(t *testing.T) *paypalCertServer {
	t.Helper()
	pki := testPayPalPKI()
	s := &paypalCertServer{hits: map[string]int{}, block: make(chan struct{})}
	files := map[string][]byte{
		"/v1/notifications/certs/CERT-0":        pki.chain[0],
		"/v1/notifications/certs/CERT-1":        pki.chain[1],
		"/v1/notifications/certs/CERT-wrong-cn": pki.wrongCN,
		"/v1/notifications/certs/CERT-other-ca": pki.untrusted,
		"/v1/notifications/certs/CERT-garbage":  []byte("not a certificate"),
		"/v1/notifications/certs/CERT-huge":     bytes.Repeat([]byte("A"), paypalMaxBody+1),
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/v1/notifications/certs/CERT-0", http.StatusFound)
			return
		case "/slow":
			select {
			case <-s.block:
			case <-r.Context().Done():
			}
			return
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(f)
	}))
	t.Cleanup(func() { close(s.block); s.Close() })
	return s
}

func (s *paypalCertServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// verifier is a mode cert verifier that trusts the test root and may
// download from s.
func (s *paypalCertServer) verifier(t *testing.T, src config.Source) Verifier {
	t.Helper()
	if src.PayPal != nil && len(src.PayPal.CertHosts) == 0 {
		src.PayPal.CertHosts = []string{strings.TrimPrefix(s.URL, "https://")}
	}
	v, err := newPayPal(src, paypalOptions{client: s.Client(), roots: testPayPalPKI().root, timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const testWebhookID = "8PT597110X687430LKGECATA"

// paypalRequest signs body with test key i, naming certURL.
func paypalRequest(t testing.TB, i int, certURL string, body []byte, now time.Time) *Request {
	t.Helper()
	h, err := signPayPal(testPayPalPKI().keyPEM[i], body, SignOptions{ID: testID, Now: now, PayPal: &config.PayPal{WebhookID: testWebhookID}})
	if err != nil {
		t.Fatal(err)
	}
	h.Set(paypalCertHeader, certURL)
	return &Request{Header: h, Body: body, Now: now}
}

func paypalEvent() []byte {
	return []byte(`{"id":"WH-1","event_version":"1.0","create_time":"2023-11-14T22:13:15.5Z","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"5O190127TN364715T"}}`)
}

func TestPayPalCert(t *testing.T) {
	s := newPayPalCertServer(t)
	v := s.verifier(t, paypalSource(testWebhookID))
	body := paypalEvent()
	cert0 := s.URL + "/v1/notifications/certs/CERT-0"

	// Round trip, and the result.
	res, err := v.Verify(paypalRequest(t, 0, cert0, body, testNow))
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "PAYMENT.CAPTURE.COMPLETED", DeliveryID: "WH-1", Timestamp: time.Date(2023, 11, 14, 22, 13, 15, 5e8, time.UTC)}
	checkResult(t, res, want)

	tests := []struct {
		name string
		r    func() *Request
		want string // error text; "" when accepted
	}{
		{"cached", func() *Request { return paypalRequest(t, 0, cert0, body, testNow.Add(time.Hour)) }, ""},
		{"rotated certificate", func() *Request { return paypalRequest(t, 1, s.URL+"/v1/notifications/certs/CERT-1", body, testNow) }, ""},
		{"key of another certificate", func() *Request { return paypalRequest(t, 1, cert0, body, testNow) }, "PAYPAL-TRANSMISSION-SIG does not match"},
		{"tampered body", func() *Request {
			r := paypalRequest(t, 0, cert0, body, testNow)
			r.Body = bytes.Replace(body, []byte("WH-1"), []byte("WH-2"), 1)
			return r
		}, "does not match"},
		{"other transmission id", func() *Request {
			r := paypalRequest(t, 0, cert0, body, testNow)
			r.Header.Set(paypalIDHeader, "other")
			return r
		}, "does not match"},
		{"signed for another webhook", func() *Request {
			h, _ := signPayPal(testPayPalPKI().keyPEM[0], body, SignOptions{Now: testNow, PayPal: &config.PayPal{WebhookID: "OTHER"}})
			h.Set(paypalCertHeader, cert0)
			return &Request{Header: h, Body: body, Now: testNow}
		}, "does not match"},
		{"algorithm", func() *Request {
			r := paypalRequest(t, 0, cert0, body, testNow)
			r.Header.Set(paypalAlgoHeader, "SHA1withRSA")
			return r
		}, `PAYPAL-AUTH-ALGO "SHA1withRSA" is not supported`},
		{"time", func() *Request {
			r := paypalRequest(t, 0, cert0, body, testNow)
			r.Header.Set(paypalTimeHeader, "1700000000")
			return r
		}, "not an RFC 3339 time"},
		{"signature not base64", func() *Request {
			r := paypalRequest(t, 0, cert0, body, testNow)
			r.Header.Set(paypalSigHeader, "!!")
			return r
		}, "PAYPAL-TRANSMISSION-SIG is not base64"},
		{"host not allowed", func() *Request {
			return paypalRequest(t, 0, "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-0", body, testNow)
		}, `host "api.paypal.com.evil.example" is not an allowed`},
		{"plain http", func() *Request {
			return paypalRequest(t, 0, strings.Replace(cert0, "https:", "http:", 1), body, testNow)
		}, "PAYPAL-CERT-URL is not an https URL"},
		{"credentials in URL", func() *Request {
			return paypalRequest(t, 0, strings.Replace(cert0, "https://", "https://u:p@", 1), body, testNow)
		}, "PAYPAL-CERT-URL is not an https URL"},
		{"other port on the host", func() *Request {
			return paypalRequest(t, 0, "https://127.0.0.1:1/v1/notifications/certs/CERT-0", body, testNow)
		}, "is not an allowed PayPal certificate host"},
		{"not PayPal's name", func() *Request {
			return paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-wrong-cn", body, testNow)
		}, `certificate subject "hooks.example.com" is not a PayPal message verification certificate`},
		{"untrusted issuer", func() *Request {
			return paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-other-ca", body, testNow)
		}, "certificate not trusted"},
		{"expired", func() *Request {
			return paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-1", body, testPayPalPKI().leafNotAfter.Add(time.Hour))
		}, "certificate not trusted"},
		{"not found", func() *Request { return paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-nope", body, testNow) }, "download answered 404"},
		{"not PEM", func() *Request {
			return paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-garbage", body, testNow)
		}, "no PEM certificate"},
		{"too large", func() *Request { return paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-huge", body, testNow) }, "larger than"},
		{"redirect not followed", func() *Request { return paypalRequest(t, 0, s.URL+"/redirect", body, testNow) }, "download answered 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(tt.r())
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v, want ErrBadSignature containing %q", err, tt.want)
			}
		})
	}
	if n := s.count("/v1/notifications/certs/CERT-0"); n != 1 {
		t.Errorf("CERT-0 downloaded %d times, want 1 (cached)", n)
	}
	if n := s.count("/v1/notifications/certs/CERT-0") + s.count("/redirect"); n != 2 {
		t.Errorf("the redirect was followed")
	}
}

func TestPayPalMissingHeaders(t *testing.T) {
	s := newPayPalCertServer(t)
	v := s.verifier(t, paypalSource(testWebhookID))
	good := paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-0", paypalEvent(), testNow)
	for name := range good.Header {
		r := paypalRequest(t, 0, s.URL+"/v1/notifications/certs/CERT-0", paypalEvent(), testNow)
		r.Header.Del(name)
		_, err := v.Verify(r)
		if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), "missing "+strings.ToUpper(name)+" header") {
			t.Errorf("without %s: %v", name, err)
		}
	}
	if len(good.Header) != 5 {
		t.Errorf("Sign sent %d headers, want 5", len(good.Header))
	}
}

func TestPayPalCache(t *testing.T) {
	s := newPayPalCertServer(t)
	v := s.verifier(t, paypalSource(testWebhookID))
	body := paypalEvent()
	path := "/v1/notifications/certs/CERT-0"
	at := func(d time.Duration) error {
		_, err := v.Verify(paypalRequest(t, 0, s.URL+path, body, testNow.Add(d)))
		return err
	}
	for _, step := range []struct {
		at    time.Duration
		loads int
	}{
		{0, 1},
		{23 * time.Hour, 1},
		{24 * time.Hour, 2},             // paypalCertTTL after the first load
		{24*time.Hour + time.Minute, 2}, // the new entry
	} {
		if err := at(step.at); err != nil {
			t.Fatalf("at +%v: %v", step.at, err)
		}
		if n := s.count(path); n != step.loads {
			t.Fatalf("at +%v: %d downloads, want %d", step.at, n, step.loads)
		}
	}

	// Failures are remembered for a minute.
	missing := "/v1/notifications/certs/CERT-missing"
	for _, step := range []struct {
		at    time.Duration
		loads int
	}{{0, 1}, {59 * time.Second, 1}, {time.Minute, 2}} {
		_, err := v.Verify(paypalRequest(t, 0, s.URL+missing, body, testNow.Add(step.at)))
		if !errors.Is(err, webhook.ErrBadSignature) {
			t.Fatalf("missing certificate: %v", err)
		}
		if n := s.count(missing); n != step.loads {
			t.Fatalf("at +%v: %d downloads of a missing certificate, want %d", step.at, n, step.loads)
		}
	}

	// A certificate is not trusted past its NotAfter, cached or not.
	pki := testPayPalPKI()
	past := pki.leafNotAfter.Sub(testNow) + time.Second
	if err := at(past); err == nil || !strings.Contains(err.Error(), "certificate not trusted") {
		t.Errorf("after NotAfter: %v", err)
	}
}

// TestPayPalCacheBound: request-chosen URLs cannot grow the cache past
// paypalMaxCerts.
func TestPayPalCacheBound(t *testing.T) {
	cert := testPayPalPKI()
	block, _ := pem.Decode(cert.chain[0])
	leaf, _ := x509.ParseCertificate(block.Bytes)
	v, err := newPayPal(paypalSource(testWebhookID), paypalOptions{leaf: func(u string) (*x509.Certificate, error) {
		if strings.HasSuffix(u, "/good") {
			return leaf, nil
		}
		return nil, errors.New("no such certificate")
	}})
	if err != nil {
		t.Fatal(err)
	}
	pv := v.(*paypal)
	body := paypalEvent()
	for i := range 3 * paypalMaxCerts {
		v.Verify(paypalRequest(t, 0, fmt.Sprintf("https://api.paypal.com/v1/notifications/certs/%d", i), body, testNow))
		if n := len(pv.certs.entries); n > paypalMaxCerts {
			t.Fatalf("%d cache entries", n)
		}
	}
	if _, err := v.Verify(paypalRequest(t, 0, "https://api.paypal.com/good", body, testNow)); err != nil {
		t.Fatal(err)
	}
}

// TestPayPalConcurrent: one download serves concurrent first requests
// (run with -race).
func TestPayPalConcurrent(t *testing.T) {
	s := newPayPalCertServer(t)
	v := s.verifier(t, paypalSource(testWebhookID))
	body := paypalEvent()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 32 {
		r := paypalRequest(t, i%2, fmt.Sprintf("%s/v1/notifications/certs/CERT-%d", s.URL, i%2), body, testNow)
		wg.Go(func() {
			if _, err := v.Verify(r); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d verifications failed", failed.Load())
	}
	for _, p := range []string{"/v1/notifications/certs/CERT-0", "/v1/notifications/certs/CERT-1"} {
		if n := s.count(p); n != 1 {
			t.Errorf("%s downloaded %d times, want 1", p, n)
		}
	}
}

func TestPayPalTimeout(t *testing.T) {
	s := newPayPalCertServer(t)
	src := paypalSource(testWebhookID, strings.TrimPrefix(s.URL, "https://"))
	v, err := newPayPal(src, paypalOptions{client: s.Client(), roots: testPayPalPKI().root, timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(paypalRequest(t, 0, s.URL+"/slow", paypalEvent(), testNow))
	if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), "download failed") {
		t.Fatalf("%v, want a failed download", err)
	}
	if strings.Contains(err.Error(), s.URL) {
		t.Errorf("error %q repeats the URL", err)
	}
}

func TestPayPalWindow(t *testing.T) {
	vec := findVector(t, "paypal-official-2017")
	cert := parseCertPEM(t, paypalVectors(t)[vec.ID].CertPEM)
	leaf := paypalOptions{leaf: func(string) (*x509.Certificate, error) { return cert, nil }}
	// No tolerance: the vector from 2017 verifies today, as in PayPal's SDKs.
	v, _ := newPayPal(paypalSource(vec.Secret), leaf)
	r := vec.request()
	r.Now = time.Now()
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("no window: %v", err)
	}
	// A source that sets one gets it.
	src := paypalSource(vec.Secret)
	src.Tolerance = config.Duration(5 * time.Minute)
	v, _ = newPayPal(src, leaf)
	r.Now = time.Date(2017, 3, 30, 20, 9, 5, 0, time.UTC)
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	r.Now = r.Now.Add(time.Second)
	if _, err := v.Verify(r); !errors.Is(err, webhook.ErrStaleTimestamp) {
		t.Fatalf("outside the window: %v, want ErrStaleTimestamp", err)
	}
}

func TestPayPalNew(t *testing.T) {
	tests := []struct {
		name string
		src  config.Source
		want string
	}{
		{"no block", config.Source{Provider: "paypal"}, "paypal: required"},
		{"secrets", config.Source{Secrets: []string{"x"}, PayPal: &config.PayPal{WebhookID: "W"}}, "secrets: provider \"paypal\" has none"},
		{"no webhook id", config.Source{PayPal: &config.PayPal{}}, "paypal.webhook_id: required"},
		{"mode", config.Source{PayPal: &config.PayPal{WebhookID: "W", Mode: "offline"}}, `paypal.mode: unknown "offline"`},
		{"api without id", config.Source{PayPal: &config.PayPal{WebhookID: "W", Mode: "api", ClientSecret: "s"}}, "paypal.client_id: required"},
		{"api without secret", config.Source{PayPal: &config.PayPal{WebhookID: "W", Mode: "api", ClientID: "c"}}, "paypal.client_secret: required"},
		{"api base", config.Source{PayPal: &config.PayPal{WebhookID: "W", Mode: "api", ClientID: "c", ClientSecret: "s", APIBaseURL: "api.paypal.com"}}, "paypal.api_base_url"},
		{"api hosts", config.Source{PayPal: &config.PayPal{WebhookID: "W", Mode: "api", ClientID: "c", ClientSecret: "s", CertHosts: []string{"a"}}}, "paypal.cert_hosts"},
		{"cert with api keys", config.Source{PayPal: &config.PayPal{WebhookID: "W", ClientID: "c"}}, "paypal: api_base_url, client_id and client_secret are only used by mode api"},
		{"bad host", config.Source{PayPal: &config.PayPal{WebhookID: "W", CertHosts: []string{"https://api.paypal.com/"}}}, "paypal.cert_hosts[0]"},
		{"negative tolerance", config.Source{Tolerance: config.Duration(-time.Second), PayPal: &config.PayPal{WebhookID: "W"}}, "tolerance"},
	}
	for _, tt := range tests {
		_, err := payPalProvider.New(tt.src)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	for _, src := range []config.Source{
		paypalSource("W"),
		{PayPal: &config.PayPal{WebhookID: "W", Mode: "cert", CertHosts: []string{"API.PayPal.com:8443"}}},
		{PayPal: &config.PayPal{WebhookID: "W", Mode: "api", ClientID: "c", ClientSecret: "s"}},
	} {
		if _, err := payPalProvider.New(src); err != nil {
			t.Errorf("%+v: %v", src.PayPal, err)
		}
	}
}

func TestPayPalSign(t *testing.T) {
	pki := testPayPalPKI()
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(pki.key[1])}))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	o := SignOptions{Now: testNow, PayPal: &config.PayPal{WebhookID: testWebhookID}}
	body := paypalEvent()

	h, err := signPayPal(pkcs1, body, o)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(h.Get(paypalSigHeader))
	signed := fmt.Sprintf("%s|2023-11-14T22:13:20Z|%s|%d", h.Get(paypalIDHeader), testWebhookID, crc32.ChecksumIEEE(body))
	digest := sha256.Sum256([]byte(signed))
	if err := rsa.VerifyPKCS1v15(&pki.key[1].PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("PKCS #1 key: signature over %q does not verify: %v", signed, err)
	}
	if len(h.Get(paypalIDHeader)) != 36 || h.Get(paypalAlgoHeader) != paypalAlgo || h.Get(paypalCertHeader) != paypalSignCertURL {
		t.Errorf("headers %v", h)
	}
	for _, tt := range []struct {
		name, secret string
		o            SignOptions
	}{
		{"no webhook id", pki.keyPEM[0], SignOptions{}},
		{"not PEM", "secret", o},
		{"not RSA", ecPEM, o},
	} {
		if _, err := signPayPal(tt.secret, body, tt.o); err == nil {
			t.Errorf("%s: signed", tt.name)
		}
	}
}

// fakePayPalAPI is PayPal's OAuth and verify-webhook-signature endpoints.
type fakePayPalAPI struct {
	*httptest.Server
	tokens   atomic.Int32 // tokens issued
	verifies atomic.Int32
	revoke   atomic.Bool // answer the next verify 401
	fail     atomic.Bool // answer every verify 500
}

func newFakePayPalAPI(t *testing.T, body []byte) *fakePayPalAPI {
	t.Helper()
	f := &fakePayPalAPI{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "client-id" || pass != "client-secret-value" || r.FormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := f.tokens.Add(1)
		fmt.Fprintf(w, `{"scope":"x","access_token":"token-%d","token_type":"Bearer","expires_in":3600}`, n)
	})
	mux.HandleFunc("POST /v1/notifications/verify-webhook-signature", func(w http.ResponseWriter, r *http.Request) {
		f.verifies.Add(1)
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer token-%d", f.tokens.Load()) || f.revoke.Swap(false) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var req struct {
			AuthAlgo         string          `json:"auth_algo"`
			CertURL          string          `json:"cert_url"`
			TransmissionID   string          `json:"transmission_id"`
			TransmissionSig  string          `json:"transmission_sig"`
			TransmissionTime string          `json:"transmission_time"`
			WebhookID        string          `json:"webhook_id"`
			WebhookEvent     json.RawMessage `json:"webhook_event"`
		}
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		status := "FAILURE"
		if req.TransmissionSig == "good" && req.WebhookID == testWebhookID && req.AuthAlgo == paypalAlgo &&
			req.TransmissionID == "tid" && req.TransmissionTime == "2023-11-14T22:13:20Z" && req.CertURL == paypalSignCertURL && bytes.Equal(req.WebhookEvent, body) {
			status = "SUCCESS"
		}
		fmt.Fprintf(w, `{"verification_status":%q}`, status)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func TestPayPalAPI(t *testing.T) {
	body := []byte("{\n  \"id\": \"WH-9\",\n  \"event_type\": \"CHECKOUT.ORDER.APPROVED\",\n  \"note\": \"a\\/b\"\n}")
	api := newFakePayPalAPI(t, body)
	src := config.Source{Provider: "paypal", PayPal: &config.PayPal{WebhookID: testWebhookID, Mode: "api",
		APIBaseURL: api.URL + "/", ClientID: "client-id", ClientSecret: "client-secret-value"}}
	v, err := newPayPal(src, paypalOptions{client: api.Client()})
	if err != nil {
		t.Fatal(err)
	}
	req := func(sig string, now time.Time) *Request {
		h := http.Header{}
		h.Set(paypalIDHeader, "tid")
		h.Set(paypalTimeHeader, "2023-11-14T22:13:20Z")
		h.Set(paypalSigHeader, sig)
		h.Set(paypalCertHeader, paypalSignCertURL)
		h.Set(paypalAlgoHeader, paypalAlgo)
		return &Request{Header: h, Body: body, Now: now}
	}
	check := func(name string, r *Request, want string) {
		t.Helper()
		res, err := v.Verify(r)
		if want == "" {
			if err != nil || res.DeliveryID != "WH-9" || res.Topic != "CHECKOUT.ORDER.APPROVED" {
				t.Errorf("%s: %+v, %v", name, res, err)
			}
			return
		}
		if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want ErrBadSignature %q", name, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "client-secret-value") || strings.Contains(err.Error(), "token-")) {
			t.Errorf("%s: error %q leaks a credential", name, err)
		}
	}
	check("success", req("good", testNow), "")
	check("failure", req("bad", testNow), `verify API says "FAILURE"`)
	check("token cached", req("good", testNow.Add(58*time.Minute)), "")
	if n := api.tokens.Load(); n != 1 {
		t.Errorf("%d tokens fetched, want 1", n)
	}
	check("token expired", req("good", testNow.Add(59*time.Minute)), "")
	if n := api.tokens.Load(); n != 2 {
		t.Errorf("%d tokens fetched, want 2", n)
	}
	api.revoke.Store(true)
	check("token revoked", req("good", testNow.Add(time.Hour)), "")
	if n := api.tokens.Load(); n != 3 {
		t.Errorf("%d tokens fetched, want 3", n)
	}
	api.fail.Store(true)
	check("API error", req("good", testNow.Add(time.Hour)), "verify API answered 500")
	api.fail.Store(false)

	// A body that is not one JSON object never reaches PayPal.
	before := api.verifies.Load()
	for _, b := range []string{`{"id":1},"webhook_id":"x"`, `[]`, ``, `{"id":`} {
		r := req("good", testNow)
		r.Body = []byte(b)
		check("body "+b, r, "not a JSON object")
	}
	if api.verifies.Load() != before {
		t.Error("a body that is not a JSON object was sent to PayPal")
	}

	// Wrong client credentials, and an unreachable API.
	src.PayPal.ClientSecret = "wrong"
	bad, _ := newPayPal(src, paypalOptions{client: api.Client()})
	if _, err := bad.Verify(req("good", testNow)); err == nil || !strings.Contains(err.Error(), "OAuth token endpoint: answered 401") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong credentials: %v", err)
	}
	api.Close()
	check("unreachable", req("good", testNow.Add(2*time.Hour)), "OAuth token endpoint")
}

// FuzzPayPalSignature feeds arbitrary transmission headers and bodies to a
// verifier holding the official vector's certificate: no panic, and only
// the vector's own signature over its own signed string is accepted.
func FuzzPayPalSignature(f *testing.F) {
	vec := findVector(f, "paypal-official-2017")
	cert := parseCertPEM(f, paypalVectors(f)[vec.ID].CertPEM)
	for _, v := range loadVectors(f) {
		if v.Provider == "paypal" {
			h := v.Headers
			f.Add(h["PAYPAL-TRANSMISSION-ID"], h["PAYPAL-TRANSMISSION-TIME"], h["PAYPAL-TRANSMISSION-SIG"], h["PAYPAL-CERT-URL"], h["PAYPAL-AUTH-ALGO"], []byte(v.Body))
		}
	}
	ver, err := newPayPal(paypalSource(vec.Secret), paypalOptions{leaf: func(string) (*x509.Certificate, error) { return cert, nil }})
	if err != nil {
		f.Fatal(err)
	}
	wantSigned := paypalSigned(vec.Headers["PAYPAL-TRANSMISSION-ID"], vec.Headers["PAYPAL-TRANSMISSION-TIME"], vec.Secret, []byte(vec.Body))
	wantSig, _ := base64.StdEncoding.DecodeString(vec.Headers["PAYPAL-TRANSMISSION-SIG"])
	f.Fuzz(func(t *testing.T, id, sent, sig, certURL, algo string, body []byte) {
		h := http.Header{}
		h.Set(paypalIDHeader, id)
		h.Set(paypalTimeHeader, sent)
		h.Set(paypalSigHeader, sig)
		h.Set(paypalCertHeader, certURL)
		h.Set(paypalAlgoHeader, algo)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: vectorNow})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		got, _ := base64.StdEncoding.DecodeString(sig)
		if !bytes.Equal(paypalSigned(id, sent, vec.Secret, body), wantSigned) || !bytes.Equal(got, wantSig) || algo != paypalAlgo {
			t.Fatalf("accepted id %q, time %q, sig %q, algo %q for a body of %d bytes", id, sent, sig, algo, len(body))
		}
	})
}

// benchPayPal is BenchmarkVerify's paypal case: a cached certificate, so
// one CRC-32, one SHA-256 and one RSA-2048 verification.
func benchPayPal(b *testing.B, body []byte) {
	pki := testPayPalPKI()
	block, _ := pem.Decode(pki.chain[0])
	leaf, _ := x509.ParseCertificate(block.Bytes)
	v, err := newPayPal(paypalSource(testWebhookID), paypalOptions{leaf: func(string) (*x509.Certificate, error) { return leaf, nil }})
	if err != nil {
		b.Fatal(err)
	}
	r := paypalRequest(b, 0, paypalSignCertURL, body, testNow)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}
