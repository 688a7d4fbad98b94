package verify

import (
	"cmp"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestLookup(t *testing.T) {
	want := []string{
		"adobe-commerce", "basic", "easypost", "github", "hmac", "intercom", "klaviyo", "mandrill", "none",
		"recharge", "sendgrid", "shipbob", "shopify", "slack", "standard-webhooks", "stripe", "token", "twilio",
		"adyen", "adyen-platform", "bigcommerce", "lemonsqueezy", "paddle", "paypal", "square", "woocommerce", "zendesk",
	}
	slices.Sort(want)
	// Providers whose bodies are not always JSON (forms, or anything).
	notJSON := map[string]bool{"hmac": true, "none": true, "basic": true, "token": true, "mandrill": true, "twilio": true, "slack": true}
	notJSON["zendesk"] = true // trigger webhooks may be XML or form-encoded
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	for _, name := range want {
		p, ok := Lookup(name)
		if !ok || p.Name != name || p.New == nil || p.Sign == nil {
			t.Errorf("Lookup(%q) = %+v, %v", name, p, ok)
		}
		if wantJSON := !notJSON[name]; p.JSON != wantJSON {
			t.Errorf("%s: JSON = %v, want %v", name, p.JSON, wantJSON)
		}
	}
	if _, ok := Lookup("svix"); ok {
		t.Error(`Lookup("svix") found a provider; svix is read by standard-webhooks`)
	}
}

// providerCase is one provider as the conformance suite drives it.
type providerCase struct {
	name     string   // test name
	provider string   // registry name
	sign     []string // two signing secrets
	verify   []string // the secrets a source configures to check them
	hmac     *config.HMAC
	// timestamped schemes sign a timestamp and enforce the window.
	timestamped bool
	// window is the scheme's default window, when not DefaultTolerance.
	window time.Duration
	// url is the notification URL of URL-bound schemes (source and signer).
	url string
	// token is provider "token"'s header (source and signer).
	token *config.HeaderToken
	// body builds a test body of about size bytes, when testEvent does not
	// fit the scheme (form bodies, batches).
	body func(size int) []byte
	// bodyUnsigned schemes authenticate the sender, not the body (token).
	bodyUnsigned bool
}

// eventBody is the case's test body of about size bytes.
func (c providerCase) eventBody(size int) []byte {
	if c.body != nil {
		return c.body(size)
	}
	return testEvent(size)
}

// Ed25519 keys for standard-webhooks v1a, from fixed seeds.
var (
	testSeeds = [2][]byte{[]byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 32))}
	testPriv  = [2]string{"whsk_" + base64.StdEncoding.EncodeToString(testSeeds[0]), "whsk_" + base64.StdEncoding.EncodeToString(testSeeds[1])}
	testPub   = [2]string{pubOf(testSeeds[0]), pubOf(testSeeds[1])}
)

func pubOf(seed []byte) string {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return "whpk_" + base64.StdEncoding.EncodeToString(pub)
}

// testHMAC is a generic scheme using every option.
var testHMAC = config.HMAC{
	Algorithm:       "sha512",
	Encoding:        "base64",
	Header:          "X-Acme-Signature",
	Prefix:          "v1=",
	Content:         "{id}.{timestamp}.{body}",
	TimestampHeader: "X-Acme-Timestamp",
	IDHeader:        "X-Acme-Delivery",
	TopicHeader:     "X-Acme-Event",
}

