package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/console"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
)

// TestStatusShowsReconciliation: the status page shows each source's last
// reconciliation run, through the admin API.
func TestStatusShowsReconciliation(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, r := range []store.ReconcileRun{
		{Source: "stripe", State: store.RunDone, Listed: 900, Matched: 900, StartedAt: t0.Add(-time.Hour)},
		{Source: "stripe", State: store.RunDone, Listed: 1000, Matched: 963, Missing: 37, Backfilled: 37, StartedAt: t0},
		{Source: "github", State: store.RunFailed, Errors: 1, LastError: "HTTP 401: Bad credentials", StartedAt: t0},
	} {
		r.ID = "rec_" + string(rune('a'+i))
		r.Trigger, r.Since, r.Until, r.FinishedAt = "schedule", r.StartedAt.Add(-6*time.Hour), r.StartedAt, r.StartedAt.Add(time.Second)
		if err := st.ReconcileRunSave(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	runner := reconcile.New(reconcile.Config{Store: st, Locker: leader.NewLocal()})
	h := api.New(api.Config{Store: st, Reconciler: reconcile.Manual{Runner: runner},
		Tokens: []config.Token{{Name: "dash", Token: viewerToken, Role: "viewer"}}})
	con, err := console.New(console.Config{API: h, Sessions: st, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	mux.Handle("/console/", con)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := (&fixture{srv: srv}).browser(t)
	b.login(viewerToken)
	a := b.get("/console/")
	if a.status != http.StatusOK {
		t.Fatalf("status page: %d\n%s", a.status, a.body)
	}
	i := strings.Index(a.body, `id="reconcile"`)
	if i < 0 {
		t.Fatalf("no reconciliation table:\n%s", a.body)
	}
	table := a.body[i:]
	for _, want := range []string{`<tr class="bad"><td>stripe</td>`, `<td class="num">1000</td><td class="num">37</td><td class="num">37</td>`,
		`<td>github</td>`, `>failed<`, `title="HTTP 401: Bad credentials"`} {
		if !strings.Contains(table, want) {
			t.Errorf("reconciliation table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, ">900<") {
		t.Error("an older run is shown beside the last one")
	}
	if strings.Index(table, "github") > strings.Index(table, "stripe") {
		t.Error("sources are not in name order")
	}
}
