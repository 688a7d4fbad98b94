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

// timedOracle re-derives, independently of timedSig, which key=value
// signature headers a provider may accept: for the fuzz tests of Stripe,
// Paddle and Recharge.
type timedOracle struct {
	sep, tKey, sigKey string
	join              string // between the timestamp and the body
	secret            string
	window            int64 // seconds each way
}

// check fails t unless err wraps a sentinel, or header (whose timestamp
// defaults to t0) carries the HMAC of its timestamp and body, with the
// timestamp within the window of now.
func (o timedOracle) check(t *testing.T, err error, header, t0 string, body []byte, now int64) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
			t.Fatalf("%v wraps neither sentinel", err)
		}
		return
	}
	ts := t0
	var sigs []string
	for item := range strings.SplitSeq(header, o.sep) {
		k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case o.tKey:
			ts = val
		case o.sigKey:
			sigs = append(sigs, strings.ToLower(val))
		}
	}
	if n, err := strconv.ParseInt(ts, 10, 64); err != nil || n < now-o.window || n > now+o.window {
		t.Fatalf("accepted %s=%q at %d", o.tKey, ts, now)
	}
	m := hmac.New(sha256.New, []byte(o.secret))
	m.Write([]byte(ts + o.join))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	for _, s := range sigs {
		if s == want {
			return
		}
	}
	t.Fatalf("accepted %q, which lacks the body's signature %s", header, want)
}

// fuzzTimedSig feeds arbitrary signature headers, bodies and clocks to a
// verifier holding o.secret, seeded with the vectors seed picks: it must not
// panic, and it may only accept what o.check accepts.
func fuzzTimedSig(f *testing.F, o timedOracle, header string, seed func(vector) bool, newV func(config.Source) (Verifier, error)) {
	for _, v := range loadVectors(f) {
		if seed(v) {
			f.Add(v.Headers[header], []byte(v.Body), v.VerifyAt)
		}
	}
	ver, err := newV(config.Source{Secrets: []string{o.secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte, now int64) {
		h := http.Header{}
		h.Set(header, sig)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		o.check(t, err, sig, "", body, now)
	})
}

// headerCase is one value of a signature header ("" sends none) and the
// text of the error it must cause ("" when it is accepted).
type headerCase struct {
	header string
	want   string
}

// checkHeaderCases verifies body at now under each case's header value;
// every error must wrap a sentinel.
func checkHeaderCases(t *testing.T, v Verifier, name string, body []byte, now time.Time, cases []headerCase) {
	t.Helper()
	for _, tt := range cases {
		h := http.Header{}
		if tt.header != "" {
			h.Set(name, tt.header)
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
