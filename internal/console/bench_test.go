package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/console"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

// benchEvents is how many events the page benchmarks store (default one
// million; HOOKYARD_BENCH_EVENTS overrides it for a quicker look).
func benchEvents(b *testing.B) int {
	if s := os.Getenv("HOOKYARD_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2000 {
			b.Fatalf("HOOKYARD_BENCH_EVENTS=%q: want a whole number of at least 2000", s)
		}
		return n
	}
	return 1_000_000
}

// pageBench is a SQLite store holding n events (two sources alternating;
// every 1000th event dead-lettered at destination flaky, the others
// pending at oms), the admin API and the console over it, and a logged-in
// session. It is built once per process: seeding a million events takes
// a while.
type pageBench struct {
	store   *sqlite.Store
	console http.Handler
	cookie  *http.Cookie
	ids     []string // every 1000th event id, oldest first
	n       int
	dir     string
}

var (
	benchOnce sync.Once
	bench     *pageBench
	benchErr  error
)

func loadPageBench(b *testing.B) *pageBench {
	benchOnce.Do(func() { bench, benchErr = seedPageBench(benchEvents(b)) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func seedPageBench(n int) (*pageBench, error) {
	dir, err := os.MkdirTemp("", "hookyard-console-bench-")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hookyard.db"), sqlite.Config{})
	if err != nil {
		return nil, err
	}
	pb := &pageBench{store: st, n: n, dir: dir}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hdr := http.Header{"Content-Type": {"application/json"}, "X-Shopify-Topic": {"orders/create"},
		"X-Shopify-Hmac-Sha256": {"c2lnbmF0dXJl"}}
	ids := make([]string, n/1000)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 64 { // concurrent callers fill the store's group commits
		wg.Go(func() {
			for i := w; i < n; i += 64 {
				at := base.Add(time.Duration(i) * time.Millisecond)
				src, dest := "shop", "oms"
				if i%2 == 1 {
					src = "stripe"
				}
				if i%1000 == 0 {
					dest = "flaky"
				}
				ev := &webhook.Event{ID: webhook.NewID("evt_", at), Source: src, Provider: "shopify",
					Topic: "orders/create", DedupKey: fmt.Sprintf("wh-%07d", i), ReceivedAt: at, Headers: hdr,
					Body: []byte(fmt.Sprintf(`{"id":%d,"total_price":"19.99","currency":"USD"}`, i))}
				if i%1000 == 0 {
					ids[i/1000] = ev.ID
				}
				if _, err := st.Ingest(ctx, ev, []webhook.NewDelivery{{Destination: dest, Route: src + "-" + dest,
					Priority: webhook.PriorityNormal, MaxAttempts: 5}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	cs, err := st.DeliveryClaim(ctx, store.ClaimParams{Destination: "flaky", Owner: "bench", Limit: len(ids),
		Lease: time.Hour, Now: time.Now()})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if err := st.DeliveryDead(ctx, c.Delivery.ID, c.Delivery.LeaseToken, webhook.Attempt{Number: 1,
			StartedAt: time.Now(), StatusCode: 400, ErrorClass: webhook.ClassHTTP4xx, Error: "destination answered 400"}); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(os.Stderr, "seeded %d events in %v\n", n, time.Since(start).Round(time.Millisecond))
	pb.ids = ids

	h := api.New(api.Config{Store: st, Tokens: []config.Token{{Name: "bench", Token: viewerToken, Role: "viewer"}}})
	con, err := console.New(console.Config{API: h, Sessions: st})
	if err != nil {
		return nil, err
	}
	pb.console = con
	// Log in through the handler, as a browser would.
	rec := httptest.NewRecorder()
	con.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/login", nil))
	loginCookie := rec.Result().Cookies()[0]
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	req := httptest.NewRequest(http.MethodPost, "/console/login",
		strings.NewReader(url.Values{"csrf": {m[1]}, "token": {viewerToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(loginCookie)
	rec = httptest.NewRecorder()
	con.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "hookyard_session" {
			pb.cookie = c
		}
	}
	if pb.cookie == nil {
		return nil, fmt.Errorf("login failed: %d %s", rec.Code, rec.Body.String())
	}
	return pb, nil
}

// closePageBench releases the benchmark store (TestMain calls it).
func closePageBench() {
	if bench != nil {
		bench.store.Close()
		os.RemoveAll(bench.dir)
	}
}

// get renders one console page and checks it is a full 200 page with
// want in it.
func (pb *pageBench) get(b *testing.B, path, want string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(pb.cookie)
	rec := httptest.NewRecorder()
	pb.console.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("GET %s: %d, want 200 with %q\n%.2000s", path, rec.Code, want, rec.Body.String())
	}
}

// BenchmarkEventsPage renders the console's events list (the whole
// handler: session, in-process admin API call, store query, template)
// over a store of one million events: the first page, a page deep in the
// past through the keyset cursor, a source filter, a search by provider
// id, and the dead-letter page. "store" runs the first page's store query
// alone, as the baseline the page costs are compared with.
func BenchmarkEventsPage(b *testing.B) {
	pb := loadPageBench(b)
	deep := pb.ids[1] // the 1000th oldest event: the page after it is the 20,000th page of 50
	b.Run("store-first", func(b *testing.B) {
		for b.Loop() {
			es, _, err := pb.store.EventList(context.Background(), store.EventFilter{Limit: 50})
			if err != nil || len(es) != 50 {
				b.Fatalf("%d events, %v", len(es), err)
			}
		}
	})
	b.Run("store-deep", func(b *testing.B) {
		for b.Loop() {
			es, _, err := pb.store.EventList(context.Background(), store.EventFilter{Limit: 50, Cursor: deep})
			if err != nil || len(es) != 50 {
				b.Fatalf("%d events, %v", len(es), err)
			}
		}
	})
	pages := []struct{ name, path, want string }{
		{"page-first", "/console/events", "wh-" + fmt.Sprintf("%07d", pb.n-1)},
		{"page-deep", "/console/events?cursor=" + deep, "wh-0000999"},
		{"page-source", "/console/events?source=stripe&cursor=" + deep, "wh-0000999"},
		{"page-search", "/console/events?q=wh-0500001", "wh-0500001"},
		{"page-dead", "/console/events?state=dead", "flaky"},
		{"page-dlq", "/console/dlq", "destination answered 400"},
		{"page-event", "/console/events/" + pb.ids[len(pb.ids)/2], "total_price"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				pb.get(b, p.path, p.want)
			}
		})
	}
}
