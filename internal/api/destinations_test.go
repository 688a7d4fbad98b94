package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/store"
)

func TestDestinationLifecycle(t *testing.T) {
	f := setup(t)
	get := func(name string) api.DestinationStatus {
		t.Helper()
		status, _, body := f.do(t, "GET", "/api/v1/destinations/"+name, viewerToken, "")
		if status != 200 {
			t.Fatalf("get %s: %d %s", name, status, body)
		}
		var d api.DestinationStatus
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := get("oms"); d.Status != "active" || d.Breaker != "closed" || d.Since != nil {
		t.Fatalf("fresh destination: %+v", d)
	}
	status, _, body := f.do(t, "POST", "/api/v1/destinations/oms/pause", operatorToken, `{"reason":"OMS upgrade"}`)
	if status != 200 {
		t.Fatalf("pause: %d %s", status, body)
	}
	d := get("oms")
	if d.Status != "paused" || d.Reason != "paused by oncall: OMS upgrade" || d.Since == nil || !d.Since.Equal(t0) {
		t.Fatalf("after pause: %+v", d)
	}
	// The state is in the store, where every node (and a restart) reads it.
	all, err := f.store.DestinationStates(context.Background())
	if err != nil || len(all) != 1 || all[0].Status != store.StatusPaused {
		t.Fatalf("store: %+v %v", all, err)
	}
	// Enabling a paused destination is a conflict that says what to do.
	status, h, body := f.do(t, "POST", "/api/v1/destinations/oms/enable", operatorToken, "")
	if status != http.StatusConflict || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, "resume") {
		t.Fatalf("enable paused: %d %s", status, body)
	}
	if status, _, body = f.do(t, "POST", "/api/v1/destinations/oms/resume", operatorToken, ""); status != 200 {
		t.Fatalf("resume: %d %s", status, body)
	}
	if d := get("oms"); d.Status != "active" {
		t.Fatalf("after resume: %+v", d)
	}

	// Disabled by the delivery engine (410): resume is refused, enable works.
	if _, _, err := f.store.DestinationSetStatus(context.Background(), "crm", []string{store.StatusActive},
		store.StatusDisabled, "HTTP 410: the destination answered Gone", t0); err != nil {
		t.Fatal(err)
	}
	if status, _, body = f.do(t, "POST", "/api/v1/destinations/crm/resume", operatorToken, ""); status != http.StatusConflict || !strings.Contains(body, "enable") {
		t.Fatalf("resume disabled: %d %s", status, body)
	}
	if status, _, body = f.do(t, "POST", "/api/v1/destinations/crm/pause", operatorToken, ""); status != http.StatusConflict {
		t.Fatalf("pause disabled: %d %s", status, body)
	}
	if status, _, body = f.do(t, "POST", "/api/v1/destinations/crm/enable", operatorToken, ""); status != 200 {
		t.Fatalf("enable: %d %s", status, body)
	}
	if d := get("crm"); d.Status != "active" || d.Reason != "" {
		t.Fatalf("after enable: %+v", d)
	}
	status, _, body = f.do(t, "GET", "/api/v1/destinations", viewerToken, "")
	var list api.DestinationList
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil || len(list.Destinations) != 3 {
		t.Fatalf("list: %d %s", status, body)
	}
	if !strings.Contains(f.logs.String(), "destination status changed") {
		t.Error("status changes are not logged")
	}
}

func TestDestinationErrors(t *testing.T) {
	f := setup(t)
	for _, tt := range []struct {
		method, path, token, body string
		status                    int
		has                       string
	}{
		{"GET", "/api/v1/destinations/nope", viewerToken, "", 404, "nope"},
		{"POST", "/api/v1/destinations/nope/pause", operatorToken, "", 404, "nope"},
		{"POST", "/api/v1/destinations/oms/pause", viewerToken, "", 403, ""},
		{"POST", "/api/v1/destinations/oms/pause", operatorToken, `{"reason":"a\nb"}`, 400, "reason"},
		{"POST", "/api/v1/destinations/oms/pause", operatorToken, `{"reason":"` + strings.Repeat("x", 501) + `"}`, 400, "reason"},
		{"POST", "/api/v1/destinations/oms/pause", operatorToken, `{"why":"x"}`, 400, "why"},
		{"GET", "/api/v1/destinations/oms/pause", operatorToken, "", 405, ""},
	} {
		status, h, body := f.do(t, tt.method, tt.path, tt.token, tt.body)
		if status != tt.status || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, tt.has) {
			t.Errorf("%s %s: %d %s, want %d naming %q", tt.method, tt.path, status, body, tt.status, tt.has)
		}
	}
}
