package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/load"
	"github.com/hookyard/hookyard/internal/verify"
)

// cmdBench drives signed load at a running instance (hookyard bench).
func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "bench --url URL --secret S [--rate N | --concurrency N] [--duration D] [--sink ADDR] [--ceiling-too]")
	target := fs.String("url", "http://127.0.0.1:8080/ingest/shop", "ingest URL of the source to load")
	provider := fs.String("provider", "shopify", "sign requests as this provider")
	secret := fs.String("secret", "", "signing secret of the source")
	rate := fs.Int("rate", 0, "open loop: requests per second (latency measured from the scheduled send time)")
	conc := fs.Int("concurrency", 0, "closed loop: workers sending back to back (or the open loop's sender pool)")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "warm-up before measuring (excluded)")
	size := fs.Int("body-size", 2048, "body size in bytes (valid JSON)")
	sinkAddr := fs.String("sink", "", "run a sink destination on ADDR (e.g. 127.0.0.1:9100) and report end-to-end latency")
	drain := fs.Duration("drain-timeout", 60*time.Second, "with --sink: how long to wait for every accepted event to arrive")
	ceiling := fs.Bool("ceiling", false, "measure only the ceiling: a hello-world Go server checking a Shopify HMAC")
	ceilingToo := fs.Bool("ceiling-too", false, "measure the ceiling first, then the target, and print both")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate <= 0 && *conc <= 0 {
		return errors.New("give --rate N (open loop) or --concurrency N (closed loop)")
	}
	if *secret == "" {
		return errors.New("--secret is required (the source's signing secret)")
	}
	p, ok := verify.Lookup(*provider)
	if !ok {
		return fmt.Errorf("--provider: unknown provider %q (want one of %s)", *provider, strings.Join(verify.Names(), ", "))
	}
	sign := func(body []byte, id string, now time.Time) (http.Header, error) {
		return p.Sign(*secret, body, verify.SignOptions{Topic: "orders/create", ID: id, Now: now, URL: *target})
	}
	runID := fmt.Sprint(time.Now().UnixNano())
	cfg := load.Config{Sign: sign, Rate: *rate, Concurrency: *conc, Duration: *duration, Warmup: *warmup, BodySize: *size}
	report := benchReport{Command: "hookyard bench " + strings.Join(args, " ")}

	if *ceiling || *ceilingToo {
		if *provider != "shopify" {
			return errors.New("--ceiling signs as shopify; use --provider shopify")
		}
		url, stop, err := load.Ceiling(*secret)
		if err != nil {
			return err
		}
		c := cfg
		c.URL, c.RunID = url, runID+"c"
		res, err := load.Run(ctx, c)
		stop()
		if err != nil {
			return err
		}
		c2 := summarize(res)
		report.Ceiling = &c2
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
	cfg.URL, cfg.RunID = *target, runID
	res, err := load.Run(ctx, cfg)
	if err != nil {
		return err
	}
	t := summarize(res)
	report.Target = &t
	if sink != nil {
		// Wait for every event accepted during the run (warm-up included) to arrive.
		want := int64(res.Accepted)
		start := time.Now()
		for sink.Delivered() < want && time.Since(start) < *drain && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		sr := sink.Result()
		d := sinkReport{Delivered: sr.Delivered, Redeliveries: sr.Repeats, DrainAfterLoad: time.Since(start).Round(time.Millisecond).String(),
			EndToEnd: latency(sr.EndToEnd)}
		if span := sr.Last.Sub(sr.First); span > 0 {
			d.DeliveredPerSec = float64(sr.Delivered) / span.Seconds()
		}
		// Events accepted during warm-up also reach the sink.
		if missing := int(want) - sr.Delivered; missing > 0 {
			d.Missing = missing
		}
		report.Sink = &d
	}
	if report.Ceiling != nil && report.Target != nil && report.Ceiling.AcceptedPerSec > 0 {
		report.RatioToCeiling = report.Target.AcceptedPerSec / report.Ceiling.AcceptedPerSec
	}
	return report.print(e.stdout, *asJSON)
}

type benchReport struct {
	Command        string      `json:"command"`
	Ceiling        *runReport  `json:"ceiling,omitempty"`
	Target         *runReport  `json:"target,omitempty"`
	Sink           *sinkReport `json:"sink,omitempty"`
	RatioToCeiling float64     `json:"ratio_to_ceiling,omitempty"`
}

type runReport struct {
	Sent           int           `json:"sent"`
	Accepted       int           `json:"accepted"`
	Duplicates     int           `json:"duplicates"`
	Errors         int           `json:"errors"`
	ByStatus       map[int]int   `json:"errors_by_status,omitempty"`
	Transport      int           `json:"transport_errors"`
	AcceptedPerSec float64       `json:"accepted_per_sec"`
	Ack            latencyReport `json:"ack_latency"`
}

type sinkReport struct {
	Delivered       int           `json:"delivered"`
	Redeliveries    int           `json:"redeliveries"`
	Missing         int           `json:"missing"`
	DeliveredPerSec float64       `json:"delivered_per_sec"`
	DrainAfterLoad  string        `json:"drain_after_load"`
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

func summarize(r *load.Result) runReport {
	return runReport{Sent: r.Sent, Accepted: r.Accepted, Duplicates: r.Duplicates, Errors: r.Errors, ByStatus: r.ByStatus,
		Transport: r.Transport, AcceptedPerSec: r.AcceptedPerSecond(), Ack: latency(r.Ack)}
}

func (b *benchReport) print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	run := func(name string, r *runReport) {
		fmt.Fprintf(w, "%s: sent %d, accepted %d (%.0f/s), duplicates %d, errors %d", name, r.Sent, r.Accepted, r.AcceptedPerSec, r.Duplicates, r.Errors)
		if r.Transport > 0 {
			fmt.Fprintf(w, " (no answer %d)", r.Transport)
		}
		for code, n := range r.ByStatus {
			fmt.Fprintf(w, " [HTTP %d ×%d]", code, n)
		}
		fmt.Fprintf(w, "\n  ACK latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", r.Ack.P50, r.Ack.P95, r.Ack.P99, r.Ack.Max)
	}
	if b.Ceiling != nil {
		run("ceiling (hello world + HMAC)", b.Ceiling)
	}
	if b.Target != nil {
		run("hookyard", b.Target)
	}
	if b.RatioToCeiling > 0 {
		fmt.Fprintf(w, "hookyard / ceiling: %.2f\n", b.RatioToCeiling)
	}
	if s := b.Sink; s != nil {
		fmt.Fprintf(w, "sink: delivered %d (%.0f/s), redeliveries %d, missing %d, drained %s after the load\n  end-to-end ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n",
			s.Delivered, s.DeliveredPerSec, s.Redeliveries, s.Missing, s.DrainAfterLoad, s.EndToEnd.P50, s.EndToEnd.P95, s.EndToEnd.P99, s.EndToEnd.Max)
	}
	return nil
}
