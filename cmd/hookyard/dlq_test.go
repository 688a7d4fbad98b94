package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

func TestDLQCLI(t *testing.T) {
	a := newAdminAPI(t)
	for range 5 {
		a.event(t, "shop", `{}`, "oms", "crm")
	}
	dead := a.kill(t, "oms")
	a.kill(t, "crm")

	out, err := a.cli(t, "dlq", "list", "--destination", "oms")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "DEAD SINCE") || !strings.Contains(out, dead[0]) || strings.Contains(out, "crm") ||
		!strings.Contains(out, "4xx rejected") {
		t.Errorf("dlq list:\n%s", out)
	}

	out, err = a.cli(t, "dlq", "replay", "--all", "--destination", "oms", "--dry-run")
	if err != nil || out != "dry run: 5 dead deliveries would be replayed\n" {
		t.Fatalf("dry run = %q, %v", out, err)
	}
	// Flags after the ids work too.
	out, err = a.cli(t, "dlq", "replay", dead[0], dead[1], "--rate", "1000/s", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res api.ReplayResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res != (api.ReplayResult{Matched: 2, Replayed: 2}) {
		t.Fatalf("replay ids = %+v, %v: %s", res, err, out)
	}
	out, err = a.cli(t, "dlq", "replay", "--all", "--destination", "oms", "--rate", "1000")
	if err != nil || out != "replayed 3 dead deliveries\n" {
		t.Fatalf("replay --all = %q, %v", out, err)
	}
	out, err = a.cli(t, "dlq", "replay", "--all", "--json")
	if err != nil || !strings.Contains(out, `"replayed": 5`) {
		t.Fatalf("replay --all (crm) = %q, %v", out, err)
	}
	out, err = a.cli(t, "dlq", "list")
	if err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("dlq not empty after replaying all:\n%s", out)
	}

	for _, args := range [][]string{
		{"dlq", "replay"},
		{"dlq", "replay", "--all", dead[0]},
		{"dlq", "replay", "--destination", "oms", dead[0]},
		{"dlq", "replay", "--rate", "fast", "--all"},
		{"dlq", "replay", "--rate", "0/s", "--all"},
		{"dlq", "nope"},
	} {
		if _, err := a.cli(t, args...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"50/s": 50, "50": 50, "0.5/s": 0.5, " 200/s ": 200} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "0", "-5/s", "50/m", "/s"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q) accepted", in)
		}
	}
}

// TestPacer checks the schedule on a fake clock: ids go out in chunks of
// the per-second rate, one chunk per second, never ahead of the budget.
func TestPacer(t *testing.T) {
	for _, tc := range []struct {
		rate      float64
		ids       int
		chunk     int
		wantSlept time.Duration
	}{
		{rate: 100, ids: 350, chunk: 100, wantSlept: 3 * time.Second}, // sends at 0s, 1s, 2s, 3s
		{rate: 0.5, ids: 3, chunk: 1, wantSlept: 4 * time.Second},     // 0s, 2s, 4s
		{rate: 5000, ids: 2500, chunk: 1000, wantSlept: 400 * time.Millisecond},
	} {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		start := now
		p := newPacer(tc.rate)
		p.now = func() time.Time { return now }
		p.sleep = func(_ context.Context, d time.Duration) error {
			now = now.Add(d)
			return nil
		}
		if p.chunk != tc.chunk {
			t.Errorf("rate %v: chunk %d, want %d", tc.rate, p.chunk, tc.chunk)
		}
		sent := 0
		for sent < tc.ids {
			n := min(p.chunk, tc.ids-sent)
			if err := p.wait(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			// Everything sent so far, this chunk included, fits rate×elapsed
			// plus one chunk.
			if allowed := tc.rate*now.Sub(start).Seconds() + float64(p.chunk); float64(sent+n) > allowed+1e-9 {
				t.Errorf("rate %v: %d ids sent by %v", tc.rate, sent+n, now.Sub(start))
			}
			sent += n
		}
		if slept := now.Sub(start); slept != tc.wantSlept {
			t.Errorf("rate %v: %d ids took %v, want %v", tc.rate, tc.ids, slept, tc.wantSlept)
		}
	}
	p := newPacer(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.wait(ctx, 1)
	if err := p.wait(ctx, 1); err == nil {
		t.Error("wait ignored a cancelled context")
	}
}
