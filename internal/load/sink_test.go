package load

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"
)

func TestSinkCountsRepeatsAndWindows(t *testing.T) {
	s, err := StartSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, err := NewBodies(2048, "s")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	from, to := now.Add(-time.Hour), now.Add(time.Hour)
	post := func(key string, sent time.Time) {
		t.Helper()
		body, _ := g.Next(1, sent)
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr, bytes.NewReader(body))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sink answered %d", resp.StatusCode)
		}
	}
	post("k1", now)
	post("k1", now) // a redelivery
	post("k1", now)
	post("k2", now)
	post("", now)                     // no key: counted, never a repeat
	post("", now)                     //
	post("old", from.Add(-time.Hour)) // sent before the window: a previous run's backlog
	http.DefaultClient.CloseIdleConnections()

	if got := s.Delivered(from); got != 4 {
		t.Errorf("Delivered(from) = %d, want 4", got)
	}
	if got := s.Delivered(time.Time{}); got != 5 {
		t.Errorf("Delivered(zero) = %d, want 5", got)
	}
	r := s.Result(from, to)
	if r.Requests != 7 || r.Repeats != 2 || r.Measured != 4 || r.EndToEnd.N != 4 || r.InWindow != 5 {
		t.Fatalf("Result = %+v", r)
	}
	if r := s.Result(to, to.Add(time.Hour)); r.Measured != 0 || r.InWindow != 0 {
		t.Fatalf("empty window: %+v", r)
	}

	// Drain returns at once when everything is in, and gives up after the
	// timeout (or when ctx ends) with what it has.
	if got, _ := s.Drain(context.Background(), from, 4, time.Minute); got != 4 {
		t.Errorf("Drain = %d, want 4", got)
	}
	if got, _ := s.Drain(context.Background(), from, 10, 0); got != 4 {
		t.Errorf("Drain past its timeout = %d, want 4", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, _ := s.Drain(ctx, from, 10, time.Minute); got != 4 {
		t.Errorf("Drain after cancel = %d, want 4", got)
	}
}
