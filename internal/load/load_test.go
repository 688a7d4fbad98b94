package load

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hookyard/hookyard/internal/verify"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func shopifySigner(secret string) Signer {
	p, _ := verify.Lookup("shopify")
	return func(body []byte, id string, now time.Time) (http.Header, error) {
		return p.Sign(secret, body, verify.SignOptions{Topic: "orders/create", ID: id, Now: now})
	}
}

// TestRunAgainstCeiling drives the ceiling server briefly and checks the
// counts add up (never a speed).
func TestRunAgainstCeiling(t *testing.T) {
	url, stop, err := Ceiling("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, cfg := range []Config{
		{Rate: 200, Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond, BodySize: 2048},
		{Concurrency: 2, Duration: 200 * time.Millisecond, BodySize: 4096},
	} {
		cfg.URL, cfg.Sign, cfg.RunID = url, shopifySigner("s3cret"), "t"
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent == 0 || res.Sent != res.Accepted+res.Duplicates+res.Errors || res.Errors != 0 || res.Duplicates != 0 {
			t.Fatalf("rate %d: result = %+v", cfg.Rate, res)
		}
		if res.Ack.N != res.Accepted {
			t.Fatalf("rate %d: %d latency samples for %d accepted", cfg.Rate, res.Ack.N, res.Accepted)
		}
		if cfg.Rate > 0 {
			// The open loop's timeline is fixed: 20 requests in the warm-up,
			// 100 in the measured half second.
			if res.WarmupSent != 20 || res.WarmupAccepted != 20 || res.Sent != 100 {
				t.Fatalf("open loop: warm-up %d/%d, sent %d; want 20/20, 100", res.WarmupSent, res.WarmupAccepted, res.Sent)
			}
		}
	}

	// A wrong secret: every request is answered 401, counted by status.
	res, err := Run(context.Background(), Config{URL: url, Sign: shopifySigner("wrong"), Concurrency: 2,
		Duration: 200 * time.Millisecond, BodySize: 2048, RunID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == 0 || res.Accepted != 0 || res.ByStatus[http.StatusUnauthorized] != res.Sent || res.Errors != res.Sent {
		t.Fatalf("wrong secret: %+v", res)
	}
}

func TestRunErrors(t *testing.T) {
	// Nothing listens: transport errors, by kind.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	res, err := Run(context.Background(), Config{URL: url, Sign: shopifySigner("s"), Rate: 50,
		Duration: 100 * time.Millisecond, BodySize: 2048, RunID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 5 || res.Errors != 5 || res.Transport["connection refused"] != 5 {
		t.Fatalf("refused: %+v", res)
	}

	// A signing error stops the run and is returned.
	_, err = Run(context.Background(), Config{URL: url, Rate: 50, Duration: time.Second, BodySize: 2048,
		Sign: func([]byte, string, time.Time) (http.Header, error) { return nil, errFake }})
	if err == nil || !strings.Contains(err.Error(), "signing: fake") {
		t.Fatalf("sign error: %v", err)
	}

	if _, err := Run(context.Background(), Config{URL: url, Sign: shopifySigner("s"), Rate: 1, Duration: time.Second, BodySize: 10}); err == nil {
		t.Fatal("a body size below the template was accepted")
	}
}

type fakeErr struct{}

func (fakeErr) Error() string { return "fake" }

var errFake = fakeErr{}

// TestRunThroughRelayToSink stands in for hookyard: it accepts each event,
// answers 202 (or 200 duplicate for a repeated id), and later POSTs the body
// to the sink with the delivery id as Idempotency-Key, once or twice. The
// drain must wait for the warm-up's deliveries too, and the sink's
// end-to-end figures cover only the measured window.
func TestRunThroughRelayToSink(t *testing.T) {
	sink, err := StartSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	fwd := &http.Client{Transport: &http.Transport{}}
	defer fwd.CloseIdleConnections()
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		id := r.Header.Get("X-Shopify-Webhook-Id")
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if dup {
			w.Write([]byte(`{"id":"e","duplicate":true}`))
			return
		}
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"e","duplicate":false}`))
		wg.Go(func() {
			for range 2 { // every delivery is repeated once: the sink counts it once
				req, _ := http.NewRequest(http.MethodPost, "http://"+sink.Addr, bytes.NewReader(body.Bytes()))
				req.Header.Set("Idempotency-Key", "k-"+id)
				if resp, err := fwd.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		})
	}))
	defer relay.Close()

	res, err := Run(context.Background(), Config{URL: relay.URL, Sign: shopifySigner("s"), Rate: 100,
		Warmup: 200 * time.Millisecond, Duration: 300 * time.Millisecond, BodySize: 2048, RunID: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	want := res.Accepted + res.WarmupAccepted
	if res.Accepted != 30 || res.WarmupAccepted != 20 {
		t.Fatalf("accepted %d + warm-up %d, want 30 + 20", res.Accepted, res.WarmupAccepted)
	}
	got, _ := sink.Drain(context.Background(), res.Start, want, time.Minute)
	wg.Wait()
	if got != want {
		t.Fatalf("drained %d of %d", got, want)
	}
	sr := sink.Result(res.MeasureFrom, res.End)
	if sr.Measured != res.Accepted || sr.EndToEnd.N != res.Accepted || sr.Repeats != want || sr.Requests != 2*want {
		t.Fatalf("sink = %+v, want %d measured and %d repeats", sr, res.Accepted, want)
	}
}
