package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

func cmdAudit(ctx context.Context, e *env, args []string) error {
	return runSubcommand(ctx, e, "audit", "audit list [flags] | audit export [flags] | audit verify",
		[]subcommand{{"list", auditList}, {"export", auditExport}, {"verify", auditVerify}}, args)
}

// auditFlags are the flags list and export share: the filters.
type auditFlags struct {
	fs                           *flag.FlagSet
	af                           *adminFlags
	actor, action, target, since *string
}

func newAuditFlags(e *env, name, usage string) *auditFlags {
	fs, af := adminFlagSet(e, name, usage)
	return &auditFlags{fs: fs, af: af,
		actor:  fs.String("actor", "", "only this token name"),
		action: fs.String("action", "", `only this action (a route, e.g. "POST /api/v1/dlq/replay")`),
		target: fs.String("target", "", "only this target (a delivery or token id)"),
		since:  fs.String("since", "", "only entries since this RFC 3339 time or duration ago (24h)"),
	}
}

func (q *auditFlags) query() (api.AuditQuery, error) {
	aq := api.AuditQuery{Actor: *q.actor, Action: *q.action, Target: *q.target}
	var err error
	aq.Since, err = parseSince(*q.since, time.Now())
	return aq, err
}

func auditList(ctx context.Context, e *env, args []string) error {
	q := newAuditFlags(e, "audit list", "audit list [--actor A] [--action X] [--target T] [--since 24h] [--limit N] [--cursor C]")
	limit := q.fs.Int("limit", 50, "entries per page (1-1000)")
	cursor := q.fs.String("cursor", "", "continue after a previous page")
	_, c, err := q.af.connect(e, q.fs, args, 0)
	if err != nil {
		return err
	}
	aq, err := q.query()
	if err != nil {
		return err
	}
	aq.Limit, aq.Cursor = *limit, *cursor
	l, err := c.Audit(ctx, aq)
	if err != nil {
		return err
	}
	if *q.af.json {
		return printJSON(e.stdout, l)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tROLE\tACTION\tTARGET\tOUTCOME\tDETAIL")
	for _, a := range l.Entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s %d\t%s\n", a.Seq, stamp(a.At), a.Actor, a.Role, a.Action,
			dash(a.Target), a.Outcome, a.Status, dash(clip(a.Detail, 60)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	moreHint(e, l.NextCursor)
	return nil
}

// auditExport writes every matching entry, oldest first, one JSON object
// per line, paging through the API.
func auditExport(ctx context.Context, e *env, args []string) error {
	q := newAuditFlags(e, "audit export", "audit export [--actor A] [--action X] [--target T] [--since 24h] > audit.jsonl")
	_, c, err := q.af.connect(e, q.fs, args, 0)
	if err != nil {
		return err
	}
	aq, err := q.query()
	if err != nil {
		return err
	}
	aq.Ascending, aq.Limit = true, 1000
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	n := 0
	for {
		l, err := c.Audit(ctx, aq)
		if err != nil {
			return err
		}
		for _, a := range l.Entries {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		n += len(l.Entries)
		if l.NextCursor == "" {
			fmt.Fprintf(e.stderr, "exported %d entries\n", n)
			return nil
		}
		aq.Cursor = l.NextCursor
	}
}

// errAuditBroken makes `audit verify` exit non-zero.
var errAuditBroken = errors.New("audit log verification failed")

func auditVerify(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "audit verify", "audit verify [--json]")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	v, err := c.AuditVerify(ctx)
	if err != nil {
		return err
	}
	if *af.json {
		if err := printJSON(e.stdout, v); err != nil {
			return err
		}
	} else if v.OK {
		fmt.Fprintf(e.stdout, "ok: %d entries, chain intact; head hash %s\n", v.Verified, v.HeadHash)
	} else {
		fmt.Fprintf(e.stdout, "BROKEN at entry %d: %s (%d entries before it verified)\n", v.FirstBadSeq, v.Problem, v.Verified)
	}
	if !v.OK {
		return errAuditBroken
	}
	return nil
}
