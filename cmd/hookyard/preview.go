package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// cmdPreview runs a route's stages on an event file without sending.
func cmdPreview(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "preview", "preview --config FILE --route NAME [--topic T] EVENT.json")
	path := fs.String("config", "hookyard.yaml", "config file")
	name := fs.String("route", "", "route to run")
	topic := fs.String("topic", "", "the event's topic (as the provider would send it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() != 1 {
		return errors.New("give --route NAME and one event file (- for standard input)")
	}
	cfg, err := loadConfig(*path, e.getenv)
	if err != nil {
		return err
	}
	table, err := buildRoutes(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	r, ok := table.Route(*name)
	if !ok {
		return fmt.Errorf("--route: no route named %q in %s", *name, *path)
	}
	var body []byte
	if fs.Arg(0) == "-" {
		body, err = io.ReadAll(e.stdin)
	} else {
		body, err = os.ReadFile(fs.Arg(0))
	}
	if err != nil {
		return err
	}
	provider := ""
	if src, ok := cfg.Source(r.Source); ok {
		provider = src.Provider
	}
	now := time.Now()
	ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: r.Source, Provider: provider, Topic: *topic,
		ReceivedAt: now, Headers: http.Header{"Content-Type": {"application/json"}}, Body: body}
	st, err := table.Preview(ctx, *name, ev)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}
