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
	fs, af := adminFlagSet(e, "dlq replay", "dlq replay [--rate N/s] [--dry-run] [--state S] ID… | dlq replay --all [--destination D] [--route R] [--class C] [--since T] [--until T] [--state S] [--rate N/s] [--dry-run]")
	all := fs.Bool("all", false, "replay every dead delivery (narrowed by the filters below)")
	dest := fs.String("destination", "", "only this destination's deliveries (implies --all)")
	route := fs.String("route", "", "only this route's deliveries (implies --all)")
	class := fs.String("class", "", "only deliveries whose last attempt failed with these classes, comma-separated: 5xx, 4xx, 429, timeout, connection, … (implies --all)")
	since := fs.String("since", "", "only deliveries created at or after this RFC 3339 time or this long ago (24h) (implies --all)")
	until := fs.String("until", "", "only deliveries created before this RFC 3339 time or this long ago (implies --all)")
	state := fs.String("state", "dead", "replay deliveries in these terminal states, comma-separated: dead, cancelled, succeeded")
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
	filtered := *dest != "" || *route != "" || *class != "" || *since != "" || *until != ""
	if filtered && len(ids) == 0 {
		*all = true
	}
	switch {
	case (*all || filtered) && len(ids) > 0:
		return errors.New("give delivery ids or a filter (--all, --destination, --class, …), not both")
	case !*all && len(ids) == 0:
		return errors.New("give the delivery ids to replay, or --all, or a filter")
	}
	q := api.DeliveryQuery{Destination: *dest, Route: *route, ErrorClasses: splitList(*class), States: splitList(*state)}
	// Times are fixed once, so the count and the pages see the same window.
	now := time.Now()
	if q.Since, err = cliTime("--since", *since, now); err != nil {
		return err
	}
	if q.Until, err = cliTime("--until", *until, now); err != nil {
		return err
	}
	c, err := af.client(e)
	if err != nil {
		return err
	}
	p := newPacer(rate)
	var res api.ReplayResult
	if *all {
		res, err = replayAll(ctx, e, c, p, q, *dryRun)
	} else {
		res, err = replayIDs(ctx, c, p, ids, q.States, *dryRun)
	}
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, res)
	}
	switch {
	case res.DryRun:
		fmt.Fprintf(e.stdout, "dry run: %d %s deliveries would be replayed\n", res.Matched, *state)
	case *all:
		fmt.Fprintf(e.stdout, "replayed %d %s deliveries\n", res.Replayed, *state)
	default:
		fmt.Fprintf(e.stdout, "replayed %d of %d (ids not in state %s are skipped)\n", res.Replayed, len(ids), *state)
	}
	return nil
}

// replayIDs replays the given ids in paced chunks.
func replayIDs(ctx context.Context, c *api.Client, p *pacer, ids, states []string, dryRun bool) (api.ReplayResult, error) {
	res := api.ReplayResult{DryRun: dryRun}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), p.chunk)]
		ids = ids[len(chunk):]
		if !dryRun {
			if err := p.wait(ctx, len(chunk)); err != nil {
				return res, err
			}
		}
		r, err := c.DLQReplay(ctx, api.ReplayRequest{IDs: chunk, States: states, DryRun: dryRun})
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
	res, err := c.DLQReplay(ctx, api.ReplayRequest{All: true, Destination: q.Destination, Route: q.Route,
		ErrorClasses: q.ErrorClasses, Since: wireTime(q.Since), Until: wireTime(q.Until), States: q.States, DryRun: true})
	if err != nil || dryRun || res.Matched == 0 {
		return res, err
	}
	res.DryRun = false
	fmt.Fprintf(e.stderr, "replaying %d deliveries at up to %s/s\n", res.Matched, strconv.FormatFloat(p.rate, 'f', -1, 64))
	q.Limit = api.MaxReplayIDs
	for {
		page, err := c.Deliveries(ctx, q)
		if err != nil {
			return res, fmt.Errorf("after replaying %d: %w", res.Replayed, err)
		}
		ids := make([]string, len(page.Deliveries))
		for i, d := range page.Deliveries {
			ids[i] = d.ID
		}
		r, err := replayIDs(ctx, c, p, ids, q.States, false)
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

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cliTime reads an RFC 3339 time or a duration meaning that long before now.
func cliTime(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s: want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (24h), got %q", flag, s)
}

func wireTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
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
