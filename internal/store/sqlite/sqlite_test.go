package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/store/storetest"
)

// openStore opens a fresh store in the test's temporary directory.
func openStore(t *testing.T) store.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore)
}

func TestDriftConformance(t *testing.T) {
	storetest.RunDrift(t, openStore)
}

func TestKVConformance(t *testing.T) { storetest.RunKV(t, openStore) }

func TestConsoleSessionsConformance(t *testing.T) { storetest.RunConsoleSessions(t, openStore) }

func TestReconcileConformance(t *testing.T) { storetest.RunReconcile(t, openStore) }

func TestAdminConformance(t *testing.T) {
	storetest.RunAdmin(t, openStore)
}
