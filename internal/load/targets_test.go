package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunRotatesOverTargets: with several URLs (nodes), requests take
// turns, so each node gets its share.
func TestRunRotatesOverTargets(t *testing.T) {
	var hits [3]atomic.Int64
	var urls []string
	for i := range hits {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			w.WriteHeader(202)
		}))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	res, err := Run(context.Background(), Config{URL: urls[0], More: urls[1:], Sign: shopifySigner("s"), Rate: 300,
		Duration: 300 * time.Millisecond, BodySize: 2048, RunID: "rot"})
	if err != nil {
		t.Fatal(err)
	}
	total := res.Sent + res.WarmupSent
	for i := range hits {
		// Round robin: each target gets total/3, give or take one.
		if n := hits[i].Load(); n < int64(total/3) || n > int64(total/3+1) {
			t.Errorf("target %d got %d of %d requests", i, n, total)
		}
	}
}
