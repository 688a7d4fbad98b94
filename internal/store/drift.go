package store

import (
	"context"
	"time"
)

// Drift keeps schema drift tracking: per (source, topic), how many events
// were seen, how many of them had each JSON (path, type) pair, a baseline
// frozen from those counts, and how many events since lacked a path the
// baseline always had. Counts are added, never overwritten, so every node
// of a cluster records into the same rows.
type Drift interface {
	// DriftRecord adds one batch of observations of b.Source and b.Topic.
	DriftRecord(ctx context.Context, b DriftBatch) error
	// DriftFreeze makes everything seen so far the baseline of (source,
	// topic), clearing the missing counts. With minEvents > 0 it freezes
	// only a stream without a baseline that has seen at least minEvents
	// events (the automatic freeze); with minEvents 0 it always does (the
	// command, which also re-freezes). It reports whether it froze; a
	// stream never seen is not frozen.
	DriftFreeze(ctx context.Context, source, topic string, minEvents int64, at time.Time) (bool, error)
	// DriftStreams lists every (source, topic) seen, by source and topic.
	DriftStreams(ctx context.Context) ([]DriftStream, error)
	// DriftPaths lists a stream's paths, by path and type.
	DriftPaths(ctx context.Context, source, topic string) ([]DriftPath, error)
}

// DriftBatch is a number of events of one (source, topic) and what they
// held.
type DriftBatch struct {
	Source, Topic string
	Events        int64
	Paths         []DriftCount
}

// DriftCount is one path's counts in a batch. Type "" is the path itself,
// not one of its types: its Missing counts events that lacked a baseline
// path.
type DriftCount struct {
	Path, Type     string
	Seen           int64  // events that had the path with this type
	Example        string // one such event's id (kept if the row has none)
	Missing        int64
	MissingExample string
}

// DriftStream is one (source, topic).
type DriftStream struct {
	Source, Topic  string
	Events         int64     // every event seen
	BaselineEvents int64     // events seen when the baseline froze
	FrozenAt       time.Time // zero: still learning
}

// DriftPath is one (path, type) of a stream, or, with Type "", the
// missing count of a path.
type DriftPath struct {
	Path, Type     string
	Seen           int64
	Example        string // the first event seen with it
	InBaseline     bool
	BaselineSeen   int64 // Seen when the baseline froze
	Missing        int64
	MissingExample string
}
