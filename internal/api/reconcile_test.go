package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

type noRoutes struct{}

func (noRoutes) Deliveries(context.Context, *webhook.Event) []webhook.NewDelivery { return nil }

// TestReconcileEndpoints drives the reconcile endpoints against a real
// runner, a real SQLite store and a fake Stripe API.
func TestReconcileEndpoints(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var events [][]byte
	for i := range 12 {
		events = append(events, reconciletest.StripeEvent(fmt.Sprintf("evt_%03d", i), "charge.succeeded", now.Add(-time.Duration(i+1)*time.Minute), i))
	}
	fake := reconciletest.NewStripe(t, "rk_api", events)
	fake.Gate, fake.GateAfter = make(chan struct{}), ""
	runner := reconcile.New(reconcile.Config{Store: st, Router: noRoutes{}, Locker: leader.NewLocal(),
		Sources: []reconcile.Source{{Name: "stripe", Provider: "stripe", Backfill: true, Lookback: time.Hour,
			Lister: reconcile.NewStripe(fake.URL, "rk_api", reconcile.Client{})}}})
	newServer := func(r api.Reconciler) *httptest.Server {
		return httptest.NewServer(api.New(api.Config{Store: st, Reconciler: r, Tokens: []config.Token{
			{Name: "oncall", Token: operatorToken, Role: "operator"}, {Name: "dash", Token: viewerToken, Role: "viewer"}}}))
	}
	srv := newServer(reconcile.Manual{Runner: runner})
	defer srv.Close()
	op := &api.Client{BaseURL: srv.URL, Token: operatorToken}
	viewer := &api.Client{BaseURL: srv.URL, Token: viewerToken}
	ctx := context.Background()

	status := func(err error) int {
		var p *api.Problem
		if errors.As(err, &p) {
			return p.Status
		}
		t.Fatalf("want a problem answer, got %v", err)
		return 0
	}
	if _, err := viewer.StartReconcile(ctx, api.ReconcileRequest{Source: "stripe"}); status(err) != http.StatusForbidden {
		t.Fatalf("viewer started a run: %v", err)
	}
	if _, err := op.StartReconcile(ctx, api.ReconcileRequest{Source: "nope"}); status(err) != http.StatusNotFound {
		t.Fatalf("unknown source: %v", err)
	}
	if _, err := op.StartReconcile(ctx, api.ReconcileRequest{}); status(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "source") {
		t.Fatalf("no source: %v", err)
	}
	if _, err := op.StartReconcile(ctx, api.ReconcileRequest{Source: "stripe", Since: now, Until: now.Add(-time.Hour)}); status(err) != http.StatusBadRequest {
		t.Fatalf("inverted window: %v", err)
	}

	run, err := op.StartReconcile(ctx, api.ReconcileRequest{Source: "stripe"})
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunRunning || run.Until.Sub(run.Since).Round(time.Second) != time.Hour {
		t.Fatalf("started %+v: want running over the 1h lookback", run)
	}
	if _, err := op.StartReconcile(ctx, api.ReconcileRequest{Source: "stripe"}); status(err) != http.StatusConflict {
		t.Fatalf("second run while one runs: %v", err)
	}
	close(fake.Gate)
	runner.Wait()
	got, err := viewer.ReconcileRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.RunDone || got.Listed != 12 || got.Missing != 12 || got.Backfilled != 12 || got.FinishedAt.IsZero() {
		t.Fatalf("finished run %+v", got)
	}
	list, err := viewer.ReconcileRuns(ctx, "stripe", 5)
	if err != nil || len(list.Runs) != 1 || list.Runs[0].ID != run.ID {
		t.Fatalf("list %+v %v", list, err)
	}
	if _, err := viewer.ReconcileRun(ctx, "rec_nope"); status(err) != http.StatusNotFound {
		t.Fatalf("unknown run: %v", err)
	}
	if _, err := viewer.ReconcileRuns(ctx, "", 5000); status(err) != http.StatusBadRequest {
		t.Fatalf("limit 5000: %v", err)
	}

	// Without reconciliation configured the endpoints do not exist.
	bare := newServer(nil)
	defer bare.Close()
	if _, err := (&api.Client{BaseURL: bare.URL, Token: viewerToken}).ReconcileRuns(ctx, "", 0); status(err) != http.StatusNotFound {
		t.Fatalf("unconfigured: %v", err)
	}
}
