package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.ConsoleSessions = (*Store)(nil)

// SessionCreate implements store.ConsoleSessions.
func (s *Store) SessionCreate(ctx context.Context, cs store.ConsoleSession, now time.Time, max int) error {
	return s.write(ctx, len(cs.Sealed)+256, func(ctx context.Context) error {
		if _, err := s.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= ?`, store.Micros(now)); err != nil {
			return err
		}
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM console_sessions`).Scan(&n); err != nil {
			return err
		}
		if over := n - max + 1; over > 0 {
			if _, err := s.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash IN (
				SELECT id_hash FROM console_sessions ORDER BY expires_at, id_hash LIMIT ?)`, over); err != nil {
				return err
			}
		}
		_, err := s.w.ExecContext(ctx, `INSERT INTO console_sessions (`+store.SessionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			cs.IDHash, cs.Sealed, cs.Name, cs.Role, store.Micros(cs.CreatedAt), store.Micros(cs.ExpiresAt))
		return err
	})
}

// SessionGet implements store.ConsoleSessions.
func (s *Store) SessionGet(ctx context.Context, idHash string, now time.Time) (store.ConsoleSession, bool, error) {
	cs, err := store.ScanSession(s.rdb.QueryRowContext(ctx,
		`SELECT `+store.SessionColumns+` FROM console_sessions WHERE id_hash = ? AND expires_at > ?`, idHash, store.Micros(now)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ConsoleSession{}, false, nil
	case err != nil:
		return store.ConsoleSession{}, false, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	return cs, true, nil
}

// SessionDelete implements store.ConsoleSessions.
func (s *Store) SessionDelete(ctx context.Context, idHash string) error {
	return s.write(ctx, 128, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, idHash)
		return err
	})
}
