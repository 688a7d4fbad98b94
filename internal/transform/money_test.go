package transform

import (
	"strings"
	"testing"
)

func TestToMinorUnits(t *testing.T) {
	tests := []struct {
		src  string
		want string // JSON of the result, or "error: <substring>"
	}{
		// currency exponents
		{`"19.99" | to_minor_units("USD")`, `1999`},
		{`"19.99" | to_minor_units("usd")`, `1999`},
		{`"19.99" | to_minor_units("EUR")`, `1999`},
		{`"1500" | to_minor_units("JPY")`, `1500`},
		{`"1500" | to_minor_units("KRW")`, `1500`},
		{`"1500" | to_minor_units("CLP")`, `1500`},
		{`"1500" | to_minor_units("ISK")`, `1500`},
		{`"1.234" | to_minor_units("KWD")`, `1234`},
		{`"1.234" | to_minor_units("BHD")`, `1234`},
		{`"1.234" | to_minor_units("TND")`, `1234`},
		{`"1.2345" | to_minor_units("CLF")`, `12345`},
		{`"5" | to_minor_units("XYZ")`, `500`}, // unknown but well-formed: 2
		// numbers, via their shortest decimal form
		{`19.99 | to_minor_units("USD")`, `1999`},
		{`0.07 | to_minor_units("USD")`, `7`},
		{`1.005 | to_minor_units("USD")`, `100`}, // "1.005": a tie, half-even → 1.00
		{`42 | to_minor_units("USD")`, `4200`},
		{`1e2 | to_minor_units("JPY")`, `100`},
		// rounding
		{`"0.125" | to_minor_units("USD")`, `12`},
		{`"0.135" | to_minor_units("USD")`, `14`},
		{`"0.125" | to_minor_units("USD"; "half_even")`, `12`},
		{`"0.125" | to_minor_units("USD"; "half_up")`, `13`},
		{`"0.1251" | to_minor_units("USD")`, `13`},
		{`"0.1249" | to_minor_units("USD"; "half_up")`, `12`},
		{`"1999.5" | to_minor_units("JPY")`, `2000`},
		{`"1998.5" | to_minor_units("JPY")`, `1998`},
		{`"1.0005" | to_minor_units("KWD"; "half_up")`, `1001`},
		// negative amounts (refunds)
		{`"-19.99" | to_minor_units("USD")`, `-1999`},
		{`"-0.125" | to_minor_units("USD")`, `-12`},
		{`"-0.125" | to_minor_units("USD"; "half_up")`, `-13`},
		{`-5.5 | to_minor_units("USD")`, `-550`},
		{`"+3" | to_minor_units("USD")`, `300`},
		{`" 7.10 " | to_minor_units("USD")`, `710`},
		// large amounts stay exact
		{`"92233720368547758.07" | to_minor_units("USD")`, `9223372036854775807`},
		{`"99999999999999999999.99" | to_minor_units("USD") | tostring`, `"9999999999999999999999"`},
		{`null | to_minor_units("USD")`, `null`},
		// malformed input
		{`"12,50" | to_minor_units("EUR")`, `error: "12,50" is not a decimal amount`},
		{`"$5.00" | to_minor_units("USD")`, `error: not a decimal amount`},
		{`"1e3" | to_minor_units("USD")`, `error: not a decimal amount`},
		{`"5." | to_minor_units("USD")`, `error: not a decimal amount`},
		{`".5" | to_minor_units("USD")`, `error: not a decimal amount`},
		{`"" | to_minor_units("USD")`, `error: not a decimal amount`},
		{`"--1" | to_minor_units("USD")`, `error: not a decimal amount`},
		{`"abc" | to_minor_units("USD")`, `error: not a decimal amount`},
		{`true | to_minor_units("USD")`, `error: a boolean is not a decimal amount`},
		{`[1] | to_minor_units("USD")`, `error: an array is not a decimal amount`},
		{`"1" | to_minor_units("US")`, `error: 3-letter ISO 4217 code`},
		{`"1" | to_minor_units("US1")`, `error: 3-letter ISO 4217 code`},
		{`"1" | to_minor_units(null)`, `error: 3-letter ISO 4217 code`},
		{`"1" | to_minor_units("USD"; "up")`, `error: rounding mode`},
		{`nan | to_minor_units("USD")`, `error: not a decimal amount`},
	}
	runTable(t, tests)
}

