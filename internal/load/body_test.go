package load

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestBodies(t *testing.T) {
	sent := time.Unix(1_800_000_000, 123)
	for _, size := range []int{2048, 16384} {
		g, err := NewBodies(size, "r1")
		if err != nil {
			t.Fatal(err)
		}
		ids, orders := map[string]bool{}, map[int64]bool{}
		for _, n := range []int64{0, 1, 2, 9, 10, 999_999, 123_456_789_012} {
			b, id := g.Next(n, sent.Add(time.Duration(n)))
			if len(b) != size {
				t.Fatalf("size %d: body %d is %d bytes", size, n, len(b))
			}
			var v struct {
				ID      int64  `json:"id"`
				BenchID string `json:"bench_id"`
				SentNS  int64  `json:"bench_sent_ns"`
				Note    string `json:"note"`
				Lines   []any  `json:"line_items"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("size %d: body %d is not JSON: %v\n%s", size, n, err, b)
			}
			if v.BenchID != id || !strings.HasPrefix(id, "r1-") || ids[id] || orders[v.ID] {
				t.Fatalf("body %d: id %q, bench_id %q, order id %v (seen: %v, %v)", n, id, v.BenchID, v.ID, ids[id], orders[v.ID])
			}
			ids[id], orders[v.ID] = true, true
			if want := sent.Add(time.Duration(n)).UnixNano(); v.SentNS != want {
				t.Fatalf("body %d: bench_sent_ns %d, want %d", n, v.SentNS, want)
			}
			if at, ok := SentAt(b); !ok || at.UnixNano() != v.SentNS {
				t.Fatalf("body %d: SentAt = %v %v", n, at, ok)
			}
			if len(v.Lines) != 1 {
				t.Fatalf("body %d: line_items %v", n, v.Lines)
			}
		}
	}
	g, err := NewBodies(4096, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if m := g.MinSize(); m < 1000 || m > 2048 {
		t.Errorf("MinSize = %d: the default 2048-byte body must fit with room to pad", m)
	}
	if _, err := NewBodies(g.MinSize(), "r1"); err != nil {
		t.Errorf("MinSize body: %v", err)
	}
	if _, err := NewBodies(g.MinSize()-1, "r1"); err == nil || !strings.Contains(err.Error(), "below the template") {
		t.Errorf("a body below the template's size: %v", err)
	}
	if _, err := NewBodies(4096, `bad"id`); err == nil {
		t.Error("a run id with a quote was accepted")
	}
}

// TestBodiesDoNotShareMemory: each body is its own slice, so one in flight
// is never rewritten by the next.
func TestBodiesDoNotShareMemory(t *testing.T) {
	g, err := NewBodies(2048, "m")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := g.Next(1, time.Unix(1, 0))
	keep := string(a)
	g.Next(2, time.Unix(2, 0))
	if string(a) != keep {
		t.Fatal("Next rewrote an earlier body")
	}
}

func TestSentAt(t *testing.T) {
	for _, tt := range []struct {
		body string
		want int64
		ok   bool
	}{
		{`{"bench_sent_ns":1800000000000000123}`, 1800000000000000123, true},
		{`{"a":1,"bench_sent_ns":   42,"b":2}`, 42, true},
		{"{\"bench_sent_ns\":\n\t7}", 7, true},
		{`{"bench_sent_ns":9223372036854775807}`, 9223372036854775807, true},
		{`{"bench_sent_ns":9223372036854775808}`, 0, false}, // overflows int64
		{`{"bench_sent_ns":12345678901234567890}`, 0, false},
		{`{"bench_sent_ns":"12"}`, 0, false},
		{`{"bench_sent_ns":-5}`, 0, false},
		{`{"bench_sent_ns":}`, 0, false},
		{`{"bench_sent_ns":`, 0, false},
		{`{"no":"field"}`, 0, false},
		{``, 0, false},
	} {
		at, ok := SentAt([]byte(tt.body))
		if ok != tt.ok || (ok && at.UnixNano() != tt.want) {
			t.Errorf("SentAt(%s) = %d, %v; want %d, %v", tt.body, at.UnixNano(), ok, tt.want, tt.ok)
		}
	}
}

// BenchmarkBodiesNext is the generator's cost per request, signing
// excluded (it costs one HMAC of the body on top).
func BenchmarkBodiesNext(b *testing.B) {
	g, err := NewBodies(2048, "bench")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Next(int64(i), now)
	}
}
