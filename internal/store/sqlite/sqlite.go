// Package sqlite is hookyard's embedded store: one SQLite file in WAL mode
// with synchronous=FULL, so a commit is on disk before it returns.
//
// Throughput comes from group commit, never from weaker sync: every write
// (ingest, claim, outcome) is handed to one writer goroutine that runs
// whatever is queued — up to maxBatchOps operations or maxBatchBytes of
// payload, never waiting for a batch to fill — in a single transaction, so
// one fsync covers many requests. Reads use a separate pool of read-only
// connections, which WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

const (
	maxBatchOps   = 128
	maxBatchBytes = 1 << 20
	queueDepth    = 8192
)

// ErrClosed is returned by writes submitted after Close.
var ErrClosed = errors.New("store closed")

// Config holds optional settings; zero values take defaults.
type Config struct {
	// Synchronous is the SQLite synchronous pragma; default FULL. Only the
	// crash tests weaken it, to prove they detect loss.
	Synchronous string
	// Readers is the size of the read-only connection pool; default 4.
	Readers int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	path string
	wdb  *sql.DB
	w    *sql.Conn // the one writer connection, used only by the writer goroutine
	rdb  *sql.DB
	now  func() time.Time
	st   stmts
	// stmtCache holds the writer's multi-row insert statements by size.
	stmtCache map[stmtKey]*sql.Stmt
	// eventsByIDs loads claimed deliveries' events on the reader pool.
	eventsByIDs *sql.Stmt

	ops     chan *op
	batches atomic.Int64 // committed write transactions
	batched atomic.Int64 // ops those transactions carried
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// op is one atomic write. fn runs inside the writer's transaction and
// returns an error only for a database failure; logical outcomes (lease
// lost, duplicate) are reported through variables fn captures, so one op's
// result never rolls back its neighbours.
type op struct {
	fn   func(ctx context.Context) error
	ing  *ingestOp  // set instead of fn for ingests, which are inserted as a group
	succ *succeedOp // set instead of fn for successes, also applied as a group
	size int
	err  error
	done chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and applies
// migrations.
func Open(ctx context.Context, path string, cfg Config) (*Store, error) {
	if cfg.Synchronous == "" {
		cfg.Synchronous = "FULL"
	}
	if cfg.Readers <= 0 {
		cfg.Readers = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create directory for %s: %w", path, err)
		}
	}
	pragmas := []string{
		"journal_mode(WAL)",
		"synchronous(" + cfg.Synchronous + ")",
		"busy_timeout(10000)",
		"foreign_keys(OFF)",
	}
	dsn := func(extra ...string) string {
		v := url.Values{}
		for _, p := range append(pragmas, extra...) {
			v.Add("_pragma", p)
		}
		return "file:" + uriPath(path) + "?" + v.Encode()
	}
	wdb, err := sql.Open("sqlite", dsn())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)
	s := &Store{
		path: path, wdb: wdb, now: cfg.Now, stmtCache: map[stmtKey]*sql.Stmt{},
		ops:     make(chan *op, queueDepth),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if err := s.migrate(ctx); err != nil {
		wdb.Close()
		return nil, err
	}
	s.w, err = wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: writer connection: %w", err)
	}
	if err := s.prepare(ctx); err != nil {
		s.w.Close()
		wdb.Close()
		return nil, err
	}
	rdb, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		s.w.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	rdb.SetMaxOpenConns(cfg.Readers)
	rdb.SetMaxIdleConns(cfg.Readers)
	s.rdb = rdb
	// One statement for any number of ids (a JSON array), so it is parsed
	// once per reader connection rather than once per claim.
	s.eventsByIDs, err = rdb.PrepareContext(ctx, `SELECT id, source, provider, topic, dedup_key, received_at, headers, body
		FROM events WHERE id IN (SELECT value FROM json_each(?))`)
	if err != nil {
		rdb.Close()
		s.w.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	go s.writer()
	return s, nil
}

// Migrate applies pending migrations to the database at path and closes it.
func Migrate(ctx context.Context, path string) error {
	s, err := Open(ctx, path, Config{})
	if err != nil {
		return err
	}
	return s.Close()
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		var n int
		if err := s.wdb.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: read migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, s.now().UnixMicro()); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
	}
	return nil
}

