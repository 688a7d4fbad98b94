package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/webhook"
)

// TestNodeOnPostgres runs a whole node with storage.driver postgres: a
// signed webhook is stored and delivered, and a duplicate is recognised.
func TestNodeOnPostgres(t *testing.T) {
	base := os.Getenv("HOOKYARD_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("HOOKYARD_TEST_POSTGRES_URL not set: skipping the PostgreSQL node test")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("hy_node_%d", time.Now().UnixNano())
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-registered first: stop the node, drop the schema,
	// then close this connection.
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	sk := newSink(t, nil)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hookyard.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  shutdown_timeout: 2s
  allow_private: [127.0.0.1]
storage:
  driver: postgres
  dsn: "%s"
admin:
  tokens: [{name: ops, token: %s, role: admin}]
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
%s
routes:
  - {source: shop, destination: oms}
`, u.String(), adminToken, testSecret, httpDest("oms", sk.srv.URL, ""))), 0o600)
	cfg, err := loadConfig(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	nctx, cancel := context.WithCancel(ctx)
	srv, err := startServer(nctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.wait() })
	n := &node{server: srv, cancel: cancel}
	_, ack := post(t, n.ingestURL("shop"), orderBody(1), "pg-1")
	id, dup := decodeAck(t, ack)
	if dup {
		t.Fatal("first copy reported as duplicate")
	}
	got := sk.next(t)
	if got.header.Get("Hookyard-Event-Id") != id {
		t.Fatalf("delivered %q, want event %s", got.header.Get("Hookyard-Event-Id"), id)
	}
	_, ack = post(t, n.ingestURL("shop"), orderBody(1), "pg-1")
	if id2, dup := decodeAck(t, ack); !dup || id2 != id {
		t.Fatalf("duplicate: %s %v", id2, dup)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := srv.store.DeliveryGet(ctx, "dlv_"+id[len("evt_"):]+".0")
		if err == nil && d.State == webhook.StateSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery state: %+v %v", d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
