package verify

import (
	"crypto/sha256"
	"net/http"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

func TestShopifyVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("shopify"), v.Provider == "shopify"
	})
	if n != 4 {
		t.Fatalf("ran %d shopify vectors, want 4", n)
	}
}

func TestShopifyResult(t *testing.T) {
	vec := findVector(t, "shopify-computed-1")
	v, err := newShopify(vec.source("shopify"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Topic:      "orders/create",
		DeliveryID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", // X-Shopify-Webhook-Id, not the event id
		Timestamp:  time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC),
	}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	// The Events preview's un-prefixed headers, and the event id fallback.
	r := vec.request()
	h := http.Header{}
	for k, vals := range r.Header {
		if name, ok := cutX(k); ok {
			k = name
		}
		h[k] = vals
	}
	h.Del("Shopify-Webhook-Id")
	h.Set("Shopify-Triggered-At", "not a time") // informational: never rejects
	r.Header = h
	res, err = v.Verify(r)
	if err != nil {
		t.Fatalf("un-prefixed headers: %v", err)
	}
	want = Result{Topic: "orders/create", DeliveryID: "98880550-7158-44d4-b7cd-2c97c8a091b5"}
	if res != want {
		t.Errorf("un-prefixed headers: Result = %+v, want %+v", res, want)
	}
}

func cutX(k string) (string, bool) {
	if len(k) > 2 && k[:2] == "X-" {
		return k[2:], true
	}
	return k, false
}

func findVector(t testing.TB, id string) vector {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("no vector %q", id)
	return vector{}
}

// FuzzShopifySignature feeds arbitrary signature headers and bodies to a
// verifier holding the vectors' secret: it must not panic, and it may only
// accept the canonical base64 HMAC of the body.
func FuzzShopifySignature(f *testing.F) {
	fuzzBodyMAC(f, bodyFuzz{provider: "shopify", header: shopifyHMACHeader,
		newHash: sha256.New, secret: "shpss_0123456789abcdef0123456789abcdef", newV: newShopify})
}
