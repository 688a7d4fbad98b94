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

func TestStripeVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("stripe"), v.Scheme == "stripe-v1"
	})
	if n != 6 {
		t.Fatalf("ran %d stripe vectors, want 6", n)
	}
}

func TestStripeResult(t *testing.T) {
	vec := findVector(t, "stripe-computed-rolled")
	v, err := newStripe(vec.source("stripe"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	// The body has no "type" or "created": the time falls back to t=.
	want := Result{DeliveryID: "evt_test_webhook", Timestamp: time.Unix(1700000000, 0)}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
}

func TestStripeHeader(t *testing.T) {
	const secret = "whsec_test_secret"
	body := []byte(`{"id":"evt_1","type":"charge.succeeded"}`)
	now := time.Unix(1700000000, 0)
	mac := hex.EncodeToString(macSum(sha256.New, []byte(secret), []byte("1700000000."), body))
	v, err := newStripe(config.Source{Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header string
		want   string // error text; "" when accepted
	}{
		{"t=1700000000,v1=" + mac, ""},
		{"v1=" + mac + ",t=1700000000", ""},
		{"t=1700000000, v1=" + mac, ""},
		{"t=1700000000,v0=" + mac + ",x=1,v1=" + mac, ""},
		{"t=1700000000,v1=" + strings.ToUpper(mac), ""},
		{"t=1700000000,v1=00,v1=" + mac, ""},
		{"", "missing Stripe-Signature header"},
		{"v1=" + mac, "has no t= timestamp"},
		{"t=,v1=" + mac, `t= "" is not unix seconds`},
		{"t=soon,v1=" + mac, `t= "soon" is not unix seconds`},
		{"t=1700000000,t=1700000000,v1=" + mac, "more than one t="},
		{"t=1700000000", "has no v1 signature"},
		{"t=1700000000,v0=" + mac, "has no v1 signature"},
		{"t=1700000000,v1=" + mac[:62], "no v1 signature matched"},
		{"t=1700000001,v1=" + mac, "no v1 signature matched"},
		{"t=1699999000,v1=" + mac, "is 1000s old"},
		{"t=1700001000,v1=" + mac, "is 1000s in the future"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set(stripeHeader, tt.header)
		}
		_, err := v.Verify(&Request{Header: h, Body: body, Now: now})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v, want accepted", tt.header, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want an error containing %q", tt.header, err, tt.want)
		case err != nil && !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp):
			t.Errorf("%q: %v wraps neither sentinel", tt.header, err)
		}
	}
}

// FuzzStripeSignature feeds arbitrary Stripe-Signature headers, bodies and
// clocks to a verifier holding the vectors' secret: it must not panic, and
// it may only accept a header carrying the HMAC of its own t and the body,
// with t inside the window.
func FuzzStripeSignature(f *testing.F) {
	const secret = "whsec_test_secret"
	for _, v := range loadVectors(f) {
		if v.Scheme == "stripe-v1" {
			f.Add(v.Headers[stripeHeader], []byte(v.Body), v.VerifyAt)
		}
	}
	ver, err := newStripe(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string, body []byte, now int64) {
		h := http.Header{}
		h.Set(stripeHeader, header)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		// Re-derive acceptance independently.
		var ts string
		var sigs []string
		for item := range strings.SplitSeq(header, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			switch k {
			case "t":
				ts = val
			case "v1":
				sigs = append(sigs, strings.ToLower(val))
			}
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(ts + "."))
		m.Write(body)
		want := hex.EncodeToString(m.Sum(nil))
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || n < now-300 || n > now+300 {
			t.Fatalf("accepted t=%q at %d", ts, now)
		}
		for _, s := range sigs {
			if s == want {
				return
			}
		}
		t.Fatalf("accepted %q, which lacks the body's signature %s", header, want)
	})
}
