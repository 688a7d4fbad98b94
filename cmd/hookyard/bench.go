package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/load"
	"github.com/hookyard/hookyard/internal/verify"
)

// cmdBench drives signed load at a running instance (hookyard bench). The
// run ends by itself after warm-up + duration (+ drain, with --sink).
func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "bench --url URL --secret S [--rate N | --concurrency N] [--duration D] [--sink ADDR] [--ceiling | --ceiling-too]")
	target := fs.String("url", "http://127.0.0.1:8080/ingest/shop", "ingest URL of the source to load; several comma-separated URLs (one per node) rotate the requests over them, signed for the first")
	provider := fs.String("provider", "shopify", "sign requests as this provider")
	secret := fs.String("secret", "", "signing secret of the source")
	rate := fs.Int("rate", 0, "open loop: requests per second (latency measured from the scheduled send time)")
	conc := fs.Int("concurrency", 0, "closed loop: workers sending back to back (with --rate: the open loop's sender pool, default 256)")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "warm-up before measuring (excluded from the figures)")
	size := fs.Int("body-size", 2048, "body size in bytes (a Shopify-like order, valid JSON)")
	sinkAddr := fs.String("sink", "", "run a sink destination on ADDR (e.g. 127.0.0.1:9100) and report end-to-end latency")
	drain := fs.Duration("drain-timeout", 30*time.Second, "with --sink: how long to wait after the load for every accepted event to arrive")
	ceiling := fs.Bool("ceiling", false, "load only the ceiling: an in-process hello-world Go server checking a Shopify HMAC")
	ceilingToo := fs.Bool("ceiling-too", false, "load the ceiling first, then --url, and print both and their ratio")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *rate < 0 || *conc < 0:
		return errors.New("--rate and --concurrency must be positive")
	case *rate == 0 && *conc == 0:
		return errors.New("give --rate N (open loop) or --concurrency N (closed loop)")
	case *duration <= 0 || *warmup < 0 || *drain < 0:
		return errors.New("--duration must be positive; --warmup and --drain-timeout not negative")
	case *secret == "":
		return errors.New("--secret is required (the source's signing secret)")
	case (*ceiling || *ceilingToo) && *provider != "shopify":
		return errors.New("--ceiling checks a Shopify HMAC: use --provider shopify")
	case *ceiling && *sinkAddr != "":
		return errors.New("--ceiling delivers nothing: drop --sink (or use --ceiling-too)")
	}
	p, ok := verify.Lookup(*provider)
	if !ok {
		return fmt.Errorf("--provider: unknown provider %q (want one of %s)", *provider, strings.Join(verify.Names(), ", "))
	}
	signer := func(url string) load.Signer {
		return func(body []byte, id string, now time.Time) (http.Header, error) {
			return p.Sign(*secret, body, verify.SignOptions{Topic: "orders/create", ID: id, Now: now, URL: url})
		}
	}
	runID := fmt.Sprint(time.Now().UnixNano())
	cfg := load.Config{Rate: *rate, Concurrency: *conc, Duration: *duration, Warmup: *warmup, BodySize: *size}
	report := benchReport{Command: "hookyard bench " + strings.Join(args, " "), Rate: *rate, Concurrency: *conc,
		Duration: duration.String(), Warmup: warmup.String(), BodySize: *size}

	if *ceiling || *ceilingToo {
		url, stop, err := load.Ceiling(*secret)
		if err != nil {
			return err
		}
		c := cfg
		c.URL, c.Sign, c.RunID = url, signer(url), runID+"c"
		res, err := load.Run(ctx, c)
		stop()
		if err != nil {
			return err
		}
		report.Ceiling = summarize(res)
		if *ceiling {
			return report.print(e.stdout, *asJSON)
		}
	}

	var sink *load.Sink
	if *sinkAddr != "" {
		var err error
		if sink, err = load.StartSink(*sinkAddr); err != nil {
			return fmt.Errorf("--sink: %w", err)
		}
		defer sink.Close()
	}
	urls := strings.Split(*target, ",")
	cfg.URL, cfg.More, cfg.Sign, cfg.RunID = urls[0], urls[1:], signer(urls[0]), runID
	res, err := load.Run(ctx, cfg)
	if err != nil {
		return err
	}
	report.Target = summarize(res)
	if report.Ceiling != nil && report.Ceiling.AcceptedPerSec > 0 {
		report.RatioToCeiling = report.Target.AcceptedPerSec / report.Ceiling.AcceptedPerSec
	}
	if sink != nil {
		// Events accepted during the warm-up reach the sink too: wait for
		// all of them, but measure only those sent in the window.
		want := res.Accepted + res.WarmupAccepted
		got, waited := sink.Drain(ctx, res.Start, want, *drain)
		sr := sink.Result(res.MeasureFrom, res.End)
		report.Sink = &sinkReport{
			Expected:        want,
			Delivered:       got,
			Missing:         max(want-got, 0),
			Repeats:         sr.Repeats,
			DeliveredPerSec: float64(sr.InWindow) / res.End.Sub(res.MeasureFrom).Seconds(),
			Drain:           waited.Round(time.Millisecond).String(),
			EndToEnd:        latency(sr.EndToEnd),
		}
	}
	return report.print(e.stdout, *asJSON)
}

