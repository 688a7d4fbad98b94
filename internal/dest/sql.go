package dest

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
	"github.com/hookyard/hookyard/internal/webhook"
)

// SQL upserts rows into tables of a PostgreSQL, MySQL/MariaDB or SQLite
// database: the warehouse case. The message body (a transform's output)
// must be a JSON object mapping configured table names to arrays of row
// objects:
//
//	{"fact_orders": [{"order_id": 1, "total": "12.50", "updated_at": 7}],
//	 "dim_line_items": [{"order_id": 1, "line_id": 1, "sku": "A"}]}
//
// All rows of a message are written in one transaction with INSERT … ON
// CONFLICT (key) DO UPDATE (PostgreSQL, SQLite) or INSERT … ON DUPLICATE
// KEY UPDATE (MySQL), so a redelivery rewrites the same rows and has no
// second effect. A table with a version column only takes a row whose
// version is not older than the stored one, so out-of-order deliveries end
// in the newest state.
//
// Column names come from the row objects and are checked against
// sqlIdentRE before they reach a statement; values are always parameters.
// An unknown table, a bad column name or a row without its key is a
// permanent failure of class transform; a row the database rejects (a
// constraint, a type, a missing column or table) is a permanent failure of
// class 4xx, as an HTTP destination's 4xx would be. Other errors retry.
type SQL struct {
	name    string
	dialect sqlDialect
	db      *sql.DB
	tables  map[string]sqlTable
	timeout time.Duration
}

type sqlTable struct {
	name    string
	key     []string
	version string // "" for no guard
}

// sqlIdentRE is what a table or column name must match. Names are also
// quoted in statements, so reserved words ("order") work, and PostgreSQL
// matches them case-sensitively.
var sqlIdentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Statement size bounds: every dialect accepts at least this many
// parameters, and a statement this size keeps one round trip well under a
// second.
const (
	sqlMaxRows   = 500
	sqlMaxParams = 10000
)