// Close stops the writer after the queued writes and closes the database.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.quit) })
	<-s.stopped
	var errs []error
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	errs = append(errs, s.w.Close(), s.wdb.Close())
	return errors.Join(errs...)
}

// WriteStats reports how many write transactions the writer committed and
// how many operations they carried: their ratio is the group-commit factor.
func (s *Store) WriteStats() (transactions, ops int64) {
	return s.batches.Load(), s.batched.Load()
}

// write submits fn to the writer and waits for its transaction to commit.
func (s *Store) write(ctx context.Context, size int, fn func(ctx context.Context) error) error {
	return s.submit(ctx, &op{fn: fn, size: size, done: make(chan struct{})})
}

func (s *Store) submit(ctx context.Context, o *op) error {
	select {
	case s.ops <- o:
	case <-s.quit:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", webhook.ErrUnavailable, ctx.Err())
	}
	select {
	case <-o.done:
		return o.err
	case <-s.stopped:
		select {
		case <-o.done:
			return o.err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		// The writer owns o now and may be writing the caller's results
		// (an op's closure, an ingest's result) this moment: wait until it
		// is done with o, so that nothing is read while it is written. The
		// writer is this process's own and finishes a batch in
		// milliseconds.
		select {
		case <-o.done:
		case <-s.stopped:
		}
		return fmt.Errorf("%w: %w", webhook.ErrUnavailable, ctx.Err())
	}
}

// writer is the single goroutine that owns the writer connection.
func (s *Store) writer() {
	defer close(s.stopped)
	batch := make([]*op, 0, maxBatchOps)
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.quit:
			// Run what was queued before Close, then stop.
			for {
				select {
				case o := <-s.ops:
					s.run([]*op{o})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		size := first.size
	fill:
		for len(batch) < maxBatchOps && size < maxBatchBytes {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
				size += o.size
			default:
				break fill
			}
		}
		s.run(batch)
	}
}

// run commits batch as one transaction. If it fails and holds more than one
// op, each op is retried in its own transaction so one bad op cannot fail
// its neighbours.
func (s *Store) run(batch []*op) {
	s.batches.Add(1)
	s.batched.Add(int64(len(batch)))
	err := s.runTx(batch)
	if err != nil && len(batch) > 1 {
		for _, o := range batch {
			o.err = s.runTx([]*op{o})
			close(o.done)
		}
		return
	}
	for _, o := range batch {
		if o.err == nil {
			o.err = err
		}
		close(o.done)
	}
}

func (s *Store) runTx(batch []*op) (err error) {
	ctx := context.Background()
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
		}
	}()
	if _, err := s.w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := s.ingestGroup(ctx, batch); err != nil {
		s.w.ExecContext(ctx, "ROLLBACK")
		return err
	}
	if err := s.succeedGroup(ctx, batch); err != nil {
		s.w.ExecContext(ctx, "ROLLBACK")
		return err
	}
	for _, o := range batch {
		if o.fn == nil {
			continue
		}
		if err := o.fn(ctx); err != nil {
			s.w.ExecContext(ctx, "ROLLBACK")
			return err
		}
	}
	if _, err := s.w.ExecContext(ctx, "COMMIT"); err != nil {
		s.w.ExecContext(ctx, "ROLLBACK")
		return err
	}
	return nil
}

// placeholders returns "?, ?, …" for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func itoa(n int) string { return strconv.Itoa(n) }

// uriPath escapes a file path for a SQLite URI filename: '%' starts an
// escape there, and '?' and '#' end the path.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}
