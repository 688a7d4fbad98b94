package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

func cmdEvents(ctx context.Context, e *env, args []string) error {
	return runSubcommand(ctx, e, "events", "events list [flags] | events show [flags] ID",
		[]subcommand{{"list", eventsList}, {"show", eventsShow}}, args)
}

func eventsList(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "events list", "events list [--source S] [--topic T] [--q ID] [--state S] [--since 1h] [--limit N] [--cursor C]")
	source := fs.String("source", "", "only events from this source")
	topic := fs.String("topic", "", "only events with this topic")
	query := fs.String("q", "", "find by a provider's id: the event id, or a dedup key (provider delivery id) prefix")
	state := fs.String("state", "", "only events with a delivery in this state (comma list: dead,pending)")
	since := fs.String("since", "", "only events received since this RFC 3339 time or duration ago (1h)")
	limit := fs.Int("limit", 50, "events per page (1-1000)")
	cursor := fs.String("cursor", "", "continue after a previous page")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	q := api.EventQuery{Source: *source, Topic: *topic, Q: *query, Cursor: *cursor, Limit: *limit}
	if *state != "" {
		q.States = strings.Split(*state, ",")
	}
	if q.Since, err = parseSince(*since, time.Now()); err != nil {
		return err
	}
	page, err := c.Events(ctx, q)
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, page)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tRECEIVED\tSOURCE\tTOPIC\tDEDUP KEY")
	for _, ev := range page.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ev.ID, stamp(ev.ReceivedAt), ev.Source, dash(ev.Topic),
			clip(ev.DedupKey, 40))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	moreHint(e, page.NextCursor)
	return nil
}

func eventsShow(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "events show", "events show [--json] ID")
	pos, c, err := af.connect(e, fs, args, 1)
	if err != nil {
		return err
	}
	ev, err := c.Event(ctx, pos[0])
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, ev)
	}
	return printEvent(e.stdout, &ev)
}

func printEvent(w io.Writer, ev *api.Event) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "id:\t%s\n", ev.ID)
	fmt.Fprintf(tw, "source:\t%s (%s)\n", ev.Source, ev.Provider)
	fmt.Fprintf(tw, "topic:\t%s\n", dash(ev.Topic))
	fmt.Fprintf(tw, "dedup key:\t%s\n", ev.DedupKey)
	fmt.Fprintf(tw, "received:\t%s\n", stamp(ev.ReceivedAt))
	if ev.TraceID != "" {
		fmt.Fprintf(tw, "trace id:\t%s\n", ev.TraceID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nheaders (signatures masked):")
	names := make([]string, 0, len(ev.Headers))
	for k := range ev.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range ev.Headers[k] {
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}

	switch {
	case ev.BodyMasked && len(ev.Body) == 0:
		fmt.Fprintf(w, "\nbody (%d bytes): withheld for this role (not JSON, so PII paths cannot be masked)\n", ev.BodySize)
	case ev.BodyMasked:
		fmt.Fprintf(w, "\nbody (%d bytes, %s, PII paths masked for this role):\n", ev.BodySize, ev.BodyEncoding)
	default:
		fmt.Fprintf(w, "\nbody (%d bytes, %s):\n", ev.BodySize, cmp.Or(ev.BodyEncoding, "empty"))
	}
	if err := printBody(w, ev); err != nil {
		return err
	}

	fmt.Fprintf(w, "\ndeliveries (%d):\n", len(ev.Deliveries))
	if len(ev.Deliveries) == 0 {
		return nil
	}
	if err := printDeliveries(w, ev.Deliveries, false); err != nil {
		return err
	}
	for _, d := range ev.Deliveries {
		if len(d.History) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nattempts of %s (%s, idempotency key %s):\n", d.ID, d.Destination, d.IdempotencyKey)
		tw := newTable(w)
		fmt.Fprintln(tw, "  #\tSTARTED\tSTATUS\tDURATION\tCLASS\tERROR")
		for _, a := range d.History {
			status := "-"
			if a.StatusCode != 0 {
				status = strconv.Itoa(a.StatusCode)
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", a.Number, stamp(a.StartedAt), status,
				time.Duration(a.DurationMS*float64(time.Millisecond)).Round(time.Microsecond), dash(a.ErrorClass),
				dash(clip(a.Error, 80)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// printBody shows a JSON body indented, text as is, and anything else as
// the base64 the API sent.
func printBody(w io.Writer, ev *api.Event) error {
	switch ev.BodyEncoding {
	case "":
		return nil
	case api.EncodingJSON:
		var buf bytes.Buffer
		if err := json.Indent(&buf, ev.Body, "  ", "  "); err != nil {
			return fmt.Errorf("event body: %w", err)
		}
		fmt.Fprintf(w, "  %s\n", buf.Bytes())
		return nil
	case api.EncodingBase64:
		var s string
		if err := json.Unmarshal(ev.Body, &s); err != nil {
			return fmt.Errorf("event body: %w", err)
		}
		fmt.Fprintf(w, "  (not UTF-8; base64) %s\n", s)
		return nil
	}
	b, err := ev.RawBody()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s\n", b)
	return nil
}

// printDeliveries writes a table of deliveries; dead adds the columns the
// dead-letter queue needs.
func printDeliveries(w io.Writer, ds []api.Delivery, dead bool) error {
	tw := newTable(w)
	if dead {
		fmt.Fprintln(tw, "ID\tEVENT\tDESTINATION\tROUTE\tATTEMPTS\tDEAD SINCE\tLAST ERROR")
	} else {
		fmt.Fprintln(tw, "ID\tDESTINATION\tROUTE\tSTATE\tATTEMPTS\tNEXT/DONE\tLAST ERROR")
	}
	for _, d := range ds {
		attempts := fmt.Sprintf("%d/%d", d.Attempts, d.MaxAttempts)
		lastErr := dash(clip(strings.TrimSpace(d.LastErrorClass+" "+d.LastError), 60))
		if dead {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.EventID, d.Destination, d.Route, attempts,
				stamp(d.CompletedAt), lastErr)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Destination, d.Route, d.State, attempts,
			stamp(cmpTime(d.NextAttemptAt, d.CompletedAt)), lastErr)
	}
	return tw.Flush()
}

// parseSince reads an RFC 3339 time or a duration ago.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since: want an RFC 3339 time or a duration such as 1h, got %q", s)
}
