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

func TestPaddleVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("paddle"), v.Provider == "paddle"
	})
	if n != 5 {
		t.Fatalf("ran %d paddle vectors, want 5", n)
	}
}

func TestPaddleResult(t *testing.T) {
	vec := findVector(t, "paddle-official-1")
	// No tolerance configured: the 5 s default applies (the vector is 2 s old).
	v, err := newPaddle(config.Source{Secrets: []string{vec.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "price.created", DeliveryID: "evt_01hsdn97563968dy0szkmgjwh3",
		Timestamp: time.Date(2024, 3, 20, 10, 7, 35, 590857000, time.UTC)}
	if !res.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", res.Timestamp, want.Timestamp)
	}
	res.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	r := vec.request()
	r.Now = time.Unix(1710929255+6, 0)
	if _, err := v.Verify(r); !errors.Is(err, webhook.ErrStaleTimestamp) || !strings.Contains(err.Error(), "5s window") {
		t.Errorf("6 s old with the default window: %v, want ErrStaleTimestamp", err)
	}
}

func TestPaddleHeader(t *testing.T) {
	const secret = "pdl_ntfset_test"
	body := []byte(`{"event_type":"x"}`)
	mac := hex.EncodeToString(macSum(sha256.New, []byte(secret), []byte("1700000000:"), body))
	v, err := newPaddle(config.Source{Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header string
		want   string // error text; "" when accepted
	}{
		{"ts=1700000000;h1=" + mac, ""},
		{"h1=" + mac + ";ts=1700000000", ""},
		{"ts=1700000000; h1=00;h1=" + mac, ""},
		{"ts=1700000000;h2=x;h1=" + strings.ToUpper(mac), ""},
		{"", "missing Paddle-Signature header"},
		{"h1=" + mac, "has no ts= timestamp"},
		{"ts=1700000000,h1=" + mac, `ts= "1700000000,h1=`},
		{"ts=1700000000;ts=1700000000;h1=" + mac, "more than one ts="},
		{"ts=1700000000", "has no h1 signature"},
		{"ts=1700000001;h1=" + mac, "no h1 signature matched"},
		{"ts=1699999990;h1=" + mac, "is 10s old"},
		{"ts=1700000010;h1=" + mac, "is 10s in the future"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set(paddleHeader, tt.header)
		}
		_, err := v.Verify(&Request{Header: h, Body: body, Now: time.Unix(1700000000, 0)})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v, want accepted", tt.header, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want an error containing %q", tt.header, err, tt.want)
		}
	}
}

// FuzzPaddleSignature: no panic; only a header with an h1 of "<ts>:<body>"
// and ts inside the 5 s window is accepted.
func FuzzPaddleSignature(f *testing.F) {
	const secret = "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hKkRiCGyyRhbFwIUuqiTBgI7gnWoV0Gr"
	for _, v := range loadVectors(f) {
		if v.Provider == "paddle" {
			f.Add(v.Headers[paddleHeader], []byte(v.Body), v.VerifyAt)
		}
	}
	ver, err := newPaddle(config.Source{Secrets: []string{secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string, body []byte, now int64) {
		h := http.Header{}
		h.Set(paddleHeader, header)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		var ts string
		var sigs []string
		for item := range strings.SplitSeq(header, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			switch k {
			case "ts":
				ts = val
			case "h1":
				sigs = append(sigs, strings.ToLower(val))
			}
		}
		if n, err := strconv.ParseInt(ts, 10, 64); err != nil || n < now-5 || n > now+5 {
			t.Fatalf("accepted ts=%q at %d", ts, now)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(ts + ":"))
		m.Write(body)
		want := hex.EncodeToString(m.Sum(nil))
		for _, s := range sigs {
			if s == want {
				return
			}
		}
		t.Fatalf("accepted %q, which lacks %s", header, want)
	})
}
