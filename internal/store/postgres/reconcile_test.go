package postgres_test

import (
	"context"
	"testing"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/store/storetest"
)

func TestReconcileConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.RunReconcile(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), schemaDSN(t), postgres.Config{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
