package transform

import "testing"

func TestToUTC(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		// RFC 3339 with offsets (Shopify)
		{`"2024-01-01T12:00:00-05:00" | to_utc`, `"2024-01-01T17:00:00Z"`},
		{`"2008-01-10T11:00:00-05:00" | to_utc`, `"2008-01-10T16:00:00Z"`},
		{`"2024-01-01T12:00:00+05:30" | to_utc`, `"2024-01-01T06:30:00Z"`},
		{`"2024-01-01T00:30:00+01:00" | to_utc`, `"2023-12-31T23:30:00Z"`},
		{`"2024-01-01T12:00:00Z" | to_utc`, `"2024-01-01T12:00:00Z"`},
		{`"2024-01-01T12:00:00.250Z" | to_utc`, `"2024-01-01T12:00:00.25Z"`},
		{`"2024-01-01 12:00:00+02:00" | to_utc`, `"2024-01-01T10:00:00Z"`},
		{`"2024-01-01t12:00:00z" | to_utc`, `error: not a time`},
		// no offset (WooCommerce): read as UTC
		{`"2024-01-01T12:00:00" | to_utc`, `"2024-01-01T12:00:00Z"`},
		{`"2017-03-22T19:28:02" | to_utc`, `"2017-03-22T19:28:02Z"`},
		{`"2024-01-01 12:00:00" | to_utc`, `"2024-01-01T12:00:00Z"`},
		{`"2024-02-29" | to_utc`, `"2024-02-29T00:00:00Z"`},
		// epoch seconds (Stripe) and milliseconds, by magnitude
		{`1680800504 | to_utc`, `"2023-04-06T17:01:44Z"`},
		{`1234567890 | to_utc`, `"2009-02-13T23:31:30Z"`},
		{`0 | to_utc`, `"1970-01-01T00:00:00Z"`},
		{`1680800504123 | to_utc`, `"2023-04-06T17:01:44.123Z"`},
		{`1680800504.5 | to_utc`, `"2023-04-06T17:01:44.5Z"`},
		{`1680800504123456 | to_utc`, `"2023-04-06T17:01:44.123456Z"`},
		{`1680800504123456789 | to_utc`, `"2023-04-06T17:01:44.123456789Z"`},
		{`99999999999 | to_utc`, `"5138-11-16T09:46:39Z"`},  // just under 1e11: still seconds
		{`100000000000 | to_utc`, `"1973-03-03T09:46:40Z"`}, // 1e11: milliseconds
		{`-86400 | to_utc`, `"1969-12-31T00:00:00Z"`},
		{`"1680800504" | to_utc`, `"2023-04-06T17:01:44Z"`},
		{`"1680800504123" | to_utc`, `"2023-04-06T17:01:44.123Z"`},
		{`null | to_utc`, `null`},
		// malformed
		{`"yesterday" | to_utc`, `error: "yesterday" is not a time`},
		{`"2024-13-01T00:00:00Z" | to_utc`, `error: not a time`},
		{`"" | to_utc`, `error: not a time`},
		{`true | to_utc`, `error: a boolean is not a time`},
		{`{} | to_utc`, `error: an object is not a time`},
		{`99999999999999999999999 | to_utc`, `error: out of range`},
	}
	runTable(t, tests)
}
