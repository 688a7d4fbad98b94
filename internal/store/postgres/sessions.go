package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
)

var _ store.ConsoleSessions = (*Store)(nil)

// SessionCreate implements store.ConsoleSessions.
func (s *Store) SessionCreate(ctx context.Context, cs store.ConsoleSession, now time.Time, max int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, store.Micros(now)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM console_sessions`).Scan(&n); err != nil {
			return err
		}
		if over := n - max + 1; over > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE id_hash IN (
				SELECT id_hash FROM console_sessions ORDER BY expires_at, id_hash LIMIT $1)`, over); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO console_sessions (`+store.SessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			text(cs.IDHash), cs.Sealed, text(cs.Name), text(cs.Role), store.Micros(cs.CreatedAt), store.Micros(cs.ExpiresAt))
		return err
	})
	return s.unavailable("session create", err)
}

// SessionGet implements store.ConsoleSessions.
func (s *Store) SessionGet(ctx context.Context, idHash string, now time.Time) (store.ConsoleSession, bool, error) {
	cs, err := store.ScanSession(s.pool.QueryRow(ctx,
		`SELECT `+store.SessionColumns+` FROM console_sessions WHERE id_hash = $1 AND expires_at > $2`, text(idHash), store.Micros(now)))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ConsoleSession{}, false, nil
	case err != nil:
		return store.ConsoleSession{}, false, s.unavailable("session get", err)
	}
	return cs, true, nil
}

// SessionDelete implements store.ConsoleSessions.
func (s *Store) SessionDelete(ctx context.Context, idHash string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = $1`, text(idHash))
	return s.unavailable("session delete", err)
}
