package main

import (
	"context"
	"fmt"
	"strings"
)

func cmdDrift(ctx context.Context, e *env, args []string) error {
	return runSubcommand(ctx, e, "drift", "drift list [--source S] [--topic T] | drift freeze --source S --topic T",
		[]subcommand{{"list", driftList}, {"freeze", driftFreeze}}, args)
}

// driftList prints each tracked (source, topic) and the paths that drifted
// from its baseline.
func driftList(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "drift list", "drift list [--source S] [--topic T]")
	source := fs.String("source", "", "only this source")
	topic := fs.String("topic", "", "only this topic")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	l, err := c.Drift(ctx, *source, *topic)
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, l)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "SOURCE\tTOPIC\tSTATE\tEVENTS\tBASELINE\tDRIFT")
	for _, r := range l.Streams {
		state := "learning"
		if r.Frozen {
			state = "frozen"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", r.Source, dash(r.Topic), state, r.Events, r.BaselineEvents, len(r.Changes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range l.Streams {
		if len(r.Changes) == 0 {
			continue
		}
		fmt.Fprintf(e.stdout, "\n%s %s:\n", r.Source, dash(r.Topic))
		tw := newTable(e.stdout)
		fmt.Fprintln(tw, "PATH\tKIND\tTYPE\tBASELINE TYPES\tEVENTS\tEXAMPLE")
		for _, ch := range r.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", ch.Path, ch.Kind, dash(ch.Type),
				dash(strings.Join(ch.BaselineTypes, ",")), ch.Count, dash(ch.Example))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// driftFreeze accepts a stream's drift: everything seen so far becomes its
// baseline.
func driftFreeze(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "drift freeze", "drift freeze --source S --topic T")
	source := fs.String("source", "", "the source (required)")
	topic := fs.String("topic", "", "the topic (empty for a source without topics)")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	if *source == "" {
		return fmt.Errorf("drift freeze: --source is required")
	}
	r, err := c.DriftFreeze(ctx, *source, *topic)
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, r)
	}
	_, err = fmt.Fprintf(e.stdout, "%s %s: baseline frozen at %d events (%d paths)\n", r.Source, dash(r.Topic),
		r.BaselineEvents, r.Paths)
	return err
}
