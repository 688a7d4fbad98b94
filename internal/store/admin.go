package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// Tokens stores the admin API tokens created through the API (tokens in
// the config file are not stored). Only a token's SHA-256 digest is kept:
// the token itself is shown once, when it is created.
//
// Errors: webhook.ErrNotFound for an unknown id, ErrTokenNameTaken when a
// stored token already has the name.
type Tokens interface {
	// TokenCreate stores t (t.ID, t.Name and t.Digest set by the caller).
	TokenCreate(ctx context.Context, t Token) error
	// TokenGet returns one token by id, revoked or not.
	TokenGet(ctx context.Context, id string) (Token, error)
	// TokenList returns every stored token, newest first.
	TokenList(ctx context.Context) ([]Token, error)
	// TokenRevoke marks a token revoked at at; revoking a revoked token
	// changes nothing. It returns the token as it now is.
	TokenRevoke(ctx context.Context, id string, at time.Time) (Token, error)
	// TokenTouch records that the token was used at at.
	TokenTouch(ctx context.Context, id string, at time.Time) error
}

// ErrTokenNameTaken is TokenCreate's error for a name already in use.
var ErrTokenNameTaken = errors.New("a stored token already has this name")

// Token is a stored admin API token.
type Token struct {
	ID         string
	Name       string
	Role       string
	Digest     [sha256.Size]byte // SHA-256 of the whole token string
	CreatedAt  time.Time
	CreatedBy  string
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero if never used
	RevokedAt  time.Time // zero unless revoked
}

// Audit is the admin audit log: append-only (no method changes or removes
// an entry) and hash-chained, so an edit or deletion made directly in the
// database breaks the chain that VerifyAudit checks.
type Audit interface {
	// AuditAppend assigns e the next sequence number, links it to the
	// previous entry's hash, stores it and returns it as stored.
	AuditAppend(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditList lists entries matching f: newest first, or oldest first
	// with f.Ascending; the cursor is the last entry's sequence number.
	AuditList(ctx context.Context, f AuditFilter) (es []AuditEntry, next string, err error)
	// AuditPrune is audit retention: it deletes up to limit of the oldest
	// entries, a prefix of the chain recorded before `before` and never
	// the newest entry (the next append links to it). In the same
	// transaction it checks the deleted entries' chain from the current
	// anchor (refusing with ErrAuditBroken rather than erase evidence of
	// tampering) and makes the last deleted entry the new anchor. It
	// returns how many entries it deleted.
	AuditPrune(ctx context.Context, before time.Time, limit int) (int, error)
	// AuditAnchor returns the last entry removed by AuditPrune (zero if
	// none): verification continues the chain from it.
	AuditAnchor(ctx context.Context) (AuditAnchor, error)
}

// AuditAnchor is where the stored chain starts after retention: the
// sequence number and hash of the last pruned entry.
type AuditAnchor struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// AuditAnchorKey is the kv key that holds the anchor (JSON), written in
// the transaction that prunes.
const AuditAnchorKey = "audit.anchor"

// String is the anchor as stored under AuditAnchorKey.
func (a AuditAnchor) String() string {
	b, _ := json.Marshal(a) // plain data: cannot fail
	return string(b)
}

// ParseAuditAnchor reads the value stored under AuditAnchorKey.
func ParseAuditAnchor(v string) (AuditAnchor, error) {
	var a AuditAnchor
	if err := json.Unmarshal([]byte(v), &a); err != nil {
		return AuditAnchor{}, fmt.Errorf("stored audit anchor: %w", err)
	}
	return a, nil
}

// ErrAuditBroken is AuditPrune's refusal to delete entries whose chain
// does not verify.
var ErrAuditBroken = errors.New("the audit log's hash chain is broken; nothing was pruned")

// AuditPrunePrefix decides one AuditPrune batch: es are the oldest
// entries after the anchor, oldest first (the newest entry of the log
// excluded). It returns how many of them to delete (those recorded before
// `before`, up to the first that is not) and the new anchor, after
// checking their chain from the current anchor.
func AuditPrunePrefix(anchor AuditAnchor, es []AuditEntry, before time.Time) (int, AuditAnchor, error) {
	n := 0
	for n < len(es) && es[n].At.Before(before) {
		n++
	}
	if n == 0 {
		return 0, anchor, nil
	}
	v := AuditVerifier{n: anchor.Seq, last: anchor.Hash}
	for i := range es[:n] {
		if err := v.Add(&es[i]); err != nil {
			return 0, anchor, fmt.Errorf("%w: %w", ErrAuditBroken, err)
		}
	}
	return n, AuditAnchor{Seq: v.n, Hash: v.last}, nil
}

// AuditEntry is one recorded admin action.
type AuditEntry struct {
	Seq       int64
	At        time.Time
	Actor     string // token name
	Role      string
	Action    string // e.g. "POST /api/v1/deliveries/{id}/replay"
	Target    string // the object acted on (a delivery id, a token id), if any
	RequestID string
	Outcome   string // "ok", "denied", "rejected" or "failed"
	Status    int    // the HTTP status answered
	Detail    string // a short summary (never a body or a secret)
	PrevHash  string // hex SHA-256 of the previous entry; "" for the first
	Hash      string // hex SHA-256 over this entry's fields and PrevHash
}

// AuditFilter narrows AuditList. Zero fields match all.
type AuditFilter struct {
	Actor     string
	Action    string
	Target    string
	Since     time.Time
	Until     time.Time
	Ascending bool
	Cursor    string // a sequence number from a previous page
	Limit     int    // default 50, at most 1000
}

// auditFieldMax bounds each text field of an entry.
const auditFieldMax = 1024

// SealAudit prepares e for storage as entry seq after prev: it truncates
// the time to microseconds (the column precision), makes every text field
// valid UTF-8 without NULs (what both databases store faithfully) and sets
// Seq, PrevHash and Hash. Both stores call it inside the transaction that
// appends, after reading prev.
func SealAudit(e AuditEntry, seq int64, prev string) AuditEntry {
	e.Seq = seq
	e.At = FromMicros(Micros(e.At))
	for _, f := range []*string{&e.Actor, &e.Role, &e.Action, &e.Target, &e.RequestID, &e.Outcome, &e.Detail} {
		*f = cleanText(*f)
	}
	e.PrevHash = prev
	e.Hash = AuditHash(&e)
	return e
}

// AuditHash is the hex SHA-256 of e's fields (every one except Hash),
// each length-prefixed so no two different entries encode alike.
func AuditHash(e *AuditEntry) string {
	h := sha256.New()
	var n [8]byte
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		h.Write([]byte(s))
	}
	str("hookyard-audit-v1")
	num(e.Seq)
	num(Micros(e.At))
	str(e.Actor)
	str(e.Role)
	str(e.Action)
	str(e.Target)
	str(e.RequestID)
	str(e.Outcome)
	num(int64(e.Status))
	str(e.Detail)
	str(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditVerifier checks a chain of entries fed to it oldest first.
type AuditVerifier struct {
	n    int64
	last string
}

// AuditVerifierFrom returns a verifier whose chain continues from the
// anchor left by retention.
func AuditVerifierFrom(a AuditAnchor) *AuditVerifier { return &AuditVerifier{n: a.Seq, last: a.Hash} }

// Add checks the next entry: its sequence number follows the previous
// one's (so a deleted entry is a gap), it links to the previous hash, and
// its own hash matches its fields (so an edited field is caught).
func (v *AuditVerifier) Add(e *AuditEntry) error {
	switch {
	case e.Seq != v.n+1:
		return fmt.Errorf("entry %d follows entry %d: entries are missing", e.Seq, v.n)
	case e.PrevHash != v.last:
		return fmt.Errorf("entry %d: its previous-hash link does not match entry %d", e.Seq, v.n)
	case AuditHash(e) != e.Hash:
		return fmt.Errorf("entry %d: its contents do not match its hash (edited)", e.Seq)
	}
	v.n, v.last = e.Seq, e.Hash
	return nil
}

// Count is how many entries verified; Head is the last one's hash.
func (v *AuditVerifier) Count() int64 { return v.n }

// Head returns the hash of the last verified entry ("" if none).
func (v *AuditVerifier) Head() string { return v.last }

func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) > auditFieldMax {
		s = strings.ToValidUTF8(s[:auditFieldMax], "")
	}
	return s
}

