package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hookyard/hookyard/internal/api"
)

// The helpers in this file are shared by every admin API subcommand
// (events, dlq): subcommand dispatch, the flags and client, and output.

// subcommand is one verb of an admin API command ("dlq list").
type subcommand struct {
	name string
	run  func(ctx context.Context, e *env, args []string) error
}

// runSubcommand runs the one of subs that args[0] names; usageLine lists
// them all for help.
func runSubcommand(ctx context.Context, e *env, cmd, usageLine string, subs []subcommand, args []string) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	want := strings.Join(names, " or ")
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: hookyard", usageLine)
		return fmt.Errorf("%s: give a subcommand: %s", cmd, want)
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stderr, "usage: hookyard", usageLine)
		return nil
	}
	return fmt.Errorf("%s: unknown subcommand %q (want %s)", cmd, args[0], want)
}

const defaultAdminURL = "http://127.0.0.1:8081"

// adminFlags are the flags every admin API subcommand takes.
type adminFlags struct {
	url  *string
	json *bool
}

// adminFlagSet returns the FlagSet of an admin API subcommand, with the
// flags every one takes already defined on it.
func adminFlagSet(e *env, name, usageLine string) (*flag.FlagSet, *adminFlags) {
	fs := newFlags(e, name, usageLine)
	return fs, &adminFlags{
		url: fs.String("url", cmp.Or(e.getenv("HOOKYARD_ADMIN_URL"), defaultAdminURL),
			"admin API base URL (default from HOOKYARD_ADMIN_URL)"),
		json: fs.Bool("json", false, "print the API's JSON instead of a table"),
	}
}

// connect parses args as parseArgs does and returns the positional
// arguments and a client. Subcommands that validate their arguments
// further call parseArgs and client themselves, so that a usage error is
// reported before a missing token.
func (a *adminFlags) connect(e *env, fs *flag.FlagSet, args []string, want int) ([]string, *api.Client, error) {
	pos, err := parseArgs(fs, args, want)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.client(e)
	if err != nil {
		return nil, nil, err
	}
	return pos, c, nil
}

// client returns an admin API client using the token in HOOKYARD_TOKEN;
// tokens never go on the command line, where ps and shell history see them.
func (a *adminFlags) client(e *env) (*api.Client, error) {
	tok := e.getenv("HOOKYARD_TOKEN")
	if tok == "" {
		return nil, errors.New("set HOOKYARD_TOKEN to an admin API token")
	}
	return &api.Client{BaseURL: *a.url, Token: tok, HTTP: &http.Client{Timeout: time.Minute}}, nil
}

// parseArgs parses flags that may come before or after the positional
// arguments ("dlq replay ID --dry-run") and checks that exactly want
// positional arguments were given (any number if want < 0).
func parseArgs(fs *flag.FlagSet, args []string, want int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...) // everything after -- is positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case want == 0 && len(pos) > 0:
		return nil, fmt.Errorf("unexpected argument %q", pos[0])
	case want > 0 && len(pos) != want:
		fs.Usage()
		return nil, fmt.Errorf("want %d argument(s), got %d", want, len(pos))
	}
	return pos, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// moreHint tells the operator how to get the next page, on stderr so that
// stdout stays a clean table.
func moreHint(e *env, next string) {
	if next != "" {
		fmt.Fprintf(e.stderr, "more: add --cursor %s\n", next)
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func cmpTime(a, b time.Time) time.Time {
	if a.IsZero() {
		return b
	}
	return a
}

func dash(s string) string { return cmp.Or(s, "-") }

// clip shortens s to n runes and keeps it on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
