// Package postgres is hookyard's scale-out store: many hookyard nodes share
// one PostgreSQL database through pgx connection pools.
//
// It keeps the promises of the sqlite store with PostgreSQL's tools:
// commits are durable (synchronous_commit stays on); concurrent ingests are
// grouped by a writer goroutine into one statement per batch, and delivery
// outcomes by another, so one WAL flush covers many requests; the
// (source, dedup_key) unique constraint stores a duplicate once even when
// two nodes receive it together; claims lease work with FOR UPDATE SKIP
// LOCKED, so nodes never wait on each other's rows, on connections whose
// planner settings keep the claim on its index; and an ingest NOTIFYs the
// destinations it queued for, so idle nodes that Listen wake within
// milliseconds.
package postgres

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

const (
	maxBatchOps   = 128
	maxBatchBytes = 1 << 20
	queueDepth    = 8192
	// migrationLock is the pg_advisory_lock key held while migrating, so
	// nodes starting together apply each migration once.
	migrationLock int64 = 0x686f6f6b79617264 // "hookyard"
	// writeTimeout bounds one group commit, so a hung database fails the
	// batch (503) instead of stalling the writer for ever.
	writeTimeout = 30 * time.Second
)

// ErrClosed is returned by writes submitted after Close. It wraps
// webhook.ErrUnavailable: a node shutting down cannot store anything.
var ErrClosed = fmt.Errorf("postgres: store closed: %w", webhook.ErrUnavailable)

// Config holds optional settings; zero values take defaults.
type Config struct {
	// MaxConns is the size of the main connection pool; default 16, or the
	// DSN's pool_max_conns when it sets one. Claims use a second pool of a
	// quarter that size (at least 2).
	MaxConns int32
	// Channel is the LISTEN/NOTIFY channel; default "hookyard". Nodes that
	// share a database must use the same one.
	Channel string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger reports Listen's reconnects; default discards.
	Logger *slog.Logger
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool *pgxpool.Pool
	// queue runs the claim and next-due statements on connections that
	// cannot choose a sequential or bitmap scan, so their plans cannot
	// flip to "read every due row and sort" while the table statistics
	// lag a burst (see TestClaimPlan).
	queue   *pgxpool.Pool
	channel string
	now     func() time.Time
	log     *slog.Logger

	ingests  chan *op
	outcomes chan *op
	batches  atomic.Int64 // committed ingest statements
	batched  atomic.Int64 // ingests those statements carried
	quit     chan struct{}
	stopped  chan struct{} // closed when both writers have stopped
	once     sync.Once
	// lastReset is when the pools were last reset (unix nanoseconds).
	lastReset atomic.Int64

	// notify collects destinations with new work for the notifier goroutine.
	notifyMu      sync.Mutex
	notifyPending map[string]struct{}
	notifyKick    chan struct{}
	notifyDone    chan struct{}
}

// op is one write waiting for a writer goroutine: an ingest or an outcome.
type op struct {
	ing  *ingestOp
	out  *outcomeOp
	size int
	err  error
	done chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, which may set pool_* options and runtime parameters such as
// search_path), applies migrations and starts the writers.
func Open(ctx context.Context, dsn string, cfg Config) (*Store, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	switch {
	case cfg.MaxConns > 0:
		pc.MaxConns = cfg.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		pc.MaxConns = 16
	}
	if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
		pc.ConnConfig.RuntimeParams["application_name"] = "hookyard"
	}
	if err := migrate(ctx, pc.ConnConfig); err != nil {
		return nil, err
	}
	qc := pc.Copy()
	qc.MaxConns = max(2, pc.MaxConns/4)
	qc.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	qc.ConnConfig.RuntimeParams["enable_bitmapscan"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: pool: %w", err)
	}
	queue, err := pgxpool.NewWithConfig(ctx, qc)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: pool: %w", err)
	}
	s := &Store{
		pool:          pool,
		queue:         queue,
		channel:       cmp.Or(cfg.Channel, "hookyard"),
		now:           cfg.Now,
		log:           cfg.Logger,
		ingests:       make(chan *op, queueDepth),
		outcomes:      make(chan *op, queueDepth),
		quit:          make(chan struct{}),
		stopped:       make(chan struct{}),
		notifyPending: map[string]struct{}{},
		notifyKick:    make(chan struct{}, 1),
		notifyDone:    make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var writers sync.WaitGroup
	writers.Go(func() { s.writer(s.ingests, s.runIngests) })
	writers.Go(func() { s.writer(s.outcomes, s.runOutcomes) })
	go func() { writers.Wait(); close(s.stopped) }()
	go s.notifier()
	return s, nil
}

// Migrate applies pending migrations to the database at dsn (for
// `hookyard migrate`); Open does the same.
func Migrate(ctx context.Context, dsn string) error {
	pc, err := pgxpool.ParseConfig(dsn) // accepts (and drops) Open's pool_* options
	if err != nil {
		return fmt.Errorf("postgres: parse dsn: %w", err)
	}
	return migrate(ctx, pc.ConnConfig)
}