// NewSQL returns the sender for a postgres, mysql or sqlite destination. It
// does not connect: a database that is down at start makes deliveries
// retry, not hookyard fail.
func NewSQL(d config.Destination, o Options) (*SQL, error) {
	var dialect sqlDialect
	switch d.Type {
	case "postgres":
		dialect = postgresDialect
	case "mysql":
		dialect = mysqlDialect
	case "sqlite":
		dialect = sqliteDialect
	default:
		return nil, fmt.Errorf("destination %q: type %q is not an SQL type", d.Name, d.Type)
	}
	if d.DSN == "" {
		return nil, fmt.Errorf("destination %q: dsn is required for type %s", d.Name, d.Type)
	}
	if len(d.Tables) == 0 {
		return nil, fmt.Errorf("destination %q: at least one table is required", d.Name)
	}
	tables := make(map[string]sqlTable, len(d.Tables))
	for name, t := range d.Tables {
		if !sqlIdentRE.MatchString(name) {
			return nil, fmt.Errorf("destination %q: tables: invalid table name %q", d.Name, name)
		}
		if len(t.Key) == 0 {
			return nil, fmt.Errorf("destination %q: tables.%s: key is required", d.Name, name)
		}
		for _, c := range append(slices.Clone(t.Key), t.VersionColumn) {
			if c != "" && !sqlIdentRE.MatchString(c) {
				return nil, fmt.Errorf("destination %q: tables.%s: invalid column name %q", d.Name, name, c)
			}
		}
		if slices.Contains(t.Key, t.VersionColumn) {
			return nil, fmt.Errorf("destination %q: tables.%s: version_column must not be a key column", d.Name, name)
		}
		tables[name] = sqlTable{name: name, key: slices.Clone(t.Key), version: t.VersionColumn}
	}

	driver, dsn := "pgx", d.DSN
	switch dialect {
	case mysqlDialect:
		driver = "mysql"
	case sqliteDialect:
		driver = "sqlite"
		if !strings.HasPrefix(dsn, "file:") {
			// A plain path: wait for other writers instead of failing, and
			// take the write lock when the transaction starts, so two
			// writers cannot deadlock upgrading read locks.
			dsn = "file:" + dsn + "?_pragma=busy_timeout(10000)&_txlock=immediate"
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		// Driver errors may quote the DSN, which holds the password.
		return nil, fmt.Errorf("destination %q: dsn: invalid for type %s", d.Name, d.Type)
	}
	conns := cmp.Or(max(d.Concurrency, 0), DefaultConcurrency)
	if dialect == sqliteDialect {
		conns = 1 // one writer at a time anyway; no lock waits between our own connections
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	return &SQL{
		name:    d.Name,
		dialect: dialect,
		db:      db,
		tables:  tables,
		timeout: cmp.Or(max(d.Timeout.D(), 0), DefaultTimeout),
	}, nil
}

// Send writes one message's rows in one transaction.
func (s *SQL) Send(ctx context.Context, m *Message) Response {
	return s.SendBatch(ctx, []*Message{m})[0]
}

// SendBatch writes the rows of every valid message in one transaction.
// Messages that fail to parse fail alone. If the transaction fails and
// holds more than one message, each is retried in its own transaction, so
// a row the database rejects fails only its own message.
func (s *SQL) SendBatch(ctx context.Context, ms []*Message) []Response {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	out := make([]Response, len(ms))
	var (
		writes []sqlWrite
		index  []int // writes[i] is ms[index[i]]
	)
	for i, m := range ms {
		w, err := s.parse(m.Body())
		if err != nil {
			out[i] = Response{Err: &outcome.Error{Err: err, Permanent: true, Class: webhook.ClassTransform}}
			continue
		}
		writes = append(writes, w)
		index = append(index, i)
	}
	if len(writes) == 0 {
		return out
	}
	err := s.write(ctx, writes)
	if err == nil || len(writes) == 1 {
		for _, i := range index {
			out[i] = Response{Err: err}
		}
		return out
	}
	for j, w := range writes {
		out[index[j]] = Response{Err: s.write(ctx, []sqlWrite{w})}
	}
	return out
}

// Close closes the connection pool. Call it after the last Send.
func (s *SQL) Close() error { return s.db.Close() }

// sqlWrite is one message's rows by table name.
type sqlWrite map[string][]sqlRow

// sqlRow is one row: its columns in sorted order with their values, and
// the JSON of its key values, which identifies it within a table.
type sqlRow struct {
	cols []string
	vals []any
	key  string
}

// parse checks a body against the configured tables.
func (s *SQL) parse(body []byte) (sqlWrite, error) {
	var tables map[string]json.RawMessage
	if err := json.Unmarshal(body, &tables); err != nil || tables == nil {
		return nil, fmt.Errorf("sql: body must be a JSON object of table name to array of rows")
	}
	w := make(sqlWrite, len(tables))
	for name, raw := range tables {
		t, ok := s.tables[name]
		if !ok {
			return nil, fmt.Errorf("sql: table %.64q is not configured for destination %s (configured: %s)",
				name, s.name, strings.Join(slices.Sorted(maps.Keys(s.tables)), ", "))
		}
		var rows []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &rows); err != nil {
			return nil, fmt.Errorf("sql: %s: want an array of row objects", name)
		}
		for i, r := range rows {
			row, err := t.row(r)
			if err != nil {
				return nil, fmt.Errorf("sql: %s[%d]: %w", name, i, err)
			}
			w[name] = append(w[name], row)
		}
	}
	return w, nil
}

func (t sqlTable) row(r map[string]json.RawMessage) (sqlRow, error) {
	if r == nil {
		return sqlRow{}, fmt.Errorf("want a row object")
	}
	row := sqlRow{cols: slices.Sorted(maps.Keys(r))}
	for _, c := range row.cols {
		if !sqlIdentRE.MatchString(c) {
			return sqlRow{}, fmt.Errorf("invalid column name %.64q: want a letter or _ then up to 62 letters, digits or _", c)
		}
		v, err := sqlValue(r[c])
		if err != nil {
			return sqlRow{}, fmt.Errorf("column %s: %w", c, err)
		}
		row.vals = append(row.vals, v)
	}
	keyVals := make([]json.RawMessage, len(t.key))
	for i, k := range t.key {
		v, ok := r[k]
		if !ok || string(v) == "null" {
			return sqlRow{}, fmt.Errorf("key column %s is missing or null", k)
		}
		keyVals[i] = v
	}
	if t.version != "" {
		if v, ok := r[t.version]; !ok || string(v) == "null" {
			return sqlRow{}, fmt.Errorf("version column %s is missing or null", t.version)
		}
	}
	key, _ := json.Marshal(keyVals)
	row.key = string(key)
	return row, nil
}

// sqlValue converts a JSON value to a parameter: strings, booleans and
// null as such; integers that fit as int64; other numbers as their decimal
// text, so 12.50 reaches a NUMERIC column exactly; objects and arrays as
// their compact JSON text (for json/jsonb columns).
func sqlValue(raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("empty value")
	}
	switch raw[0] {
	case 'n':
		return nil, nil
	case 't', 'f':
		return raw[0] == 't', nil
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return b.String(), nil
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, nil
	}
	return string(raw), nil
}

