package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/alert"
	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/store"
)

// reconcileStore is what reconciliation needs; both stores provide it.
type reconcileStore interface {
	store.Store
	store.Reconciles
}

// buildReconciler builds a runner for the sources with reconcile blocks;
// nil when there are none.
func buildReconciler(cfg *config.Config, st store.Store, router reconcile.Router, waker reconcile.Waker,
	gate reconcile.Gate, ld leader.Node, m *metrics.Metrics, alerts *alerting, log *slog.Logger) (*reconcile.Runner, error) {
	var sources []reconcile.Source
	for i, s := range cfg.Sources {
		rc := s.Reconcile
		if rc == nil {
			continue
		}
		l, err := reconcileLister(s)
		if err != nil {
			return nil, fmt.Errorf("sources[%d].reconcile: %w", i, err)
		}
		sources = append(sources, reconcile.Source{Name: s.Name, Provider: s.Provider, Lister: l,
			Backfill: rc.Backfill, Redeliver: rc.Redeliver, Threshold: rc.AlertThreshold,
			Every:    cmp.Or(rc.Every.D(), config.DefaultReconcileEvery),
			Lookback: cmp.Or(rc.Lookback.D(), config.DefaultReconcileLookback),
			Settle:   settle(rc), Ordered: hasOrderedRoute(cfg, s.Name)})
	}
	if len(sources) == 0 {
		return nil, nil
	}
	rs, ok := st.(reconcileStore)
	if !ok {
		return nil, fmt.Errorf("storage %s does not support reconciliation", cfg.Storage.Driver)
	}
	obs := reconcileObservers{m.RegisterReconcile(), reconcileAlerts{alerts.engine}}
	return reconcile.New(reconcile.Config{Sources: sources, Store: rs, Router: router, Waker: waker, Locker: ld,
		Elector: ld, Observer: obs, Gate: gate, Logger: log}), nil
}

// hasOrderedRoute reports whether a route of source has an ordering key:
// its backfills must then be stored oldest first.
func hasOrderedRoute(cfg *config.Config, source string) bool {
	for _, r := range cfg.Routes {
		if r.Source == source && r.OrderingKey != "" {
			return true
		}
	}
	return false
}

// settle is the configured settle time: absent means the default, an
// explicit 0s none.
func settle(rc *config.Reconcile) time.Duration {
	if rc.Settle != nil {
		return rc.Settle.D()
	}
	return config.DefaultReconcileSettle
}

// reconcileLister builds the provider's lister: url selects the generic
// one, else the provider's own.
func reconcileLister(s config.Source) (reconcile.Lister, error) {
	a := s.Reconcile.API
	c := reconcile.Client{}
	if a.URL != "" {
		return reconcile.NewGeneric(reconcile.GenericSpec{URL: a.URL, Items: a.Items, ID: a.ID, Topic: a.Topic,
			Next: a.Next, Token: a.Token, Header: a.Header}, c)
	}
	switch s.Provider {
	case "stripe":
		return reconcile.NewStripe(a.BaseURL, a.Token, c), nil
	case "github":
		return reconcile.NewGitHub(a.BaseURL, a.Token, a.Repo, a.Org, a.HookID, c), nil
	case "shopify":
		if a.GraphQL {
			return reconcile.NewShopifyGraphQL(a.BaseURL, a.Token, a.Version, a.Resources, c), nil
		}
		return reconcile.NewShopify(a.BaseURL, a.Token, a.Version, a.Resources, c), nil
	case "woocommerce":
		return reconcile.NewWooCommerce(a.BaseURL, a.Token, c), nil
	}
	return nil, fmt.Errorf("provider %s has no built-in reconciler; set api.url", s.Provider)
}

// reconcileObservers tells metrics and alerts about every finished run.
type reconcileObservers []reconcile.Observer

func (o reconcileObservers) Reconciled(r *reconcile.Run, threshold int) {
	for _, x := range o {
		x.Reconciled(r, threshold)
	}
}

// reconcileAlerts raises reconcile-gaps when a finished run found more
// missing events than the source's threshold, and lets it resolve when a
// run finds no more than that.
type reconcileAlerts struct{ e *alert.Engine }

func (a reconcileAlerts) Reconciled(r *reconcile.Run, threshold int) {
	if r.State != store.RunDone {
		return
	}
	if r.Missing > threshold {
		a.e.Event(alert.EventReconcileGaps, r.Source, fmt.Sprintf("%d missing, %d backfilled, window %s to %s",
			r.Missing, r.Backfilled, r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339)))
		return
	}
	a.e.Event(alert.EventReconcileClean, r.Source, "")
}

// cmdReconcile: hookyard reconcile run|runs.
func cmdReconcile(ctx context.Context, e *env, args []string) error {
	return runSubcommand(ctx, e, "reconcile", "reconcile run [flags] SOURCE | reconcile runs [flags]",
		[]subcommand{{"run", reconcileRun}, {"runs", reconcileRuns}}, args)
}

func reconcileRun(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "reconcile run", "reconcile run [--since 6h] [--until T] [--no-wait] SOURCE")
	since := fs.String("since", "", "window start: RFC 3339 time or a duration ago (default: the source's lookback)")
	until := fs.String("until", "", "window end: RFC 3339 time or a duration ago (default: the source's settle time ago)")
	noWait := fs.Bool("no-wait", false, "return once the run has started instead of waiting for it to finish")
	pos, c, err := af.connect(e, fs, args, 1)
	if err != nil {
		return err
	}
	now := time.Now()
	req := api.ReconcileRequest{Source: pos[0]}
	if req.Since, err = parseSince(*since, now); err != nil {
		return err
	}
	if req.Until, err = parseSince(*until, now); err != nil {
		return errors.New(strings.Replace(err.Error(), "--since", "--until", 1))
	}
	run, err := c.StartReconcile(ctx, req)
	if err != nil {
		return err
	}
	for !*noWait && run.State == store.RunRunning {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		if run, err = c.ReconcileRun(ctx, run.ID); err != nil {
			return err
		}
	}
	if *af.json {
		return printJSON(e.stdout, run)
	}
	printRuns(e, []api.ReconcileRun{run})
	if run.State == store.RunFailed {
		return fmt.Errorf("run %s failed: %s", run.ID, run.LastError)
	}
	return nil
}

func reconcileRuns(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "reconcile runs", "reconcile runs [--source S] [--limit N]")
	source := fs.String("source", "", "only this source's runs")
	limit := fs.Int("limit", 20, "runs to show (1-1000)")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	list, err := c.ReconcileRuns(ctx, *source, *limit)
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, list)
	}
	printRuns(e, list.Runs)
	return nil
}

func printRuns(e *env, runs []api.ReconcileRun) {
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tSOURCE\tSTATE\tWINDOW\tLISTED\tMATCHED\tMISSING\tBACKFILLED\tQUARANTINED\tERRORS\tDURATION")
	for _, r := range runs {
		dur := "-"
		if !r.FinishedAt.IsZero() {
			dur = (time.Duration(r.DurationSeconds * float64(time.Second))).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s – %s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.ID, r.Source, r.State, stamp(r.Since),
			stamp(r.Until), r.Listed, r.Matched, r.Missing, r.Backfilled, r.Quarantined, r.Errors, dur)
	}
	tw.Flush()
	for _, r := range runs {
		if r.LastError != "" {
			fmt.Fprintf(e.stderr, "%s: last error: %s\n", r.ID, r.LastError)
		}
	}
}
