package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SLO is a service level objective, evaluated in-process (internal/alert)
// with multi-window burn-rate rules.
type SLO struct {
	Name string `yaml:"name"`
	// Objective is one of: "99.0%" (delivery success: the share of
	// attempts that succeed), "p95 < 60s" (end-to-end latency: the share of
	// delivered events within the threshold) or "< 5m" (time-to-drain: the
	// estimated time to clear each destination's backlog).
	Objective string `yaml:"objective"`
	// Window is the period the error budget covers; default 28d. Not used
	// by time-to-drain objectives.
	Window Duration `yaml:"window"`
	// Destination is a destination name, or "*" (default) for each
	// destination separately.
	Destination string `yaml:"destination"`
}

// Alert is where alerts are sent: a notifier.
type Alert struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // slack, pagerduty, email or webhook
	// URL is the Slack incoming webhook or the generic webhook's URL; for
	// pagerduty it replaces the Events API v2 endpoint.
	URL        string `yaml:"url,omitempty"`
	RoutingKey string `yaml:"routing_key,omitempty"` // pagerduty: the integration's routing key
	SMTP       *SMTP  `yaml:"smtp,omitempty"`        // email
	// Headers are extra request headers (webhook only), e.g. for
	// authentication.
	Headers map[string]string `yaml:"headers,omitempty"`
	// RunbookBaseURL is where runbook links point: the anchor of each
	// alert's runbook section is appended after "#". Default: docs/RUNBOOKS.md
	// in hookyard's repository.
	RunbookBaseURL string `yaml:"runbook_base_url,omitempty"`
}

// SMTP is an email notifier's mail server and envelope.
type SMTP struct {
	Host     string   `yaml:"host"`
	Port     int      `yaml:"port"` // default 587 (submission, STARTTLS when offered)
	Username string   `yaml:"username,omitempty"`
	Password string   `yaml:"password,omitempty"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
}

const (
	defaultSLOWindow      = Duration(28 * 24 * time.Hour)
	defaultSLODestination = "*"
	defaultSMTPPort       = 587
)

func (s *SLO) setDefaults() {
	setZero(&s.Window, defaultSLOWindow)
	setZero(&s.Destination, defaultSLODestination)
}

func (s *SMTP) setDefaults() { setZero(&s.Port, defaultSMTPPort) }

// AlertTypes lists the valid values of alerts[].type.
var AlertTypes = []string{"slack", "pagerduty", "email", "webhook"}

// ObjectiveKind says what an SLO measures.
type ObjectiveKind string

// Objective kinds.
const (
	ObjectiveSuccess ObjectiveKind = "success" // share of delivery attempts that succeed
	ObjectiveLatency ObjectiveKind = "latency" // share of deliveries within Threshold end to end
	ObjectiveDrain   ObjectiveKind = "drain"   // estimated time-to-drain below Threshold
)

// Objective is a parsed SLO objective.
type Objective struct {
	Kind ObjectiveKind
	// Target is the share of good events the objective asks for, in (0,1):
	// 0.99 for "99%", 0.95 for "p95 < 60s". Zero for drain objectives.
	Target float64
	// Threshold is the latency or time-to-drain bound.
	Threshold time.Duration
}

var (
	percentRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*%$`)
	latencyRE = regexp.MustCompile(`^p([0-9]+(?:\.[0-9]+)?)\s*<\s*(\S+)$`)
	drainRE   = regexp.MustCompile(`^<\s*(\S+)$`)
)

// ParseObjective parses an SLO objective: "99.0%", "p95 < 60s" or "< 5m".
func ParseObjective(s string) (Objective, error) {
	s = strings.TrimSpace(s)
	const want = `want "99.0%" (delivery success), "p95 < 60s" (end-to-end latency) or "< 5m" (time-to-drain)`
	if m := percentRE.FindStringSubmatch(s); m != nil {
		pct, err := strconv.ParseFloat(m[1], 64)
		if err != nil || pct <= 0 || pct >= 100 {
			return Objective{}, fmt.Errorf("%q: the percentage must be above 0 and below 100 (100%% leaves no error budget)", s)
		}
		return Objective{Kind: ObjectiveSuccess, Target: pct / 100}, nil
	}
	if m := latencyRE.FindStringSubmatch(s); m != nil {
		pct, err := strconv.ParseFloat(m[1], 64)
		if err != nil || pct <= 0 || pct >= 100 {
			return Objective{}, fmt.Errorf("%q: the percentile must be above 0 and below 100", s)
		}
		d, err := ParseDuration(m[2])
		if err != nil || d <= 0 {
			return Objective{}, fmt.Errorf("%q: the latency bound must be a positive duration such as 60s", s)
		}
		return Objective{Kind: ObjectiveLatency, Target: pct / 100, Threshold: d.D()}, nil
	}
	if m := drainRE.FindStringSubmatch(s); m != nil {
		d, err := ParseDuration(m[1])
		if err != nil || d <= 0 {
			return Objective{}, fmt.Errorf("%q: the time-to-drain bound must be a positive duration such as 5m", s)
		}
		return Objective{Kind: ObjectiveDrain, Threshold: d.D()}, nil
	}
	return Objective{}, fmt.Errorf("%q is not an objective: %s", s, want)
}

