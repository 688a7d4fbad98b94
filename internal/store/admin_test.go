package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestAuditPrunePrefix(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var chain []AuditEntry
	prev := ""
	for i := 1; i <= 6; i++ {
		e := SealAudit(AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), Actor: "ops", Action: fmt.Sprint("a", i)}, int64(i), prev)
		chain, prev = append(chain, e), e.Hash
	}
	anchor := AuditAnchor{Seq: 2, Hash: chain[1].Hash}
	rest := chain[2:] // entries 3-6 after pruning 1-2
	n, next, err := AuditPrunePrefix(anchor, rest, t0.Add(5*time.Minute))
	if err != nil || n != 2 || next != (AuditAnchor{Seq: 4, Hash: chain[3].Hash}) {
		t.Fatalf("prune to 5m = %d %+v %v; want entries 3-4", n, next, err)
	}
	// An entry out of time order ends the prefix: what is deleted stays a
	// prefix of the chain.
	skewed := append([]AuditEntry(nil), rest...)
	skewed[1].At = t0.Add(time.Hour)
	if n, _, err := AuditPrunePrefix(anchor, skewed, t0.Add(5*time.Minute)); err != nil || n != 1 {
		t.Fatalf("prefix with a late entry = %d, %v; want 1", n, err)
	}
	// Tampering inside the prefix is refused, not erased.
	edited := append([]AuditEntry(nil), rest...)
	edited[1].Detail = "rewritten"
	gap := append([]AuditEntry{rest[0]}, rest[2:]...)
	wrongAnchor := AuditAnchor{Seq: 2, Hash: chain[0].Hash}
	for name, tc := range map[string]struct {
		a  AuditAnchor
		es []AuditEntry
	}{"edit": {anchor, edited}, "gap": {anchor, gap}, "anchor": {wrongAnchor, rest}} {
		if n, got, err := AuditPrunePrefix(tc.a, tc.es, t0.Add(time.Hour)); !errors.Is(err, ErrAuditBroken) || n != 0 || got != tc.a {
			t.Errorf("%s: %d %+v %v; want ErrAuditBroken and nothing pruned", name, n, got, err)
		}
	}
	if n, got, err := AuditPrunePrefix(anchor, rest, t0); err != nil || n != 0 || got != anchor {
		t.Errorf("nothing old: %d %+v %v", n, got, err)
	}
}
