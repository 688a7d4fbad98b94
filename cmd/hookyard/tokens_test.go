package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/store/sqlite"
)

const rootToken = "cli-admin-token-0123456789"

// adminNode is a real SQLite store behind the real admin API with one
// config token of role admin.
type adminNode struct {
	path string
	url  string
}

func newAdminNode(t *testing.T) *adminNode {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hookyard.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Store: st,
		Tokens: []config.Token{{Name: "root", Token: rootToken, Role: "admin"}}}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &adminNode{path: path, url: srv.URL}
}

// cli runs the real program with token and returns stdout and stderr.
func (n *adminNode) cli(t *testing.T, token string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"HOOKYARD_TOKEN": token, "HOOKYARD_ADMIN_URL": n.url}[k]
	}
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestTokensAndAuditCLI(t *testing.T) {
	n := newAdminNode(t)
	out, stderr, err := n.cli(t, rootToken, "tokens", "create", "--name", "dash", "--role", "viewer", "--expires-in", "24h")
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out)
	if !strings.HasPrefix(tok, "hyt_") || strings.Count(out, "\n") != 1 || !strings.Contains(stderr, "shown only this once") {
		t.Fatalf("tokens create: stdout %q stderr %q", out, stderr)
	}
	// The new token works, with its role: it may read but not manage tokens.
	if out, _, err := n.cli(t, tok, "events", "list"); err != nil || !strings.Contains(out, "ID") {
		t.Fatalf("events list with the new token: %q, %v", out, err)
	}
	if _, _, err := n.cli(t, tok, "tokens", "list"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("viewer token listed tokens: %v", err)
	}

	out, _, err = n.cli(t, rootToken, "tokens", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var l api.TokenList
	if err := json.Unmarshal([]byte(out), &l); err != nil || len(l.Tokens) != 2 || strings.Contains(out, tok) {
		t.Fatalf("tokens list = %s, %v", out, err)
	}
	id := l.Tokens[1].ID
	if l.Tokens[1].Name != "dash" || l.Tokens[1].LastUsedAt.IsZero() || l.Tokens[0].Source != "config" {
		t.Errorf("tokens list = %+v", l.Tokens)
	}
	out, _, err = n.cli(t, rootToken, "tokens", "revoke", id)
	if err != nil || !strings.Contains(out, "revoked token "+id) {
		t.Fatalf("tokens revoke = %q, %v", out, err)
	}
	if _, _, err := n.cli(t, tok, "events", "list"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("revoked token still works: %v", err)
	}

	out, _, err = n.cli(t, rootToken, "audit", "list", "--actor", "root")
	if err != nil || !strings.Contains(out, "POST /api/v1/tokens") || !strings.Contains(out, "DELETE /api/v1/tokens/{id}") {
		t.Fatalf("audit list = %q, %v", out, err)
	}
	out, stderr, err = n.cli(t, rootToken, "audit", "export")
	if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(stderr, "exported 2 entries") {
		t.Fatalf("audit export = %q %q, %v", out, stderr, err)
	}
	var first api.AuditEntry
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &first); err != nil || first.Seq != 1 ||
		first.Action != "POST /api/v1/tokens" || first.Outcome != "ok" {
		t.Fatalf("first exported entry = %+v, %v", first, err)
	}
	out, _, err = n.cli(t, rootToken, "audit", "verify")
	if err != nil || !strings.HasPrefix(out, "ok: 2 entries") {
		t.Fatalf("audit verify = %q, %v", out, err)
	}

	// Someone with database access rewrites who revoked the token.
	db, err := sql.Open("sqlite", "file:"+n.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'nobody' WHERE action LIKE 'DELETE%'`); err != nil {
		t.Fatal(err)
	}
	out, _, err = n.cli(t, rootToken, "audit", "verify")
	if !errors.Is(err, errAuditBroken) || !strings.Contains(out, "BROKEN at entry 2") {
		t.Fatalf("audit verify after tampering = %q, %v", out, err)
	}

	for _, args := range [][]string{
		{"tokens", "create", "--name", "x"},
		{"tokens", "create", "--name", "x", "--role", "root"},
		{"tokens", "revoke"},
		{"audit", "nope"},
	} {
		if _, _, err := n.cli(t, rootToken, args...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
}

func TestEventsSearchCLI(t *testing.T) {
	a := newAdminAPI(t)
	first := a.event(t, "shop", `{}`, "oms")  // dedup key wh-1
	second := a.event(t, "shop", `{}`, "crm") // wh-2
	a.event(t, "shop", `{}`, "oms")           // wh-3
	a.kill(t, "crm")
	out, err := a.cli(t, "events", "list", "--q", "wh-1")
	if err != nil || !strings.Contains(out, first) || strings.Count(out, "\n") != 2 {
		t.Errorf("events list --q wh-1:\n%s (%v)", out, err)
	}
	out, err = a.cli(t, "events", "list", "--state", "dead")
	if err != nil || !strings.Contains(out, second) || strings.Count(out, "\n") != 2 {
		t.Errorf("events list --state dead:\n%s (%v)", out, err)
	}
	if _, err := a.cli(t, "events", "list", "--state", "zombie"); err == nil || !strings.Contains(err.Error(), "state") {
		t.Errorf("--state zombie: %v", err)
	}
}
