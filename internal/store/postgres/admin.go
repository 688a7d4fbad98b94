package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookyard/hookyard/internal/store"
)

var (
	_ store.Tokens = (*Store)(nil)
	_ store.Audit  = (*Store)(nil)
)

// auditLock is the transaction advisory lock that serializes audit
// appends across nodes, so each reads the chain's true head.
const auditLock int64 = 0x686f6f6b61756474 // "hookaudt"

// TokenCreate implements store.Tokens.
func (s *Store) TokenCreate(ctx context.Context, t store.Token) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (`+store.TokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		text(t.ID), text(t.Name), text(t.Role), t.Digest[:], store.Micros(t.CreatedAt), text(t.CreatedBy),
		store.Micros(t.ExpiresAt), store.Micros(t.LastUsedAt), store.Micros(t.RevokedAt))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "api_tokens_name_key" {
		return fmt.Errorf("token name %q: %w", t.Name, store.ErrTokenNameTaken)
	}
	return s.unavailable("token create", err)
}

// TokenGet implements store.Tokens.
func (s *Store) TokenGet(ctx context.Context, id string) (store.Token, error) {
	t, err := store.ScanToken(s.pool.QueryRow(ctx, `SELECT `+store.TokenColumns+` FROM api_tokens WHERE id = $1`, text(id)))
	if err != nil {
		return store.Token{}, s.notFound(err, "token "+id)
	}
	return t, nil
}

// TokenList implements store.Tokens.
func (s *Store) TokenList(ctx context.Context) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.TokenColumns+` FROM api_tokens ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, s.unavailable("token list", err)
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
	return out, s.unavailable("token list", rows.Err())
}

// TokenRevoke implements store.Tokens.
func (s *Store) TokenRevoke(ctx context.Context, id string, at time.Time) (store.Token, error) {
	_, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0`,
		store.Micros(at), text(id))
	if err != nil {
		return store.Token{}, s.unavailable("token revoke", err)
	}
	return s.TokenGet(ctx, id)
}

// TokenTouch implements store.Tokens.
func (s *Store) TokenTouch(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1`,
		store.Micros(at), text(id))
	return s.unavailable("token touch", err)
}

// AuditAppend implements store.Audit. A transaction advisory lock makes
// reading the chain's head and inserting after it atomic across nodes.
func (s *Store) AuditAppend(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	var out store.AuditEntry
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLock); err != nil {
			return err
		}
		var seq int64
		var prev string
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if errors.Is(err, pgx.ErrNoRows) {
			// An empty log continues from retention's anchor, if any.
			a, aerr := auditAnchor(ctx, tx)
			seq, prev, err = a.Seq, a.Hash, aerr
		}
		if err != nil {
			return err
		}
		out = store.SealAudit(e, seq+1, prev)
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (`+store.AuditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			out.Seq, store.Micros(out.At), out.Actor, out.Role, out.Action, out.Target, out.RequestID, out.Outcome,
			out.Status, out.Detail, out.PrevHash, out.Hash)
		return err
	})
	if err != nil {
		return store.AuditEntry{}, s.unavailable("audit append", err)
	}
	return out, nil
}

// AuditList implements store.Audit.
func (s *Store) AuditList(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, string, error) {
	cursor, err := store.AuditCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := store.PageLimit(f.Limit)
	w := &where{}
	order := store.AuditWhere(f, cursor, func(cond string, args ...any) {
		for i, a := range args {
			if s, ok := a.(string); ok {
				args[i] = text(s)
			}
		}
		w.add(cond, args...)
	})
	rows, err := s.pool.Query(ctx, `SELECT `+store.AuditColumns+` FROM audit_log`+w.sql()+` ORDER BY seq `+order+
		fmt.Sprintf(` LIMIT %d`, limit+1), w.args...)
	if err != nil {
		return nil, "", s.unavailable("audit list", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		e, err := store.ScanAudit(rows)
		if err != nil {
			return nil, "", s.unavailable("audit list", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.unavailable("audit list", err)
	}
	out, next := store.Page(out, limit, func(e *store.AuditEntry) string { return fmt.Sprint(e.Seq) })
	return out, next, nil
}

// AuditPrune implements store.Audit. It takes the append lock, so the
// head it keeps is the true head.
func (s *Store) AuditPrune(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n = 0
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLock); err != nil {
			return err
		}
		anchor, err := auditAnchor(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+store.AuditColumns+` FROM audit_log
			WHERE seq < (SELECT max(seq) FROM audit_log) ORDER BY seq LIMIT $1`, limit)
		if err != nil {
			return err
		}
		es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) { return store.ScanAudit(r) })
		if err != nil {
			return err
		}
		k, next, err := store.AuditPrunePrefix(anchor, es, before)
		if err != nil || k == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE seq <= $1`, next.Seq); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
			store.AuditAnchorKey, next.String()); err != nil {
			return err
		}
		n = k
		return nil
	})
	if errors.Is(err, store.ErrAuditBroken) {
		return 0, err
	}
	return n, s.unavailable("audit prune", err)
}

// AuditAnchor implements store.Audit.
func (s *Store) AuditAnchor(ctx context.Context) (store.AuditAnchor, error) {
	a, err := auditAnchor(ctx, s.pool)
	return a, s.unavailable("audit anchor", err)
}

func auditAnchor(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (store.AuditAnchor, error) {
	var v string
	err := q.QueryRow(ctx, `SELECT v FROM kv WHERE k = $1`, store.AuditAnchorKey).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.AuditAnchor{}, nil
	case err != nil:
		return store.AuditAnchor{}, err
	}
	return store.ParseAuditAnchor(v)
}
