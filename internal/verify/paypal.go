package verify

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// PayPal signs "<transmission id>|<transmission time>|<webhook id>|<crc32>"
// with RSA (PKCS #1 v1.5, SHA-256): the first two come from the
// PAYPAL-TRANSMISSION-ID and -TIME headers, the webhook id is the source's
// paypal.webhook_id (never the request's), and crc32 is the IEEE CRC-32 of
// the raw body in unsigned decimal. The base64 signature is in
// PAYPAL-TRANSMISSION-SIG; PAYPAL-AUTH-ALGO must be SHA256withRSA.
//
// Mode cert (the default) checks offline, as PayPal's SDKs do, against the
// certificate at PAYPAL-CERT-URL. That URL comes from the request, so it is
// fetched only over https from an allow-listed host (api.paypal.com and
// api.sandbox.paypal.com unless paypal.cert_hosts says otherwise), without
// following redirects, within a timeout; the certificate must chain to the
// system roots, be valid now, and name a subject CN
// "messageverificationcerts…paypal.com". Certificates (and, for a minute,
// failures) are cached by URL, so a delivery costs one RSA verification.
//
// Mode api asks PayPal instead: POST /v1/notifications/verify-webhook-signature
// with an OAuth2 client-credentials token (cached until it expires), the
// headers' values and the body verbatim as webhook_event. That is a network
// round trip per delivery; failures to reach PayPal are reported as
// verification failures, so PayPal retries.
//
// PayPal's SDKs apply no window to the transmission time, and neither does
// hookyard unless the source sets tolerance. The topic is the body's
// "event_type", the dedup key its event "id" (WH-…), which redeliveries
// keep, and the time its "create_time" (else the transmission time).
const (
	paypalIDHeader   = "Paypal-Transmission-Id"
	paypalTimeHeader = "Paypal-Transmission-Time"
	paypalSigHeader  = "Paypal-Transmission-Sig"
	paypalCertHeader = "Paypal-Cert-Url"
	paypalAlgoHeader = "Paypal-Auth-Algo"
	paypalAlgo       = "SHA256withRSA"

	// paypalTimeout bounds each network call a verification makes.
	paypalTimeout = 10 * time.Second
	// paypalCertTTL is how long a downloaded certificate is trusted
	// without being fetched again (never past its NotAfter);
	// paypalFailTTL how long a failed download is remembered.
	paypalCertTTL = 24 * time.Hour
	paypalFailTTL = time.Minute
	// paypalMaxCerts bounds the cache: URLs come from requests.
	paypalMaxCerts = 64
	// paypalMaxBody bounds what is read from a certificate or API answer.
	paypalMaxBody = 64 << 10

	paypalDefaultAPI = "https://api-m.paypal.com"
	// paypalSignCertURL is the PAYPAL-CERT-URL Sign sends. Only PayPal can
	// sign for a certificate PayPal serves, so a hookyard in mode cert
	// rejects what Sign produces unless it is told to trust the signer's
	// certificate for this URL (tests); mode api asks whichever API
	// api_base_url names.
	paypalSignCertURL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-hookyard-send"
)

// paypalCertHosts are where PayPal serves its signing certificates.
var paypalCertHosts = []string{"api.paypal.com", "api.sandbox.paypal.com"}

var payPalProvider = Provider{
	Name: "paypal",
	JSON: true,
	New:  func(src config.Source) (Verifier, error) { return newPayPal(src, paypalOptions{}) },
	Sign: signPayPal,
}

// paypalOptions are the seams tests use; the zero value is production.
type paypalOptions struct {
	client *http.Client   // nil: a client of its own
	roots  *x509.CertPool // trust anchors for certificates; nil: the system's
	// leaf, when set, replaces download and chain check in mode cert: it
	// returns the (trusted) certificate for a PAYPAL-CERT-URL.
	leaf    func(certURL string) (*x509.Certificate, error)
	timeout time.Duration // per network call; default paypalTimeout
}

type paypal struct {
	webhookID string
	tol       time.Duration // 0: no window
	hosts     []string      // mode cert
	certs     *paypalCerts  // mode cert
	api       *paypalAPI    // mode api
}

