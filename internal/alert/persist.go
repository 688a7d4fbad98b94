package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// StateKey is the store.KV key under which the engine keeps its
// incidents.
const StateKey = "alert.incidents"

// Incident state is persisted with Config.State: after every evaluation
// the leader writes its open and recently resolved incidents (as one JSON
// document, with when each condition last held) to the store, and a node
// that starts leading — a restart, or a leader change on PostgreSQL —
// reads them before it evaluates. A condition that still holds then
// continues its incident (no second page: the stored notifications'
// dedup key includes the incident's start); one that cleared resolves
// (one resolved page) once it has stayed false for ResolveAfter after a
// grace of 15 minutes from the takeover, the time the minute rules (queue
// growth, error class, DLQ) need to see their condition again with the
// in-memory history starting empty. Rules that need more history than
// that (a burn rate's 6h window, the dedup baseline's day) may resolve
// after the grace and fire again later as a new incident. Followers read
// the document on every tick, so every node's API lists the cluster's
// incidents. The conditions reported by Event (breaker, disabled
// destination) are the delivery engine's in-memory state and are not
// persisted: their incidents resolve after the grace unless reported
// again.

// savedState is the stored document.
type savedState struct {
	Open     []savedIncident `json:"open"`
	Resolved []savedIncident `json:"resolved"` // oldest first
}

type savedIncident struct {
	record
	LastTrue time.Time `json:"last_true"`
}

func toSaved(in *Incident) savedIncident {
	return savedIncident{record: record{Key: in.Key, Rule: in.Rule, Severity: in.Severity, Subject: in.Subject,
		Summary: in.Summary, Facts: in.Facts, ErrorSamples: in.ErrorSamples, Runbook: in.Runbook, State: in.State,
		StartedAt: in.StartedAt.UTC(), ResolvedAt: in.ResolvedAt.UTC()}, LastTrue: in.lastTrue.UTC()}
}

func (s savedIncident) incident() *Incident {
	return &Incident{Key: s.Key, Rule: s.Rule, Severity: s.Severity, Subject: s.Subject, Summary: s.Summary,
		Facts: s.Facts, ErrorSamples: s.ErrorSamples, Runbook: s.Runbook, State: s.State, StartedAt: s.StartedAt,
		ResolvedAt: s.ResolvedAt, lastTrue: s.LastTrue}
}

// sync loads the stored incidents when this node needs them: on every
// tick as a follower, once when it takes over. It must not hold e.mu.
func (e *Engine) sync(ctx context.Context, now time.Time, leads bool) error {
	if e.cfg.State == nil {
		return nil
	}
	e.mu.Lock()
	need := !leads || !e.synced
	e.mu.Unlock()
	if !need {
		return nil
	}
	saved, err := e.load(ctx)
	if err != nil {
		e.log.Error("alert incidents not loaded; not evaluating", "error", err.Error())
		return err
	}
	e.mu.Lock()
	if !leads || !e.synced {
		e.restore(saved, now, leads)
		e.synced = leads
	}
	e.mu.Unlock()
	// What this node saved before is no longer what the store holds.
	e.saveMu.Lock()
	e.savedDoc = ""
	e.saveMu.Unlock()
	return nil
}

// load reads the stored incidents; nil if none are stored yet.
func (e *Engine) load(ctx context.Context) (*savedState, error) {
	doc, ok, err := e.cfg.State.KVGet(ctx, StateKey)
	if err != nil || !ok {
		return nil, err
	}
	var st savedState
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return nil, fmt.Errorf("stored incidents: %w", err)
	}
	return &st, nil
}

// takeoverGrace is how long a node that takes over needs to sample
// before the minute rules can see their condition again: the longest of
// their spans (queue growth 10m, error class and DLQ 15m).
const takeoverGrace = errorClassWindow

// restore replaces the incidents in memory with st (under e.mu). A node
// taking over (leads) counts each open incident's condition as holding
// until takeoverGrace from now, so it resolves only if the condition is
// still false ResolveAfter after that.
func (e *Engine) restore(st *savedState, now time.Time, leads bool) {
	e.open = map[string]*Incident{}
	e.resolved = nil
	if st == nil {
		return
	}
	for _, s := range st.Open {
		in := s.incident()
		in.State = StateFiring
		if hold := now.Add(takeoverGrace); leads && in.lastTrue.Before(hold) {
			in.lastTrue = hold
		}
		e.open[in.Key] = in
	}
	for _, s := range st.Resolved[max(0, len(st.Resolved)-maxResolved):] {
		e.resolved = append(e.resolved, s.incident())
	}
}

// snapshot encodes the incidents in memory (under e.mu) with a sequence
// number that orders the snapshots.
func (e *Engine) snapshot() (string, uint64) {
	var st savedState
	for _, k := range sortedKeys(e.open) {
		st.Open = append(st.Open, toSaved(e.open[k]))
	}
	for _, in := range e.resolved {
		st.Resolved = append(st.Resolved, toSaved(in))
	}
	b, _ := json.Marshal(st) // plain data: cannot fail
	e.stateSeq++
	return string(b), e.stateSeq
}

// save writes a snapshot unless a newer one is already written or it is
// what the store holds. It must not hold e.mu.
func (e *Engine) save(ctx context.Context, doc string, seq uint64) error {
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	if seq <= e.savedSeq || doc == e.savedDoc {
		return nil
	}
	if err := e.cfg.State.KVPut(ctx, StateKey, doc); err != nil {
		e.log.Error("alert incidents not saved; will retry", "error", err.Error())
		return fmt.Errorf("save incidents: %w", err)
	}
	e.savedSeq, e.savedDoc = seq, doc
	return nil
}
