package load

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Sink is a destination that answers 200 and records when each delivery
// arrived and when its event was sent (the body's bench_sent_ns). It counts
// a delivery once per Idempotency-Key; later arrivals with the same key are
// repeats. A delivery without the header is counted as distinct.
type Sink struct {
	srv  *http.Server
	Addr string

	mu       sync.Mutex
	keys     map[string]struct{}
	arrivals []arrival // distinct deliveries, in arrival order
	requests int
	repeats  int
}

// arrival is one distinct delivery, in Unix nanoseconds; sent is 0 when the
// body carried no bench_sent_ns.
type arrival struct{ sent, at int64 }

// StartSink listens on addr (host:port; port 0 picks one).
func StartSink(addr string) (*Sink, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{Addr: l.Addr().String(), keys: map[string]struct{}{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(l)
	return s, nil
}

var sentField = []byte(`"bench_sent_ns":`)

// SentAt finds bench_sent_ns in a body without parsing the rest: the first
// occurrence of the key, optional whitespace, then decimal digits.
func SentAt(body []byte) (time.Time, bool) {
	i := bytes.Index(body, sentField)
	if i < 0 {
		return time.Time{}, false
	}
	j := i + len(sentField)
	for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\n' || body[j] == '\r') {
		j++
	}
	var ns int64
	k := j
	for ; k < len(body) && body[k] >= '0' && body[k] <= '9'; k++ {
		if k-j == 19 { // more digits than an int64 holds
			return time.Time{}, false
		}
		ns = ns*10 + int64(body[k]-'0')
	}
	if k == j || ns < 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now().UnixNano()
	key := r.Header.Get("Idempotency-Key")
	var sent int64
	if t, ok := SentAt(body); ok {
		sent = t.UnixNano()
	}
	s.mu.Lock()
	s.requests++
	if _, seen := s.keys[key]; seen && key != "" {
		s.repeats++
	} else {
		if key != "" {
			s.keys[key] = struct{}{}
		}
		s.arrivals = append(s.arrivals, arrival{sent: sent, at: now})
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Delivered is the number of distinct deliveries of events sent at or
// after since (deliveries of older events, such as a previous run's
// backlog, are left out).
func (s *Sink) Delivered(since time.Time) int {
	from := since.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.arrivals {
		if a.sent >= from {
			n++
		}
	}
	return n
}

// Drain waits until want distinct deliveries of events sent at or after
// since have arrived, timeout passes or ctx ends, polling every few
// milliseconds. It returns how many arrived and how long it waited.
func (s *Sink) Drain(ctx context.Context, since time.Time, want int, timeout time.Duration) (got int, waited time.Duration) {
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got = s.Delivered(since)
		if got >= want || time.Since(start) >= timeout {
			return got, time.Since(start)
		}
		select {
		case <-ctx.Done():
			return got, time.Since(start)
		case <-tick.C:
		}
	}
}

// SinkResult is what the sink saw of one measurement window.
type SinkResult struct {
	Requests int // every request, repeats and other runs' events included
	Repeats  int // requests whose Idempotency-Key had been seen
	// Measured is the distinct deliveries of events sent within the window;
	// EndToEnd is their latency, from send to arrival.
	Measured int
	EndToEnd Summary
	// InWindow is the distinct deliveries (of any event) that arrived within
	// the window: the delivery rate while the load ran.
	InWindow int
}

// Result summarises the deliveries of events sent in [from, to) and the
// deliveries that arrived in that interval.
func (s *Sink) Result(from, to time.Time) SinkResult {
	f, t := from.UnixNano(), to.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := SinkResult{Requests: s.requests, Repeats: s.repeats}
	var lat []time.Duration
	for _, a := range s.arrivals {
		if a.sent >= f && a.sent < t {
			lat = append(lat, time.Duration(a.at-a.sent))
		}
		if a.at >= f && a.at < t {
			r.InWindow++
		}
	}
	r.Measured, r.EndToEnd = len(lat), Summarize(lat)
	return r
}

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }
