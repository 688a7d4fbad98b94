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

var (
	_ store.Tokens = (*Store)(nil)
	_ store.Audit  = (*Store)(nil)
)

// TokenCreate implements store.Tokens.
func (s *Store) TokenCreate(ctx context.Context, t store.Token) error {
	taken := false
	err := s.write(ctx, 256, func(ctx context.Context) error {
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE name = ?`, t.Name).Scan(&n); err != nil {
			return err
		}
		if taken = n > 0; taken {
			return nil
		}
		_, err := s.w.ExecContext(ctx, `INSERT INTO api_tokens (`+store.TokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.Role, t.Digest[:], store.Micros(t.CreatedAt), t.CreatedBy, store.Micros(t.ExpiresAt),
			store.Micros(t.LastUsedAt), store.Micros(t.RevokedAt))
		return err
	})
	if err == nil && taken {
		return fmt.Errorf("token name %q: %w", t.Name, store.ErrTokenNameTaken)
	}
	return err
}

// TokenGet implements store.Tokens.
func (s *Store) TokenGet(ctx context.Context, id string) (store.Token, error) {
	t, err := store.ScanToken(s.rdb.QueryRowContext(ctx, `SELECT `+store.TokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if err != nil {
		return store.Token{}, notFound(err, "token "+id)
	}
	return t, nil
}

// TokenList implements store.Tokens.
func (s *Store) TokenList(ctx context.Context) ([]store.Token, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+store.TokenColumns+` FROM api_tokens ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := store.ScanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TokenRevoke implements store.Tokens.
func (s *Store) TokenRevoke(ctx context.Context, id string, at time.Time) (store.Token, error) {
	err := s.write(ctx, 64, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`,
			store.Micros(at), id)
		return err
	})
	if err != nil {
		return store.Token{}, err
	}
	return s.TokenGet(ctx, id)
}

// TokenTouch implements store.Tokens.
func (s *Store) TokenTouch(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, 64, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
			store.Micros(at), id, store.Micros(at))
		return err
	})
}

// AuditAppend implements store.Audit. The single writer serializes
// appends, so reading the chain's head and inserting after it is atomic.
func (s *Store) AuditAppend(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	var out store.AuditEntry
	err := s.write(ctx, 512, func(ctx context.Context) error {
		var seq int64
		var prev string
		err := s.w.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if errors.Is(err, sql.ErrNoRows) {
			// An empty log continues from retention's anchor, if any.
			a, aerr := auditAnchor(ctx, s.w)
			seq, prev, err = a.Seq, a.Hash, aerr
		}
		if err != nil {
			return err
		}
		out = store.SealAudit(e, seq+1, prev)
		_, err = s.w.ExecContext(ctx, `INSERT INTO audit_log (`+store.AuditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			out.Seq, store.Micros(out.At), out.Actor, out.Role, out.Action, out.Target, out.RequestID, out.Outcome,
			out.Status, out.Detail, out.PrevHash, out.Hash)
		return err
	})
	return out, err
}

// AuditList implements store.Audit.
func (s *Store) AuditList(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, string, error) {
	cursor, err := store.AuditCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := store.PageLimit(f.Limit)
	w := &where{}
	order := store.AuditWhere(f, cursor, w.add)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+store.AuditColumns+` FROM audit_log`+w.sql()+` ORDER BY seq `+order+
		` LIMIT `+itoa(limit+1), w.args...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		e, err := store.ScanAudit(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := store.Page(out, limit, func(e *store.AuditEntry) string { return fmt.Sprint(e.Seq) })
	return out, next, nil
}

// AuditPrune implements store.Audit.
func (s *Store) AuditPrune(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := s.write(ctx, 256, func(ctx context.Context) error {
		n = 0
		anchor, err := auditAnchor(ctx, s.w)
		if err != nil {
			return err
		}
		rows, err := s.w.QueryContext(ctx, `SELECT `+store.AuditColumns+` FROM audit_log
			WHERE seq < (SELECT max(seq) FROM audit_log) ORDER BY seq LIMIT ?`, limit)
		if err != nil {
			return err
		}
		var es []store.AuditEntry
		for rows.Next() {
			e, err := store.ScanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			es = append(es, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		k, next, err := store.AuditPrunePrefix(anchor, es, before)
		if err != nil || k == 0 {
			return err
		}
		if _, err := s.w.ExecContext(ctx, `DELETE FROM audit_log WHERE seq <= ?`, next.Seq); err != nil {
			return err
		}
		if _, err := s.w.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
			store.AuditAnchorKey, next.String()); err != nil {
			return err
		}
		n = k
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrAuditBroken) {
		err = fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	return n, err
}

// AuditAnchor implements store.Audit.
func (s *Store) AuditAnchor(ctx context.Context) (store.AuditAnchor, error) {
	a, err := auditAnchor(ctx, s.rdb)
	if err != nil {
		return a, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	return a, nil
}

func auditAnchor(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (store.AuditAnchor, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = ?`, store.AuditAnchorKey).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.AuditAnchor{}, nil
	case err != nil:
		return store.AuditAnchor{}, err
	}
	return store.ParseAuditAnchor(v)
}
