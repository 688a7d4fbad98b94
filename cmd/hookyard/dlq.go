package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

func cmdDLQ(ctx context.Context, e *env, args []string) error {
	return runSubcommand(ctx, e, "dlq", "dlq list [flags] | dlq replay [flags] ID… | dlq replay --all [flags]",
		[]subcommand{{"list", dlqList}, {"replay", dlqReplay}}, args)
}

func dlqList(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "dlq list", "dlq list [--destination D] [--route R] [--limit N] [--cursor C]")
	dest := fs.String("destination", "", "only this destination's dead deliveries")
	route := fs.String("route", "", "only this route's dead deliveries")
	limit := fs.Int("limit", 50, "deliveries per page (1-1000)")
	cursor := fs.String("cursor", "", "continue after a previous page")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	page, err := c.DLQ(ctx, api.DeliveryQuery{Destination: *dest, Route: *route, Limit: *limit, Cursor: *cursor})
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, page)
	}
	if err := printDeliveries(e.stdout, page.Deliveries, true); err != nil {
		return err
	}
	moreHint(e, page.NextCursor)
	return nil
}

func dlqReplay(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "dlq replay", "dlq replay [--rate N/s] [--dry-run] ID… | dlq replay --all [--destination D] [--route R] [--rate N/s] [--dry-run]")
	all := fs.Bool("all", false, "replay every dead delivery (narrowed by --destination, --route)")
	dest := fs.String("destination", "", "with --all: only this destination's dead deliveries")
	route := fs.String("route", "", "with --all: only this route's dead deliveries")
	dryRun := fs.Bool("dry-run", false, "only count what would be replayed")
	rate := 100.0
	fs.Func("rate", "replay at most this many deliveries per second, as 50/s or 50 (default 100/s)", func(s string) error {
		r, err := parseRate(s)
		rate = r
		return err
	})
	ids, err := parseArgs(fs, args, -1)
	if err != nil {
		return err
	}
	switch {
	case *all && len(ids) > 0:
		return errors.New("give delivery ids or --all, not both")
	case !*all && len(ids) == 0:
		return errors.New("give the delivery ids to replay, or --all")
	case !*all && (*dest != "" || *route != ""):
		return errors.New("--destination and --route narrow --all; with ids, give only the ids")
	}
	c, err := af.client(e)
	if err != nil {
		return err
	}
	p := newPacer(rate)
	var res api.ReplayResult
	if *all {
		res, err = replayAll(ctx, e, c, p, api.DeliveryQuery{Destination: *dest, Route: *route}, *dryRun)
	} else {
		res, err = replayIDs(ctx, c, p, ids, *dryRun)
	}
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, res)
	}
	switch {
	case res.DryRun:
		fmt.Fprintf(e.stdout, "dry run: %d dead deliveries would be replayed\n", res.Matched)
	case *all:
		fmt.Fprintf(e.stdout, "replayed %d dead deliveries\n", res.Replayed)
	default:
		fmt.Fprintf(e.stdout, "replayed %d of %d (ids not in the dead-letter queue are skipped)\n", res.Replayed, len(ids))
	}
	return nil
}

// replayIDs replays the given ids in paced chunks.
func replayIDs(ctx context.Context, c *api.Client, p *pacer, ids []string, dryRun bool) (api.ReplayResult, error) {
	res := api.ReplayResult{DryRun: dryRun}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), p.chunk)]
		ids = ids[len(chunk):]
		if !dryRun {
			if err := p.wait(ctx, len(chunk)); err != nil {
				return res, err
			}
		}
		r, err := c.DLQReplay(ctx, api.ReplayRequest{IDs: chunk, DryRun: dryRun})
		res.Matched += r.Matched
		res.Replayed += r.Replayed
		if err != nil {
			return res, fmt.Errorf("after replaying %d: %w", res.Replayed, err)
		}
	}
	return res, nil
}

// replayAll counts the dead deliveries matching q (the dry run), then pages
// through them and replays each page in paced chunks. The server could
// replay them all in one request, but not at a rate: pacing here keeps a
// destination that just recovered from being flooded by its backlog.
func replayAll(ctx context.Context, e *env, c *api.Client, p *pacer, q api.DeliveryQuery, dryRun bool) (api.ReplayResult, error) {
	res, err := c.DLQReplay(ctx, api.ReplayRequest{All: true, Destination: q.Destination, Route: q.Route, DryRun: true})
	if err != nil || dryRun || res.Matched == 0 {
		return res, err
	}
	res.DryRun = false
	fmt.Fprintf(e.stderr, "replaying %d dead deliveries at up to %s/s\n", res.Matched, strconv.FormatFloat(p.rate, 'f', -1, 64))
	q.Limit = api.MaxReplayIDs
	for {
		page, err := c.DLQ(ctx, q)
		if err != nil {
			return res, fmt.Errorf("after replaying %d: %w", res.Replayed, err)
		}
		ids := make([]string, len(page.Deliveries))
		for i, d := range page.Deliveries {
			ids[i] = d.ID
		}
		r, err := replayIDs(ctx, c, p, ids, false)
		res.Replayed += r.Replayed
		if err != nil {
			return res, fmt.Errorf("after replaying %d: %w", res.Replayed, err)
		}
		if page.NextCursor == "" {
			return res, nil
		}
		fmt.Fprintf(e.stderr, "replayed %d so far\n", res.Replayed)
		q.Cursor = page.NextCursor
	}
}

// parseRate reads "50/s" or "50": deliveries per second.
func parseRate(s string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || n <= 0 || n > 1e6 {
		return 0, fmt.Errorf("want a positive rate per second such as 50/s, got %q", s)
	}
	return n, nil
}

// pacer spaces replay requests so that at most rate ids per second are
// replayed: chunk ids are sent at once, and the next chunk waits until the
// ids already sent are within budget.
type pacer struct {
	rate  float64
	chunk int
	start time.Time
	sent  int
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newPacer(rate float64) *pacer {
	return &pacer{rate: rate, chunk: max(1, min(int(rate), api.MaxReplayIDs)), now: time.Now, sleep: sleepCtx}
}

// wait blocks until n more ids may be sent, then counts them as sent.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p.start.IsZero() {
		p.start = p.now()
	}
	due := p.start.Add(time.Duration(float64(p.sent) / p.rate * float64(time.Second)))
	if d := due.Sub(p.now()); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
	p.sent += n
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
