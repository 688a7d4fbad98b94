package alert

import "testing"

// TestReconcileGaps: a run over the threshold opens one incident per
// source; a clean run lets it resolve after ResolveAfter.
func TestReconcileGaps(t *testing.T) {
	b := setup(t, Config{})
	b.e.Event(EventReconcileGaps, "stripe", "37 missing, 37 backfilled")
	b.e.Event(EventReconcileGaps, "stripe", "3 missing, 3 backfilled")
	f := b.firing()
	in, ok := f["reconcile-gaps/stripe"]
	if len(f) != 1 || !ok || in.Severity != SeverityWarning || in.Runbook != "reconcile-gaps" ||
		in.Summary != "reconciliation of source stripe found events the provider never delivered" {
		t.Fatalf("firing %+v", f)
	}
	b.e.Event(EventReconcileClean, "stripe", "")
	b.run(11, nil)
	firing, resolved := b.e.Alerts()
	if len(firing) != 0 || len(resolved) != 1 || resolved[0].Key != "reconcile-gaps/stripe" {
		t.Fatalf("firing %v resolved %v", firing, resolved)
	}
}
