package config

import (
	"testing"
	"time"
)

func TestRetentionExplicitValues(t *testing.T) {
	cfg, err := Parse([]byte(doc(append([]string{"storage:", "  retention: {max_age: 0, dead_max_age: 90d, audit_max_age: 400d, batch_size: 50}"}, minimal...)...)), nil, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := Retention{MaxAge: 0, DeadMaxAge: Duration(90 * 24 * time.Hour), AuditMaxAge: Duration(400 * 24 * time.Hour),
		Interval: Duration(10 * time.Minute), BatchSize: 50}
	if cfg.Storage.Retention != want {
		t.Errorf("retention = %+v, want %+v (an explicit max_age: 0 turns retention off)", cfg.Storage.Retention, want)
	}
}
