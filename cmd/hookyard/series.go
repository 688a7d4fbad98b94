package main

import (
	"math"
	"slices"
	"time"

	"github.com/hookyard/hookyard/internal/alert"
	"github.com/hookyard/hookyard/internal/api"
)

// Series adapts the alert engine's one-minute history to the admin API's
// status series (GET /api/v1/status/series): the admin API finds it on the
// AlertSource it is given.
func (s alertAPI) Series(span time.Duration) api.StatusSeries {
	return wireSeries(s.e.History(span))
}

func wireSeries(h []alert.HistoryPoint) api.StatusSeries {
	out := api.StatusSeries{Times: make([]time.Time, len(h)), Destinations: []api.DestinationSeries{},
		DedupHits: map[string][]float64{}}
	dests, sources := map[string]bool{}, map[string]bool{}
	classes := map[string]map[string]bool{}
	for i, p := range h {
		out.Times[i] = p.At.UTC()
		for d, dh := range p.Dests {
			dests[d] = true
			for c := range dh.ErrorClasses {
				if classes[d] == nil {
					classes[d] = map[string]bool{}
				}
				classes[d][c] = true
			}
		}
		for src := range p.DedupHits {
			sources[src] = true
		}
	}
	for _, src := range sortedSet(sources) {
		hits := make([]float64, len(h))
		for i, p := range h {
			hits[i] = p.DedupHits[src]
		}
		out.DedupHits[src] = hits
	}
	for _, d := range sortedSet(dests) {
		ds := api.DestinationSeries{Destination: d, Attempts: make([]float64, len(h)),
			SuccessRatio: make([]*float64, len(h)), P95Seconds: make([]*float64, len(h)),
			QueueDepth: make([]int, len(h)), Dead: make([]int, len(h)), TimeToDrainSeconds: make([]*float64, len(h)),
			Stalled: make([]bool, len(h)), ErrorClasses: map[string][]float64{}}
		for c := range classes[d] {
			ds.ErrorClasses[c] = make([]float64, len(h))
		}
		for i, p := range h {
			dh := p.Dests[d] // zero for a destination the sample did not know yet
			ds.Attempts[i] = dh.Succeeded + dh.Failed
			if n := dh.Succeeded + dh.Failed; n > 0 {
				ds.SuccessRatio[i] = ptr(dh.Succeeded / n)
			}
			if dh.Delivered > 0 && !math.IsNaN(dh.P95) {
				ds.P95Seconds[i] = ptr(dh.P95)
			}
			ds.QueueDepth[i], ds.Dead[i] = dh.Depth, dh.Dead
			if math.IsInf(dh.TimeToDrain, 1) {
				ds.Stalled[i] = true
			} else {
				ds.TimeToDrainSeconds[i] = ptr(dh.TimeToDrain)
			}
			for c, n := range dh.ErrorClasses {
				ds.ErrorClasses[c][i] = n
			}
		}
		out.Destinations = append(out.Destinations, ds)
	}
	return out
}

func ptr(f float64) *float64 { return &f }

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
