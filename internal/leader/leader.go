// Package leader decides which node of a cluster runs the cluster-wide
// jobs (alert evaluation, scheduled reconciliation, retention), and hands
// out named cluster locks so a job runs once across nodes.
//
// On SQLite there is one node, so Local always leads and its locks are
// in-process. On PostgreSQL, Postgres holds session-level advisory locks on
// one dedicated connection: the node that holds the leadership lock leads
// until its session ends (process exit, crash or a dropped connection, which
// the server notices and releases), and a node that loses its connection
// steps down at its next health check.
package leader

import (
	"context"
	"sync"
)

// Elector tells whether this node leads the cluster now.
type Elector interface {
	IsLeader() bool
}

// Locker takes named cluster locks: at most one holder of a name across
// nodes. TryLock does not wait; ok is false when another holder has it.
// unlock releases the lock (calling it more than once is harmless).
type Locker interface {
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// Node is what a server needs: leadership and named locks.
type Node interface {
	Elector
	Locker
	Close() error
}

// Local is the single-node implementation: always the leader, with
// in-process named locks.
type Local struct {
	mu   sync.Mutex
	held map[string]bool
}

// NewLocal returns a Local node.
func NewLocal() *Local { return &Local{held: make(map[string]bool)} }

// IsLeader reports true: a single node always leads.
func (l *Local) IsLeader() bool { return true }

// TryLock takes name if no one in this process holds it.
func (l *Local) TryLock(_ context.Context, name string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	l.held[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, name)
			l.mu.Unlock()
		})
	}, true, nil
}

// Close does nothing.
func (l *Local) Close() error { return nil }

var (
	_ Node = (*Local)(nil)
	_ Node = (*Postgres)(nil)
)
