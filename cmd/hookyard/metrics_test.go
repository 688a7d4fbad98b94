package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns every sample of the admin listener's /metrics as
// "name{labels}" → value.
func scrape(t *testing.T, n *node) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + n.adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsAfterScenario: 100 accepted, 5 duplicates, 3 signature
// failures give exactly those counters, and the delivery side counts 100
// successes with end-to-end latency observations.
func TestMetricsAfterScenario(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	for i := 0; i < 100; i++ {
		if code, body := status(t, signedRequest(t, n.ingestURL("shop"), orderBody(i), fmt.Sprint("m-", i))); code != 202 {
			t.Fatalf("%d %s", code, body)
		}
	}
	for i := 0; i < 5; i++ {
		if code, _ := status(t, signedRequest(t, n.ingestURL("shop"), orderBody(i), fmt.Sprint("m-", i))); code != 200 {
			t.Fatalf("duplicate answered %d", code)
		}
	}
	for i := 0; i < 3; i++ {
		req := signedRequest(t, n.ingestURL("shop"), orderBody(i), "bad")
		req.Header.Set("X-Shopify-Hmac-Sha256", "AAAA")
		if code, _ := status(t, req); code != 401 {
			t.Fatalf("bad signature answered %d", code)
		}
	}
	for i := 0; i < 100; i++ {
		sk.next(t)
	}
	want := map[string]float64{
		`hookyard_ingest_requests_total{outcome="accepted",source="shop"}`:                     100,
		`hookyard_ingest_requests_total{outcome="duplicate",source="shop"}`:                    5,
		`hookyard_ingest_requests_total{outcome="signature",source="shop"}`:                    3,
		`hookyard_dedup_hits_total{source="shop"}`:                                             5,
		`hookyard_events_total{source="shop",topic="orders/create"}`:                           100,
		`hookyard_ingest_secret_matched_total{index="1",source="shop"}`:                        105,
		`hookyard_ingest_ack_seconds_count{source="shop"}`:                                     105,
		`hookyard_delivery_attempts_total{destination="oms",error_class="",outcome="success"}`: 100,
		`hookyard_delivery_end_to_end_seconds_count{destination="oms"}`:                        100,
		`hookyard_deliveries_completed_total{destination="oms",state="succeeded"}`:             100,
		`hookyard_queue_depth{destination="oms",state="dead"}`:                                 0,
	}
	// The delivery outcome is recorded just after the sink answers: poll
	// until the last one lands.
	deadline := time.Now().Add(5 * time.Second)
	var got map[string]float64
	for {
		got = scrape(t, n)
		if got[`hookyard_deliveries_completed_total{destination="oms",state="succeeded"}`] == 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got[`hookyard_queue_time_to_drain_seconds{destination="oms"}`]; !ok {
		t.Error("time-to-drain gauge missing")
	}
}