// migrate applies each pending migration in its own transaction, on one
// connection holding the migration advisory lock: a second node starting
// at the same time waits, then finds nothing left to do. The lock is a
// session lock, so it dies with the connection if this node does.
func migrate(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return unavailable("connect", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return unavailable("migration lock", err)
	}
	// Closing the connection also releases the lock; unlocking first lets a
	// waiting node go on before the close completes.
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(path.Base(name), ".sql")
		var applied bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
			version).Scan(&applied); err != nil {
			return fmt.Errorf("postgres: read migrations: %w", err)
		}
		if applied {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", version, err)
		}
	}
	return nil
}

// Close stops the writers after the queued writes, sends the last
// notifications and closes the pools.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.quit) })
	<-s.stopped
	<-s.notifyDone
	s.pool.Close()
	s.queue.Close()
	return nil
}

// WriteStats reports how many ingest statements the writer committed and
// how many ingests they carried: their ratio is the group-commit factor.
func (s *Store) WriteStats() (statements, ingests int64) {
	return s.batches.Load(), s.batched.Load()
}

func (s *Store) submit(ctx context.Context, ops chan<- *op, o *op) error {
	select {
	case <-s.quit:
		return ErrClosed
	default:
	}
	select {
	case ops <- o:
	case <-s.quit:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", webhook.ErrUnavailable, ctx.Err())
	}
	select {
	case <-o.done:
		return o.err
	case <-s.stopped:
		// Queued as Close began, after the writers drained their queues.
		select {
		case <-o.done:
			return o.err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", webhook.ErrUnavailable, ctx.Err())
	}
}

// writer is a goroutine that groups concurrent writes: it takes whatever
// is queued — up to maxBatchOps operations or maxBatchBytes of payload,
// never waiting for more — and hands it to run, which commits it as one
// statement. Ingests and outcomes have a writer each, so a burst of one
// never queues behind the other.
func (s *Store) writer(ops <-chan *op, run func([]*op)) {
	batch := make([]*op, 0, maxBatchOps)
	for {
		var first *op
		select {
		case first = <-ops:
		case <-s.quit:
			// Commit what was queued before Close, then stop.
			for {
				select {
				case o := <-ops:
					run([]*op{o})
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
			case o := <-ops:
				batch = append(batch, o)
				size += o.size
			default:
				break fill
			}
		}
		run(batch)
	}
}

// runIngests commits a batch of ingests. If that fails on one bad row (a
// data error, not a lost connection) and the batch holds more than one
// ingest, each is retried alone so one bad ingest cannot fail its
// neighbours.
func (s *Store) runIngests(batch []*op) {
	s.batches.Add(1)
	s.batched.Add(int64(len(batch)))
	err := s.ingestBatch(batch)
	if err != nil && len(batch) > 1 && isDataError(err) {
		for _, o := range batch {
			o.err = s.ingestBatch([]*op{o})
		}
	} else {
		for _, o := range batch {
			o.err = err
		}
	}
	var dests []string
	for _, o := range batch {
		if o.err != nil {
			o.err = s.unavailable("ingest", o.err)
		} else if !o.ing.res.Duplicate {
			for _, d := range o.ing.ds {
				dests = append(dests, text(d.Destination))
			}
		}
		close(o.done)
	}
	s.wake(dests)
}

// unavailable wraps a database error as webhook.ErrUnavailable. An error
// saying the server ended the session (a restart, a crash, an operator's
// pg_terminate_backend) means every pooled connection is probably dead
// too, so the pools are reset — at most once a second — and the next
// statements connect afresh instead of each failing on a dead connection.
func (s *Store) unavailable(what string, err error) error {
	if err == nil || errors.Is(err, webhook.ErrUnavailable) {
		return err
	}
	s.resetIfLost(err)
	return unavailable(what, err)
}

func (s *Store) resetIfLost(err error) {
	if !sessionLost(err) {
		return
	}
	now := time.Now().UnixNano()
	if last := s.lastReset.Load(); now-last > int64(time.Second) && s.lastReset.CompareAndSwap(last, now) {
		s.pool.Reset()
		s.queue.Reset()
	}
}

// sessionLost reports whether err ended the connection: the server's
// admin-shutdown/crash codes (57P01–57P03), a connection exception (08…),
// or the network failing underneath — but not a caller's deadline or
// cancellation, which leaves the other connections healthy.
func sessionLost(err error) bool {
	if pgconn.Timeout(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08")
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// unavailable wraps a database error as webhook.ErrUnavailable.
func unavailable(what string, err error) error {
	if err == nil || errors.Is(err, webhook.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: postgres: %s: %w", webhook.ErrUnavailable, what, err)
}

// isDataError reports whether err is the server rejecting data (SQLSTATE
// class 22, data exception, or 23, integrity constraint violation).
func isDataError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23"))
}

// retryable reports whether a failed statement certainly did not commit
// and may run again: nothing reached the server, or the server rolled it
// back for a deadlock or serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	return pgconn.SafeToRetry(err)
}

// text makes s storable in a PostgreSQL text column, which rejects NUL
// bytes and invalid UTF-8 (SQLite stores both). Each is replaced by U+FFFD,
// so an odd dedup key or header-derived topic cannot fail an ingest (and a
// lookup by such an id simply finds nothing). Valid strings — all of them
// in practice — are returned unchanged without allocating.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] // a rune cut in half becomes U+FFFD in text()
}

// nonNil returns b, or an empty slice for nil: pgx sends a nil []byte as
// NULL, and bodies are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
