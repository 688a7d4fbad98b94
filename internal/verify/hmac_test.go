package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// hmacVectorSchemes configures the generic scheme as each provider in
// vectors.json that it can express; the vectors then prove the options.
var hmacVectorSchemes = map[string]config.HMAC{
	"shopify":      {Encoding: "base64", Header: "X-Shopify-Hmac-Sha256", TopicHeader: "X-Shopify-Topic", IDHeader: "X-Shopify-Webhook-Id"},
	"woocommerce":  {Encoding: "base64", Header: "X-WC-Webhook-Signature", TopicHeader: "X-WC-Webhook-Topic", IDHeader: "X-WC-Webhook-Delivery-ID"},
	"github":       {Header: "X-Hub-Signature-256", Prefix: "sha256=", TopicHeader: "X-GitHub-Event", IDHeader: "X-GitHub-Delivery"},
	"lemonsqueezy": {Header: "X-Signature", TopicHeader: "X-Event-Name"},
	"intercom":     {Algorithm: "sha1", Header: "X-Hub-Signature", Prefix: "sha1="},
	"easypost":     {Header: "X-Hmac-Signature", Prefix: "hmac-sha256-hex="},
	"slack": {
		Header: "X-Slack-Signature", Prefix: "v0=",
		Content: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp",
	},
}

func TestHMACVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		c, ok := hmacVectorSchemes[v.Provider]
		// EasyPost NFKD-normalises non-ASCII secrets, which the generic
		// scheme does not.
		if v.Provider == "easypost" && strings.ContainsFunc(v.Secret, func(r rune) bool { return r > 127 }) {
			ok = false
		}
		src := v.source("hmac")
		src.HMAC = &c
		return src, ok
	})
	if n != 26 {
		t.Fatalf("ran %d vectors, want 26", n)
	}
}

