package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTransformsConfig(t *testing.T) {
	y := doc(append(append([]string{}, minimal...),
		"transforms:", // 12
		"  pii_key: ${PII_KEY}",
		"  lookup_tables:",
		"    - {name: skus, path: tables/skus.csv, key: sku}", // 15
		"    - {name: stores, path: tables/stores.json}",
		"  risk:",
		"    high_value: \"250\"",
		"    high_value_by_currency: {JPY: \"40000\"}",
		"    first_time_score: 0", // 20
		"    velocity_window: 2h",
		"    velocity_by: ip",
		"drift:",
		"  enabled: true",
		"  baseline_after: 0",
		"  flush_interval: 250ms",
	)...)
	cfg, err := Parse([]byte(y), envOf(map[string]string{"PII_KEY": "0123456789abcdef0123"}), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	tr := cfg.Transforms
	if tr.PIIKey != "0123456789abcdef0123" {
		t.Errorf("pii_key = %q", tr.PIIKey)
	}
	want := []LookupTable{{Name: "skus", Path: "tables/skus.csv", Key: "sku"}, {Name: "stores", Path: "tables/stores.json"}}
	if !reflect.DeepEqual(tr.LookupTables, want) {
		t.Errorf("lookup_tables = %+v", tr.LookupTables)
	}
	r := tr.Risk
	if r == nil || *r.HighValue != "250" || r.HighValueByCurrency["JPY"] != "40000" || *r.FirstTimeScore != 0 || r.HighValueScore != nil ||
		r.VelocityWindow.D() != 2*time.Hour || r.VelocityBy != "ip" {
		t.Errorf("risk = %+v", r)
	}
	if !cfg.Drift.Enabled || cfg.Drift.Baseline() != 0 || cfg.Drift.Paths() != DefaultDriftMaxPaths ||
		cfg.Drift.FlushInterval.D() != 250*time.Millisecond {
		t.Errorf("drift = %+v", cfg.Drift)
	}
	// Checks made after Parse (a table that does not load) name the line.
	if got := cfg.Errorf("transforms.lookup_tables[1].path", "no such file").Error(); got != "config line 16: transforms.lookup_tables[1].path: no such file" {
		t.Errorf("Errorf = %q", got)
	}
	if got := cfg.Errorf("transforms.lookup_tables[1].nothing", "x").Error(); !strings.HasPrefix(got, "config line 16: ") {
		t.Errorf("Errorf of an absent key = %q (want its parent's line)", got)
	}

	// Absent sections: defaults.
	cfg, err = Parse([]byte(doc(minimal...)), nil, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Drift.Enabled || cfg.Drift.Baseline() != DefaultDriftBaselineAfter || cfg.Transforms.Risk != nil {
		t.Errorf("defaults: drift %+v, risk %+v", cfg.Drift, cfg.Transforms.Risk)
	}
}

func TestTransformsConfigErrors(t *testing.T) {
	with := func(extra ...string) string { return doc(append(append([]string{}, minimal...), extra...)...) }
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"short pii key", with("transforms:", "  pii_key: ${K}"), map[string]string{"K": "k3y-v4l"},
			"config line 13: transforms.pii_key: is too short: use at least 16 bytes"},
		{"empty pii key", with("transforms:", `  pii_key: ""`), nil,
			"config line 13: transforms.pii_key: is empty"},
		{"table without path", with("transforms:", "  lookup_tables:", "    - {name: skus}"), nil,
			"config line 14: transforms.lookup_tables[0].path: is required"},
		{"table of another format", with("transforms:", "  lookup_tables:", "    - {name: skus, path: skus.xlsx}"), nil,
			`config line 14: transforms.lookup_tables[0].path: "skus.xlsx": the file must end in .csv or .json`},
		{"duplicate table", with("transforms:", "  lookup_tables:", "    - {name: skus, path: a.csv}", "    - {name: skus, path: b.csv}"), nil,
			"config line 15: transforms.lookup_tables[1].name: duplicate lookup table name"},
		{"unknown table key", with("transforms:", "  lookup_tables:", "    - {name: skus, path: a.csv, column: sku}"), nil,
			"config line 14: transforms.lookup_tables[0].column: unknown key"},
		{"risk score out of range", with("transforms:", "  risk:", "    velocity_score: 150"), nil,
			"config line 14: transforms.risk.velocity_score: must be between 0 and 100, got 150"},
		{"risk amount", with("transforms:", "  risk:", "    high_value: 5e2"), nil,
			`config line 14: transforms.risk.high_value: "5e2" is not a decimal amount`},
		{"risk currency", with("transforms:", "  risk:", "    high_value_by_currency: {yen: \"1\"}"), nil,
			`transforms.risk.high_value_by_currency.yen: "yen" is not an ISO 4217 code`},
		{"velocity window negative", with("transforms:", "  risk:", "    velocity_window: -5m"), nil,
			"config line 14: transforms.risk.velocity_window: must be positive"},
		{"velocity by unknown", with("transforms:", "  risk:", "    velocity_window: 1h", "    velocity_by: device"), nil,
			`config line 15: transforms.risk.velocity_by: "device" is not one of customer, ip`},
		{"velocity by without window", with("transforms:", "  risk:", "    velocity_by: ip"), nil,
			"config line 14: transforms.risk.velocity_by: needs transforms.risk.velocity_window"},
		{"drift not a bool", with("drift:", "  enabled: yes"), nil,
			"config line 13: drift.enabled: want true or false"},
		{"drift negative", with("drift:", "  baseline_after: -1"), nil,
			"config line 13: drift.baseline_after: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), envOf(tt.env), testOpts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			}
			if tt.env != nil && strings.Contains(err.Error(), tt.env["K"]) {
				t.Errorf("the error shows the key's value: %v", err)
			}
		})
	}
}
