package load

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/verify"
)

func TestSummarize(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- { // unsorted input
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(s)
	if got.N != 100 || got.P50 != 50*time.Millisecond || got.P95 != 95*time.Millisecond ||
		got.P99 != 99*time.Millisecond || got.Max != 100*time.Millisecond || got.Avg != 50500*time.Microsecond {
		t.Fatalf("summary = %+v", got)
	}
	if one := Summarize([]time.Duration{7}); one.P50 != 7 || one.P99 != 7 {
		t.Fatalf("single sample = %+v", one)
	}
	if (Summarize(nil) != Summary{}) {
		t.Fatal("empty summary not zero")
	}
}

func TestBodies(t *testing.T) {
	g := NewBodies(2048, "r1")
	sent := time.Unix(1_800_000_000, 123)
	seen := map[string]bool{}
	for n := int64(1); n <= 100; n++ {
		b, id := g.Next(n, sent)
		if len(b) != 2048 {
			t.Fatalf("body %d is %d bytes", n, len(b))
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("body %d is not JSON: %v", n, err)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		if at, ok := SentAt(b); !ok || !at.Equal(sent) {
			t.Fatalf("SentAt = %v %v", at, ok)
		}
	}
	if _, ok := SentAt([]byte(`{"no":"field"}`)); ok {
		t.Fatal("SentAt found a missing field")
	}
}

// TestRunAgainstCeiling drives the ceiling server briefly and checks the
// counts add up (never a speed).
func TestRunAgainstCeiling(t *testing.T) {
	url, stop, err := Ceiling("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	p, _ := verify.Lookup("shopify")
	sign := func(body []byte, id string, now time.Time) (http.Header, error) {
		return p.Sign("s3cret", body, verify.SignOptions{Topic: "orders/create", ID: id, Now: now})
	}
	res, err := Run(context.Background(), Config{URL: url, Sign: sign, Rate: 200, Duration: 500 * time.Millisecond, BodySize: 1024, RunID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == 0 || res.Sent != res.Accepted+res.Duplicates+res.Errors || res.Errors != 0 {
		t.Fatalf("result = %+v", res)
	}
	if res.Ack.N != res.Accepted {
		t.Fatalf("latency samples %d for %d accepted", res.Ack.N, res.Accepted)
	}
	bad := func(body []byte, id string, now time.Time) (http.Header, error) {
		return p.Sign("wrong", body, verify.SignOptions{ID: id, Now: now})
	}
	res, err = Run(context.Background(), Config{URL: url, Sign: bad, Concurrency: 2, Duration: 200 * time.Millisecond, BodySize: 512, RunID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || res.ByStatus[401] != res.Sent || res.Sent == 0 {
		t.Fatalf("wrong secret: %+v", res)
	}
}

func TestSinkCountsRepeats(t *testing.T) {
	s, err := StartSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body, _ := NewBodies(300, "s").Next(1, time.Now())
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("POST", "http://"+s.Addr, bytes.NewReader(body))
		req.Header.Set("Idempotency-Key", "k1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	r := s.Result()
	if r.Delivered != 1 || r.Requests != 3 || r.Repeats != 2 || r.EndToEnd.N != 1 {
		t.Fatalf("sink = %+v", r)
	}
}
