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
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Signer returns the headers for one body, signed as the provider would.
type Signer func(body []byte, id string, now time.Time) (http.Header, error)

// Config is one run.
type Config struct {
	URL         string
	Sign        Signer
	Rate        int // requests per second (open loop); 0 with Concurrency > 0 means closed loop
	Concurrency int // closed-loop workers, or the open loop's sender pool (default 256)
	Duration    time.Duration
	Warmup      time.Duration // excluded from the statistics
	BodySize    int
	RunID       string // makes ids unique across runs against the same store
}

// Result is what a run measured.
type Result struct {
	Sent, Accepted, Duplicates, Errors int
	ByStatus                           map[int]int
	Transport                          int // requests with no answer
	Elapsed                            time.Duration
	Ack                                Summary
	FirstSent, LastSent                time.Time
}

// AcceptedPerSecond is the measured ingest throughput.
func (r *Result) AcceptedPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Accepted) / r.Elapsed.Seconds()
}

// Run drives the load and returns when the duration is over.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.URL == "" || cfg.Sign == nil || cfg.Duration <= 0 {
		return nil, errors.New("load: URL, Sign and Duration are required")
	}
	if cfg.Rate <= 0 && cfg.Concurrency <= 0 {
		return nil, errors.New("load: give a rate or a concurrency")
	}
	workers := cfg.Concurrency
	if workers <= 0 {
		workers = 256
	}
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	gen := NewBodies(cfg.BodySize, cfg.RunID)

	var mu sync.Mutex
	res := &Result{ByStatus: map[int]int{}}
	var lat []time.Duration
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	var seq atomic.Int64

	one := func(scheduled time.Time) {
		n := seq.Add(1)
		body, id := gen.Next(n, scheduled)
		h, err := cfg.Sign(body, id, time.Now())
		if err != nil {
			return
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
		req.Header = h
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		took := time.Since(scheduled)
		code := 0
		dup := false
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			code = resp.StatusCode
			dup = bytes.Contains(b, []byte(`"duplicate":true`))
		}
		if scheduled.Before(measureFrom) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		res.Sent++
		if res.FirstSent.IsZero() || scheduled.Before(res.FirstSent) {
			res.FirstSent = scheduled
		}
		if scheduled.After(res.LastSent) {
			res.LastSent = scheduled
		}
		switch {
		case err != nil:
			res.Transport++
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
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for t := range jobs {
					one(t)
				}
			}()
		}
		interval := time.Second / time.Duration(cfg.Rate)
		next := start
	schedule:
		for next.Before(end) {
			if d := time.Until(next); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					break schedule
				}
			}
			// Emit every request whose time has come (catch up in bursts
			// rather than drift: the schedule is fixed).
			for now := time.Now(); !next.After(now) && next.Before(end); next = next.Add(interval) {
				jobs <- next
			}
		}
		close(jobs)
	} else {
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					now := time.Now()
					if !now.Before(end) {
						return
					}
					one(now)
				}
			}()
		}
	}
	wg.Wait()
	res.Elapsed = min(time.Since(measureFrom), cfg.Duration)
	if cfg.Rate > 0 && !res.LastSent.IsZero() {
		res.Elapsed = cfg.Duration
	}
	res.Ack = Summarize(lat)
	return res, ctx.Err()
}

// Bodies makes unique, valid JSON bodies of a fixed size: a Shopify-like
// orders/create payload padded to the size, with a unique id and the send
// time (bench_sent_ns) patched in.
type Bodies struct {
	size  int
	runID string
}

// NewBodies returns a generator of size-byte bodies.
func NewBodies(size int, runID string) *Bodies {
	return &Bodies{size: max(size, 256), runID: runID}
}

