package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ParseDuration parses a duration as written in the config file: anything
// time.ParseDuration accepts ("15s", "1h30m"), optionally preceded by a
// whole number of days ("3d", "1d12h"), where a day is exactly 24h. Days
// exist because retry windows are naturally said in days and "72h" is easy
// to mistype.
func ParseDuration(s string) (Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (days are written as a whole number, e.g. 3d or 1d12h)", orig)
		}
		const maxDays = uint64(1<<63-1) / uint64(24*time.Hour)
		if n > maxDays {
			return 0, fmt.Errorf("duration %q is too long", orig)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return Duration(days), nil
		}
		if s[0] == '-' || s[0] == '+' {
			return 0, fmt.Errorf("invalid duration %q (want e.g. 15s, 1h30m or 3d)", orig)
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// time's message quotes the input with its own prefix; ours is shorter.
		return 0, fmt.Errorf("invalid duration %q (want e.g. 15s, 1h30m or 3d)", orig)
	}
	if days > 0 && d > time.Duration(1<<63-1)-days {
		return 0, fmt.Errorf("duration %q is too long", orig)
	}
	return Duration(days + d), nil
}

// String formats d like time.Duration ("1h30m0s"), which ParseDuration
// reads back.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d as a string ParseDuration reads back.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration string. Parse and Load do not use it (they
// walk the node tree themselves to report key paths); it is here so a
// Duration can be decoded by plain yaml.Unmarshal too.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like 15s", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}
