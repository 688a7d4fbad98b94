package leader

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options tunes a Postgres node; zero values take defaults.
type Options struct {
	// Name is the leadership lock's name; default "hookyard/leader". Nodes
	// of one cluster must use the same name.
	Name string
	// Namespace prefixes the leadership lock and every named lock. Default:
	// the DSN's database and search_path, so two clusters that keep their
	// tables in different schemas of one server never share a leader or a
	// lock.
	Namespace string
	// Interval is how often a follower tries to take the lead and a leader
	// checks its session; default 2s. A failed leader is replaced within
	// about one interval after its session ends.
	Interval time.Duration
	// Logger reports leadership changes; default discards.
	Logger *slog.Logger
}

// Postgres is a cluster node whose leadership and named locks are
// PostgreSQL session-level advisory locks on one dedicated connection.
type Postgres struct {
	cfg    *pgx.ConnConfig
	opt    Options
	log    *slog.Logger
	leader atomic.Bool

	mu   sync.Mutex // guards conn and held; pgx.Conn is not concurrent-safe
	conn *pgx.Conn
	held map[int64]bool // named locks (not the leadership lock) held now

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Key maps a lock name to the 64-bit advisory lock key. Names are
// namespaced so they do not collide with the migration lock.
func Key(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("hookyard-lock:" + name))
	return int64(h.Sum64())
}

// NewPostgres connects to dsn and starts campaigning for leadership. It
// returns once the first attempt has been made, so a lone node leads at
// once.
func NewPostgres(ctx context.Context, dsn string, o Options) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("leader: parse dsn: %w", err)
	}
	if o.Name == "" {
		o.Name = "hookyard/leader"
	}
	if o.Namespace == "" {
		o.Namespace = cfg.Database + "/" + cfg.RuntimeParams["search_path"] + "/"
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.RuntimeParams["application_name"] = "hookyard-leader"
	p := &Postgres{cfg: cfg, opt: o, log: o.Logger, held: make(map[int64]bool),
		stop: make(chan struct{}), done: make(chan struct{})}
	p.tick(ctx)
	go p.loop()
	return p, nil
}

// IsLeader reports whether this node held the leadership lock at its last
// check.
func (p *Postgres) IsLeader() bool { return p.leader.Load() }

func (p *Postgres) loop() {
	defer close(p.done)
	t := time.NewTicker(p.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), p.opt.Interval)
			p.tick(ctx)
			cancel()
		}
	}
}

// tick makes sure the session is alive, and takes the lead if free.
func (p *Postgres) tick(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensureConn(ctx); err != nil {
		p.setLeader(false, err)
		return
	}
	if p.leader.Load() {
		// The lock lives as long as the session: check the session.
		if err := p.conn.Ping(ctx); err != nil {
			p.dropConn()
			p.setLeader(false, err)
		}
		return
	}
	var ok bool
	if err := p.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, Key(p.opt.Namespace+p.opt.Name)).Scan(&ok); err != nil {
		p.dropConn()
		p.setLeader(false, err)
		return
	}
	p.setLeader(ok, nil)
}

func (p *Postgres) setLeader(v bool, err error) {
	if p.leader.Swap(v) == v {
		return
	}
	if v {
		p.log.Info("leader: this node leads the cluster")
	} else {
		p.log.Warn("leader: this node stepped down", "err", err)
	}
}

// ensureConn opens the dedicated session if there is none. Called with mu.
func (p *Postgres) ensureConn(ctx context.Context) error {
	if p.conn != nil && !p.conn.IsClosed() {
		return nil
	}
	p.dropConn()
	c, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		return fmt.Errorf("leader: connect: %w", err)
	}
	p.conn = c
	return nil
}

// dropConn closes the session; the server releases every lock it held.
// Called with mu.
func (p *Postgres) dropConn() {
	if p.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = p.conn.Close(ctx)
		cancel()
		p.conn = nil
	}
	clear(p.held)
}

// TryLock takes the named advisory lock on the node's session. The lock is
// also released if the session ends, so a crashed holder cannot keep it.
func (p *Postgres) TryLock(ctx context.Context, name string) (func(), bool, error) {
	key := Key(p.opt.Namespace + name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held[key] {
		// Advisory locks are re-entrant per session; refuse a second
		// holder inside this process too.
		return nil, false, nil
	}
	if err := p.ensureConn(ctx); err != nil {
		return nil, false, err
	}
	var ok bool
	if err := p.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		p.dropConn()
		p.leader.Store(false)
		return nil, false, fmt.Errorf("leader: lock %q: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	p.held[key] = true
	conn := p.conn
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.conn != conn || !p.held[key] {
				return // the session ended; the server released it
			}
			delete(p.held, key)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := p.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
				p.dropConn()
				p.leader.Store(false)
			}
		})
	}, true, nil
}

// Close stops campaigning and ends the session, releasing leadership and
// every lock.
func (p *Postgres) Close() error {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		p.mu.Lock()
		p.dropConn()
		p.mu.Unlock()
		p.leader.Store(false)
	})
	return nil
}