func newPayPal(src config.Source, o paypalOptions) (Verifier, error) {
	c := src.PayPal
	switch {
	case len(src.Secrets) > 0:
		return nil, errors.New(`secrets: provider "paypal" has none (it checks paypal.webhook_id against PayPal's certificate or API); remove them`)
	case c == nil:
		return nil, errors.New(`paypal: required for provider "paypal" (at least paypal.webhook_id)`)
	case c.WebhookID == "":
		return nil, errors.New("paypal.webhook_id: required (the id PayPal shows for this webhook)")
	}
	tol, err := toleranceOr(src, 0)
	if err != nil {
		return nil, err
	}
	o.timeout = cmp.Or(o.timeout, paypalTimeout)
	client := &http.Client{}
	if o.client != nil {
		cp := *o.client
		client = &cp
	}
	// A redirect would leave the allow-listed host.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	v := &paypal{webhookID: c.WebhookID, tol: tol}
	switch c.Mode {
	case "", "cert":
		if c.APIBaseURL != "" || c.ClientID != "" || c.ClientSecret != "" {
			return nil, errors.New("paypal: api_base_url, client_id and client_secret are only used by mode api")
		}
		v.hosts = paypalCertHosts
		if len(c.CertHosts) > 0 {
			v.hosts = make([]string, len(c.CertHosts))
			for i, h := range c.CertHosts {
				if h == "" || strings.ContainsAny(h, "/?#@ ") {
					return nil, fmt.Errorf("paypal.cert_hosts[%d]: %q is not a host name or host:port", i, clip(h))
				}
				v.hosts[i] = strings.ToLower(h)
			}
		}
		v.certs = &paypalCerts{client: client, roots: o.roots, leaf: o.leaf, timeout: o.timeout,
			entries: map[string]*paypalCert{}}
	case "api":
		switch {
		case len(c.CertHosts) > 0:
			return nil, errors.New("paypal.cert_hosts: only used by mode cert")
		case c.ClientID == "":
			return nil, errors.New("paypal.client_id: required for mode api")
		case c.ClientSecret == "":
			return nil, errors.New("paypal.client_secret: required for mode api (is its environment variable set?)")
		}
		base := strings.TrimSuffix(cmp.Or(c.APIBaseURL, paypalDefaultAPI), "/")
		if u, err := url.Parse(base); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, errors.New("paypal.api_base_url: must be an absolute https:// URL")
		}
		v.api = &paypalAPI{base: base, clientID: c.ClientID, clientSecret: c.ClientSecret,
			client: client, timeout: o.timeout}
	default:
		return nil, fmt.Errorf("paypal.mode: unknown %q (want cert or api)", clip(c.Mode))
	}
	return v, nil
}

// paypalHeaders are one request's transmission headers.
type paypalHeaders struct {
	id, time, sig, certURL, algo string
}

func (v *paypal) Verify(r *Request) (Result, error) {
	var h paypalHeaders
	for _, f := range []struct {
		dst  *string
		name string
	}{
		{&h.sig, paypalSigHeader}, {&h.id, paypalIDHeader}, {&h.time, paypalTimeHeader},
		{&h.certURL, paypalCertHeader}, {&h.algo, paypalAlgoHeader},
	} {
		if *f.dst = r.Header.Get(f.name); *f.dst == "" {
			return Result{}, badSignature("missing %s header", strings.ToUpper(f.name))
		}
	}
	if h.algo != paypalAlgo {
		return Result{}, badSignature("PAYPAL-AUTH-ALGO %q is not supported (want %s)", clip(h.algo), paypalAlgo)
	}
	sent, err := time.Parse(time.RFC3339, h.time)
	if err != nil {
		return Result{}, badSignature("PAYPAL-TRANSMISSION-TIME %q is not an RFC 3339 time", clip(h.time))
	}
	if v.tol > 0 {
		if err := checkTimestamp(sent.Unix(), r.Now, v.tol); err != nil {
			return Result{}, err
		}
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	if v.api != nil {
		err = v.api.verify(h, v.webhookID, r.Body, now)
	} else {
		err = v.verifyCert(h, r.Body, now)
	}
	if err != nil {
		return Result{}, err
	}

	res := Result{SecretIndex: 0, Timestamp: sent}
	var typ, id, created []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "event_type":
			typ = val
		case "id":
			id = val
		case "create_time":
			created = val
		}
		return true
	})
	res.Topic, res.DeliveryID = jsonString(typ), jsonString(id)
	if at, err := time.Parse(time.RFC3339Nano, jsonString(created)); err == nil {
		res.Timestamp = at
	}
	return res, nil
}

// paypalSigned is the string PayPal signs.
func paypalSigned(id, sent, webhookID string, body []byte) []byte {
	b := make([]byte, 0, len(id)+len(sent)+len(webhookID)+14)
	b = append(append(append(append(append(append(b, id...), '|'), sent...), '|'), webhookID...), '|')
	return strconv.AppendUint(b, uint64(crc32.ChecksumIEEE(body)), 10)
}

func (v *paypal) verifyCert(h paypalHeaders, body []byte, now time.Time) error {
	if err := v.allowedCertURL(h.certURL); err != nil {
		return err
	}
	sig, err := decodeCanonicalBase64(h.sig)
	if err != nil || len(sig) == 0 {
		return badSignature("PAYPAL-TRANSMISSION-SIG is not base64")
	}
	cert, err := v.certs.get(h.certURL, now)
	if err != nil {
		return badSignature("PAYPAL-CERT-URL: %v", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return badSignature("PAYPAL-CERT-URL: the certificate's key is not RSA")
	}
	digest := sha256.Sum256(paypalSigned(h.id, h.time, v.webhookID, body))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return badSignature("PAYPAL-TRANSMISSION-SIG does not match the transmission id, time, webhook id and body")
	}
	return nil
}

