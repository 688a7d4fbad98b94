package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls fn with the name of each destination that an ingest or a
// replay, on any node sharing the database, gave due work — within
// milliseconds of the commit — so an idle node need not wait for its poll.
// Wire it to the delivery engine's Wake.
//
// It holds one dedicated connection running LISTEN and reconnects (with
// backoff up to 5s) whenever that connection fails. Notifications sent
// while it was disconnected are lost, so fn is also called with "" every
// time the listener (re)connects, meaning "anything may be due: wake every
// destination". fn runs on Listen's goroutine and must not block.
//
// Listen returns nil when ctx ends or the store is closed.
func (s *Store) Listen(ctx context.Context, fn func(destination string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	const minBackoff, maxBackoff = 100 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	for {
		connected, err := s.listen(ctx, fn)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			backoff = minBackoff
		}
		s.log.Warn("postgres listener lost its connection; reconnecting", "err", err, "backoff", backoff.String())
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listen runs one LISTEN connection until it fails or ctx ends; connected
// reports whether LISTEN succeeded.
func (s *Store) listen(ctx context.Context, fn func(string)) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false, err
	}
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		for _, d := range strings.Split(n.Payload, "\n") {
			if d != "" {
				fn(d)
			}
		}
	}
}
