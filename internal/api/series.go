package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// SeriesSource is the node's recent history of the status page's numbers
// (the alert engine's one-minute samples, adapted in cmd/hookyard). It is
// optional: without it GET /api/v1/status/series answers 404.
type SeriesSource interface {
	// Series returns the points of the last span, oldest first.
	Series(span time.Duration) StatusSeries
}

// StatusSeries is GET /api/v1/status/series: one point per sample the node
// took (once a minute), oldest first. Every array of a destination and of
// dedup_hits is as long as times; point i covers the interval from
// times[i-1] (or the sample before the first) to times[i]. The numbers are
// this node's own traffic; queue depth and dead letters are the store's,
// so the whole cluster's.
type StatusSeries struct {
	Times        []time.Time         `json:"times"`
	Destinations []DestinationSeries `json:"destinations"`
	// DedupHits is the duplicates recognised in each interval, by source.
	DedupHits map[string][]float64 `json:"dedup_hits"`
}

// DestinationSeries is one destination's history in a StatusSeries.
type DestinationSeries struct {
	Destination string `json:"destination"`
	// Attempts is the delivery attempts made in each interval.
	Attempts []float64 `json:"attempts"`
	// SuccessRatio is the share of those attempts that succeeded; null
	// without attempts.
	SuccessRatio []*float64 `json:"success_ratio"`
	// P95Seconds is the 95th percentile end-to-end latency (receipt to
	// delivery) of the deliveries that succeeded in the interval,
	// interpolated within histogram buckets; null without any.
	P95Seconds []*float64 `json:"p95_seconds"`
	// QueueDepth is the backlog still to deliver (due, scheduled, in
	// flight) and Dead the dead letters, at the end of each interval.
	QueueDepth []int `json:"queue_depth"`
	Dead       []int `json:"dead"`
	// TimeToDrainSeconds is the due and in-flight backlog divided by the
	// interval's completion rate; null when nothing completed while work
	// waited (then Stalled is true).
	TimeToDrainSeconds []*float64 `json:"time_to_drain_seconds"`
	Stalled            []bool     `json:"stalled"`
	// ErrorClasses is the failed attempts in each interval by error class
	// (only the classes seen in the span).
	ErrorClasses map[string][]float64 `json:"error_classes"`
}

// maxSeriesMinutes is how far back the node keeps one-minute samples.
const maxSeriesMinutes = 360

var seriesParams = []string{"minutes"}

var errNoSeries = fmt.Errorf("%w: status history is not kept on this node", webhook.ErrNotFound)

// GET /api/v1/status/series?minutes=60
func (s *server) statusSeries(w http.ResponseWriter, r *http.Request, _ who) error {
	v, err := params(r, seriesParams)
	if err != nil {
		return err
	}
	minutes := 60
	if m := v.Get("minutes"); m != "" {
		if minutes, err = strconv.Atoi(m); err != nil || minutes < 1 || minutes > maxSeriesMinutes {
			return invalid("minutes", "want a whole number from 1 to %d, got %q", maxSeriesMinutes, m)
		}
	}
	if s.series == nil {
		return errNoSeries
	}
	out := s.series.Series(time.Duration(minutes) * time.Minute)
	if out.Times == nil {
		out.Times = []time.Time{}
	}
	if out.Destinations == nil {
		out.Destinations = []DestinationSeries{}
	}
	if out.DedupHits == nil {
		out.DedupHits = map[string][]float64{}
	}
	return writeJSON(w, http.StatusOK, out)
}

// StatusSeries reads the node's recent history: the last minutes (1–360;
// 0 for the default hour).
func (c *Client) StatusSeries(ctx context.Context, minutes int) (StatusSeries, error) {
	var q url.Values
	if minutes > 0 {
		q = url.Values{"minutes": {strconv.Itoa(minutes)}}
	}
	var out StatusSeries
	return out, c.do(ctx, http.MethodGet, "/api/v1/status/series", q, nil, &out)
}
