package store

import (
	"context"
	"time"
)

// ConsoleSession is one console login, kept in the database so that every
// node knows it and a restart does not end it. The row cannot be used on
// its own: it is found by the digest of the cookie's random id, and the
// API token it holds is sealed with a key derived from that id, which only
// the browser has.
type ConsoleSession struct {
	IDHash    string // hex SHA-256 of the cookie's id
	Sealed    []byte // the login's API token, sealed (AES-GCM) under a key from the id
	Name      string // who logged in (the token's name)
	Role      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ConsoleSessions stores console logins. Both stores implement it beside
// Store; the storetest suite RunConsoleSessions proves them.
type ConsoleSessions interface {
	// SessionCreate stores s. It first removes the sessions expired at now
	// and, when max or more are left, the ones closest to expiry, so at
	// most max are held (one node at a time; logins racing on several
	// nodes may pass it briefly).
	SessionCreate(ctx context.Context, s ConsoleSession, now time.Time, max int) error
	// SessionGet returns the session with idHash, ok false when there is
	// none or it expired at now.
	SessionGet(ctx context.Context, idHash string, now time.Time) (s ConsoleSession, ok bool, err error)
	// SessionDelete ends the session with idHash; ending one that does not
	// exist is not an error.
	SessionDelete(ctx context.Context, idHash string) error
}

// SessionColumns is the column list both stores select and insert.
const SessionColumns = `id_hash, sealed, name, role, created_at, expires_at`

// ScanSession reads one row of SessionColumns.
func ScanSession(row Scanner) (ConsoleSession, error) {
	var s ConsoleSession
	var created, expires int64
	if err := row.Scan(&s.IDHash, &s.Sealed, &s.Name, &s.Role, &created, &expires); err != nil {
		return ConsoleSession{}, err
	}
	s.CreatedAt, s.ExpiresAt = FromMicros(created), FromMicros(expires)
	return s, nil
}
