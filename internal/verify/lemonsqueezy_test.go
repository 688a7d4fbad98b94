package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
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
	if !res.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", res.Timestamp, want.Timestamp)
	}
	res.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
}

// FuzzLemonSqueezySignature: no panic; only the hex HMAC of the body.
func FuzzLemonSqueezySignature(f *testing.F) {
	const secret = "lemon-signing-secret-42"
	for _, v := range loadVectors(f) {
		if v.Provider == "lemonsqueezy" {
			f.Add(v.Headers[lemonSqueezySigHeader], []byte(v.Body))
		}
	}
	ver, err := newLemonSqueezy(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set(lemonSqueezySigHeader, sig)
		if _, err := ver.Verify(&Request{Header: h, Body: body}); err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if want := hex.EncodeToString(m.Sum(nil)); !strings.EqualFold(sig, want) {
			t.Fatalf("accepted %q, want %q", sig, want)
		}
	})
}