func TestFromMinorUnits(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{`1999 | from_minor_units("USD")`, `"19.99"`},
		{`2000 | from_minor_units("usd")`, `"20.00"`},
		{`5 | from_minor_units("USD")`, `"0.05"`},
		{`0 | from_minor_units("USD")`, `"0.00"`},
		{`1500 | from_minor_units("JPY")`, `"1500"`},
		{`1234 | from_minor_units("KWD")`, `"1.234"`},
		{`1 | from_minor_units("BHD")`, `"0.001"`},
		{`-5 | from_minor_units("EUR")`, `"-0.05"`},
		{`-199 | from_minor_units("USD")`, `"-1.99"`},
		{`"1999" | from_minor_units("USD")`, `"19.99"`},
		{`2000.0 | from_minor_units("USD")`, `"20.00"`},
		{`9999999999999999999999 | from_minor_units("USD")`, `"99999999999999999999.99"`},
		{`null | from_minor_units("USD")`, `null`},
		{`19.5 | from_minor_units("USD")`, `error: must be an integer`},
		{`"19.5" | from_minor_units("USD")`, `error: must be an integer`},
		{`"x" | from_minor_units("USD")`, `error: not a decimal amount`},
		{`1 | from_minor_units("dollars")`, `error: ISO 4217`},
		// round trip
		{`"123.45" | to_minor_units("USD") | from_minor_units("USD")`, `"123.45"`},
		{`"0.001" | to_minor_units("KWD") | from_minor_units("KWD")`, `"0.001"`},
	}
	runTable(t, tests)
}

func TestSumMoney(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{`["19.99", "0.01", 5] | sum_money`, `"25.00"`},
		{`["0.1", "0.2"] | sum_money`, `"0.3"`},
		{`[0.1, 0.2] | sum_money`, `"0.3"`}, // not 0.30000000000000004
		{`["1.5", "2.25"] | sum_money`, `"3.75"`},
		{`["1.50", "-1.50"] | sum_money`, `"0.00"`},
		{`["-3.33", "-3.33", "-3.34"] | sum_money`, `"-10.00"`},
		{`["1.5", null] | sum_money("USD")`, `"1.50"`},
		{`["1.5", "0.001"] | sum_money("USD")`, `"1.501"`}, // digits are kept, not rounded
		{`["100", "200"] | sum_money("JPY")`, `"300"`},
		{`[] | sum_money`, `"0"`},
		{`[] | sum_money("USD")`, `"0.00"`},
		{`["99999999999999999999.99", "0.01"] | sum_money`, `"100000000000000000000.00"`},
		{`["1.5", "abc"] | sum_money`, `error: "abc" is not a decimal amount`},
		{`"1.5" | sum_money`, `error: input must be an array`},
		{`["1"] | sum_money("X")`, `error: ISO 4217`},
	}
	runTable(t, tests)
}

// runTable evaluates each src with an empty array as input and compares the
// JSON of its first output, or the error text.
func runTable(t *testing.T, tests []struct{ src, want string }) {
	t.Helper()
	for _, tt := range tests {
		v, err := eval(t, tt.src, []any{}, Options{PIIKey: []byte("k")})
		if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s = %s, %v; want an error containing %q", tt.src, asJSON(v), err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := asJSON(v); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestDecimalRescale(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		mode  string
		want  string
	}{
		{"2.5", 0, halfEven, "2"},
		{"3.5", 0, halfEven, "4"},
		{"-2.5", 0, halfEven, "-2"},
		{"-3.5", 0, halfEven, "-4"},
		{"2.5", 0, halfUp, "3"},
		{"-2.5", 0, halfUp, "-3"},
		{"2.4999", 0, halfUp, "2"},
		{"0.005", 2, halfEven, "0.00"},
		{"0.015", 2, halfEven, "0.02"},
		{"-0.004", 2, halfUp, "0.00"},
		{"7", 3, halfEven, "7.000"},
	}
	for _, tt := range tests {
		d, err := parseDecimal(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.rescale(tt.scale, tt.mode).String(); got != tt.want {
			t.Errorf("%s rescaled to %d (%s) = %s, want %s", tt.in, tt.scale, tt.mode, got, tt.want)
		}
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"19.99", "-0.5", "+3", "1e3", "", ".", "00.10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDecimal(s)
		if err != nil {
			return
		}
		// What parses prints back to a form that parses to the same value.
		e, err := parseDecimal(d.String())
		if err != nil || e.cmp(d) != 0 || e.scale != d.scale {
			t.Fatalf("%q → %s → %v, %v", s, d, e, err)
		}
	})
}
