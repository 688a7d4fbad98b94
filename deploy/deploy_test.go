// Package deploy_test checks the monitoring files shipped for operators:
// deploy/prometheus/alerts.yml (with promtool, when installed) and the
// Grafana dashboard deploy/grafana/hookyard.json, against the metric names
// documented in docs/METRICS.md and the anchors of docs/RUNBOOKS.md.
package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/webhook"
)

var (
	metricRE  = regexp.MustCompile(`\bhookyard_[a-z0-9_]+`)
	recordRE  = regexp.MustCompile(`\bhookyard:[a-z0-9_:]+`)
	docNameRE = regexp.MustCompile("(?m)^\\| `(hookyard_[a-z0-9_]+)` \\| (\\w+) \\|")
	leRE      = regexp.MustCompile(`le="([^"]+)"`)
	anchorRE  = regexp.MustCompile(`<a id="([a-z0-9-]+)"></a>`)
)

// documented returns the metric names in docs/METRICS.md with their type.
func documented(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range docNameRE.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	if len(out) < 10 {
		t.Fatalf("found only %d metric names in docs/METRICS.md: %v", len(out), out)
	}
	return out
}

// checkMetrics reports each hookyard_ name in expr that docs/METRICS.md does
// not document (a histogram's _bucket, _count and _sum series count as
// its name), and returns the names used.
func checkMetrics(t *testing.T, where, expr string, docs map[string]string) []string {
	t.Helper()
	var used []string
	for _, name := range metricRE.FindAllString(expr, -1) {
		base := name
		for _, suf := range []string{"_bucket", "_count", "_sum"} {
			if b, ok := strings.CutSuffix(name, suf); ok && docs[b] == "histogram" {
				base = b
			}
		}
		if _, ok := docs[base]; !ok {
			t.Errorf("%s: %s is not in docs/METRICS.md:\n%s", where, name, expr)
		}
		used = append(used, base)
	}
	return used
}

func anchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../docs/RUNBOOKS.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range anchorRE.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = true
	}
	return out
}

// bucketBounds are the le labels the end-to-end histogram exports, as
// they appear in /metrics.
func bucketBounds() []string {
	m := metrics.New()
	m.Attempted("d", &webhook.Delivery{}, &webhook.Event{}, &webhook.Attempt{StartedAt: time.Now()}, webhook.StateSucceeded)
	var out []string
	for _, b := range m.Snapshot().EndToEnd["d"].Bounds {
		out = append(out, strconv.FormatFloat(b, 'g', -1, 64))
	}
	return out
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestPrometheusRules checks alerts.yml without Prometheus: every metric
// is documented, every recording rule used is defined, le labels are real
// bucket bounds, and every alert has a severity and a runbook_url whose
// anchor exists.
func TestPrometheusRules(t *testing.T) {
	b, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	docs, anch, bounds := documented(t), anchors(t), bucketBounds()
	defined := map[string]bool{}
	alerts := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			name := r.Record + r.Alert
			checkMetrics(t, name, r.Expr, docs)
			for _, rec := range recordRE.FindAllString(r.Expr, -1) {
				if !defined[rec] {
					t.Errorf("%s uses %s before (or without) its recording rule", name, rec)
				}
			}
			for _, m := range leRE.FindAllStringSubmatch(r.Expr, -1) {
				if !slices.Contains(bounds, m[1]) {
					t.Errorf("%s: le=%q is not a bucket bound (%v)", name, m[1], bounds)
				}
			}
			if r.Record != "" {
				defined[r.Record] = true
				continue
			}
			alerts++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			u := r.Annotations["runbook_url"]
			base, anchor, ok := strings.Cut(u, "#")
			if !ok || !strings.HasSuffix(base, "docs/RUNBOOKS.md") || !anch[anchor] {
				t.Errorf("%s: runbook_url %q does not point at an anchor of docs/RUNBOOKS.md", r.Alert, u)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", r.Alert)
			}
		}
	}
	if alerts < 9 {
		t.Errorf("%d alerts", alerts)
	}
}

// TestPromtool runs promtool's own checks: the rules load, and the unit
// tests in alerts_test.yml pass.
func TestPromtool(t *testing.T) {
	promtool := lookPromtool(t)
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func lookPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not on PATH; install it (Debian: apt-get install prometheus) to check deploy/prometheus/alerts.yml and the dashboard's queries")
	}
	return p
}

type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows
}

func loadDashboard(t *testing.T) (dashboard, []panel) {
	t.Helper()
	b, err := os.ReadFile("grafana/hookyard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/hookyard.json is not valid JSON: %v", err)
	}
	var all []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return d, all
}

// TestGrafanaDashboard: the dashboard parses, every query references
// documented metrics and defined variables, and the signals an on-call
// engineer needs are all on it.
func TestGrafanaDashboard(t *testing.T) {
	d, all := loadDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q uid %q", d.Title, d.UID)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	docs := documented(t)
	used := map[string]bool{}
	ids := map[int]bool{}
	varRE := regexp.MustCompile(`\$\{?([a-z_]+)`)
	for _, p := range all {
		if ids[p.ID] {
			t.Errorf("panel id %d repeats", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource must be the ${datasource} variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			names := checkMetrics(t, "panel "+p.Title, q.Expr, docs)
			if len(names) == 0 {
				t.Errorf("panel %q: query names no hookyard metric: %s", p.Title, q.Expr)
			}
			for _, n := range names {
				used[n] = true
			}
			for _, m := range varRE.FindAllStringSubmatch(q.Expr, -1) {
				if !vars[m[1]] && !strings.HasPrefix(m[1], "__") {
					t.Errorf("panel %q uses undefined variable $%s", p.Title, m[1])
				}
			}
		}
	}
	// success %, p95/p99 latency, queue depth, time-to-drain, oldest due
	// age, dedup hits, error classes, ingest outcomes, events per topic.
	for _, want := range []string{"hookyard_delivery_attempts_total", "hookyard_delivery_end_to_end_seconds",
		"hookyard_queue_depth", "hookyard_delivery_completion_rate", "hookyard_queue_oldest_due_age_seconds",
		"hookyard_dedup_hits_total", "hookyard_ingest_requests_total", "hookyard_events_total"} {
		if !used[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// TestGrafanaQueriesParse checks each dashboard query's PromQL with
// promtool, by loading them as recording rules (variables replaced by a
// match-all regex).
func TestGrafanaQueriesParse(t *testing.T) {
	promtool := lookPromtool(t)
	_, all := loadDashboard(t)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, p := range all {
		for _, q := range p.Targets {
			expr := strings.NewReplacer("$destination", ".*", "$source", ".*").Replace(q.Expr)
			quoted, _ := json.Marshal(expr) // a JSON string is a YAML double-quoted scalar
			fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %s\n", n, quoted)
			n++
		}
	}
	path := filepath.Join(t.TempDir(), "dashboard.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Errorf("dashboard queries do not parse: %v\n%s", err, out)
	}
}
