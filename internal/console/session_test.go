package console

import (
	"context"
	"database/sql"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/hookyard/hookyard/internal/store/sqlite"
)

// TestSessionsShared: a login stored through one node's sessions is found
// by another's (and after a restart) over the same database, a logout on
// either ends it everywhere, and the database holds neither the token nor
// the cookie's id.
func TestSessionsShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookyard.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	nodeA := &sessions{store: st, ttl: time.Hour, max: 10, now: clock}
	nodeB := &sessions{store: st, ttl: time.Hour, max: 10, now: clock}
	req := func(id string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "/console/", nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
		return r
	}
	get := func(s *sessions, id string) *session {
		t.Helper()
		sess, err := s.get(req(id))
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	const token = "hyt_0123456789abcdef_secret-token-value"
	id, err := nodeA.create(context.Background(), token, "oncall", "operator")
	if err != nil {
		t.Fatal(err)
	}
	a, b := get(nodeA, id), get(nodeB, id)
	if a == nil || b == nil || *a != *b || a.token != token || a.name != "oncall" || a.role != "operator" ||
		a.csrf == "" || a.csrf == id {
		t.Fatalf("node A sees %+v, node B %+v", a, b)
	}
	if get(nodeB, "not-a-session") != nil || get(nodeB, id+"x") != nil {
		t.Error("an unknown cookie found a session")
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dump string
	if err := db.QueryRow(`SELECT id_hash || ' ' || hex(sealed) || ' ' || CAST(sealed AS TEXT) || ' ' || name FROM console_sessions`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{token, id, strings.ToUpper(hex.EncodeToString([]byte(token)))} {
		if strings.Contains(dump, secret) {
			t.Errorf("the stored session holds %q: %s", secret, dump)
		}
	}

	// A row copied under another id does not open: the seal is bound to
	// the id the browser holds.
	other, err := nodeA.create(context.Background(), "another-token", "dash", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE console_sessions SET sealed = (SELECT sealed FROM console_sessions WHERE name = 'oncall'),
		role = 'admin' WHERE id_hash = ?`, idHash(other)); err != nil {
		t.Fatal(err)
	}
	if s := get(nodeA, other); s != nil {
		t.Errorf("a transplanted row opened: %+v", s)
	}

	if err := nodeB.drop(req(id)); err != nil {
		t.Fatal(err)
	}
	if get(nodeA, id) != nil {
		t.Error("a logout on node B left the session alive on node A")
	}

	// The role is sealed with the token: a row edited to a higher role
	// does not open.
	third, err := nodeA.create(context.Background(), "third-token", "dash", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE console_sessions SET role = 'admin' WHERE id_hash = ?`, idHash(third)); err != nil {
		t.Fatal(err)
	}
	if s := get(nodeA, third); s != nil {
		t.Errorf("a row with an edited role opened: %+v", s)
	}
	fourth, err := nodeA.create(context.Background(), "fourth-token", "dash", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if get(nodeA, fourth) != nil {
		t.Error("an expired session was found")
	}
}

// BenchmarkSessionLookup is what every console page now pays to find its
// session: one primary-key read of console_sessions and an AES-GCM open.
func BenchmarkSessionLookup(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := &sessions{store: st, ttl: time.Hour, max: 10000, now: time.Now}
	var id string
	for range 1000 { // a realistic number of other sessions
		if id, err = s.create(context.Background(), "hyt_0123456789abcdef_token", "oncall", "operator"); err != nil {
			b.Fatal(err)
		}
	}
	r, _ := http.NewRequest(http.MethodGet, "/console/", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
	for b.Loop() {
		if sess, err := s.get(r); err != nil || sess == nil {
			b.Fatal(sess, err)
		}
	}
}
