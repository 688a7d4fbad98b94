package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	checkResult(t, res, want)
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
	tests := []headerCase{
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
	checkHeaderCases(t, v, paddleHeader, body, time.Unix(1700000000, 0), tests)
}

// FuzzPaddleSignature: no panic; only a header with an h1 of "<ts>:<body>"
// and ts inside the 5 s window is accepted.
func FuzzPaddleSignature(f *testing.F) {
	o := timedOracle{sep: ";", tKey: "ts", sigKey: "h1", join: ":", window: 5,
		secret: "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hKkRiCGyyRhbFwIUuqiTBgI7gnWoV0Gr"}
	fuzzTimedSig(f, o, paddleHeader, func(v vector) bool { return v.Provider == "paddle" }, newPaddle)
}
