package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestWooCommerceVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("woocommerce"), v.Provider == "woocommerce"
	})
	if n != 4 {
		t.Fatalf("ran %d woocommerce vectors, want 4", n)
	}
}

func TestWooCommerceResult(t *testing.T) {
	vec := findVector(t, "woocommerce-computed-1")
	v, err := newWooCommerce(vec.source("woocommerce"))
	if err != nil {
		t.Fatal(err)
	}
	// The vector's body has no date_modified_gmt: the body hash dedups.
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Topic: "order.created"}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// An order as WooCommerce sends it: topic, id and modification time.
	const secret = "wc-webhook-secret-Example-42"
	body := []byte(`{"id":727,"status":"processing","date_modified":"2017-03-22T16:28:08","date_modified_gmt":"2017-03-22T19:28:08","line_items":[{"id":315}]}`)
	h, err := signWooCommerce(secret, body, SignOptions{Topic: "order.updated"})
	if err != nil {
		t.Fatal(err)
	}
	res, err = v.Verify(&Request{Header: h, Body: body, Now: vectorNow})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "order.updated", DeliveryID: "order.updated/727@2017-03-22T19:28:08",
		Timestamp: time.Date(2017, 3, 22, 19, 28, 8, 0, time.UTC)}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	// A second send of the same update is a new delivery id but the same key.
	h2, _ := signWooCommerce(secret, body, SignOptions{Topic: "order.updated"})
	if h2.Get(wcDeliveryHeader) == h.Get(wcDeliveryHeader) {
		t.Fatal("two sends share a delivery id")
	}
	if res2, err := v.Verify(&Request{Header: h2, Body: body, Now: vectorNow}); err != nil || res2.DeliveryID != want.DeliveryID {
		t.Errorf("second send: %+v, %v; want DeliveryID %q", res2, err, want.DeliveryID)
	}
}

// TestWooCommercePing: exactly the unsigned setup ping is a handshake.
func TestWooCommercePing(t *testing.T) {
	v, err := newWooCommerce(config.Source{Secrets: []string{"wc-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name   string
		header http.Header
		body   string
		ping   bool
	}{
		{"ping", form, "webhook_id=12", true},
		{"ping without content type", http.Header{}, "webhook_id=9876543210", true},
		{"other field", form, "webhook_id=12&x=1", false},
		{"no id", form, "webhook_id=", false},
		{"not a number", form, "webhook_id=12a", false},
		{"negative", form, "webhook_id=-1", false},
		{"leading zero", form, "webhook_id=012", false},
		{"too long", form, "webhook_id=123456789012345678901", false},
		{"trailing newline", form, "webhook_id=12\n", false},
		{"json", http.Header{}, `{"webhook_id":12}`, false},
		{"empty", http.Header{}, "", false},
		{"with a WooCommerce header", http.Header{"X-Wc-Webhook-Topic": {"order.created"}}, "webhook_id=12", false},
		{"with a WooCommerce header, any case", http.Header{"x-wc-webhook-id": {"12"}}, "webhook_id=12", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := v.Verify(&Request{Header: tt.header, Body: []byte(tt.body), Now: vectorNow})
			if !tt.ping {
				if !errors.Is(err, webhook.ErrBadSignature) || res.Handshake != nil {
					t.Fatalf("Verify = %+v, %v; want ErrBadSignature", res, err)
				}
				return
			}
			if err != nil || res.Handshake == nil || res.SecretIndex != -1 || res.Topic != "" || res.DeliveryID != "" {
				t.Fatalf("Verify = %+v, %v; want a bare handshake", res, err)
			}
		})
	}
	// A signed request is verified even if its body looks like a ping.
	h, _ := signWooCommerce("other-secret", []byte("webhook_id=12"), SignOptions{})
	if _, err := v.Verify(&Request{Header: h, Body: []byte("webhook_id=12")}); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("signed ping with the wrong secret: %v, want ErrBadSignature", err)
	}
}

func TestWPSpecialCharsDecode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain-secret", "plain-secret"},
		{"a&amp;b", "a&b"},
		{"&lt;&gt;&quot;&#039;&#39;&#x27;&#X27;&#0000039;", `<>"'''''`},
		{"&#034;&#x22;&#060;&#062;&#038;&#x26;", `""<>&&`},
		{"&amp;lt;", "&lt;"}, // one pass
		{"&apos;&nbsp;&#40;&#x41;", "&apos;&nbsp;&#40;&#x41;"},
		{"a & b;", "a & b;"},
		{"&&amp;", "&&"},
		{"&", "&"},
		{"&amp", "&amp"},
		{"&#;&#x;", "&#;&#x;"},
	}
	for _, tt := range tests {
		if got := wpSpecialCharsDecode(tt.in); got != tt.want {
			t.Errorf("wpSpecialCharsDecode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The stored secret "s&amp;t" signs as "s&t", whichever is configured.
	body := []byte(`{"id":1}`)
	h, _ := signWooCommerce("s&t", body, SignOptions{})
	for _, secret := range []string{"s&amp;t", "s&t"} {
		v, _ := newWooCommerce(config.Source{Secrets: []string{secret}})
		if _, err := v.Verify(&Request{Header: h, Body: body}); err != nil {
			t.Errorf("secret %q: %v", secret, err)
		}
	}
}

// FuzzWooCommerceSignature: no panic; a handshake only for the exact ping
// shape; otherwise only the base64 HMAC of the body is accepted.
func FuzzWooCommerceSignature(f *testing.F) {
	const secret = "wc-webhook-secret-Example-42"
	for _, v := range loadVectors(f) {
		if v.Provider == "woocommerce" {
			f.Add(v.Headers["X-WC-Webhook-Signature"], []byte(v.Body))
		}
	}
	f.Add("", []byte("webhook_id=12"))
	ver, err := newWooCommerce(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		if sig != "" {
			h.Set("X-WC-Webhook-Signature", sig)
		}
		res, err := ver.Verify(&Request{Header: h, Body: body})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		if res.Handshake != nil {
			if sig != "" || !isWooCommercePing(&Request{Header: http.Header{}, Body: body}) {
				t.Fatalf("handshake for signature %q, body %q", sig, body)
			}
			return
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
			t.Fatalf("accepted %q for a body whose signature is %q", sig, want)
		}
	})
}
