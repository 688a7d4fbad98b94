package verify

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

func TestLemonSqueezyVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("lemonsqueezy"), v.Provider == "lemonsqueezy"
	})
	if n != 4 {
		t.Fatalf("ran %d lemonsqueezy vectors, want 4", n)
	}
}

func TestLemonSqueezyResult(t *testing.T) {
	vec := findVector(t, "lemonsqueezy-computed-1")
	v, err := newLemonSqueezy(vec.source("lemonsqueezy"))
	if err != nil {
		t.Fatal(err)
	}
	// The topic is read from the signed body, not the unsigned header.
	r := vec.request()
	r.Header.Set(lemonSqueezyEventHeader, "forged_event")
	res, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Topic: "order_created"}); res != want { // no updated_at: body-hash dedup
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	body := []byte(`{"meta":{"event_name":"subscription_updated"},"data":{"type":"subscriptions","id":"1","attributes":{"status":"active","updated_at":"2021-08-11T13:47:27.000000Z"}}}`)
	h, _ := signLemonSqueezy(vec.Secret, body, SignOptions{})
	res, err = v.Verify(&Request{Header: h, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "subscription_updated", DeliveryID: "subscription_updated/subscriptions/1@2021-08-11T13:47:27.000000Z",
		Timestamp: time.Date(2021, 8, 11, 13, 47, 27, 0, time.UTC)}
	checkResult(t, res, want)
}

// FuzzLemonSqueezySignature: no panic; only the hex HMAC of the body.
func FuzzLemonSqueezySignature(f *testing.F) {
	fuzzBodyMAC(f, bodyFuzz{provider: "lemonsqueezy", header: lemonSqueezySigHeader, hex: true,
		newHash: sha256.New, secret: "lemon-signing-secret-42", newV: newLemonSqueezy})
}
