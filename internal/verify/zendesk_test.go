package verify

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestZendeskVectors(t *testing.T) {
	n := runVectors(t, func(v vector) (config.Source, bool) {
		return v.source("zendesk"), v.Provider == "zendesk"
	})
	if n != 5 {
		t.Fatalf("ran %d zendesk vectors, want 5", n)
	}
}

func TestZendeskResult(t *testing.T) {
	vec := findVector(t, "zendesk-computed-1")
	v, err := newZendesk(vec.source("zendesk"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(vec.request())
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Topic: "zen:event-type:ticket.created", DeliveryID: "8350205582",
		Timestamp: time.Date(2021, 3, 25, 5, 9, 27, 0, time.UTC)}
	checkResult(t, res, want)

	// The signature reproduces, and a bad timestamp is named.
	h, _ := signZendesk(vec.Secret, []byte(vec.Body), SignOptions{Now: time.Date(2021, 3, 25, 5, 9, 27, 0, time.UTC)})
	if got := h.Get(zendeskSigHeader); got != vec.Headers["x-zendesk-webhook-signature"] {
		t.Errorf("signature %q, want %q", got, vec.Headers["x-zendesk-webhook-signature"])
	}
	r := vec.request()
	r.Header.Set(zendeskTimestampHeader, "1616648967")
	if _, err := v.Verify(r); !errors.Is(err, webhook.ErrBadSignature) || !strings.Contains(err.Error(), "not an RFC 3339 time") {
		t.Errorf("unix timestamp: %v", err)
	}
}

// FuzzZendeskSignature: no panic; only the base64 HMAC of timestamp+body is
// accepted, with the timestamp inside the window.
func FuzzZendeskSignature(f *testing.F) {
	fuzzTimedMAC(f, timedFuzz{provider: "zendesk", sigHeader: zendeskSigHeader, tsHeader: zendeskTimestampHeader,
		secret: "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", newV: newZendesk, seedNow: vectorClock,
		unix: func(ts string) (int64, bool) {
			at, err := time.Parse(time.RFC3339, ts)
			return at.Unix(), err == nil
		},
		content: func(ts string, body []byte) []byte { return append([]byte(ts), body...) },
	})
}
