package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
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
	tests := []headerCase{
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
	checkHeaderCases(t, v, stripeHeader, body, now, tests)
}

// FuzzStripeSignature feeds arbitrary Stripe-Signature headers, bodies and
// clocks to a verifier holding the vectors' secret: it must not panic, and
// it may only accept a header carrying the HMAC of its own t and the body,
// with t inside the window.
func FuzzStripeSignature(f *testing.F) {
	o := timedOracle{sep: ",", tKey: "t", sigKey: "v1", join: ".", secret: "whsec_test_secret", window: 300}
	fuzzTimedSig(f, o, stripeHeader, func(v vector) bool { return v.Scheme == "stripe-v1" }, newStripe)
}