// observability validates slos and alerts.
func (v *validator) observability() {
	names := map[string]string{}
	for i := range v.cfg.SLOs {
		s := &v.cfg.SLOs[i]
		p := fmt.Sprintf("slos[%d]", i)
		v.name(p+".name", s.Name, "SLO", names)
		var obj Objective
		if s.Objective == "" {
			v.errorf(p+".objective", `is required: "99.0%%" (delivery success), "p95 < 60s" (end-to-end latency) or "< 5m" (time-to-drain)`)
		} else if o, err := ParseObjective(s.Objective); err != nil {
			v.errorf(p+".objective", "%v", err)
		} else {
			obj = o
		}
		if _, set := v.d.lines[p+".window"]; set && obj.Kind == ObjectiveDrain {
			v.errorf(p+".window", "is not used by time-to-drain objectives (they are checked against the current estimate)")
		} else {
			v.positive(p+".window", s.Window)
		}
		if s.Destination != "*" {
			if _, found := v.cfg.Destination(s.Destination); !found && !v.anyBad("destinations") {
				v.errorf(p+".destination", `unknown destination %s (want "*" or one of: %s)`,
					v.show(p+".destination", s.Destination), v.defined("destinations"))
			}
		}
	}

	names = map[string]string{}
	for i := range v.cfg.Alerts {
		a := &v.cfg.Alerts[i]
		p := fmt.Sprintf("alerts[%d]", i)
		v.name(p+".name", a.Name, "alert", names)
		if !slices.Contains(AlertTypes, a.Type) {
			if a.Type == "" {
				v.errorf(p+".type", "is required (want one of %s)", strings.Join(AlertTypes, ", "))
			} else {
				v.errorf(p+".type", "unknown type %s (want one of %s)", v.show(p+".type", a.Type), strings.Join(AlertTypes, ", "))
			}
			continue
		}
		switch a.Type {
		case "slack", "webhook":
			v.alertURL(p+".url", a.URL, true)
		case "pagerduty":
			v.alertURL(p+".url", a.URL, false)
		case "email":
			if a.URL != "" {
				v.errorf(p+".url", "is not used by type email")
			}
		}
		if a.Type == "pagerduty" && a.RoutingKey == "" {
			v.errorf(p+".routing_key", "is required for type pagerduty (the integration's routing key; use ${VAR})")
		} else if a.Type != "pagerduty" && a.RoutingKey != "" {
			v.errorf(p+".routing_key", "is only used by type pagerduty")
		}
		if a.Type == "webhook" {
			for name := range a.Headers {
				v.headerName(mapKeyPath(p+".headers", name), name)
			}
		} else if len(a.Headers) > 0 {
			v.errorf(p+".headers", "is only used by type webhook")
		}
		switch {
		case a.Type == "email" && a.SMTP == nil:
			v.errorf(p+".smtp", "is required for type email (at least host, from and to)")
		case a.Type != "email" && a.SMTP != nil:
			v.errorf(p+".smtp", "is only used by type email")
		case a.SMTP != nil:
			v.smtp(p+".smtp", a.SMTP)
		}
		if a.RunbookBaseURL != "" {
			if u, err := url.Parse(a.RunbookBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.errorf(p+".runbook_base_url", "must be an absolute http:// or https:// URL")
			} else if u.Fragment != "" {
				v.errorf(p+".runbook_base_url", "must not contain a fragment: each alert appends its runbook anchor after #")
			}
		}
	}
}

// alertURL checks a notifier URL. It is never quoted back: a Slack
// webhook URL is itself a credential.
func (v *validator) alertURL(path, raw string, required bool) {
	if raw == "" {
		if required {
			v.errorf(path, "is required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path, "must be an absolute http:// or https:// URL with a host")
	}
}

func (v *validator) smtp(p string, s *SMTP) {
	if s.Host == "" {
		v.errorf(p+".host", "is required")
	} else if strings.ContainsAny(s.Host, ":/ ") {
		v.errorf(p+".host", "must be a host name or address without a port (set port)")
	}
	if s.Port < 1 || s.Port > 65535 {
		v.errorf(p+".port", "must be between 1 and 65535, got %d", s.Port)
	}
	if s.Password != "" && s.Username == "" {
		v.errorf(p+".username", "is required when password is set")
	}
	if s.From == "" {
		v.errorf(p+".from", "is required")
	} else {
		v.mailbox(p+".from", s.From)
	}
	if len(s.To) == 0 {
		v.errorf(p+".to", "at least one recipient is required")
	}
	for j, to := range s.To {
		v.mailbox(fmt.Sprintf("%s.to[%d]", p, j), to)
	}
}

// mailbox checks a bare address: no display name, no header injection.
func (v *validator) mailbox(path, addr string) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || strings.ContainsAny(addr, " \t\r\n<>,;\"") {
		v.errorf(path, "must be a plain address such as oncall@example.com")
	}
}
