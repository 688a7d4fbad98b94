package store

import (
	"sort"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// Micros encodes a time as unix microseconds, the column format of both
// stores; the zero time is 0.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros decodes Micros (0 is the zero time), in UTC.
func FromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// Page cuts a list fetched with limit+1 rows to limit and returns the
// cursor for the next page (the id of its last item), or "" when there is
// no further page.
func Page[T any](rows []T, limit int, id func(*T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, id(&rows[limit-1])
}

// QueueStats accumulates a store's grouped counts into QueueStat values.
type QueueStats map[string]*QueueStat

func (qs QueueStats) get(dest string) *QueueStat {
	q := qs[dest]
	if q == nil {
		q = &QueueStat{Destination: dest}
		qs[dest] = q
	}
	return q
}

// AddLive adds n live deliveries of dest in state; due says whether they
// are due now, and oldest (unix µs) is the earliest due time among them.
func (qs QueueStats) AddLive(dest, state string, due bool, n int, oldest int64) {
	q := qs.get(dest)
	switch {
	case state == string(webhook.StateInFlight):
		q.InFlight += n
	case due:
		q.Due += n
		q.OldestDue = FromMicros(oldest)
	default:
		q.Scheduled += n
	}
}

// SetDead records dest's dead-letter count.
func (qs QueueStats) SetDead(dest string, n int) { qs.get(dest).Dead = n }

// List returns the stats sorted by destination.
func (qs QueueStats) List() []QueueStat {
	out := make([]QueueStat, 0, len(qs))
	for _, q := range qs {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out
}
