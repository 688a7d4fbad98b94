package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestDriftConformance(t *testing.T) {
	storetest.RunDrift(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestAdminConformance(t *testing.T) {
	storetest.RunAdmin(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
