package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseObjective(t *testing.T) {
	ok := []struct {
		in   string
		want Objective
	}{
		{"99.0%", Objective{Kind: ObjectiveSuccess, Target: 0.99}},
		{"99.95 %", Objective{Kind: ObjectiveSuccess, Target: 0.9995}},
		{"p95 < 60s", Objective{Kind: ObjectiveLatency, Target: 0.95, Threshold: time.Minute}},
		{"p99.9<2m", Objective{Kind: ObjectiveLatency, Target: 0.999, Threshold: 2 * time.Minute}},
		{"< 5m", Objective{Kind: ObjectiveDrain, Threshold: 5 * time.Minute}},
		{" <1d ", Objective{Kind: ObjectiveDrain, Threshold: 24 * time.Hour}},
	}
	for _, tt := range ok {
		got, err := ParseObjective(tt.in)
		if err != nil || got.Kind != tt.want.Kind || got.Threshold != tt.want.Threshold ||
			got.Target < tt.want.Target-1e-12 || got.Target > tt.want.Target+1e-12 {
			t.Errorf("ParseObjective(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "100%", "0%", "99", "p100 < 1s", "p95 < 0s", "p95 > 60s", "< soon", "p95 < 60", "<= 5m"} {
		if o, err := ParseObjective(in); err == nil {
			t.Errorf("ParseObjective(%q) = %+v, want an error", in, o)
		}
	}
}

func TestSLOsAndAlerts(t *testing.T) {
	base := append([]string{}, minimal...) // destinations: local
	y := func(lines ...string) string { return doc(append(append([]string{}, base...), lines...)...) }
	getenv := envOf(map[string]string{"SLACK_WEBHOOK": "https://hooks.slack.example/services/T0/B0/secret-part",
		"PD_KEY": "pd-routing-key-value", "SMTP_PASSWORD": "smtp-password-value"})

	cfg, err := Parse([]byte(y(
		"slos:",
		"  - {name: delivery-success, objective: 99.0%, window: 28d, destination: \"*\"}",
		"  - {name: e2e-latency, objective: \"p95 < 60s\", destination: local}",
		"  - {name: time-to-drain, objective: \"< 5m\"}",
		"alerts:",
		"  - {name: oncall, type: slack, url: \"${SLACK_WEBHOOK}\"}",
		"  - {name: pager, type: pagerduty, routing_key: \"${PD_KEY}\", runbook_base_url: https://wiki.example.com/hookyard}",
		"  - name: mail",
		"    type: email",
		"    smtp: {host: smtp.example.com, username: hookyard, password: \"${SMTP_PASSWORD}\", from: hookyard@example.com, to: [oncall@example.com]}",
		"  - {name: hook, type: webhook, url: https://alerts.example.com/in, headers: {Authorization: Bearer x}}",
	)), getenv, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	wantSLOs := []SLO{
		{Name: "delivery-success", Objective: "99.0%", Window: Duration(28 * 24 * time.Hour), Destination: "*"},
		{Name: "e2e-latency", Objective: "p95 < 60s", Window: Duration(28 * 24 * time.Hour), Destination: "local"},
		{Name: "time-to-drain", Objective: "< 5m", Window: Duration(28 * 24 * time.Hour), Destination: "*"},
	}
	if !reflect.DeepEqual(cfg.SLOs, wantSLOs) {
		t.Errorf("slos = %+v", cfg.SLOs)
	}
	wantAlerts := []Alert{
		{Name: "oncall", Type: "slack", URL: "https://hooks.slack.example/services/T0/B0/secret-part"},
		{Name: "pager", Type: "pagerduty", RoutingKey: "pd-routing-key-value", RunbookBaseURL: "https://wiki.example.com/hookyard"},
		{Name: "mail", Type: "email", SMTP: &SMTP{Host: "smtp.example.com", Port: 587, Username: "hookyard",
			Password: "smtp-password-value", From: "hookyard@example.com", To: []string{"oncall@example.com"}}},
		{Name: "hook", Type: "webhook", URL: "https://alerts.example.com/in", Headers: map[string]string{"Authorization": "Bearer x"}},
	}
	if !reflect.DeepEqual(cfg.Alerts, wantAlerts) {
		t.Errorf("alerts = %+v", cfg.Alerts)
	}

	bad := []struct {
		name  string
		lines []string
		want  string
	}{
		{"objective required", []string{"slos:", "  - {name: s}"}, "slos[0].objective: is required"},
		{"objective syntax", []string{"slos:", "  - {name: s, objective: fast}"}, `slos[0].objective: "fast" is not an objective`},
		{"no budget", []string{"slos:", "  - {name: s, objective: 100%}"}, "slos[0].objective: \"100%\": the percentage must be above 0 and below 100"},
		{"window zero", []string{"slos:", "  - {name: s, objective: 99%, window: 0s}"}, "slos[0].window: must be greater than zero"},
		{"window on drain", []string{"slos:", "  - {name: s, objective: '< 5m', window: 1d}"}, "slos[0].window: is not used by time-to-drain objectives"},
		{"unknown destination", []string{"slos:", "  - {name: s, objective: 99%, destination: oms}"},
			`config line 13: slos[0].destination: unknown destination "oms" (want "*" or one of: local)`},
		{"duplicate name", []string{"slos:", "  - {name: s, objective: 99%}", "  - {name: s, objective: 98%}"}, `duplicate SLO name "s"`},
		{"unknown key", []string{"slos:", "  - {name: s, objective: 99%, target: 1}"}, "slos[0].target: unknown key (want one of name, objective, window, destination)"},
		{"type required", []string{"alerts:", "  - {name: a}"}, "alerts[0].type: is required (want one of slack, pagerduty, email, webhook)"},
		{"type unknown", []string{"alerts:", "  - {name: a, type: sms}"}, `alerts[0].type: unknown type "sms"`},
		{"slack url", []string{"alerts:", "  - {name: a, type: slack}"}, "alerts[0].url: is required"},
		{"slack url from env not quoted", []string{"alerts:", "  - {name: a, type: slack, url: '${PD_KEY}'}"},
			"alerts[0].url: must be an absolute http:// or https:// URL with a host"},
		{"pagerduty key", []string{"alerts:", "  - {name: a, type: pagerduty}"}, "alerts[0].routing_key: is required for type pagerduty"},
		{"routing key elsewhere", []string{"alerts:", "  - {name: a, type: slack, url: 'https://x.example', routing_key: k}"},
			"alerts[0].routing_key: is only used by type pagerduty"},
		{"smtp required", []string{"alerts:", "  - {name: a, type: email}"}, "alerts[0].smtp: is required for type email"},
		{"smtp elsewhere", []string{"alerts:", "  - {name: a, type: webhook, url: 'https://x.example', smtp: {host: h, from: a@b.c, to: [d@e.f]}}"},
			"alerts[0].smtp: is only used by type email"},
		{"smtp fields", []string{"alerts:", "  - {name: a, type: email, smtp: {port: 0, password: p}}"},
			"alerts[0].smtp.host: is required"},
		{"smtp port", []string{"alerts:", "  - {name: a, type: email, smtp: {host: h, port: 0, from: a@b.c, to: [d@e.f]}}"},
			"alerts[0].smtp.port: must be between 1 and 65535"},
		{"smtp header injection", []string{"alerts:", "  - {name: a, type: email, smtp: {host: h, from: \"a@b.c\\r\\nBcc: x@y.z\", to: [d@e.f]}}"},
			"alerts[0].smtp.from: must be a plain address"},
		{"smtp to", []string{"alerts:", "  - {name: a, type: email, smtp: {host: h, from: a@b.c}}"},
			"alerts[0].smtp.to: at least one recipient is required"},
		{"headers elsewhere", []string{"alerts:", "  - {name: a, type: slack, url: 'https://x.example', headers: {A: b}}"},
			"alerts[0].headers: is only used by type webhook"},
		{"runbook fragment", []string{"alerts:", "  - {name: a, type: slack, url: 'https://x.example', runbook_base_url: 'https://w.example/r#top'}"},
			"alerts[0].runbook_base_url: must not contain a fragment"},
	}
	for _, tt := range bad {
		_, err := Parse([]byte(y(tt.lines...)), getenv, testOpts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "pd-routing-key-value") {
			t.Errorf("%s: %v quotes a value from the environment", tt.name, err)
		}
	}
}
