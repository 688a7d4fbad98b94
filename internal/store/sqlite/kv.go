package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.KV = (*Store)(nil)

// KVGet implements store.KV.
func (s *Store) KVGet(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = ?`, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	return v, true, nil
}

// KVPut implements store.KV.
func (s *Store) KVPut(ctx context.Context, key, value string) error {
	return s.write(ctx, len(key)+len(value)+64, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
			key, value)
		return err
	})
}
