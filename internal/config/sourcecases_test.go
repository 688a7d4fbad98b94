package config

import (
	"reflect"
	"strings"
	"testing"
)

// oneSource is a config with a single source "s" made of lines.
func oneSource(lines ...string) string {
	return doc(append([]string{"sources:", "  - name: s"}, lines...)...)
}

// sourceOK is a config whose single source must parse to want.
type sourceOK struct {
	name string
	yaml string
	want Source
}

// sourceBad is a config that must fail with an error containing want.
type sourceBad struct {
	name string
	yaml string
	want string
}

// checkSources parses every case. envValue, when set, is a value getenv
// returns that no error may quote.
func checkSources(t *testing.T, getenv func(string) string, opts Options, envValue string, ok []sourceOK, bad []sourceBad) {
	t.Helper()
	for _, tt := range ok {
		cfg, err := Parse([]byte(tt.yaml), getenv, opts)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := cfg.Sources[0]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, tt := range bad {
		_, err := Parse([]byte(tt.yaml), getenv, opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
		if envValue != "" && err != nil && strings.Contains(err.Error(), envValue) {
			t.Errorf("%s: %v quotes a value from the environment", tt.name, err)
		}
	}
}
