package main

import (
	"context"
	"fmt"

	"github.com/hookyard/hookyard/internal/api"
)

func cmdTokens(ctx context.Context, e *env, args []string) error {
	return runSubcommand(ctx, e, "tokens",
		"tokens create --name N --role R [--expires-in 720h] | tokens list | tokens revoke ID",
		[]subcommand{{"create", tokensCreate}, {"list", tokensList}, {"revoke", tokensRevoke}}, args)
}

func tokensCreate(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "tokens create", "tokens create --name N --role viewer|operator|admin [--expires-in 720h]")
	name := fs.String("name", "", "the token's name, shown in the audit log (required)")
	role := fs.String("role", "", "viewer, operator or admin (required)")
	expires := fs.String("expires-in", "", "lifetime as a duration (default 2160h = 90 days, at most 8784h)")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	if *name == "" || *role == "" {
		fs.Usage()
		return fmt.Errorf("tokens create: --name and --role are required")
	}
	c, err := af.client(e)
	if err != nil {
		return err
	}
	t, err := c.CreateToken(ctx, api.TokenRequest{Name: *name, Role: *role, ExpiresIn: *expires})
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, t)
	}
	// The token goes alone on stdout (so `$(hookyard tokens create …)`
	// captures it); the explanation goes to stderr.
	fmt.Fprintf(e.stderr, "created token %s (%s, role %s, expires %s); it is shown only this once:\n",
		t.ID, t.Name, t.Role, stamp(t.ExpiresAt))
	fmt.Fprintln(e.stdout, t.Token)
	return nil
}

func tokensList(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "tokens list", "tokens list [--json]")
	_, c, err := af.connect(e, fs, args, 0)
	if err != nil {
		return err
	}
	l, err := c.Tokens(ctx)
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, l)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tSOURCE\tSTATE\tCREATED\tBY\tEXPIRES\tLAST USED")
	for _, t := range l.Tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(t.ID), t.Name, t.Role, t.Source, t.State,
			stamp(t.CreatedAt), dash(t.CreatedBy), stamp(t.ExpiresAt), stamp(t.LastUsedAt))
	}
	return tw.Flush()
}

func tokensRevoke(ctx context.Context, e *env, args []string) error {
	fs, af := adminFlagSet(e, "tokens revoke", "tokens revoke ID")
	pos, c, err := af.connect(e, fs, args, 1)
	if err != nil {
		return err
	}
	t, err := c.RevokeToken(ctx, pos[0])
	if err != nil {
		return err
	}
	if *af.json {
		return printJSON(e.stdout, t)
	}
	fmt.Fprintf(e.stdout, "revoked token %s (%s) at %s\n", t.ID, t.Name, stamp(t.RevokedAt))
	return nil
}
