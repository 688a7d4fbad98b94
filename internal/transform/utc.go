package transform

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Epoch magnitudes: a number below epochMillisFrom is seconds, below
// epochMicrosFrom milliseconds, below epochNanosFrom microseconds, else
// nanoseconds. 1e11 seconds is the year 5138, and 1e11 milliseconds is
// 1973-03-03, so the heuristic is right for every timestamp a store emits
// after March 1973 in seconds or milliseconds.
const (
	epochMillisFrom = 1e11
	epochMicrosFrom = 1e14
	epochNanosFrom  = 1e17
)

// timeFormat is what to_utc writes: RFC 3339 in UTC, with fractional
// seconds only when they are not zero.
const timeFormat = time.RFC3339Nano

// Years 0001 to 9999, what RFC 3339 can write.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

// localLayouts are the offset-less forms; they are read as UTC.
var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads the timestamp forms commerce platforms send.
func parseTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case int, float64, *big.Int:
		d, err := decimalOf(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%v is not a time", v)
		}
		return epoch(d)
	case string:
		s := strings.TrimSpace(v)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
		// RFC 3339 allows a space for the T and a lower-case z.
		if t, err := time.Parse("2006-01-02 15:04:05.999999999Z07:00", strings.Replace(s, "z", "Z", 1)); err == nil {
			return t, nil
		}
		for _, layout := range localLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		if d, err := parseDecimal(s); err == nil {
			return epoch(d)
		}
		return time.Time{}, fmt.Errorf("%q is not a time (want RFC 3339, YYYY-MM-DDTHH:MM:SS, or epoch seconds/milliseconds)", v)
	}
	return time.Time{}, fmt.Errorf("%s is not a time", typeName(v))
}

// epoch converts an epoch number, its unit chosen by magnitude (see
// epochMillisFrom), exactly: the decimal is scaled to whole nanoseconds.
func epoch(d decimal) (time.Time, error) {
	whole := new(big.Int).Abs(d.rescale(0, halfEven).unscaled)
	nanosPerUnit := int64(time.Second)
	switch {
	case whole.Cmp(big.NewInt(epochNanosFrom)) >= 0:
		nanosPerUnit = 1
	case whole.Cmp(big.NewInt(epochMicrosFrom)) >= 0:
		nanosPerUnit = int64(time.Microsecond)
	case whole.Cmp(big.NewInt(epochMillisFrom)) >= 0:
		nanosPerUnit = int64(time.Millisecond)
	}
	ns := d.rescale(d.scale, halfEven)
	ns.unscaled = new(big.Int).Mul(ns.unscaled, big.NewInt(nanosPerUnit))
	sec, nsec := new(big.Int).DivMod(ns.rescale(0, halfEven).unscaled, big.NewInt(int64(time.Second)), new(big.Int))
	if !sec.IsInt64() || sec.Int64() > maxUnix || sec.Int64() < minUnix {
		return time.Time{}, fmt.Errorf("%s is out of range for a time", d)
	}
	return time.Unix(sec.Int64(), nsec.Int64()).UTC(), nil
}

// toUTC implements to_utc: a timestamp in any form the supported platforms
// send, as an RFC 3339 string in UTC (fractional seconds only when present).
// null gives null.
//
//   - RFC 3339 with an offset (Shopify, Stripe Checkout expanded dates):
//     "2024-01-01T12:00:00-05:00" | to_utc → "2024-01-01T17:00:00Z"
//   - no offset (WooCommerce date_created, which is in the site's time zone —
//     prefer date_created_gmt; hookyard cannot know the site's zone, so it
//     reads these as UTC): "2024-01-01T12:00:00" | to_utc → "2024-01-01T12:00:00Z"
//   - a date alone: "2024-01-01" | to_utc → "2024-01-01T00:00:00Z"
//   - epoch seconds (Stripe's created): 1680800504 | to_utc → "2023-04-06T17:01:44Z"
//   - epoch milliseconds, told apart by magnitude (≥ 1e11 is milliseconds,
//     ≥ 1e14 microseconds, ≥ 1e17 nanoseconds):
//     1680800504123 | to_utc → "2023-04-06T17:01:44.123Z"
//   - numeric strings as numbers: "1680800504" | to_utc → "2023-04-06T17:01:44Z"
//   - anything else is an error: "yesterday" | to_utc → error
func (l *library) toUTC(v any, _ []any) any {
	if v == nil {
		return nil
	}
	t, err := parseTime(v)
	if err != nil {
		return fail("to_utc", "", "%v", err)
	}
	return t.UTC().Format(timeFormat)
}