// Next returns body number n and its unique delivery id.
func (b *Bodies) Next(n int64, sent time.Time) ([]byte, string) {
	id := fmt.Sprintf("bench-%s-%d", b.runID, n)
	head := fmt.Sprintf(`{"id":%d,"bench_id":%q,"bench_sent_ns":%d,"email":"buyer%d@example.com","currency":"USD","total_price":"129.90","financial_status":"paid","line_items":[{"sku":"SKU-%d","quantity":2,"price":"64.95"}],"note":"`,
		n, id, sent.UnixNano(), n%1000, n%50)
	pad := b.size - len(head) - 2
	buf := make([]byte, 0, b.size)
	buf = append(buf, head...)
	for i := 0; i < pad; i++ {
		buf = append(buf, 'x')
	}
	buf = append(buf, '"', '}')
	return buf, id
}

// Summary holds latency percentiles.
type Summary struct {
	N                       int
	P50, P95, P99, Max, Avg time.Duration
}

// Summarize computes percentiles (nearest rank) of samples.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Summary{N: len(s), P50: rank(s, 50), P95: rank(s, 95), P99: rank(s, 99), Max: s[len(s)-1],
		Avg: sum / time.Duration(len(s))}
}

// rank is the nearest-rank percentile of sorted s.
func rank(s []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (s Summary) String() string {
	if s.N == 0 {
		return "no samples"
	}
	r := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (n=%d)", r(s.P50), r(s.P95), r(s.P99), r(s.Max), s.N)
}

// Sink is a destination that answers 200 and measures end-to-end latency
// from each body's bench_sent_ns to its arrival.
type Sink struct {
	srv       *http.Server
	Addr      string
	mu        sync.Mutex
	lat       []time.Duration
	keys      map[string]bool
	requests  int
	repeats   int
	first     time.Time
	last      time.Time
	delivered atomic.Int64
}

// StartSink listens on addr (host:port; port 0 picks one).
func StartSink(addr string) (*Sink, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{Addr: l.Addr().String(), keys: map[string]bool{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(l)
	return s, nil
}

var sentField = []byte(`"bench_sent_ns":`)

// SentAt finds bench_sent_ns in a body without parsing the rest.
func SentAt(body []byte) (time.Time, bool) {
	i := bytes.Index(body, sentField)
	if i < 0 {
		return time.Time{}, false
	}
	j := i + len(sentField)
	k := j
	for k < len(body) && body[k] >= '0' && body[k] <= '9' {
		k++
	}
	ns, err := strconv.ParseInt(string(body[j:k]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	key := r.Header.Get("Idempotency-Key")
	sent, ok := SentAt(body)
	s.mu.Lock()
	s.requests++
	if s.keys[key] {
		s.repeats++
	} else {
		s.keys[key] = true
		s.delivered.Add(1)
		if ok {
			s.lat = append(s.lat, now.Sub(sent))
		}
		if s.first.IsZero() {
			s.first = now
		}
		s.last = now
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Delivered is the number of distinct deliveries received.
func (s *Sink) Delivered() int64 { return s.delivered.Load() }

// SinkResult is what the sink saw.
type SinkResult struct {
	Delivered, Requests, Repeats int
	EndToEnd                     Summary
	First, Last                  time.Time
}

// Result snapshots the sink.
func (s *Sink) Result() SinkResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SinkResult{Delivered: len(s.keys), Requests: s.requests, Repeats: s.repeats,
		EndToEnd: Summarize(s.lat), First: s.first, Last: s.last}
}

// Reset forgets what the sink saw (between warmup and measurement).
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lat, s.keys, s.requests, s.repeats = nil, map[string]bool{}, 0, 0
	s.first, s.last = time.Time{}, time.Time{}
	s.delivered.Store(0)
}

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// Ceiling starts the machine's ceiling for ingest: a hello-world Go server
// that reads the body and checks a Shopify HMAC-SHA256 in constant time,
// answering 202. It returns its URL and a stop function.
func Ceiling(secret string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	key := []byte(secret)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", 400)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		want := mac.Sum(nil)
		got, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Shopify-Hmac-Sha256"))
		if err != nil || subtle.ConstantTimeCompare(got, want) != 1 {
			http.Error(w, "bad signature", 401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"x","duplicate":false}`))
	})}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + "/ingest/shop", func() { srv.Close() }, nil
}
