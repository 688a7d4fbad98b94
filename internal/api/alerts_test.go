package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
)

// alertState is a fixed AlertSource: the alert engine lives in another
// package and is wired in cmd/hookyard, whose tests exercise the real one.
type alertState struct{}

func (alertState) Alerts() api.AlertList {
	return api.AlertList{
		Firing: []api.Alert{{Key: "queue-growing/oms", Rule: "queue-growing", Severity: "warning", Subject: "oms",
			State: "firing", Summary: "queue for oms has grown for 10m0s without a pause: 10 → 200 deliveries",
			RunbookURL: "https://example.com/RUNBOOKS.md#queue-rising", StartedAt: t0.Add(-10 * time.Minute)}},
	}
}

func (alertState) SLOs() api.SLOList {
	sli, budget := 0.995, 0.5
	return api.SLOList{SLOs: []api.SLO{{Name: "delivery-success", Objective: "99.0%", Kind: "success", Destination: "oms",
		Window: "672h0m0s", Covered: "1h0m0s", Target: 0.99, Events: 6000, SLI: &sli, ErrorBudgetRemaining: &budget,
		BurnRates: map[string]float64{"5m": 0.5, "30m": 0.5, "1h": 0.5, "6h": 0.5}}}}
}

func TestAlertEndpoints(t *testing.T) {
	f := setup(t)
	c := f.client(viewerToken)
	al, err := c.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(al.Firing) != 1 || al.Firing[0].Key != "queue-growing/oms" || al.Resolved == nil || len(al.Resolved) != 0 {
		t.Errorf("alerts %+v", al)
	}
	_, _, body := f.do(t, "GET", "/api/v1/alerts", viewerToken, "")
	if !strings.Contains(body, `"resolved":[]`) || strings.Contains(body, "resolved_at") {
		t.Errorf("body %s", body)
	}
	slos, err := c.SLOs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(slos.SLOs) != 1 || *slos.SLOs[0].SLI != 0.995 || slos.SLOs[0].BurnRates["1h"] != 0.5 {
		t.Errorf("slos %+v", slos)
	}
}

// TestAlertsNotConfigured: without an AlertSource both endpoints answer
// 404 with a problem that says why.
func TestAlertsNotConfigured(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{Store: setup(t).store,
		Tokens: []config.Token{{Name: "dash", Token: viewerToken, Role: "viewer"}}}))
	defer srv.Close()
	for _, p := range []string{"/api/v1/alerts", "/api/v1/slos"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+viewerToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(b), "SLO and alert evaluation is not running on this node") {
			t.Errorf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
}
