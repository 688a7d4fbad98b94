package postgres_test

import (
	"context"
	"testing"

	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/store/storetest"
)

// BenchmarkIngest: durable ingest (synchronous_commit on, group commit);
// off shows what durability costs. Same body as the sqlite benchmark.
func BenchmarkIngest(b *testing.B) {
	for _, sync := range []string{"on", "off"} {
		b.Run("sync="+sync, func(b *testing.B) {
			st, err := postgres.Open(context.Background(), schemaDSN(b, "synchronous_commit", sync), postgres.Config{})
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
	st, err := postgres.Open(context.Background(), schemaDSN(b), postgres.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.BenchClaimComplete(b, st)
}