type benchReport struct {
	Command        string      `json:"command"`
	Rate           int         `json:"rate,omitempty"`
	Concurrency    int         `json:"concurrency,omitempty"`
	Duration       string      `json:"duration"`
	Warmup         string      `json:"warmup"`
	BodySize       int         `json:"body_size"`
	Ceiling        *runReport  `json:"ceiling,omitempty"`
	Target         *runReport  `json:"target,omitempty"`
	RatioToCeiling float64     `json:"ratio_to_ceiling,omitempty"`
	Sink           *sinkReport `json:"sink,omitempty"`
}

type runReport struct {
	Sent           int            `json:"sent"`
	Accepted       int            `json:"accepted"`
	Duplicates     int            `json:"duplicates"`
	Errors         int            `json:"errors"`
	ByStatus       map[int]int    `json:"errors_by_status,omitempty"`
	Transport      map[string]int `json:"transport_errors,omitempty"`
	AcceptedPerSec float64        `json:"accepted_per_sec"`
	Ack            latencyReport  `json:"ack_latency"`
}

type sinkReport struct {
	Expected        int           `json:"expected"` // accepted, warm-up included
	Delivered       int           `json:"delivered"`
	Missing         int           `json:"missing"`
	Repeats         int           `json:"repeats"`
	DeliveredPerSec float64       `json:"delivered_per_sec"` // arrivals while the measured load ran
	Drain           string        `json:"drain"`             // waited after the load
	EndToEnd        latencyReport `json:"end_to_end_latency"`
}

type latencyReport struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func latency(s load.Summary) latencyReport {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return latencyReport{N: s.N, P50: ms(s.P50), P95: ms(s.P95), P99: ms(s.P99), Max: ms(s.Max)}
}

func summarize(r *load.Result) *runReport {
	return &runReport{Sent: r.Sent, Accepted: r.Accepted, Duplicates: r.Duplicates, Errors: r.Errors,
		ByStatus: r.ByStatus, Transport: r.Transport, AcceptedPerSec: r.AcceptedPerSecond(), Ack: latency(r.Ack)}
}

func (b *benchReport) print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	var sb strings.Builder
	shape := fmt.Sprintf("open loop, %d/s offered", b.Rate)
	if b.Rate == 0 {
		shape = fmt.Sprintf("closed loop, %d workers", b.Concurrency)
	}
	fmt.Fprintf(&sb, "%s; %s measured after %s warm-up; %d-byte bodies\n", shape, b.Duration, b.Warmup, b.BodySize)
	run := func(name string, r *runReport) {
		fmt.Fprintf(&sb, "%s: sent %d, accepted %d (%.0f/s), duplicates %d, errors %d\n",
			name, r.Sent, r.Accepted, r.AcceptedPerSec, r.Duplicates, r.Errors)
		for _, code := range slices.Sorted(maps.Keys(r.ByStatus)) {
			fmt.Fprintf(&sb, "  HTTP %d: %d\n", code, r.ByStatus[code])
		}
		for _, kind := range slices.Sorted(maps.Keys(r.Transport)) {
			fmt.Fprintf(&sb, "  %s: %d\n", kind, r.Transport[kind])
		}
		fmt.Fprintf(&sb, "  ACK latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", r.Ack.P50, r.Ack.P95, r.Ack.P99, r.Ack.Max)
	}
	if b.Ceiling != nil {
		run("ceiling (hello world + HMAC)", b.Ceiling)
	}
	if b.Target != nil {
		run("target", b.Target)
	}
	if b.RatioToCeiling > 0 {
		fmt.Fprintf(&sb, "target / ceiling: %.2f\n", b.RatioToCeiling)
	}
	if s := b.Sink; s != nil {
		fmt.Fprintf(&sb, "sink: delivered %d of %d accepted (warm-up included), missing %d, repeats %d; %.0f/s during the load; drained %s after it\n",
			s.Delivered, s.Expected, s.Missing, s.Repeats, s.DeliveredPerSec, s.Drain)
		fmt.Fprintf(&sb, "  end-to-end ms (n=%d): p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n",
			s.EndToEnd.N, s.EndToEnd.P50, s.EndToEnd.P95, s.EndToEnd.P99, s.EndToEnd.Max)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
