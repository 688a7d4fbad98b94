package postgres_test

import (
	"context"
	"testing"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/store/storetest"
)

func TestKVConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.RunKV(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), schemaDSN(t), postgres.Config{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
