// Package load is hookyard's load generator: it drives signed webhooks at
// an ingest URL (open loop at a fixed rate, or closed loop with N workers),
// runs an optional sink destination that measures end-to-end latency, and
// summarises latency percentiles. Open-loop latency is measured from each
// request's scheduled send time, so a stalled server cannot hide its stall
// (no coordinated omission).
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// Signer returns the headers for one body, signed as the provider would,
// with id as the provider's delivery id.
type Signer func(body []byte, id string, now time.Time) (http.Header, error)

// Config is one run.
type Config struct {
	URL         string
	More        []string // further ingest URLs (other nodes): requests rotate over URL and these
	Sign        Signer
	Rate        int // requests per second (open loop); 0 with Concurrency > 0 means closed loop
	Concurrency int // closed-loop workers, or the open loop's sender pool (default 256)
	Duration    time.Duration
	Warmup      time.Duration // excluded from the statistics
	BodySize    int
	RunID       string // makes ids unique across runs against the same store
}

// Result is what a run measured. Counts and latencies cover requests
// scheduled within the measured window [MeasureFrom, End); Warmup* count
// the requests before it.
type Result struct {
	Sent, Accepted, Duplicates, Errors int
	ByStatus                           map[int]int    // errors answered with a non-2xx status
	Transport                          map[string]int // errors with no answer, by kind
	WarmupSent, WarmupAccepted         int
	Start, MeasureFrom, End            time.Time
	Ack                                Summary // latency of 2xx answers
}

// AcceptedPerSecond is the measured ingest throughput.
func (r *Result) AcceptedPerSecond() float64 {
	d := r.End.Sub(r.MeasureFrom)
	if d <= 0 {
		return 0
	}
	return float64(r.Accepted) / d.Seconds()
}

// Run drives the load and returns when the duration is over and every
// request sent has been answered (or has failed). It returns what was
// measured so far with ctx's error when ctx ends first, and stops at the
// first signing error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.URL == "" || cfg.Sign == nil || cfg.Duration <= 0 {
		return nil, errors.New("load: URL, Sign and Duration are required")
	}
	if cfg.Rate <= 0 && cfg.Concurrency <= 0 {
		return nil, errors.New("load: give a rate or a concurrency")
	}
	gen, err := NewBodies(cfg.BodySize, cfg.RunID)
	if err != nil {
		return nil, err
	}
	workers := cfg.Concurrency
	if workers <= 0 {
		workers = 256
	}
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	res := &Result{ByStatus: map[int]int{}, Transport: map[string]int{}, Start: time.Now()}
	res.MeasureFrom = res.Start.Add(cfg.Warmup)
	res.End = res.MeasureFrom.Add(cfg.Duration)
	var (
		mu  sync.Mutex
		lat []time.Duration
		seq int64 // guarded by mu
	)

	targets := append([]string{cfg.URL}, cfg.More...)
	one := func(scheduled time.Time) {
		mu.Lock()
		n := seq
		seq++
		mu.Unlock()
		target := targets[n%int64(len(targets))]
		body, id := gen.Next(n, scheduled)
		h, err := cfg.Sign(body, id, time.Now())
		if err != nil {
			cancel(fmt.Errorf("load: signing: %w", err))
			return
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			cancel(fmt.Errorf("load: %w", err))
			return
		}
		req.Header = h
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		code, dup := 0, false
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			code = resp.StatusCode
			dup = bytes.Contains(b, []byte(`"duplicate":true`))
		}
		took := time.Since(scheduled)
		if ctx.Err() != nil { // interrupted: the answer says nothing about the target
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if scheduled.Before(res.MeasureFrom) {
			res.WarmupSent++
			if err == nil && code/100 == 2 && !dup {
				res.WarmupAccepted++
			}
			return
		}
		res.Sent++
		switch {
		case err != nil:
			res.Transport[errKind(err)]++
			res.Errors++
		case code/100 == 2 && dup:
			res.Duplicates++
			lat = append(lat, took)
		case code/100 == 2:
			res.Accepted++
			lat = append(lat, took)
		default:
			res.ByStatus[code]++
			res.Errors++
		}
	}

	var wg sync.WaitGroup
	if cfg.Rate > 0 {
		jobs := make(chan time.Time, workers*64)
		for range workers {
			wg.Go(func() {
				for t := range jobs {
					one(t)
				}
			})
		}
		schedule(ctx, jobs, res.Start, res.End, cfg.Rate)
		close(jobs)
	} else {
		for range workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					now := time.Now()
					if !now.Before(res.End) {
						return
					}
					one(now)
				}
			})
		}
	}
	wg.Wait()
	res.Ack = Summarize(lat)
	return res, context.Cause(ctx)
}

// schedule sends the open loop's timeline to jobs: request i is due at
// start + i/rate seconds, computed from i rather than by adding an interval
// so that rounding never drifts. When the sender falls behind, the due
// requests go out at once, each keeping its scheduled time.
func schedule(ctx context.Context, jobs chan<- time.Time, start, end time.Time, rate int) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := int64(0); ; i++ {
		due := start.Add(time.Duration(i * int64(time.Second) / int64(rate)))
		if !due.Before(end) {
			return
		}
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		select {
		case jobs <- due:
		case <-ctx.Done():
			return
		}
	}
}

// errKind names a request's transport error for the report.
func errKind(err error) string {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "other"
}
