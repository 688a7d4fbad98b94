package console

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/webhook"
)

// GET /console/: the SLO tiles, firing alerts, the last hour as
// sparklines, every destination's queue and each source's last
// reconciliation run.
func (c *Console) status(w http.ResponseWriter, r *http.Request, q *request) error {
	ctx := r.Context()
	data := map[string]any{}
	slos, err := q.client.SLOs(ctx)
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		data["NoAlerting"] = true
	case err != nil:
		return err
	default:
		data["SLOs"] = slos.SLOs
		al, err := q.client.Alerts(ctx)
		if err != nil {
			return err
		}
		data["Firing"] = al.Firing
	}
	series, err := q.client.StatusSeries(ctx, int(historySpan/time.Minute))
	switch {
	case errors.Is(err, webhook.ErrNotFound):
	case err != nil:
		return err
	default:
		data["History"], data["Dedup"] = statusHistory(series)
		data["HistoryPoints"], data["HistoryKept"] = len(series.Times), true
	}
	ds, err := q.client.Destinations(ctx)
	if err != nil {
		return err
	}
	data["Destinations"] = ds.Destinations
	runs, err := q.client.ReconcileRuns(ctx, "", 200)
	switch {
	case errors.Is(err, webhook.ErrNotFound): // no source has reconciliation configured
	case err != nil:
		return err
	default:
		data["Reconcile"] = lastRunPerSource(runs.Runs)
	}
	c.render(w, r, q.sess, http.StatusOK, "status", data)
	return nil
}

// lastRunPerSource keeps each source's newest run (runs come newest
// first), in source order.
func lastRunPerSource(runs []api.ReconcileRun) []api.ReconcileRun {
	seen := map[string]bool{}
	var out []api.ReconcileRun
	for _, r := range runs {
		if !seen[r.Source] {
			seen[r.Source] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// GET /console/destinations: each destination's status, breaker and queue.
func (c *Console) destinations(w http.ResponseWriter, r *http.Request, q *request) error {
	ds, err := q.client.Destinations(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"Destinations": ds.Destinations, "Now": c.now()}
	if n, ok := destinationNotices[r.URL.Query().Get("notice")]; ok {
		// The notice names the destination the action answered for.
		data["Notice"] = "Destination " + r.URL.Query().Get("destination") + " " + n
	}
	c.render(w, r, q.sess, http.StatusOK, "destinations", data)
	return nil
}

// GET /console/alerts: firing and recently resolved alerts.
func (c *Console) alerts(w http.ResponseWriter, r *http.Request, q *request) error {
	al, err := q.client.Alerts(r.Context())
	if errors.Is(err, webhook.ErrNotFound) {
		c.render(w, r, q.sess, http.StatusOK, "alerts", map[string]any{"NoAlerting": true})
		return nil
	}
	if err != nil {
		return err
	}
	c.render(w, r, q.sess, http.StatusOK, "alerts", map[string]any{"Firing": al.Firing, "Resolved": al.Resolved})
	return nil
}

// GET /console/quarantine: authentic requests that failed validation.
func (c *Console) quarantine(w http.ResponseWriter, r *http.Request, q *request) error {
	v := r.URL.Query()
	ql, err := q.client.Quarantine(r.Context(), v.Get("source"), v.Get("cursor"))
	if err != nil {
		return err
	}
	type item struct {
		api.Quarantined
		Body any
	}
	items := make([]item, len(ql.Items))
	for i := range ql.Items {
		items[i] = item{ql.Items[i], highlightBody(ql.Items[i].Body, ql.Items[i].BodyEncoding)}
	}
	data := map[string]any{"Source": v.Get("source"), "Items": items, "Next": nextURL(r, ql.NextCursor)}
	data["First"] = firstURL(r)
	c.render(w, r, q.sess, http.StatusOK, "quarantine", data)
	return nil
}

// burnWindows orders an SLO's burn-rate windows, shortest first.
var burnWindows = []string{"5m", "30m", "1h", "6h"}

// burnBar is one bar of an SLO tile's burn-rate chart.
type burnBar struct {
	Window     string
	Rate       float64
	X, Y, W, H int
	LabelX     int
	Over       bool // burning faster than the budget allows (rate > 1)
	Title      string
}

// burnChart lays out an SLO's burn rates as bars scaled to the largest
// (at least 1, so a healthy SLO shows short bars under the 1× line).
func burnChart(s api.SLO) []burnBar {
	const width, height, gap = 24, 40, 8
	top := 1.0
	for _, w := range burnWindows {
		top = max(top, s.BurnRates[w])
	}
	var out []burnBar
	for i, w := range burnWindows {
		rate, ok := s.BurnRates[w]
		if !ok {
			continue
		}
		h := int(rate / top * height)
		if rate > 0 && h < 1 {
			h = 1
		}
		x := i * (width + gap)
		out = append(out, burnBar{Window: w, Rate: rate, X: x, Y: height - h, W: width, H: h, LabelX: x + width/2,
			Over: rate > 1, Title: fmt.Sprintf("%s burn rate %.2f×", w, rate)})
	}
	return out
}

// pct formats a share as a percentage.
func pct(f *float64) string {
	if f == nil {
		return "—"
	}
	s := fmt.Sprintf("%.3f", *f*100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}