func providerCases() []providerCase {
	plain := []string{"hookyard-secret-one", "hookyard-secret-two"}
	whsec := []string{"whsec_aG9va3lhcmQtc2VjcmV0LW9uZS0yNGJ5dGVz", "whsec_aG9va3lhcmQtc2VjcmV0LXR3by0yNGJ5dGVz"}
	stripe := []string{"whsec_hookyard_stripe_one", "whsec_hookyard_stripe_two"}
	hmacDefault := config.HMAC{Header: "X-Signature"}
	return []providerCase{
		{name: "shopify", provider: "shopify", sign: plain, verify: plain},
		{name: "stripe", provider: "stripe", sign: stripe, verify: stripe, timestamped: true},
		{name: "github", provider: "github", sign: plain, verify: plain},
		{name: "standard-webhooks", provider: "standard-webhooks", sign: whsec, verify: whsec, timestamped: true},
		{name: "standard-webhooks-v1a", provider: "standard-webhooks", sign: testPriv[:], verify: testPub[:], timestamped: true},
		{name: "hmac", provider: "hmac", sign: plain, verify: plain, hmac: &testHMAC, timestamped: true},
		{name: "hmac-default", provider: "hmac", sign: plain, verify: plain, hmac: &hmacDefault},
		{name: "recharge", provider: "recharge", sign: plain, verify: plain, timestamped: true, window: rechargeTolerance},
		{name: "klaviyo", provider: "klaviyo", sign: plain, verify: plain, timestamped: true},
		{name: "mandrill", provider: "mandrill", sign: plain, verify: plain, url: testHookURL, body: mandrillBody},
		{name: "twilio", provider: "twilio", sign: plain, verify: plain, url: testHookURL},
		{name: "twilio-form", provider: "twilio", sign: plain, verify: plain, url: testHookURL, body: twilioFormBody},
		{name: "sendgrid", provider: "sendgrid", sign: testECDSA().priv[:], verify: testECDSA().pub[:], body: sendgridBody},
		{name: "slack", provider: "slack", sign: plain, verify: plain, timestamped: true},
		{name: "intercom", provider: "intercom", sign: plain, verify: plain},
		{name: "easypost", provider: "easypost", sign: plain, verify: plain},
		{name: "shipbob", provider: "shipbob", sign: whsec, verify: whsec, timestamped: true},
		{name: "adobe-commerce", provider: "adobe-commerce", sign: testRSA().priv[:], verify: testRSA().pub[:]},
		{name: "token", provider: "token", sign: plain, verify: plain, token: &config.HeaderToken{Header: "X-Hookyard-Token"}, bodyUnsigned: true},
		{name: "token-bearer", provider: "token", sign: plain, verify: plain, token: &defaultSignToken, bodyUnsigned: true},
		{name: "woocommerce", provider: "woocommerce", sign: plain, verify: plain},
		{name: "bigcommerce", provider: "bigcommerce", sign: plain, verify: plain, timestamped: true},
		{name: "square", provider: "square", sign: plain, verify: plain, url: testHookURL},
		{name: "adyen", provider: "adyen", sign: testAdyenKeys, verify: testAdyenKeys, body: adyenBody},
		{name: "adyen-platform", provider: "adyen-platform", sign: testAdyenKeys, verify: testAdyenKeys},
		{name: "zendesk", provider: "zendesk", sign: plain, verify: plain, timestamped: true},
		{name: "paddle", provider: "paddle", sign: plain, verify: plain, timestamped: true, window: paddleTolerance},
		{name: "lemonsqueezy", provider: "lemonsqueezy", sign: plain, verify: plain},
		// paypal signs with RSA for a webhook id, not with secrets: paypal_test.go.
	}
}

// testHookURL is the notification URL of the URL-bound cases.
const testHookURL = "https://hooks.example.com/ingest/src?tenant=1"

// testBody is an event body every provider's result can be checked
// against: Stripe and Standard Webhooks read type and id from the body.
const (
	testTopic = "orders/create"
	testID    = "evt_1NG8Du2eZvKYlo2CUI79vXWy"
)

var testNow = time.Unix(1700000000, 0)

func testEvent(size int) []byte {
	b := fmt.Appendf(nil, `{"id":%q,"object":"event","type":%q,"created":%d,"data":{"note":"`, testID, testTopic, testNow.Unix()-5)
	for len(b) < size-3 {
		b = append(b, 'x')
	}
	return append(b, `"}}`...)
}

func (c providerCase) source(secrets ...string) config.Source {
	return config.Source{Name: c.name, Provider: c.provider, Secrets: secrets, HMAC: c.hmac,
		NotificationURL: c.url, Token: c.token}
}

func (c providerCase) signed(t testing.TB, secret string, body []byte, now time.Time) *Request {
	t.Helper()
	p, _ := Lookup(c.provider)
	o := SignOptions{Topic: testTopic, ID: testID, Now: now, HMAC: c.hmac, URL: c.url, Token: c.token}
	if p.SignBody != nil {
		b, h, err := p.SignBody(secret, body, o)
		if err != nil {
			t.Fatalf("SignBody: %v", err)
		}
		return &Request{Header: h, Body: b, Now: now}
	}
	h, err := p.Sign(secret, body, o)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return &Request{Header: h, Body: body, Now: now}
}

