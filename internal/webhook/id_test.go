package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestNewIDSortsByTime(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	prev := ""
	for i := 0; i < 1000; i++ {
		id := NewID("evt_", t0.Add(time.Duration(i)*time.Millisecond))
		if len(id) != 30 || !strings.HasPrefix(id, "evt_") {
			t.Fatalf("bad id %q", id)
		}
		if id <= prev {
			t.Fatalf("id %q does not sort after %q", id, prev)
		}
		prev = id
	}
}

func TestNewIDUnique(t *testing.T) {
	now := time.Now()
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewID("", now)
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestNewIDMonotonicWithinMillisecond(t *testing.T) {
	now := time.Now()
	prev := NewID("", now)
	for i := 0; i < 10000; i++ {
		id := NewID("", now) // the same millisecond every time
		if id <= prev {
			t.Fatalf("id %q does not sort after %q", id, prev)
		}
		prev = id
	}
	// An id for an earlier time carries that time.
	early := now.Add(-time.Hour)
	if id := NewID("", early); id >= NewIDBound("", early, true) || id < NewIDBound("", early, false) {
		t.Fatalf("id %q for an earlier time is outside its millisecond", id)
	}
}
