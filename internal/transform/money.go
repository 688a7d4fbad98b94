package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Money is decimal, never binary floating point: amounts are parsed from
// their decimal text into an integer of units at a scale ("19.99" is 1999 at
// scale 2), added and compared exactly, and rounded only when asked for fewer
// digits. JSON numbers are accepted too, through their shortest decimal form
// (19.99 reads as "19.99", not as 19.989999999999998436805981327779591083526611328125).

// decimal is unscaled × 10^-scale.
type decimal struct {
	unscaled *big.Int
	scale    int
}

var errNotDecimal = errors.New("not a decimal amount")

// parseDecimal reads an optionally signed decimal: "19.99", "-0.5", "+3",
// "1999". Exponents, thousands separators, currency symbols and
// empty fractions ("5.", ".5") are rejected. Surrounding spaces are ignored.
func parseDecimal(s string) (decimal, error) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" || hasDot && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return decimal{}, fmt.Errorf("%q is %w", s, errNotDecimal)
	}
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return decimal{}, fmt.Errorf("%q is %w", s, errNotDecimal)
	}
	if neg {
		u.Neg(u)
	}
	return decimal{unscaled: u, scale: len(frac)}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decimalOf reads an amount from a jq value: a decimal string or a number.
func decimalOf(v any) (decimal, error) {
	switch v := v.(type) {
	case string:
		return parseDecimal(v)
	case int:
		return decimal{unscaled: big.NewInt(int64(v))}, nil
	case *big.Int:
		return decimal{unscaled: new(big.Int).Set(v)}, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return decimal{}, fmt.Errorf("%v is %w", v, errNotDecimal)
		}
		return parseDecimal(strconv.FormatFloat(v, 'f', -1, 64))
	case json.Number:
		return parseDecimal(v.String())
	case nil:
		return decimal{}, fmt.Errorf("null is %w", errNotDecimal)
	}
	return decimal{}, fmt.Errorf("%s is %w", typeName(v), errNotDecimal)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a number"
}

var pow10Cache = func() []*big.Int {
	p := make([]*big.Int, 20)
	for i := range p {
		p[i] = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(i)), nil)
	}
	return p
}()

