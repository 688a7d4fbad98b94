package main

import (
	"context"
	"fmt"
	"time"
)

func cmdDestinations(ctx context.Context, e *env, args []string) error {
	return runSubcommand(ctx, e, "destinations", "destinations list | destinations pause|resume|enable NAME [--reason TEXT]",
		[]subcommand{{"list", destinationsList},
			{"pause", destinationAction("pause")}, {"resume", destinationAction("resume")}, {"enable", destinationAction("enable")}}, args)
}

func destinationsList(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "destinations list", "destinations list")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	list, err := c.Destinations(ctx)
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, list)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "NAME\tSTATUS\tSINCE\tBREAKER\tFAILING SINCE\tREASON")
	for _, d := range list.Destinations {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Status, optStamp(d.Since), d.Breaker,
			optStamp(d.FailingSince), dash(clip(d.Reason, 80)))
	}
	return tw.Flush()
}

// destinationAction is pause, resume or enable: one POST, and the
// destination's status after it.
func destinationAction(action string) func(ctx context.Context, e *env, args []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		fs, af := adminFlagSet(e, "destinations "+action, "destinations "+action+" NAME [--reason TEXT]")
		reason := fs.String("reason", "", "why (recorded with a pause, shown by list)")
		pos, c, err := af.connect(e, fs, args, 1)
		if err != nil {
			return err
		}
		d, err := c.DestinationAction(ctx, pos[0], action, *reason)
		if err != nil {
			return err
		}
		if *af.json {
			return printJSON(e.stdout, d)
		}
		_, err = fmt.Fprintf(e.stdout, "%s is %s\n", d.Name, d.Status)
		return err
	}
}

func optStamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(*t)
}
