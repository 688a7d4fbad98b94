package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/store/storetest"
)

func TestKVConformance(t *testing.T) {
	storetest.RunKV(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
