package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

func TestDestinations(t *testing.T) {
	f := setup(t)
	f.ingest(t, "shop", "orders/create", []byte(`{"id":1}`), "oms", "crm")
	f.ingest(t, "shop", "orders/create", []byte(`{"id":2}`), "oms")
	f.kill(t, "crm")
	got, err := f.client(viewerToken).Destinations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The fixture configures no destination names, so only those with
	// stored work appear, by name.
	want := []api.DestinationStatus{
		{Name: "crm", Dead: 1},
		{Name: "oms", Due: 2, OldestDueAt: got.Destinations[1].OldestDueAt},
	}
	if len(got.Destinations) != 2 || got.Destinations[0] != want[0] || got.Destinations[1] != want[1] {
		t.Fatalf("destinations = %+v, want %+v", got.Destinations, want)
	}
	if due := got.Destinations[1].OldestDueAt; due.IsZero() || due.After(t0) || due.Before(t0.Add(-2*time.Hour)) {
		t.Errorf("oms oldest due at %v, want the first event's ingest time (before %v)", due, t0)
	}
	if status, _, _ := f.do(t, http.MethodGet, "/api/v1/destinations", "", ""); status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", status)
	}
	if status, _, body := f.do(t, http.MethodGet, "/api/v1/destinations?x=1", viewerToken, ""); status != http.StatusBadRequest {
		t.Errorf("unknown parameter: %d %s", status, body)
	}
}
