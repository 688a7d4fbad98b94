package verify

import (
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

func TestSlackVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("slack"), v.Provider == "slack"
	})
	if n != 5 {
		t.Fatalf("ran %d slack vectors, want 5", n)
	}
}

func TestSlackResult(t *testing.T) {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	v, err := newSlack(config.Source{Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1531420618, 0)
	tests := []struct {
		name string
		body string
		want Result
	}{
		{"url_verification", `{"token":"x","challenge":"3eZbrw1aBm2r","type":"url_verification"}`,
			Result{Timestamp: at, Handshake: &Handshake{ContentType: "text/plain; charset=utf-8", Body: []byte("3eZbrw1aBm2r")}}},
		{"event_callback", `{"type":"event_callback","event_id":"Ev123","event_time":1531420600,"event":{"type":"app_mention","text":"hi"}}`,
			Result{Topic: "app_mention", DeliveryID: "Ev123", Timestamp: time.Unix(1531420600, 0)}},
		{"other envelope", `{"type":"app_rate_limited","team_id":"T1"}`, Result{Topic: "app_rate_limited", Timestamp: at}},
		{"slash command", "token=x&command=%2Fdeploy&text=now", Result{Topic: "/deploy", Timestamp: at}},
		{"interactivity", "payload=%7B%22type%22%3A%22block_actions%22%7D", Result{Topic: "block_actions", Timestamp: at}},
		{"ssl_check", "ssl_check=1&token=x", Result{Timestamp: at, Handshake: &Handshake{}}},
		{"garbage form", "a=%zz", Result{Timestamp: at}},
	}
	for _, tt := range tests {
		h, _ := signSlack(secret, []byte(tt.body), SignOptions{Now: at})
		res, err := v.Verify(&Request{Header: h, Body: []byte(tt.body), Now: at})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if (res.Handshake == nil) != (tt.want.Handshake == nil) ||
			res.Handshake != nil && (string(res.Handshake.Body) != string(tt.want.Handshake.Body) || res.Handshake.ContentType != tt.want.Handshake.ContentType) {
			t.Errorf("%s: Handshake = %+v, want %+v", tt.name, res.Handshake, tt.want.Handshake)
		}
		res.Handshake, tt.want.Handshake = nil, nil
		if !res.Timestamp.Equal(tt.want.Timestamp) {
			t.Errorf("%s: Timestamp %v, want %v", tt.name, res.Timestamp, tt.want.Timestamp)
		}
		res.Timestamp, tt.want.Timestamp = time.Time{}, time.Time{}
		if res != tt.want {
			t.Errorf("%s: Result = %+v, want %+v", tt.name, res, tt.want)
		}
	}

	// The challenge is answered only once the signature holds.
	vec := findVector(t, "slack-computed-events-api")
	r := vec.request()
	r.Header.Set(slackSigHeader, "v0="+strings.Repeat("0", 64))
	if res, err := v.Verify(r); !errors.Is(err, webhook.ErrBadSignature) || res.Handshake != nil {
		t.Errorf("unsigned challenge: %+v, %v", res, err)
	}
	res, err := v.Verify(vec.request())
	if err != nil || res.Handshake == nil || string(res.Handshake.Body) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("signed challenge: %+v, %v", res, err)
	}
}

func TestSlackHeaders(t *testing.T) {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	body := []byte("token=x")
	mac := hex.EncodeToString(macSum(sha256.New, []byte(secret), []byte("v0:1531420618:"), body))
	v, _ := newSlack(config.Source{Secrets: []string{secret}})
	for _, tt := range []struct {
		sig, ts, want string
	}{
		{"v0=" + mac, "1531420618", ""},
		{"v0=" + strings.ToUpper(mac), "1531420618", ""},
		{"v1=" + mac, "1531420618", `is not "v0=" followed by a hex HMAC-SHA256`},
		{mac, "1531420618", `is not "v0="`},
		{"v0=" + mac, "1531420618.0", `"1531420618.0" is not unix seconds`},
		{"v0=" + mac, "1531420619", "does not match the timestamp and body"},
		{"", "1531420618", "missing X-Slack-Signature header"},
		{"v0=" + mac, "", "missing X-Slack-Request-Timestamp header"},
	} {
		h := http.Header{}
		h.Set(slackSigHeader, tt.sig)
		h.Set(slackTSHeader, tt.ts)
		_, err := v.Verify(&Request{Header: h, Body: body, Now: time.Unix(1531420618, 0)})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q %q: %v", tt.sig, tt.ts, err)
		case tt.want != "" && (!errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q %q: %v, want %q", tt.sig, tt.ts, err, tt.want)
		}
	}
}

// FuzzSlackSignature: no panic, and only "v0=" + the HMAC of
// "v0:<ts>:<body>", with ts inside the window, is accepted.
func FuzzSlackSignature(f *testing.F) {
	fuzzTimedMAC(f, timedFuzz{provider: "slack", sigHeader: slackSigHeader, tsHeader: slackTSHeader,
		prefix: "v0=", hex: true, secret: "8f742231b10e8888abcd99yyyzzz85a5", newV: newSlack, seedNow: vectorClock,
		unix: func(ts string) (int64, bool) {
			n, err := strconv.ParseInt(ts, 10, 64)
			return n, err == nil
		},
		content: func(ts string, body []byte) []byte { return append([]byte("v0:"+ts+":"), body...) },
	})
}