func pow10(n int) *big.Int {
	if n < len(pow10Cache) {
		return pow10Cache[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// Rounding modes for rescale.
const (
	halfEven = "half_even" // ties go to the even neighbour: 0.125 → 0.12, 0.135 → 0.14
	halfUp   = "half_up"   // ties go away from zero: 0.125 → 0.13, -0.125 → -0.13
)

// rescale returns d with exactly scale fractional digits, rounding by mode
// when digits are dropped.
func (d decimal) rescale(scale int, mode string) decimal {
	switch {
	case scale == d.scale:
		return d
	case scale > d.scale:
		u := new(big.Int).Mul(d.unscaled, pow10(scale-d.scale))
		return decimal{unscaled: u, scale: scale}
	}
	div := pow10(d.scale - scale)
	abs := new(big.Int).Abs(d.unscaled)
	q, r := new(big.Int).QuoRem(abs, div, new(big.Int))
	switch c := new(big.Int).Lsh(r, 1).Cmp(div); {
	case c > 0, c == 0 && (mode == halfUp || q.Bit(0) == 1):
		q.Add(q, big.NewInt(1))
	}
	if d.unscaled.Sign() < 0 {
		q.Neg(q)
	}
	return decimal{unscaled: q, scale: scale}
}

func (d decimal) add(e decimal) decimal {
	s := max(d.scale, e.scale)
	a, b := d.rescale(s, halfEven), e.rescale(s, halfEven)
	return decimal{unscaled: new(big.Int).Add(a.unscaled, b.unscaled), scale: s}
}

func (d decimal) sub(e decimal) decimal {
	return d.add(decimal{unscaled: new(big.Int).Neg(e.unscaled), scale: e.scale})
}

func (d decimal) mulInt(n int) decimal {
	return decimal{unscaled: new(big.Int).Mul(d.unscaled, big.NewInt(int64(n))), scale: d.scale}
}

func (d decimal) cmp(e decimal) int {
	s := max(d.scale, e.scale)
	return d.rescale(s, halfEven).unscaled.Cmp(e.rescale(s, halfEven).unscaled)
}

func (d decimal) String() string {
	digits := new(big.Int).Abs(d.unscaled).String()
	sign := ""
	if d.unscaled.Sign() < 0 {
		sign = "-"
	}
	if d.scale == 0 {
		return sign + digits
	}
	if len(digits) <= d.scale {
		digits = strings.Repeat("0", d.scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-d.scale] + "." + digits[len(digits)-d.scale:]
}

// money formats d with at least the currency's exponent of fractional
// digits, keeping any further digits the source had (never rounding
// silently): 3 USD → "3.00", "1.005" USD → "1.005", 500 JPY → "500".
func money(d decimal, exp int) string {
	if d.scale < exp {
		d = d.rescale(exp, halfEven)
	}
	return d.String()
}

var zero = decimal{unscaled: new(big.Int)}

// jqNumber returns an integer as the smallest number type gojq accepts.
func jqNumber(n *big.Int) any {
	if n.IsInt64() && n.Int64() >= math.MinInt && n.Int64() <= math.MaxInt {
		return int(n.Int64())
	}
	return new(big.Int).Set(n)
}

// currencyExponents lists the ISO 4217 minor-unit exponents that are not 2.
var currencyExponents = map[string]int{
	// zero-decimal currencies
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	// three-decimal currencies
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// four-decimal units of account
	"CLF": 4, "UYW": 4,
}

// currencyExponent returns the number of minor-unit digits of an ISO 4217
// code (case-insensitive). Any well-formed code not in the table has 2, the
// exponent of nearly every currency.
func currencyExponent(v any) (int, error) {
	code, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("currency must be a 3-letter ISO 4217 code, got %s", typeName(v))
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 3 || strings.IndexFunc(code, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return 0, fmt.Errorf("currency must be a 3-letter ISO 4217 code, got %q", code)
	}
	if e, ok := currencyExponents[code]; ok {
		return e, nil
	}
	return 2, nil
}

// toMinorUnits implements to_minor_units(currency) and
// to_minor_units(currency; mode): a decimal amount (string or number) to an
// integer count of the currency's minor units. Digits beyond the currency's
// exponent are rounded half-even by default (banker's rounding: unbiased when
// many amounts are summed) or half-up (ties away from zero) with mode
// "half_up". null gives null.
//
//	"19.99" | to_minor_units("USD")          → 1999
//	19.99 | to_minor_units("usd")            → 1999  (via "19.99", never float arithmetic)
//	"1500" | to_minor_units("JPY")           → 1500
//	"1.234" | to_minor_units("KWD")          → 1234
//	"-5.5" | to_minor_units("USD")           → -550
//	"0.125" | to_minor_units("USD")          → 12    (half-even)
//	"0.125" | to_minor_units("USD"; "half_up") → 13
//	"12,50" | to_minor_units("EUR")          → error: "12,50" is not a decimal amount
func (l *library) toMinorUnits(v any, args []any) any {
	const fn = "to_minor_units"
	if v == nil {
		return nil
	}
	exp, err := currencyExponent(args[0])
	if err != nil {
		return fail(fn, "", "%v", err)
	}
	mode := halfEven
	if len(args) > 1 {
		switch args[1] {
		case halfEven, halfUp:
			mode = args[1].(string)
		default:
			return fail(fn, "", "rounding mode must be %q or %q, got %v", halfEven, halfUp, args[1])
		}
	}
	d, err := decimalOf(v)
	if err != nil {
		return fail(fn, "", "%v", err)
	}
	return jqNumber(d.rescale(exp, mode).unscaled)
}

// fromMinorUnits implements from_minor_units(currency): an integer count of
// minor units (number or integer string) to a decimal string with exactly the
// currency's exponent of fractional digits. null gives null.
//
//	1999 | from_minor_units("USD")   → "19.99"
//	2000 | from_minor_units("usd")   → "20.00"
//	1500 | from_minor_units("JPY")   → "1500"
//	1234 | from_minor_units("KWD")   → "1.234"
//	-5 | from_minor_units("EUR")     → "-0.05"
//	"1999" | from_minor_units("USD") → "19.99"
//	19.5 | from_minor_units("USD")   → error: minor units must be an integer
func (l *library) fromMinorUnits(v any, args []any) any {
	const fn = "from_minor_units"
	if v == nil {
		return nil
	}
	exp, err := currencyExponent(args[0])
	if err != nil {
		return fail(fn, "", "%v", err)
	}
	d, err := decimalOf(v)
	if err != nil {
		return fail(fn, "", "%v", err)
	}
	if new(big.Int).Rem(d.unscaled, pow10(d.scale)).Sign() != 0 {
		return fail(fn, "", "minor units must be an integer, got %s", d)
	}
	d = d.rescale(0, halfEven) // exact: 2000.0 → 2000
	return decimal{unscaled: d.unscaled, scale: exp}.String()
}

// sumMoney implements sum_money and sum_money(currency): the exact sum of an
// array of decimal strings and numbers, as a decimal string with as many
// fractional digits as the most precise element (or, given a currency, at
// least that currency's exponent). Nulls are skipped; an empty array sums to
// "0".
//
//	["19.99", "0.01", 5] | sum_money   → "25.00"
//	["0.1", "0.2"] | sum_money         → "0.3"   (not 0.30000000000000004)
//	["1.5", null] | sum_money("USD")   → "1.50"
//	["1.5", "abc"] | sum_money         → error at [1]: "abc" is not a decimal amount
func (l *library) sumMoney(v any, args []any) any {
	const fn = "sum_money"
	xs, ok := v.([]any)
	if !ok {
		return fail(fn, "", "input must be an array of amounts, got %s", typeName(v))
	}
	total := zero
	for i, x := range xs {
		if x == nil {
			continue
		}
		d, err := decimalOf(x)
		if err != nil {
			return fail(fn, at("", i), "%v", err)
		}
		total = total.add(d)
	}
	if len(args) > 0 {
		exp, err := currencyExponent(args[0])
		if err != nil {
			return fail(fn, "", "%v", err)
		}
		return money(total, exp)
	}
	return total.String()
}
