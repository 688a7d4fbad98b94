package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/drift"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestDrift(t *testing.T) {
	var tr *drift.Tracker
	f := setupWith(t, func(c *api.Config) {
		tr = drift.New(drift.Config{Store: c.Store.(store.Drift), FlushEvery: time.Hour})
		c.Drift = tr
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	feed := func(id, body string, events int64) {
		t.Helper()
		tr.Observe(&webhook.Event{ID: id, Source: "shop", Topic: "orders/create", Body: []byte(body)})
		deadline := time.Now().Add(20 * time.Second)
		for {
			if err := tr.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			l, err := f.client(viewerToken).Drift(context.Background(), "shop", "orders/create")
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Streams) == 1 && l.Streams[0].Events == events {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("streams = %+v, want %d events", l.Streams, events)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	c := context.Background()
	if l, err := f.client(viewerToken).Drift(c, "", ""); err != nil || len(l.Streams) != 0 {
		t.Fatalf("empty list = %+v, %v", l, err)
	}
	feed("evt_1", `{"id":1,"total":"5.00"}`, 1)
	feed("evt_2", `{"id":2,"total":"6.00"}`, 2)

	// Freezing is an operator's command, and audited.
	if _, err := f.client(viewerToken).DriftFreeze(c, "shop", "orders/create"); !errors.Is(err, webhook.ErrForbidden) {
		t.Fatalf("viewer freeze: %v, want 403", err)
	}
	rep, err := f.client(operatorToken).DriftFreeze(c, "shop", "orders/create")
	if err != nil || !rep.Frozen || rep.BaselineEvents != 2 || rep.FrozenAt == nil {
		t.Fatalf("freeze = %+v, %v", rep, err)
	}
	es := f.auditEntries(t)
	if len(es) != 2 || es[1].Action != "POST /api/v1/drift/freeze" || es[1].Target != "shop orders/create" || es[1].Status != 200 {
		t.Fatalf("audit = %+v; want the refused and the accepted freeze", es)
	}

	feed("evt_3", `{"id":3,"total":7}`, 3)
	l, err := f.client(viewerToken).Drift(c, "shop", "")
	if err != nil || len(l.Streams) != 1 {
		t.Fatalf("list = %+v, %v", l, err)
	}
	got := fmt.Sprintf("%+v", l.Streams[0].Changes)
	want := fmt.Sprintf("%+v", []drift.Change{{Path: ".total", Kind: "type_changed", Type: "number", BaselineTypes: []string{"string"}, Count: 1, Example: "evt_3"}})
	if got != want {
		t.Fatalf("changes:\n got %s\nwant %s", got, want)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/v1/drift?src=shop", "", 400},
		{"POST", "/api/v1/drift/freeze", `{"topic":"orders/create"}`, 400},
		{"POST", "/api/v1/drift/freeze", `{"source":"shop","topic":"never"}`, 404},
		{"POST", "/api/v1/drift/freeze", `{"source":"shop","extra":1}`, 400},
	} {
		if status, _, body := f.do(t, tc.method, tc.path, operatorToken, tc.body); status != tc.status {
			t.Errorf("%s %s %s = %d %s, want %d", tc.method, tc.path, tc.body, status, body, tc.status)
		}
	}
}

func TestDriftOff(t *testing.T) {
	f := setup(t)
	if status, _, body := f.do(t, "GET", "/api/v1/drift", viewerToken, ""); status != 404 {
		t.Fatalf("GET /api/v1/drift without tracking = %d %s", status, body)
	}
}