// AuditCursor parses an AuditFilter cursor (0 for none).
func AuditCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: cursor: not a cursor from a previous page: %q", webhook.ErrInvalid, s)
	}
	return n, nil
}

// Scanner is a database row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows.
type Scanner interface{ Scan(dest ...any) error }

// TokenColumns and AuditColumns are the column lists ScanToken and
// ScanAudit read, in their order; both stores select them.
const (
	TokenColumns = `id, name, role, digest, created_at, created_by, expires_at, last_used_at, revoked_at`
	AuditColumns = `seq, at, actor, role, action, target, request_id, outcome, status, detail, prev_hash, hash`
)

// ScanToken reads a row of TokenColumns.
func ScanToken(r Scanner) (Token, error) {
	var t Token
	var digest []byte
	var created, expires, used, revoked int64
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &digest, &created, &t.CreatedBy, &expires, &used, &revoked); err != nil {
		return t, err
	}
	if len(digest) != len(t.Digest) {
		return t, fmt.Errorf("token %s: stored digest has %d bytes", t.ID, len(digest))
	}
	copy(t.Digest[:], digest)
	t.CreatedAt, t.ExpiresAt = FromMicros(created), FromMicros(expires)
	t.LastUsedAt, t.RevokedAt = FromMicros(used), FromMicros(revoked)
	return t, nil
}

// ScanAudit reads a row of AuditColumns.
func ScanAudit(r Scanner) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	if err := r.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Action, &e.Target, &e.RequestID, &e.Outcome,
		&e.Status, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.At = FromMicros(at)
	return e, nil
}

// AuditWhere turns f (with its decoded cursor) into conditions, each passed
// to add with "?" placeholders, and returns the sort order of seq.
func AuditWhere(f AuditFilter, cursor int64, add func(cond string, args ...any)) (order string) {
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if !f.Since.IsZero() {
		add("at >= ?", Micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", Micros(f.Until))
	}
	if f.Ascending {
		if cursor > 0 {
			add("seq > ?", cursor)
		}
		return "ASC"
	}
	if cursor > 0 {
		add("seq < ?", cursor)
	}
	return "DESC"
}
