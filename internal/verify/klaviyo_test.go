package verify

import (
	"bytes"
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

// The Klaviyo vectors carry no verify_at, though the scheme signs a
// timestamp: each is checked at its own Klaviyo-Timestamp.
func klaviyoAtTimestamp(v vector, r *Request) {
	if at, ok := parseKlaviyoTime(v.Headers[klaviyoTSHeader]); ok && v.VerifyAt == 0 {
		r.Now = at
	}
}

func TestKlaviyoVectors(t *testing.T) {
	n := runVectorsWith(t, func(v vector) (config.Source, bool) {
		return v.source("klaviyo"), v.Provider == "klaviyo"
	}, klaviyoAtTimestamp)
	if n != 5 {
		t.Fatalf("ran %d klaviyo vectors, want 5", n)
	}
}

func TestKlaviyoResult(t *testing.T) {
	vec := findVector(t, "klaviyo-computed-1")
	v, err := newKlaviyo(vec.source("klaviyo"))
	if err != nil {
		t.Fatal(err)
	}
	r := vec.request()
	klaviyoAtTimestamp(vec, r)
	res, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "event:klaviyo.email_delivered", Timestamp: time.Unix(1700000000, 0)}
	checkResult(t, res, want)

	// The webhook id header must name the body's webhook.
	r = vec.request()
	klaviyoAtTimestamp(vec, r)
	r.Header.Set(klaviyoWebhookHeader, "01HFOTHER")
	if _, err := v.Verify(r); !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), "meta.klaviyo_webhook_id") {
		t.Errorf("other webhook id: %v, want ErrBadSignature naming meta.klaviyo_webhook_id", err)
	}

	// A body of mixed topics has none.
	mixed := []byte(`{"data":[{"topic":"a"},{"topic":"b"}],"meta":{}}`)
	h, _ := signKlaviyo(vec.Secret, mixed, SignOptions{Now: vectorNow})
	res, err = v.Verify(&Request{Header: h, Body: mixed, Now: vectorNow})
	if err != nil || res.Topic != "" {
		t.Errorf("mixed topics: Topic %q, err %v; want none", res.Topic, err)
	}
}

func TestKlaviyoTimestamp(t *testing.T) {
	const secret = "klaviyo-webhook-secret-0123456789"
	body := []byte(`{"data":[]}`)
	v, err := newKlaviyo(config.Source{Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ts   string
		want string // "" when accepted
	}{
		{"Tue, 14 Nov 2023 22:13:20 GMT", ""},
		{"Tuesday, 14-Nov-23 22:13:20 GMT", ""}, // RFC 850, as http.ParseTime
		{"2023-11-14T22:13:20Z", ""},
		{"2023-11-14T23:13:20+01:00", ""},
		{"1700000000", ""},
		{"Tue, 14 Nov 2023 22:18:21 GMT", "is 301s in the future"},
		{"yesterday", `"yesterday" is not an HTTP date`},
		{"-1700000000", "is not an HTTP date"},
		{"99999999999999999999", "is not an HTTP date"},
	} {
		mac := hex.EncodeToString(macSum(sha256.New, []byte(secret), body, []byte(tt.ts)))
		h := http.Header{}
		h.Set(klaviyoTSHeader, tt.ts)
		h.Set(klaviyoSigHeader, mac)
		_, err := v.Verify(&Request{Header: h, Body: body, Now: vectorNow})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.ts, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want %q", tt.ts, err, tt.want)
		}
	}
}

// FuzzKlaviyoSignature: no panic, and only the HMAC of body+timestamp, with
// the timestamp inside the window, is accepted.
func FuzzKlaviyoSignature(f *testing.F) {
	fuzzTimedMAC(f, timedFuzz{provider: "klaviyo", sigHeader: klaviyoSigHeader, tsHeader: klaviyoTSHeader,
		hex: true, secret: "klaviyo-webhook-secret-0123456789", newV: newKlaviyo,
		seedNow: func(v vector) int64 {
			at, _ := parseKlaviyoTime(v.Headers[klaviyoTSHeader])
			return at.Unix()
		},
		unix: func(ts string) (int64, bool) {
			at, ok := parseKlaviyoTime(ts)
			return at.Unix(), ok
		},
		content: func(ts string, body []byte) []byte { return append(bytes.Clone(body), ts...) },
	})
}
