package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/alert"
	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/verify"
)

// TestAlertsAcrossNodeRestart: a real node on a SQLite file fires an
// incident and is stopped; started again on the same file, GET
// /api/v1/alerts lists the same incident (same start), and Slack got one
// firing message in all.
func TestAlertsAcrossNodeRestart(t *testing.T) {
	slack := newSink(t, nil)
	sk := newSink(t, nil)
	dir := t.TempDir()
	testNodeConfig(t, dir, `admin:
  tokens:
    - {name: ops, token: %s, role: admin}
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
alerts:
  - {name: oncall, type: slack, url: %q}
destinations:
%s
routes:
  - {source: shop, destination: oms}
`, adminToken, testSecret, slack.srv.URL+"/services/T0/B0/X", httpDest("oms", sk.srv.URL, ""))
	path := filepath.Join(dir, "hookyard.yaml")
	start := func() (*server, *api.Client, func()) {
		t.Helper()
		cfg, err := config.Load(path, func(string) string { return "" }, config.Options{Providers: verify.Names()})
		if err != nil {
			t.Fatal(err)
		}
		srv, cancel := serveTest(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		stop := func() {
			cancel()
			if err := srv.wait(); err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		}
		return srv, &api.Client{BaseURL: "http://" + srv.adminAddr, Token: adminToken, HTTP: http.DefaultClient}, stop
	}
	firing := func(c *api.Client) []api.Alert {
		t.Helper()
		l, err := c.Alerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return l.Firing
	}

	srv, client, stop := start()
	srv.alerts.engine.Event(alert.EventDestinationDisabled, "oms", "410 Gone")
	first := slack.next(t)
	if !strings.Contains(string(first.body), "FIRING") || !strings.Contains(string(first.body), "destination-disabled/oms") {
		t.Fatalf("slack got %s", first.body)
	}
	before := firing(client)
	if len(before) != 1 {
		t.Fatalf("firing before the restart: %+v", before)
	}
	stop()

	_, client, stop = start()
	defer stop()
	// The restarted node loads the incidents on its first evaluation, at
	// start.
	var after []api.Alert
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if after = firing(client); len(after) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(after) != 1 || after[0].Key != before[0].Key || !after[0].StartedAt.Equal(before[0].StartedAt) {
		t.Fatalf("firing after the restart: %+v, want %+v", after, before)
	}
	// A second page would be a second stored notification (the node's
	// notifications are events of source hookyard:alerts).
	list, err := client.Events(context.Background(), api.EventQuery{Source: alert.Source})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Events) != 1 {
		t.Errorf("%d alert notifications stored, want the one firing", len(list.Events))
	}
	slack.mu.Lock()
	sent := len(slack.reqs)
	slack.mu.Unlock()
	if sent != 1 {
		t.Errorf("slack got %d messages, want 1", sent)
	}
}
