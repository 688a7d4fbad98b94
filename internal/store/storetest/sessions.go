package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// RunConsoleSessions runs the conformance tests of store.ConsoleSessions.
// open must return a store that implements it.
func RunConsoleSessions(t *testing.T, open Opener) {
	sessions := func(t *testing.T) store.ConsoleSessions {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		cs, ok := s.(store.ConsoleSessions)
		if !ok {
			t.Fatalf("%T does not implement store.ConsoleSessions", s)
		}
		return cs
	}
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	mk := func(i int, expires time.Time) store.ConsoleSession {
		return store.ConsoleSession{IDHash: fmt.Sprintf("%064x", i), Sealed: []byte{0, 1, 2, byte(i), 0xff},
			Name: fmt.Sprint("user-", i), Role: "operator", CreatedAt: t0, ExpiresAt: expires}
	}
	t.Run("CreateGetDeleteExpire", func(t *testing.T) {
		ss := sessions(t)
		ctx := context.Background()
		a := mk(1, t0.Add(time.Hour))
		if err := ss.SessionCreate(ctx, a, t0, 10); err != nil {
			t.Fatal(err)
		}
		got, ok, err := ss.SessionGet(ctx, a.IDHash, t0.Add(time.Minute))
		if err != nil || !ok || fmt.Sprint(got) != fmt.Sprint(a) {
			t.Fatalf("get = %+v %v %v, want %+v", got, ok, err, a)
		}
		if _, ok, err := ss.SessionGet(ctx, a.IDHash, t0.Add(time.Hour)); err != nil || ok {
			t.Fatalf("at expiry: ok %v, %v", ok, err)
		}
		if _, ok, err := ss.SessionGet(ctx, mk(2, t0).IDHash, t0); err != nil || ok {
			t.Fatalf("unknown id: ok %v, %v", ok, err)
		}
		if err := ss.SessionDelete(ctx, a.IDHash); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := ss.SessionGet(ctx, a.IDHash, t0); err != nil || ok {
			t.Fatalf("after delete: ok %v, %v", ok, err)
		}
		if err := ss.SessionDelete(ctx, a.IDHash); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
	})
	t.Run("Bound", func(t *testing.T) {
		ss := sessions(t)
		ctx := context.Background()
		// Three live sessions with different expiries and one expired.
		for i, exp := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour, time.Minute} {
			if err := ss.SessionCreate(ctx, mk(i, t0.Add(exp)), t0, 10); err != nil {
				t.Fatal(err)
			}
		}
		// At t0+2m, with a bound of 3: the expired one goes, then the one
		// closest to expiry (1, at t0+1h) makes room.
		if err := ss.SessionCreate(ctx, mk(9, t0.Add(4*time.Hour)), t0.Add(2*time.Minute), 3); err != nil {
			t.Fatal(err)
		}
		for i, want := range map[int]bool{0: true, 1: false, 2: true, 3: false, 9: true} {
			if _, ok, err := ss.SessionGet(ctx, mk(i, t0).IDHash, t0); err != nil || ok != want {
				t.Errorf("session %d: present %v (%v), want %v", i, ok, err, want)
			}
		}
	})
}
