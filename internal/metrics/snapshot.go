package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Snapshot is the running totals of the counters and histograms the SLO
// and alert evaluator samples (internal/alert): cumulative since the
// process started, exactly what /metrics would show at that moment.
type Snapshot struct {
	// Attempts counts delivery attempts (hookyard_delivery_attempts_total).
	Attempts map[AttemptKey]float64
	// EndToEnd is hookyard_delivery_end_to_end_seconds by destination.
	EndToEnd map[string]Histogram
	// Completed counts deliveries that reached a final state
	// (hookyard_deliveries_completed_total) by destination, both states.
	Completed map[string]float64
	// DedupHits is hookyard_dedup_hits_total by source.
	DedupHits map[string]float64
	// Ingest is hookyard_ingest_requests_total.
	Ingest map[IngestKey]float64
}

// AttemptKey is the label set of hookyard_delivery_attempts_total.
type AttemptKey struct {
	Destination string
	Outcome     string // success, retry, dead
	ErrorClass  string // "" on success
}

// IngestKey is the label set of hookyard_ingest_requests_total.
type IngestKey struct {
	Source  string
	Outcome string
}

// Histogram is a cumulative histogram: Counts[i] observations were at most
// Bounds[i] seconds; Count is every observation (the +Inf bucket).
type Histogram struct {
	Bounds []float64
	Counts []float64
	Count  float64
}

// Snapshot reads the current totals. It touches only the collectors it
// reports, never the store-backed queue gauges.
func (m *Metrics) Snapshot() Snapshot {
	s := Snapshot{
		Attempts:  map[AttemptKey]float64{},
		EndToEnd:  map[string]Histogram{},
		Completed: map[string]float64{},
		DedupHits: map[string]float64{},
		Ingest:    map[IngestKey]float64{},
	}
	each(m.attempts, func(l map[string]string, d *dto.Metric) {
		s.Attempts[AttemptKey{l["destination"], l["outcome"], l["error_class"]}] += d.GetCounter().GetValue()
	})
	each(m.endToEnd, func(l map[string]string, d *dto.Metric) {
		h := d.GetHistogram()
		out := Histogram{Count: float64(h.GetSampleCount())}
		for _, b := range h.GetBucket() {
			out.Bounds = append(out.Bounds, b.GetUpperBound())
			out.Counts = append(out.Counts, float64(b.GetCumulativeCount()))
		}
		s.EndToEnd[l["destination"]] = out
	})
	each(m.completed, func(l map[string]string, d *dto.Metric) {
		s.Completed[l["destination"]] += d.GetCounter().GetValue()
	})
	each(m.dedupHits, func(l map[string]string, d *dto.Metric) {
		s.DedupHits[l["source"]] += d.GetCounter().GetValue()
	})
	each(m.ingestRequests, func(l map[string]string, d *dto.Metric) {
		s.Ingest[IngestKey{l["source"], l["outcome"]}] += d.GetCounter().GetValue()
	})
	return s
}

// each calls fn with the labels and value of every series c holds.
func each(c prometheus.Collector, fn func(labels map[string]string, d *dto.Metric)) {
	ch := make(chan prometheus.Metric, 64)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	for pm := range ch {
		var d dto.Metric
		if err := pm.Write(&d); err != nil {
			continue // only a broken collector fails; its series are left out
		}
		labels := make(map[string]string, len(d.GetLabel()))
		for _, lp := range d.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		fn(labels, &d)
	}
}