// write upserts every row of ws in one transaction. Tables go in name
// order and rows in key order (stable, so later rows for one key stay
// later), so concurrent transactions lock rows in the same order instead
// of deadlocking.
func (s *SQL) write(ctx context.Context, ws []sqlWrite) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.classify(fmt.Errorf("sql: begin: %w", err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, name := range slices.Sorted(maps.Keys(s.tables)) {
		var rows []sqlRow
		for _, w := range ws {
			rows = append(rows, w[name]...)
		}
		slices.SortStableFunc(rows, func(a, b sqlRow) int { return strings.Compare(a.key, b.key) })
		t := s.tables[name]
		for len(rows) > 0 {
			n := chunk(rows)
			query, args := s.dialect.upsert(t, rows[:n])
			if _, err := tx.ExecContext(ctx, query, args...); err != nil {
				return s.classify(fmt.Errorf("sql: upsert into %s: %w", name, err))
			}
			rows = rows[n:]
		}
	}
	if err := tx.Commit(); err != nil {
		return s.classify(fmt.Errorf("sql: commit: %w", err))
	}
	return nil
}

// chunk returns how many leading rows fit one statement: the same columns,
// no key twice (PostgreSQL refuses to update a row twice in one statement),
// and within the size bounds.
func chunk(rows []sqlRow) int {
	seen := map[string]bool{}
	params := 0
	for i, r := range rows {
		if i > 0 && (i == sqlMaxRows || !slices.Equal(r.cols, rows[0].cols) || seen[r.key] || params+len(r.cols) > sqlMaxParams) {
			return i
		}
		seen[r.key] = true
		params += len(r.cols)
	}
	return len(rows)
}

// classify marks errors that retrying cannot fix as permanent, class 4xx:
// data exceptions, constraint violations, and missing tables, columns or
// privileges (SQLSTATE classes 22, 23 and 42, and their SQLite and MySQL
// equivalents). The operator fixes the schema or the transform and replays
// the dead letters. Connection errors, deadlocks and lock timeouts retry.
func (s *SQL) classify(err error) error {
	if err == nil {
		return nil
	}
	permanent := false
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		permanent = sqlStateClassPermanent(pe.Code)
	}
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		permanent = sqlStateClassPermanent(string(me.SQLState[:])) || slices.Contains(mysqlPermanent, me.Number)
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_ERROR, sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			permanent = true
		}
	}
	if !permanent {
		return err
	}
	return &outcome.Error{Err: err, Permanent: true, Class: webhook.ClassHTTP4xx}
}

func sqlStateClassPermanent(code string) bool {
	return len(code) == 5 && (code[:2] == "22" || code[:2] == "23" || code[:2] == "42")
}

// mysqlPermanent are MySQL/MariaDB error numbers that report bad data or
// schema under the catch-all SQLSTATE HY000.
var mysqlPermanent = []uint16{
	1048, // column cannot be null
	1054, // unknown column
	1142, // command denied
	1143, // column access denied
	1146, // table does not exist
	1264, // out of range
	1292, // incorrect datetime/date value
	1366, // incorrect value for column
	1406, // data too long
	1451, // foreign key: row is referenced
	1452, // foreign key: no parent row
	3819, // check constraint (MySQL)
	4025, // check constraint (MariaDB)
}

// sqlDialect builds the upsert statement of one database.
type sqlDialect int

const (
	postgresDialect sqlDialect = iota
	mysqlDialect
	sqliteDialect
)

func (d sqlDialect) quote(name string) string {
	if d == mysqlDialect {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

// upsert returns the statement and arguments writing rows, which share
// their columns, into t.
func (d sqlDialect) upsert(t sqlTable, rows []sqlRow) (string, []any) {
	cols := rows[0].cols
	var b strings.Builder
	args := make([]any, 0, len(rows)*len(cols))
	b.WriteString("INSERT INTO ")
	b.WriteString(d.quote(t.name))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.quote(c))
	}
	b.WriteString(") VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, r.vals[j])
			if d == postgresDialect {
				b.WriteString("$" + strconv.Itoa(len(args)))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}

	// The columns to update: every non-key column, the version column last
	// (MySQL evaluates assignments left to right, and the guard must read
	// the stored version, not the new one).
	var update []string
	for _, c := range cols {
		if !slices.Contains(t.key, c) && c != t.version {
			update = append(update, c)
		}
	}
	if t.version != "" {
		update = append(update, t.version)
	}
	v := d.quote(t.version)

	if d == mysqlDialect {
		// MySQL cannot name the conflict target: the table must have no
		// unique index but the key's.
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
		if len(update) == 0 {
			k := d.quote(t.key[0])
			b.WriteString(k + " = " + k)
		}
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			q := d.quote(c)
			if t.version == "" {
				b.WriteString(q + " = VALUES(" + q + ")")
			} else {
				fmt.Fprintf(&b, "%s = IF(%s IS NULL OR VALUES(%s) >= %s, VALUES(%s), %s)", q, v, v, v, q, q)
			}
		}
		return b.String(), args
	}

	b.WriteString(" ON CONFLICT (")
	for i, k := range t.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.quote(k))
	}
	if len(update) == 0 {
		b.WriteString(") DO NOTHING")
		return b.String(), args
	}
	b.WriteString(") DO UPDATE SET ")
	for i, c := range update {
		if i > 0 {
			b.WriteString(", ")
		}
		q := d.quote(c)
		b.WriteString(q + " = excluded." + q)
	}
	if t.version != "" {
		tv := d.quote(t.name) + "." + v
		fmt.Fprintf(&b, " WHERE %s IS NULL OR excluded.%s >= %s", tv, v, tv)
	}
	return b.String(), args
}

var (
	_ Sender      = (*SQL)(nil)
	_ BatchSender = (*SQL)(nil)
)