// allowedCertURL rejects a certificate URL hookyard must not fetch: not
// https, carrying credentials, or on a host outside the allow-list. A host
// listed without a port matches only the default port.
func (v *paypal) allowedCertURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Host == "" {
		return badSignature("PAYPAL-CERT-URL is not an https URL")
	}
	host := strings.ToLower(u.Host)
	if slices.Contains(v.hosts, host) {
		return nil
	}
	if p := u.Port(); (p == "" || p == "443") && slices.Contains(v.hosts, strings.ToLower(u.Hostname())) {
		return nil
	}
	return badSignature("PAYPAL-CERT-URL host %q is not an allowed PayPal certificate host", clip(u.Host))
}

// paypalCerts downloads, checks and caches signing certificates by URL.
// Concurrent requests for one URL share one download.
type paypalCerts struct {
	client  *http.Client
	roots   *x509.CertPool
	leaf    func(string) (*x509.Certificate, error)
	timeout time.Duration

	mu      sync.Mutex
	entries map[string]*paypalCert
}

type paypalCert struct {
	ready   chan struct{} // closed once cert, err and expires are set
	cert    *x509.Certificate
	err     error
	expires time.Time
}

func (c *paypalCerts) get(certURL string, now time.Time) (*x509.Certificate, error) {
	c.mu.Lock()
	e := c.entries[certURL]
	if e != nil {
		select {
		case <-e.ready:
			if !now.Before(e.expires) {
				e = nil // stale: fetch again
			}
		default: // another request is fetching it
		}
	}
	if e == nil {
		if len(c.entries) >= paypalMaxCerts {
			c.evict(now)
		}
		e = &paypalCert{ready: make(chan struct{})}
		c.entries[certURL] = e
		c.mu.Unlock()
		e.cert, e.err = c.load(certURL, now)
		e.expires = now.Add(paypalFailTTL)
		if e.err == nil {
			e.expires = now.Add(paypalCertTTL)
			if e.cert.NotAfter.Before(e.expires) {
				e.expires = e.cert.NotAfter
			}
		}
		close(e.ready)
		return e.cert, e.err
	}
	c.mu.Unlock()
	<-e.ready
	return e.cert, e.err
}

// evict drops expired entries, or every settled one if none has expired.
// It is called with c.mu held.
func (c *paypalCerts) evict(now time.Time) {
	for _, all := range []bool{false, true} {
		for k, e := range c.entries {
			select {
			case <-e.ready:
				if all || !now.Before(e.expires) {
					delete(c.entries, k)
				}
			default:
			}
		}
		if len(c.entries) < paypalMaxCerts {
			return
		}
	}
}

// load returns the trusted certificate at certURL.
func (c *paypalCerts) load(certURL string, now time.Time) (*x509.Certificate, error) {
	if c.leaf != nil {
		return c.leaf(certURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download failed: %w", netError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, paypalMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("download failed: %w", netError(err))
	}
	if len(data) > paypalMaxBody {
		return nil, fmt.Errorf("download is larger than %d bytes", paypalMaxBody)
	}
	var chain []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a certificate: %w", err)
		}
		chain = append(chain, cert)
	}
	if len(chain) == 0 {
		return nil, errors.New("no PEM certificate in the download")
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, cert := range chain[1:] {
		inter.AddCert(cert)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: c.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return nil, fmt.Errorf("certificate not trusted: %w", err)
	}
	if cn := leaf.Subject.CommonName; !strings.HasPrefix(cn, "messageverificationcerts") || !strings.HasSuffix(cn, ".paypal.com") {
		return nil, fmt.Errorf("certificate subject %q is not a PayPal message verification certificate", clip(cn))
	}
	return leaf, nil
}

// netError drops the *url.Error wrapper, whose text repeats the URL.
func netError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// paypalAPI asks PayPal's verify-webhook-signature endpoint.
type paypalAPI struct {
	base                   string
	clientID, clientSecret string
	client                 *http.Client
	timeout                time.Duration

	mu      sync.Mutex // serialises token refreshes
	token   string
	expires time.Time
}

