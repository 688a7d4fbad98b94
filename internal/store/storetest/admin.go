package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// AdminStore is what RunAdmin tests: a store that also keeps admin tokens
// and the audit log.
type AdminStore interface {
	store.Store
	store.Tokens
	store.Audit
}

// RunAdmin runs the token and audit-log suite. Every store implementation
// must pass it; open returns a fresh store, which must implement
// AdminStore.
func RunAdmin(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s AdminStore)
	}{
		{"Tokens", testTokens},
		{"TokenNameTaken", testTokenNameTaken},
		{"AuditChain", testAuditChain},
		{"AuditListFilters", testAuditListFilters},
		{"AuditConcurrentAppends", testAuditConcurrent},
		{"AuditPrune", testAuditPrune},
		{"EventListSearch", testEventListSearch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			as, ok := s.(AdminStore)
			if !ok {
				t.Fatalf("%T does not implement store.Tokens and store.Audit", s)
			}
			tt.fn(t, as)
		})
	}
}

func testTokens(t *testing.T, s AdminStore) {
	ctx := context.Background()
	a := store.Token{ID: "tok_a", Name: "ci", Role: "operator", Digest: sha256.Sum256([]byte("secret-a")),
		CreatedAt: t0, CreatedBy: "root", ExpiresAt: t0.Add(24 * time.Hour)}
	b := store.Token{ID: "tok_b", Name: "dash", Role: "viewer", Digest: sha256.Sum256([]byte("secret-b")),
		CreatedAt: t0.Add(time.Second), CreatedBy: "root", ExpiresAt: t0.Add(48 * time.Hour)}
	for _, tok := range []store.Token{a, b} {
		if err := s.TokenCreate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.TokenGet(ctx, "tok_a")
	if err != nil {
		t.Fatal(err)
	}
	if got != a {
		t.Errorf("TokenGet = %+v, want %+v", got, a)
	}
	list, err := s.TokenList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "tok_b" || list[1].ID != "tok_a" {
		t.Fatalf("TokenList = %+v, want tok_b then tok_a", list)
	}

	used := t0.Add(time.Hour)
	if err := s.TokenTouch(ctx, "tok_a", used); err != nil {
		t.Fatal(err)
	}
	// An older touch (a slower request finishing late) does not move it back.
	if err := s.TokenTouch(ctx, "tok_a", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.TokenGet(ctx, "tok_a"); !got.LastUsedAt.Equal(used) {
		t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, used)
	}

	revoked := t0.Add(2 * time.Hour)
	got, err = s.TokenRevoke(ctx, "tok_a", revoked)
	if err != nil || !got.RevokedAt.Equal(revoked) {
		t.Fatalf("TokenRevoke = %+v, %v", got, err)
	}
	// Revoking again keeps the first revocation time.
	if got, err = s.TokenRevoke(ctx, "tok_a", revoked.Add(time.Hour)); err != nil || !got.RevokedAt.Equal(revoked) {
		t.Errorf("second TokenRevoke = %v, %v; want the first time %v", got.RevokedAt, err, revoked)
	}
	if got, _ = s.TokenGet(ctx, "tok_b"); !got.RevokedAt.IsZero() {
		t.Errorf("revoking tok_a revoked tok_b: %+v", got)
	}
	if _, err := s.TokenGet(ctx, "tok_nope"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("TokenGet(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.TokenRevoke(ctx, "tok_nope", revoked); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("TokenRevoke(unknown) = %v, want ErrNotFound", err)
	}
}

func testTokenNameTaken(t *testing.T, s AdminStore) {
	ctx := context.Background()
	tok := store.Token{ID: "tok_1", Name: "ci", Role: "viewer", Digest: sha256.Sum256([]byte("x")), CreatedAt: t0,
		CreatedBy: "root", ExpiresAt: t0.Add(time.Hour)}
	if err := s.TokenCreate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	tok.ID = "tok_2"
	if err := s.TokenCreate(ctx, tok); !errors.Is(err, store.ErrTokenNameTaken) {
		t.Fatalf("second token named ci: %v, want ErrTokenNameTaken", err)
	}
	// A revoked token keeps its name, so audit entries stay unambiguous.
	if _, err := s.TokenRevoke(ctx, "tok_1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.TokenCreate(ctx, tok); !errors.Is(err, store.ErrTokenNameTaken) {
		t.Fatalf("reusing a revoked token's name: %v, want ErrTokenNameTaken", err)
	}
	if list, _ := s.TokenList(ctx); len(list) != 1 {
		t.Errorf("%d tokens stored, want 1", len(list))
	}
}

func auditEntry(i int) store.AuditEntry {
	return store.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: fmt.Sprintf("actor-%d", i%3),
		Role: "operator", Action: "POST /api/v1/deliveries/{id}/replay", Target: fmt.Sprintf("dlv_%d", i),
		RequestID: fmt.Sprintf("req-%d", i), Outcome: "ok", Status: 200, Detail: "replayed 1"}
}

// verifyAll reads the whole log oldest first, in small pages, and checks
// the chain.
func verifyAll(t *testing.T, s AdminStore) (int64, error) {
	t.Helper()
	anchor, err := s.AuditAnchor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v := store.AuditVerifierFrom(anchor)
	f := store.AuditFilter{Ascending: true, Limit: 7}
	for {
		es, next, err := s.AuditList(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for i := range es {
			if err := v.Add(&es[i]); err != nil {
				return v.Count(), err
			}
		}
		if next == "" {
			return v.Count(), nil
		}
		f.Cursor = next
	}
}

func testAuditChain(t *testing.T, s AdminStore) {
	ctx := context.Background()
	var prev string
	for i := 1; i <= 20; i++ {
		e := auditEntry(i)
		e.At = e.At.Add(123 * time.Nanosecond) // below the stored precision
		if i == 5 {
			e.Detail = "bad \xff utf-8 and a \x00 NUL"
		}
		got, err := s.AuditAppend(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != int64(i) || got.PrevHash != prev || got.Hash == "" || got.Hash != store.AuditHash(&got) {
			t.Fatalf("append %d = %+v (prev %q)", i, got, prev)
		}
		prev = got.Hash
	}
	n, err := verifyAll(t, s)
	if err != nil || n != 20 {
		t.Fatalf("verify = %d entries, %v; want 20, nil", n, err)
	}
	// What a list returns is what was sealed, byte for byte.
	es, _, err := s.AuditList(ctx, store.AuditFilter{Target: "dlv_5"})
	if err != nil || len(es) != 1 {
		t.Fatalf("list target dlv_5 = %v, %v", es, err)
	}
	if es[0].Hash != store.AuditHash(&es[0]) {
		t.Errorf("entry 5 as read does not match its hash: %+v", es[0])
	}

	// The verifier catches an edit, a gap and a broken link.
	all, _, _ := s.AuditList(ctx, store.AuditFilter{Ascending: true, Limit: 100})
	edited := append([]store.AuditEntry(nil), all...)
	edited[9].Actor = "someone-else"
	gap := append(append([]store.AuditEntry(nil), all[:9]...), all[10:]...)
	for name, chain := range map[string][]store.AuditEntry{"edit": edited, "gap": gap} {
		var v store.AuditVerifier
		var failed error
		for i := range chain {
			if failed = v.Add(&chain[i]); failed != nil {
				break
			}
		}
		if failed == nil || v.Count() != 9 {
			t.Errorf("%s: verifier stopped after %d entries with %v; want an error after 9", name, v.Count(), failed)
		}
	}
}

func testAuditListFilters(t *testing.T, s AdminStore) {
	ctx := context.Background()
	for i := 1; i <= 12; i++ {
		if _, err := s.AuditAppend(ctx, auditEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(f store.AuditFilter) []int64 {
		t.Helper()
		var out []int64
		for {
			es, next, err := s.AuditList(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				out = append(out, e.Seq)
			}
			if next == "" {
				return out
			}
			f.Cursor = next
		}
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want string
	}{
		{"newest first in pages", store.AuditFilter{Limit: 5}, "[12 11 10 9 8 7 6 5 4 3 2 1]"},
		{"oldest first in pages", store.AuditFilter{Ascending: true, Limit: 5}, "[1 2 3 4 5 6 7 8 9 10 11 12]"},
		{"actor", store.AuditFilter{Actor: "actor-1", Limit: 2}, "[10 7 4 1]"},
		{"target", store.AuditFilter{Target: "dlv_3"}, "[3]"},
		{"action", store.AuditFilter{Action: "DELETE /api/v1/tokens/{id}"}, "[]"},
		{"since until", store.AuditFilter{Since: t0.Add(3 * time.Second), Until: t0.Add(6 * time.Second)}, "[5 4 3]"},
	} {
		if got := fmt.Sprint(seqs(tc.f)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, _, err := s.AuditList(ctx, store.AuditFilter{Cursor: "x"}); !errors.Is(err, webhook.ErrInvalid) {
		t.Errorf("bad cursor: %v, want ErrInvalid", err)
	}
}

// testAuditConcurrent appends from many goroutines at once: every append
// must land in one unbroken chain.
func testAuditConcurrent(t *testing.T, s AdminStore) {
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.AuditAppend(context.Background(), auditEntry(i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, err := verifyAll(t, s); err != nil || got != n {
		t.Fatalf("verify after concurrent appends = %d, %v; want %d, nil", got, err, n)
	}
}

// testEventListSearch covers the admin API's event search: by a provider's
// id (event id exactly, dedup key by prefix) and by delivery state.
func testEventListSearch(t *testing.T, s AdminStore) {
	ctx := context.Background()
	a := event("stripe", "evt_1Pabc", t0)
	b := event("stripe", "evt_1Pabd", t0.Add(time.Second))
	c := event("github", "0f3c-guid", t0.Add(2*time.Second))
	mustIngest(t, s, a, route("oms", webhook.PriorityNormal), route("crm", webhook.PriorityNormal))
	mustIngest(t, s, b, route("oms", webhook.PriorityNormal))
	mustIngest(t, s, c, route("crm", webhook.PriorityNormal))
	// a's crm delivery dies; everything else stays pending.
	cs := claim(t, s, "crm", 10, t0.Add(time.Hour))
	for _, cl := range cs {
		if cl.Delivery.EventID == a.ID {
			if err := s.DeliveryDead(ctx, cl.Delivery.ID, cl.Delivery.LeaseToken, attempt(1, 400, webhook.ClassHTTP4xx)); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids := func(f store.EventFilter) string {
		t.Helper()
		es, _, err := s.EventList(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			switch e.ID {
			case a.ID:
				out = append(out, "a")
			case b.ID:
				out = append(out, "b")
			case c.ID:
				out = append(out, "c")
			}
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want string
	}{
		{"dedup key prefix", store.EventFilter{Query: "evt_1Pab"}, "[b a]"},
		{"whole dedup key", store.EventFilter{Query: "evt_1Pabc"}, "[a]"},
		{"event id", store.EventFilter{Query: c.ID}, "[c]"},
		{"no match", store.EventFilter{Query: "evt_2"}, "[]"},
		{"a prefix is not a substring", store.EventFilter{Query: "Pabc"}, "[]"},
		{"dead", store.EventFilter{States: []webhook.State{webhook.StateDead}}, "[a]"},
		{"in flight", store.EventFilter{States: []webhook.State{webhook.StateInFlight}}, "[c]"},
		{"pending", store.EventFilter{States: []webhook.State{webhook.StatePending}}, "[b a]"},
		{"dead or in flight", store.EventFilter{States: []webhook.State{webhook.StateDead, webhook.StateInFlight}}, "[c a]"},
		{"state and query", store.EventFilter{Query: "evt_1Pab", States: []webhook.State{webhook.StateDead}}, "[a]"},
		{"state and source", store.EventFilter{Source: "github", States: []webhook.State{webhook.StateDead}}, "[]"},
	} {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// testAuditPrune: retention deletes a prefix of the chain recorded before
// a time, in batches, never the newest entry, and leaves an anchor from
// which the rest still verifies and to which new entries still link.
func testAuditPrune(t *testing.T, s AdminStore) {
	ctx := context.Background()
	if n, err := s.AuditPrune(ctx, t0.Add(time.Hour), 5); err != nil || n != 0 {
		t.Fatalf("prune of an empty log = %d, %v", n, err)
	}
	var hashes []string
	for i := 1; i <= 20; i++ {
		e, err := s.AuditAppend(ctx, auditEntry(i))
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, e.Hash)
	}
	before := t0.Add(8*time.Second + 500*time.Millisecond) // entries 1-8 are older
	for _, want := range []int{5, 3, 0} {
		if n, err := s.AuditPrune(ctx, before, 5); err != nil || n != want {
			t.Fatalf("prune = %d, %v; want %d", n, err, want)
		}
	}
	if a, err := s.AuditAnchor(ctx); err != nil || a != (store.AuditAnchor{Seq: 8, Hash: hashes[7]}) {
		t.Fatalf("anchor = %+v, %v; want entry 8", a, err)
	}
	es, _, err := s.AuditList(ctx, store.AuditFilter{Ascending: true, Limit: 100})
	if err != nil || len(es) != 12 || es[0].Seq != 9 {
		t.Fatalf("after pruning: %d entries from %d, %v", len(es), es[0].Seq, err)
	}
	if n, err := verifyAll(t, s); err != nil || n != 20 {
		t.Fatalf("verify after pruning = %d, %v", n, err)
	}
	// Everything is old now, but the newest entry stays for the next
	// append to link to.
	if n, err := s.AuditPrune(ctx, t0.Add(time.Hour), 100); err != nil || n != 11 {
		t.Fatalf("prune of all = %d, %v; want 11", n, err)
	}
	e, err := s.AuditAppend(ctx, auditEntry(21))
	if err != nil || e.Seq != 21 || e.PrevHash != hashes[19] {
		t.Fatalf("append after pruning = %+v, %v", e, err)
	}
	if n, err := verifyAll(t, s); err != nil || n != 21 {
		t.Fatalf("verify after pruning all but the head = %d, %v", n, err)
	}
}
