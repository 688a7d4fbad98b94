package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Transforms configures what the jq commerce functions read.
type Transforms struct {
	// PIIKey is the HMAC key of hash_pii (at least 16 bytes; give it as
	// ${VAR}). Without one, hash_pii is an error.
	PIIKey string `yaml:"pii_key,omitempty"`
	// LookupTables are the tables lookup(table; key) reads, each reloaded
	// when its file changes.
	LookupTables []LookupTable `yaml:"lookup_tables,omitempty"`
	// Risk replaces the default rules of risk_score, key by key.
	Risk *Risk `yaml:"risk,omitempty"`
}

// LookupTable is one table for lookup(table; key).
type LookupTable struct {
	Name string `yaml:"name"`
	// Path is a .csv file (a header row, then one row per record) or a
	// .json file (an object key → row, or an array of objects); relative
	// to the config file.
	Path string `yaml:"path"`
	// Key names the key column (CSV; default the first) or field (JSON
	// array; default "id").
	Key string `yaml:"key,omitempty"`
}

// Risk overrides risk_score's rules; absent keys keep their defaults
// (high value 500 → 30, country mismatch 25, first-time customer 15,
// velocity 3 recent orders → 30). A score of 0 turns a rule off.
// VelocityWindow turns on the node's own velocity counter: the distinct
// orders per VelocityBy key ("customer", the default, or "ip") within it.
type Risk struct {
	HighValue            *string           `yaml:"high_value,omitempty"`
	HighValueByCurrency  map[string]string `yaml:"high_value_by_currency,omitempty"`
	HighValueScore       *int              `yaml:"high_value_score,omitempty"`
	CountryMismatchScore *int              `yaml:"country_mismatch_score,omitempty"`
	FirstTimeScore       *int              `yaml:"first_time_score,omitempty"`
	VelocityThreshold    *int              `yaml:"velocity_threshold,omitempty"`
	VelocityScore        *int              `yaml:"velocity_score,omitempty"`
	VelocityWindow       Duration          `yaml:"velocity_window,omitempty"`
	VelocityBy           string            `yaml:"velocity_by,omitempty"`
}

// Drift configures schema drift tracking: per (source, topic), the JSON
// paths and types seen in bodies, a baseline frozen after BaselineAfter
// events (or on command), and the differences from it.
type Drift struct {
	Enabled bool `yaml:"enabled"`
	// BaselineAfter is how many events of a (source, topic) are learned
	// before its baseline freezes by itself; 0 freezes only on command.
	// Default 1000.
	BaselineAfter *int `yaml:"baseline_after,omitempty"`
	// MaxPaths bounds the paths tracked per (source, topic); default 2000.
	MaxPaths int `yaml:"max_paths,omitempty"`
	// FlushInterval is how often learned counts are written to the store;
	// default 5s.
	FlushInterval Duration `yaml:"flush_interval,omitempty"`
}

// Defaults of the drift section.
const (
	DefaultDriftBaselineAfter = 1000
	DefaultDriftMaxPaths      = 2000
)

// Baseline is BaselineAfter or its default.
func (d Drift) Baseline() int {
	if d.BaselineAfter == nil {
		return DefaultDriftBaselineAfter
	}
	return *d.BaselineAfter
}

// Paths is MaxPaths or its default.
func (d Drift) Paths() int {
	if d.MaxPaths == 0 {
		return DefaultDriftMaxPaths
	}
	return d.MaxPaths
}

var (
	decimalRE  = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

// minPIIKeyLen is the shortest hash_pii key accepted: a short key makes
// the hashes of emails guessable.
const minPIIKeyLen = 16

// Errorf returns a problem with the key at path, naming its line, for
// checks made after Parse (a lookup table that does not load, a jq program
// that does not compile).
func (c *Config) Errorf(path, format string, args ...any) *Error {
	line := 0
	for p := path; p != "" && line == 0; p = parent(p) {
		line = c.lines[p]
	}
	return &Error{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (v *validator) transforms() {
	t := v.cfg.Transforms
	switch k := t.PIIKey; {
	case k == "" && v.d.lines["transforms.pii_key"] > 0:
		v.errorf("transforms.pii_key", "is empty; remove the key or give at least %d bytes", minPIIKeyLen)
	case k != "" && len(k) < minPIIKeyLen:
		v.errorf("transforms.pii_key", "is too short: use at least %d bytes (e.g. openssl rand -hex 32)", minPIIKeyLen)
	}
	names := map[string]string{}
	for i, lt := range t.LookupTables {
		p := fmt.Sprintf("transforms.lookup_tables[%d]", i)
		v.name(p+".name", lt.Name, "lookup table", names)
		switch ext := strings.ToLower(filepath.Ext(lt.Path)); {
		case lt.Path == "":
			v.errorf(p+".path", "is required (a .csv or .json file)")
		case ext != ".csv" && ext != ".json":
			v.errorf(p+".path", "%s: the file must end in .csv or .json", v.show(p+".path", lt.Path))
		}
	}
	if r := t.Risk; r != nil {
		for key, n := range map[string]*int{"high_value_score": r.HighValueScore, "country_mismatch_score": r.CountryMismatchScore,
			"first_time_score": r.FirstTimeScore, "velocity_threshold": r.VelocityThreshold, "velocity_score": r.VelocityScore} {
			if n != nil && (*n < 0 || *n > 100 && key != "velocity_threshold") {
				v.errorf("transforms.risk."+key, "must be between 0 and 100, got %d", *n)
			}
		}
		if r.HighValue != nil && *r.HighValue != "" && !decimalRE.MatchString(*r.HighValue) {
			v.errorf("transforms.risk.high_value", "%s is not a decimal amount (e.g. \"500\" or \"499.99\")", v.show("transforms.risk.high_value", *r.HighValue))
		}
		if r.VelocityWindow < 0 {
			v.errorf("transforms.risk.velocity_window", "must be positive (e.g. 1h)")
		}
		switch r.VelocityBy {
		case "", "customer", "ip":
			if r.VelocityBy != "" && r.VelocityWindow == 0 {
				v.errorf("transforms.risk.velocity_by", "needs transforms.risk.velocity_window: there is nothing to count by without it")
			}
		default:
			v.errorf("transforms.risk.velocity_by", "%s is not one of customer, ip", v.show("transforms.risk.velocity_by", r.VelocityBy))
		}
		for cur, amt := range r.HighValueByCurrency {
			p := mapKeyPath("transforms.risk.high_value_by_currency", cur)
			if !currencyRE.MatchString(cur) {
				v.errorf(p, "%q is not an ISO 4217 code (three capital letters)", cur)
			}
			if !decimalRE.MatchString(amt) {
				v.errorf(p, "%s is not a decimal amount", v.show(p, amt))
			}
		}
	}
	d := v.cfg.Drift
	if d.BaselineAfter != nil && *d.BaselineAfter < 0 {
		v.errorf("drift.baseline_after", "must not be negative (0 freezes a baseline only on command)")
	}
	if d.MaxPaths < 0 {
		v.errorf("drift.max_paths", "must be positive")
	}
	if d.FlushInterval < 0 {
		v.errorf("drift.flush_interval", "must be positive")
	}
}