func TestHMACResult(t *testing.T) {
	vec := findVector(t, "woocommerce-computed-1")
	c := hmacVectorSchemes["woocommerce"]
	src := vec.source("hmac")
	src.HMAC = &c
	v, err := newHMAC(src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Topic: "order.created", DeliveryID: "8ad0a1d3c6b1f7e2a9c4d5e6f7a8b9c0"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
}

func TestHMACNew(t *testing.T) {
	tests := []struct {
		name string
		c    *config.HMAC
		want string // error prefix; "" when valid
	}{
		{"minimal", &config.HMAC{Header: "X-Sig"}, ""},
		{"everything", &testHMAC, ""},
		{"missing block", nil, `hmac: required for provider "hmac"`},
		{"no header", &config.HMAC{}, "hmac.header: required"},
		{"md5", &config.HMAC{Header: "X-Sig", Algorithm: "md5"}, `hmac.algorithm: unknown "md5" (want sha1, sha256, sha512)`},
		{"upper-case algorithm", &config.HMAC{Header: "X-Sig", Algorithm: "SHA256"}, `hmac.algorithm: unknown "SHA256"`},
		{"base32", &config.HMAC{Header: "X-Sig", Encoding: "base32"}, `hmac.encoding: unknown "base32" (want hex, base64)`},
		{"header with space", &config.HMAC{Header: "X Sig"}, `hmac.header: "X Sig" is not a header name`},
		{"id header with colon", &config.HMAC{Header: "X-Sig", IDHeader: "X-Id:"}, `hmac.id_header: "X-Id:" is not a header name`},
		{"no body", &config.HMAC{Header: "X-Sig", Content: "{id}", IDHeader: "X-Id"}, "hmac.content: must contain {body}"},
		{"two bodies", &config.HMAC{Header: "X-Sig", Content: "{body}{body}"}, "hmac.content: {body} appears more than once"},
		{"unknown placeholder", &config.HMAC{Header: "X-Sig", Content: "{ts}.{body}"}, `hmac.content: unknown placeholder "{ts}" (want {body}, {timestamp}, {id})`},
		{"unclosed", &config.HMAC{Header: "X-Sig", Content: "{body}.{"}, `hmac.content: unclosed "{"`},
		{"timestamp without header", &config.HMAC{Header: "X-Sig", Content: "{timestamp}.{body}"}, "hmac.content: {timestamp} needs hmac.timestamp_header"},
		{"unsigned timestamp", &config.HMAC{Header: "X-Sig", TimestampHeader: "X-Ts"}, "hmac.timestamp_header: the timestamp is not signed"},
		{"id without header", &config.HMAC{Header: "X-Sig", Content: "{id}{body}"}, "hmac.content: {id} needs hmac.id_header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newHMAC(config.Source{Provider: "hmac", Secrets: []string{"s3cret-value"}, HMAC: tt.c})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestHMACSignDefault(t *testing.T) {
	body := []byte(`{"hello":"world"}`)
	h, err := signHMAC("k", body, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(macSum(sha256.New, []byte("k"), body))
	if len(h) != 1 || h.Get("X-Signature") != want {
		t.Errorf("headers %v, want only X-Signature: %s", h, want)
	}
	if _, err := signHMAC("k", body, SignOptions{HMAC: &config.HMAC{Header: "X-Sig", Algorithm: "md5"}}); err == nil {
		t.Error("signed with md5")
	}
}

// FuzzHMACContent builds schemes from arbitrary templates: New must not
// panic, and every template it accepts must round-trip through Sign and
// Verify and reject a changed body.
func FuzzHMACContent(f *testing.F) {
	for _, c := range hmacVectorSchemes {
		f.Add(c.Content)
	}
	for _, s := range []string{"{body}", "{id}.{timestamp}.{body}", "{body}{timestamp}", "v0:{timestamp}:{body}:{id}", "{", "}{body}{", "{{body}}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		c := &config.HMAC{Header: "X-Sig", Content: content}
		if strings.Contains(content, "{timestamp}") {
			c.TimestampHeader = "X-Ts"
		}
		if strings.Contains(content, "{id}") {
			c.IDHeader = "X-Id"
		}
		v, err := newHMAC(config.Source{Secrets: []string{"k"}, HMAC: c})
		if err != nil {
			return
		}
		body := []byte("body")
		now := time.Unix(1700000000, 0)
		h, err := signHMAC("k", body, SignOptions{HMAC: c, Now: now})
		if err != nil {
			t.Fatalf("New accepted %q but Sign did not: %v", content, err)
		}
		if _, err := v.Verify(&Request{Header: h, Body: body, Now: now}); err != nil {
			t.Fatalf("template %q: %v", content, err)
		}
		if _, err := v.Verify(&Request{Header: h, Body: []byte("bodY"), Now: now}); err == nil {
			t.Fatalf("template %q: accepted a changed body", content)
		}
	})
}

// FuzzHMACSignature feeds arbitrary signature and timestamp headers, bodies
// and clocks to a Slack-shaped scheme holding the vectors' secret: no
// panic, and only "v0=" + the HMAC of "v0:<ts>:<body>" is accepted, inside
// the window.
func FuzzHMACSignature(f *testing.F) {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	c := hmacVectorSchemes["slack"]
	for _, v := range loadVectors(f) {
		if v.Provider == "slack" {
			f.Add(v.Headers["X-Slack-Signature"], v.Headers["X-Slack-Request-Timestamp"], []byte(v.Body), v.VerifyAt)
		}
	}
	ver, err := newHMAC(config.Source{Secrets: []string{secret}, HMAC: &c})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte, now int64) {
		h := http.Header{}
		h.Set(c.Header, sig)
		h.Set(c.TimestampHeader, ts)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		if n, err := strconv.ParseInt(ts, 10, 64); err != nil || n < now-300 || n > now+300 {
			t.Fatalf("accepted timestamp %q at %d", ts, now)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("v0:" + ts + ":"))
		m.Write(body)
		if want := "v0=" + hex.EncodeToString(m.Sum(nil)); !strings.HasPrefix(sig, "v0=") || !strings.EqualFold(sig, want) {
			t.Fatalf("accepted %q, want %q", sig, want)
		}
	})
}
