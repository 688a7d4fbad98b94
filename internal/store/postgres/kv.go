package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
)

var _ store.KV = (*Store)(nil)

// KVGet implements store.KV.
func (s *Store) KVGet(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT v FROM kv WHERE k = $1`, text(key)).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, s.unavailable("kv get", err)
	}
	return v, true, nil
}

// KVPut implements store.KV.
func (s *Store) KVPut(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
		text(key), text(value))
	return s.unavailable("kv put", err)
}
