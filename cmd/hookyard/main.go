// Command hookyard is the webhook gateway: `hookyard serve` runs it; the
// other subcommands sign test webhooks, drive load, and operate a running
// instance through its admin API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hookyard:", err)
		}
		os.Exit(1)
	}
}

// env is what every subcommand gets from the process, injected so tests run
// the real program in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the gateway (ingest, delivery, admin API)", cmdServe},
		{"send", "sign a payload exactly as a provider would and POST it", cmdSend},
		{"bench", "drive signed load at a running instance and report latency", cmdBench},
		{"events", "list or show stored events (admin API)", cmdEvents},
		{"dlq", "list or replay dead-lettered deliveries (admin API)", cmdDLQ},
		{"destinations", "list, pause, resume or enable destinations (admin API)", cmdDestinations},
		{"tokens", "create, list or revoke admin API tokens (admin API)", cmdTokens},
		{"audit", "list, export or verify the admin audit log (admin API)", cmdAudit},
		{"drift", "list schema drift per source and topic, or accept it (admin API)", cmdDrift},
		{"reconcile", "compare a source with its provider's API and backfill gaps (admin API)", cmdReconcile},
		{"preview", "run a route's stages on an event file without sending", cmdPreview},
		{"migrate", "apply database migrations and exit", cmdMigrate},
		{"version", "print the version", cmdVersion},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hookyard <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'hookyard <command> -h' for a command's flags.")
}

func cmdVersion(_ context.Context, e *env, _ []string) error {
	_, err := fmt.Fprintln(e.stdout, "hookyard", version)
	return err
}

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(e *env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: hookyard %s\n\nflags:\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}