func (a *paypalAPI) verify(h paypalHeaders, webhookID string, body []byte, now time.Time) error {
	// The body goes verbatim into the request, so it must be one JSON
	// object or it could rewrite the request's other members.
	if i := skipSpace(body, 0); i >= len(body) || body[i] != '{' || !json.Valid(body) {
		return badSignature("body is not a JSON object, so PayPal's verify API cannot check it")
	}
	var req bytes.Buffer
	req.WriteByte('{')
	for _, f := range [][2]string{
		{"auth_algo", h.algo}, {"cert_url", h.certURL}, {"transmission_id", h.id},
		{"transmission_sig", h.sig}, {"transmission_time", h.time}, {"webhook_id", webhookID},
	} {
		k, _ := json.Marshal(f[0])
		v, _ := json.Marshal(f[1])
		req.Write(k)
		req.WriteByte(':')
		req.Write(v)
		req.WriteByte(',')
	}
	req.WriteString(`"webhook_event":`)
	req.Write(body)
	req.WriteByte('}')

	for attempt := 0; ; attempt++ {
		token, err := a.accessToken(now, attempt > 0)
		if err != nil {
			return badSignature("PayPal's OAuth token endpoint: %v", err)
		}
		status, out, err := a.post("/v1/notifications/verify-webhook-signature", "application/json",
			"Bearer "+token, req.Bytes())
		if err != nil {
			return badSignature("PayPal's verify API could not be reached: %v", err)
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			continue // the token was revoked or expired early: fetch one more
		}
		if status != http.StatusOK {
			return badSignature("PayPal's verify API answered %d %s", status, http.StatusText(status))
		}
		var ans struct {
			Status string `json:"verification_status"`
		}
		if err := json.Unmarshal(out, &ans); err != nil {
			return badSignature("PayPal's verify API answered something that is not JSON")
		}
		if ans.Status != "SUCCESS" {
			return badSignature("PayPal's verify API says %q for this delivery", clip(ans.Status))
		}
		return nil
	}
}

// accessToken returns a cached token, or a new one when it has expired or
// refresh is set.
func (a *paypalAPI) accessToken(now time.Time, refresh bool) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && !refresh && now.Before(a.expires) {
		return a.token, nil
	}
	a.token = ""
	creds := base64.StdEncoding.EncodeToString([]byte(a.clientID + ":" + a.clientSecret))
	status, out, err := a.post("/v1/oauth2/token", "application/x-www-form-urlencoded",
		"Basic "+creds, []byte("grant_type=client_credentials"))
	switch {
	case err != nil:
		return "", err
	case status != http.StatusOK:
		return "", fmt.Errorf("answered %d %s (check paypal.client_id and client_secret)", status, http.StatusText(status))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(out, &tok); err != nil || tok.AccessToken == "" {
		return "", errors.New("answered without an access_token")
	}
	// Renew a minute early, so a token does not expire in flight.
	a.token, a.expires = tok.AccessToken, now.Add(time.Duration(tok.ExpiresIn)*time.Second-time.Minute)
	return a.token, nil
}

// post sends one request to the API and returns the status and at most
// paypalMaxBody bytes of the answer.
func (a *paypalAPI) post(path, contentType, auth string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, netError(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, paypalMaxBody))
	if err != nil {
		return 0, nil, netError(err)
	}
	return resp.StatusCode, out, nil
}

// signPayPal signs like PayPal with secret, a PEM RSA private key (PKCS #1
// or #8), for the webhook id in o.PayPal. o.ID is the transmission id
// (a UUID when empty); the event type and id travel in the body.
func signPayPal(secret string, body []byte, o SignOptions) (http.Header, error) {
	if o.PayPal == nil || o.PayPal.WebhookID == "" {
		return nil, errors.New("paypal: the webhook id is signed, so it is required (SignOptions.PayPal; hookyard send --webhook-id)")
	}
	key, err := parseRSAPrivateKey(secret)
	if err != nil {
		return nil, fmt.Errorf("paypal: %w", err)
	}
	id := o.ID
	if id == "" {
		id = newUUID()
	}
	sent := signTime(o).UTC().Format(time.RFC3339)
	digest := sha256.Sum256(paypalSigned(id, sent, o.PayPal.WebhookID, body))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return nil, fmt.Errorf("paypal: %w", err)
	}
	h := http.Header{}
	h.Set(paypalIDHeader, id)
	h.Set(paypalTimeHeader, sent)
	h.Set(paypalSigHeader, base64.StdEncoding.EncodeToString(sig))
	h.Set(paypalCertHeader, paypalSignCertURL)
	h.Set(paypalAlgoHeader, paypalAlgo)
	return h, nil
}

// parseRSAPrivateKey reads the first private key block of a PEM text.
func parseRSAPrivateKey(s string) (*rsa.PrivateKey, error) {
	for block, rest := pem.Decode([]byte(s)); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			if rk, ok := k.(*rsa.PrivateKey); ok {
				return rk, nil
			}
			return nil, errors.New("the private key is not RSA")
		}
	}
	return nil, errors.New("the secret must be a PEM RSA private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)")
}