func (c providerCase) verifier(t testing.TB, secrets ...string) Verifier {
	t.Helper()
	p, _ := Lookup(c.provider)
	v, err := p.New(c.source(secrets...))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// TestConformance runs the same checks against every provider that signs.
func TestConformance(t *testing.T) {
	for _, c := range providerCases() {
		body := c.eventBody(512)
		t.Run(c.name, func(t *testing.T) {
			t.Run("round trip", func(t *testing.T) {
				res, err := c.verifier(t, c.verify[0]).Verify(c.signed(t, c.sign[0], body, testNow))
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				want := Result{SecretIndex: 0, Topic: testTopic, DeliveryID: testID}
				switch c.name {
				case "hmac-default":
					want.Topic, want.DeliveryID = "", "" // no topic or id header configured
				case "stripe":
					want.Timestamp = testNow.Add(-5 * time.Second) // body "created"
				case "github":
				case "shopify", "standard-webhooks", "standard-webhooks-v1a", "hmac", "shipbob":
					want.Timestamp = testNow
				case "recharge": // topic header; the dedup key is the body hash
					want.DeliveryID, want.Timestamp = "", testNow
				case "klaviyo", "sendgrid": // batches: topic from data[]/events, body-hash dedup
					want.DeliveryID, want.Timestamp = "", testNow
					if c.name == "klaviyo" {
						want.Topic = "" // testEvent has no data[]
					}
				case "slack": // not an event_callback: the envelope type, the request time
					want.DeliveryID, want.Timestamp = "", testNow
				case "mandrill":
					want.DeliveryID = ""
				case "twilio", "twilio-form":
				case "intercom", "easypost": // topic lives in "topic"/"description"
					want.Topic = ""
				case "adobe-commerce", "token", "token-bearer":
					want.Topic, want.DeliveryID = "", ""
				case "woocommerce", "lemonsqueezy": // testEvent lacks date_modified_gmt / data.attributes.updated_at
					want.DeliveryID = ""
				case "bigcommerce": // topic in "scope"; webhook-id
					want.Topic, want.Timestamp = "", testNow
				case "square": // no event_id; square-initial-delivery-timestamp
					want.DeliveryID, want.Timestamp = "", testNow
				case "adyen": // eventCode; pspReference:eventCode:success; eventDate
					want.DeliveryID, want.Timestamp = testID+":"+testTopic+":true", testNow
				case "adyen-platform":
				case "zendesk":
					want.Timestamp = testNow
				case "paddle": // no event_type, event_id or occurred_at in testEvent
					want.Topic, want.DeliveryID, want.Timestamp = "", "", testNow
				}
				checkResult(t, res, want)
			})
			t.Run("rotation", func(t *testing.T) {
				v := c.verifier(t, c.verify...)
				for i, secret := range c.sign {
					res, err := v.Verify(c.signed(t, secret, body, testNow))
					if err != nil || res.SecretIndex != i {
						t.Errorf("signed with secret %d: SecretIndex %d, err %v", i, res.SecretIndex, err)
					}
				}
			})
			t.Run("tampered body", func(t *testing.T) {
				if c.bodyUnsigned {
					t.Skip("the scheme does not sign the body")
				}
				r := c.signed(t, c.sign[0], body, testNow)
				r.Body = append([]byte(nil), body...)
				r.Body[len(r.Body)-4] ^= 1
				_, err := c.verifier(t, c.verify[0]).Verify(r)
				if !errors.Is(err, webhook.ErrBadSignature) {
					t.Fatalf("Verify: %v, want ErrBadSignature", err)
				}
			})
			t.Run("wrong secret", func(t *testing.T) {
				r := c.signed(t, c.sign[1], body, testNow)
				_, err := c.verifier(t, c.verify[0]).Verify(r)
				if !errors.Is(err, webhook.ErrBadSignature) {
					t.Fatalf("Verify: %v, want ErrBadSignature", err)
				}
				assertNoSecret(t, err, append(c.sign, c.verify...)...)
				// Nor the signature the right secret would have produced.
				good := c.signed(t, c.sign[0], body, testNow)
				for _, vals := range good.Header {
					for _, val := range vals {
						if len(val) >= 16 && strings.Contains(err.Error(), val) {
							t.Errorf("error %q contains the expected header value %q", err, val)
						}
					}
				}
			})
			t.Run("missing headers", func(t *testing.T) {
				good := c.signed(t, c.sign[0], body, testNow)
				v := c.verifier(t, c.verify[0])
				for name := range good.Header {
					r := c.signed(t, c.sign[0], body, testNow)
					r.Header.Del(name)
					res, err := v.Verify(r)
					if err == nil {
						// Only informational headers may go missing.
						if res.SecretIndex != 0 {
							t.Errorf("without %s: SecretIndex %d", name, res.SecretIndex)
						}
						continue
					}
					if !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(strings.ToLower(err.Error()), "missing "+strings.ToLower(name)) {
						t.Errorf("without %s: %v, want ErrBadSignature naming it", name, err)
					}
				}
				if _, err := v.Verify(&Request{Header: http.Header{}, Body: body, Now: testNow}); !errors.Is(err, webhook.ErrBadSignature) {
					t.Errorf("no headers: %v, want ErrBadSignature", err)
				}
			})
			t.Run("one spelling per required header", func(t *testing.T) {
				// Go's base64 decoders skip CR and LF even in strict mode,
				// so a decoder that is not length-checked would accept a
				// signature with a line break in it. No required header may
				// verify with one inserted.
				v := c.verifier(t, c.verify[0])
				good := c.signed(t, c.sign[0], body, testNow)
				for name, vals := range good.Header {
					if len(vals) != 1 || len(vals[0]) < 2 {
						continue
					}
					r := c.signed(t, c.sign[0], body, testNow)
					r.Header.Del(name)
					if _, err := v.Verify(r); err == nil {
						continue // informational
					}
					r = c.signed(t, c.sign[0], body, testNow)
					val := r.Header.Get(name)
					r.Header.Set(name, val[:len(val)/2]+"\r\n"+val[len(val)/2:])
					if _, err := v.Verify(r); !errors.Is(err, webhook.ErrBadSignature) {
						t.Errorf("%s with CRLF inside: %v, want ErrBadSignature", name, err)
					}
				}
			})
			t.Run("new rejects bad secrets", func(t *testing.T) {
				p, _ := Lookup(c.provider)
				for _, secrets := range [][]string{nil, {c.verify[0], ""}} {
					_, err := p.New(c.source(secrets...))
					if err == nil || !strings.HasPrefix(err.Error(), "secrets") {
						t.Errorf("New(secrets %q): %v, want an error naming secrets", secrets, err)
					}
				}
			})
			if !c.timestamped {
				return
			}
			t.Run("window", func(t *testing.T) {
				v := c.verifier(t, c.verify[0])
				tol := cmp.Or(c.window, DefaultTolerance)
				past := int64((tol + time.Second) / time.Second)
				for _, tt := range []struct {
					skew time.Duration // verifier clock minus signing time
					want string        // "" when accepted
				}{
					{0, ""},
					{tol, ""},
					{-tol, ""},
					{tol + time.Second, fmt.Sprintf("is %ds old, outside the %v window", past, tol)},
					{-tol - time.Second, fmt.Sprintf("is %ds in the future, outside the %v window", past, tol)},
				} {
					r := c.signed(t, c.sign[0], body, testNow)
					r.Now = testNow.Add(tt.skew)
					_, err := v.Verify(r)
					if tt.want == "" {
						if err != nil {
							t.Errorf("skew %v: %v, want accepted", tt.skew, err)
						}
						continue
					}
					if !errors.Is(err, webhook.ErrStaleTimestamp) || !strings.Contains(err.Error(), tt.want) {
						t.Errorf("skew %v: %v, want ErrStaleTimestamp %q", tt.skew, err, tt.want)
					}
				}
			})
			t.Run("source tolerance", func(t *testing.T) {
				src := c.source(c.verify[0])
				src.Tolerance = config.Duration(time.Hour)
				p, _ := Lookup(c.provider)
				v, err := p.New(src)
				if err != nil {
					t.Fatal(err)
				}
				r := c.signed(t, c.sign[0], body, testNow)
				r.Now = testNow.Add(59 * time.Minute)
				if _, err := v.Verify(r); err != nil {
					t.Errorf("59m old with a 1h window: %v", err)
				}
				r.Now = testNow.Add(61 * time.Minute)
				if _, err := v.Verify(r); !errors.Is(err, webhook.ErrStaleTimestamp) {
					t.Errorf("61m old with a 1h window: %v, want ErrStaleTimestamp", err)
				}
				src.Tolerance = config.Duration(-time.Second)
				if _, err := p.New(src); err == nil || !strings.HasPrefix(err.Error(), "tolerance") {
					t.Errorf("negative tolerance: %v, want an error naming tolerance", err)
				}
			})
		})
	}
}

// BenchmarkVerify measures one verification of a signed 2 KiB event per
// provider, including the result fields each extracts.
func BenchmarkVerify(b *testing.B) {
	for _, c := range providerCases() {
		body := c.eventBody(2 << 10)
		b.Run(c.name, func(b *testing.B) {
			v := c.verifier(b, c.verify[0])
			r := c.signed(b, c.sign[0], body, testNow)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := v.Verify(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("paypal", func(b *testing.B) { benchPayPal(b, testEvent(2<<10)) })
	b.Run("none", func(b *testing.B) {
		v, _ := noneProvider.New(config.Source{Provider: "none"})
		r := &Request{Header: http.Header{}, Body: testEvent(2 << 10), Now: testNow}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("basic", func(b *testing.B) { // one credential: not a providerCase
		v, err := newBasic(basicSource("user", "pass"))
		if err != nil {
			b.Fatal(err)
		}
		h, _ := signBasic("user:pass", nil, SignOptions{})
		r := &Request{Header: h, Body: testEvent(2 << 10), Now: testNow}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
