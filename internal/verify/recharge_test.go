package verify

import (
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

func TestRechargeVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("recharge"), v.Provider == "recharge"
	})
	if n != 6 { // 3 current (ts-v1), 3 legacy
		t.Fatalf("ran %d recharge vectors, want 6", n)
	}
}

func rechargeLegacySum(secret string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func TestRechargeResult(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want Result
	}{
		{"recharge-ts-computed-1", Result{Topic: "charge/paid", Timestamp: time.Unix(1700000000, 0)}},
		{"recharge-legacy-computed-1", Result{Topic: "charge/paid"}},
	} {
		vec := findVector(t, tt.id)
		v, err := newRecharge(vec.source("recharge"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(vec.request())
		if err != nil {
			t.Fatalf("%s: %v", tt.id, err)
		}
		if res != tt.want {
			t.Errorf("%s: Result = %+v, want %+v", tt.id, res, tt.want)
		}
	}
}

func TestRechargeHeaders(t *testing.T) {
	const secret = "recharge-api-client-secret-example"
	body := []byte(`{"charge":{"id":1}}`)
	now := time.Unix(1700000000, 0)
	mac := hex.EncodeToString(macSum(sha256.New, []byte(secret), []byte("1700000000."), body))
	legacy := rechargeLegacySum(secret, body)
	other := hex.EncodeToString(macSum(sha256.New, []byte("other"), []byte("1700000000."), body))
	v, err := newRecharge(config.Source{Secrets: []string{"other", secret}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		headers map[string]string
		want    string // error text; "" when accepted
		index   int
	}{
		{"current", map[string]string{rechargeSigHeader: "t=1700000000,v1=" + mac, rechargeTSHeader: "1700000000"}, "", 1},
		{"t only in the signature", map[string]string{rechargeSigHeader: "t=1700000000,v1=" + mac}, "", 1},
		{"t only in its header", map[string]string{rechargeSigHeader: "v1=" + mac, rechargeTSHeader: "1700000000"}, "", 1},
		{"rotation, second v1", map[string]string{rechargeSigHeader: "t=1700000000,v1=00,v1=" + mac}, "", 1},
		{"first key", map[string]string{rechargeSigHeader: "t=1700000000, v1=" + other}, "", 0},
		{"upper-case hex", map[string]string{rechargeSigHeader: "t=1700000000,v1=" + strings.ToUpper(mac)}, "", 1},
		{"legacy", map[string]string{rechargeLegacyHeader: legacy}, "", 1},
		{"current wins over legacy", map[string]string{rechargeSigHeader: "t=1700000000,v1=" + mac[:62] + "00", rechargeLegacyHeader: legacy}, "no v1 signature in X-Recharge-Webhook-Signature matched", 0},
		{"no headers", nil, "missing X-Recharge-Webhook-Signature header (or legacy X-Recharge-Hmac-Sha256)", 0},
		{"no t anywhere", map[string]string{rechargeSigHeader: "v1=" + mac}, "missing X-Recharge-Webhook-Timestamp header", 0},
		{"t disagrees", map[string]string{rechargeSigHeader: "t=1700000000,v1=" + mac, rechargeTSHeader: "1700000001"}, "differs from the signed t=", 0},
		{"two t", map[string]string{rechargeSigHeader: "t=1700000000,t=1700000000,v1=" + mac}, "more than one t=", 0},
		{"empty t", map[string]string{rechargeSigHeader: "t=,v1=" + mac}, "empty t=", 0},
		{"t not a number", map[string]string{rechargeSigHeader: "t=soon,v1=" + mac}, `t= "soon" is not unix seconds`, 0},
		{"no v1", map[string]string{rechargeSigHeader: "t=1700000000,v0=" + mac}, "has no v1 signature", 0},
		{"t not signed as sent", map[string]string{rechargeSigHeader: "t=1700000001,v1=" + mac}, "no v1 signature in X-Recharge-Webhook-Signature matched", 0},
		{"older than 48h", map[string]string{rechargeSigHeader: "t=1699827199,v1=" + mac}, "is 172801s old, outside the 48h0m0s window", 0},
		{"legacy not hex", map[string]string{rechargeLegacyHeader: "xyz"}, "is not a hex SHA-256", 0},
		{"legacy HMAC", map[string]string{rechargeLegacyHeader: hex.EncodeToString(macSum(sha256.New, []byte(secret), body))}, "X-Recharge-Hmac-Sha256 does not match the body", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, val := range tt.headers {
				h.Set(k, val)
			}
			res, err := v.Verify(&Request{Header: h, Body: body, Now: now})
			if tt.want == "" {
				if err != nil || res.SecretIndex != tt.index {
					t.Fatalf("SecretIndex %d, err %v; want %d, accepted", res.SecretIndex, err, tt.index)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v, want an error containing %q", err, tt.want)
			}
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			assertNoSecret(t, err, secret, mac, legacy)
		})
	}
}

// FuzzRechargeSignature feeds arbitrary current and legacy headers, bodies
// and clocks to a verifier holding the vectors' secret: it must not panic,
// and it may only accept the HMAC of "<t>.<body>" with t inside 48 hours,
// or (with no current header) the SHA-256 of secret+body.
func FuzzRechargeSignature(f *testing.F) {
	const secret = "recharge-api-client-secret-example"
	o := timedOracle{sep: ",", tKey: "t", sigKey: "v1", join: ".", secret: secret, window: 172800}
	for _, v := range loadVectors(f) {
		if v.Provider == "recharge" {
			f.Add(v.Headers[rechargeSigHeader], v.Headers[rechargeTSHeader], v.Headers[rechargeLegacyHeader], []byte(v.Body), v.VerifyAt)
		}
	}
	ver, err := newRecharge(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig, ts, legacy string, body []byte, now int64) {
		h := http.Header{}
		h.Set(rechargeSigHeader, sig)
		h.Set(rechargeTSHeader, ts)
		h.Set(rechargeLegacyHeader, legacy)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		// http.Header.Set keeps values verbatim, and Get returns "" for "".
		if sig == "" {
			if !strings.EqualFold(legacy, rechargeLegacySum(secret, body)) {
				t.Fatalf("accepted legacy %q for a body whose hash is %s", legacy, rechargeLegacySum(secret, body))
			}
			return
		}
		o.check(t, nil, sig, ts, body, now)
	})
}
