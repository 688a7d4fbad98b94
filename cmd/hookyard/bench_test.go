package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func runBench(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"bench"}, args...), func(string) string { return "" },
		strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

// TestBenchCeiling runs the real command against its in-process ceiling
// server for a second and checks that the report's counts add up (never a
// speed).
func TestBenchCeiling(t *testing.T) {
	out, err := runBench(t, "--ceiling", "--secret", "s3cret", "--rate", "100", "--warmup", "100ms", "--duration", "1s", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	c := rep.Ceiling
	if c == nil || rep.Target != nil || rep.Sink != nil {
		t.Fatalf("report = %s", out)
	}
	if c.Sent != 100 || c.Sent != c.Accepted+c.Duplicates+c.Errors || c.Errors != 0 || c.Ack.N != c.Accepted {
		t.Fatalf("ceiling = %+v", c)
	}
}

// TestBenchCeilingToo loads the ceiling and then a target (a stand-in that
// accepts every third request and refuses the rest), and prints both.
func TestBenchCeilingToo(t *testing.T) {
	var n atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 0:
			w.WriteHeader(http.StatusAccepted)
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer target.Close()
	out, err := runBench(t, "--ceiling-too", "--url", target.URL+"/ingest/shop", "--secret", "s", "--concurrency", "1",
		"--warmup", "0s", "--duration", "300ms")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"closed loop, 1 workers", "ceiling (hello world + HMAC): sent ", "target: sent ",
		"HTTP 401: ", "HTTP 503: ", "target / ceiling: ", "ACK latency ms: p50 "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--secret", "s"}, "give --rate N"},
		{[]string{"--rate", "10"}, "--secret is required"},
		{[]string{"--rate", "-1", "--secret", "s"}, "must be positive"},
		{[]string{"--rate", "10", "--secret", "s", "--duration", "0s"}, "--duration must be positive"},
		{[]string{"--rate", "10", "--secret", "s", "--provider", "nope"}, `unknown provider "nope"`},
		{[]string{"--rate", "10", "--secret", "s", "--ceiling", "--provider", "stripe"}, "use --provider shopify"},
		{[]string{"--rate", "10", "--secret", "s", "--ceiling", "--sink", "127.0.0.1:0"}, "drop --sink"},
		{[]string{"--rate", "10", "--secret", "s", "--ceiling", "--body-size", "100"}, "below the template"},
		{[]string{"--rate", "10", "--secret", "s", "extra"}, `unexpected argument "extra"`},
	} {
		_, err := runBench(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}
