package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/store/storetest"
)

// BenchmarkIngest: durable ingest (synchronous=FULL, group commit); NORMAL
// shows what durability costs.
func BenchmarkIngest(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), sqlite.Config{Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			storetest.BenchIngest(b, st)
		})
	}
}

// BenchmarkClaimComplete: the queue as the delivery engine drives it.
func BenchmarkClaimComplete(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), sqlite.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.BenchClaimComplete(b, st)
}
