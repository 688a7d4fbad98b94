package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestOpenPathWithURICharacters: a path holding characters that mean
// something in a SQLite URI ('%', '?', '#') opens that very file.
func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "100% sure?#1")
	path := filepath.Join(dir, "hook%20yard.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &webhook.Event{ID: webhook.NewID("evt_", time.Now()), Source: "shop", Provider: "shopify", Topic: "orders/create",
		DedupKey: "d1", ReceivedAt: time.Now(), Body: []byte(`{}`)}
	if _, err := s.Ingest(context.Background(), ev, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at the configured path: %v", err)
	}
	s, err = sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EventGet(context.Background(), ev.ID); err != nil {
		t.Fatalf("reopened store lost the event: %v", err)
	}
}
