package drift

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// Kinds of Change.
const (
	KindNew         = "new"          // a path the baseline never had
	KindMissing     = "missing"      // a path every baseline event had, absent since
	KindTypeChanged = "type_changed" // a path the baseline had, with a type it never had
)

// Change is one drifting path of a frozen stream.
type Change struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	// Type is the type seen since the freeze (new, type_changed); empty
	// for missing.
	Type string `json:"type,omitempty"`
	// BaselineTypes are the path's types in the baseline (missing,
	// type_changed).
	BaselineTypes []string `json:"baseline_types,omitempty"`
	// Count is how many events since the freeze had the change.
	Count int64 `json:"count"`
	// Example is one such event's id (the first recorded).
	Example string `json:"example_event_id"`
}

// Report is one (source, topic): what was learned and how it drifted.
type Report struct {
	Source string `json:"source"`
	Topic  string `json:"topic"`
	// Events counts every event tracked; BaselineEvents those seen when
	// the baseline froze.
	Events         int64      `json:"events"`
	BaselineEvents int64      `json:"baseline_events"`
	Frozen         bool       `json:"frozen"`
	FrozenAt       *time.Time `json:"frozen_at,omitempty"`
	// Paths is the number of (path, type) pairs recorded.
	Paths int `json:"paths"`
	// Changes are the drifting paths, by path; empty while learning.
	Changes []Change `json:"changes"`

	rows     []store.DriftPath
	required []string
}

// Reports returns the streams matching source and topic ("" matches any),
// each with its changes.
func (t *Tracker) Reports(ctx context.Context, source, topic string) ([]Report, error) {
	streams, err := t.cfg.Store.DriftStreams(ctx)
	if err != nil {
		return nil, err
	}
	out := []Report{}
	for _, s := range streams {
		if (source != "" && s.Source != source) || (topic != "" && s.Topic != topic) {
			continue
		}
		rows, err := t.cfg.Store.DriftPaths(ctx, s.Source, s.Topic)
		if err != nil {
			return nil, err
		}
		out = append(out, build(s, rows))
	}
	return out, nil
}

// Report returns one stream's report; a stream never seen has no events.
func (t *Tracker) Report(ctx context.Context, source, topic string) (Report, error) {
	reps, err := t.Reports(ctx, source, topic)
	if err != nil || len(reps) == 0 {
		return Report{Source: source, Topic: topic, Changes: []Change{}}, err
	}
	return reps[0], nil
}

// build compares a stream's rows with its baseline.
func build(s store.DriftStream, rows []store.DriftPath) Report {
	r := Report{Source: s.Source, Topic: s.Topic, Events: s.Events, BaselineEvents: s.BaselineEvents,
		Frozen: !s.FrozenAt.IsZero(), Changes: []Change{}, rows: rows}
	if r.Frozen {
		at := s.FrozenAt
		r.FrozenAt = &at
	}
	baseTypes := map[string][]string{}
	baseSeen := map[string]int64{}
	for _, p := range rows {
		if p.Type == "" {
			continue
		}
		r.Paths++
		if p.InBaseline {
			baseTypes[p.Path] = append(baseTypes[p.Path], p.Type)
			baseSeen[p.Path] += p.BaselineSeen
		}
	}
	if !r.Frozen {
		return r
	}
	for path, n := range baseSeen {
		// A path whose types together were in every baseline event is
		// expected in every event (an array of mixed types may count an
		// event twice; such paths are rare and only over-expected).
		if n >= s.BaselineEvents && s.BaselineEvents > 0 {
			r.required = append(r.required, path)
		}
	}
	slices.Sort(r.required)
	for _, p := range rows {
		switch {
		case p.Type == "" && p.Missing > 0:
			r.Changes = append(r.Changes, Change{Path: p.Path, Kind: KindMissing, BaselineTypes: baseTypes[p.Path],
				Count: p.Missing, Example: p.MissingExample})
		case p.Type != "" && !p.InBaseline:
			c := Change{Path: p.Path, Kind: KindNew, Type: p.Type, Count: p.Seen, Example: p.Example}
			if bt := baseTypes[p.Path]; len(bt) > 0 {
				c.Kind, c.BaselineTypes = KindTypeChanged, bt
			}
			r.Changes = append(r.Changes, c)
		}
	}
	slices.SortStableFunc(r.Changes, func(a, b Change) int { return cmp.Compare(a.Path, b.Path) })
	return r
}
