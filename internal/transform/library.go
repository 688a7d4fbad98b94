package transform

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
)

// library holds what the commerce functions need from Options. Each function
// is a method taking jq's input value and argument values and returning a
// value or an error (gojq raises a returned error as a jq error, so `try`
// catches it).
type library struct {
	piiKey []byte
	tables *Tables
	risk   RiskRules
}

func newLibrary(opts Options) *library {
	l := &library{piiKey: opts.PIIKey, tables: opts.Tables, risk: DefaultRiskRules()}
	if opts.Risk != nil {
		l.risk = *opts.Risk
	}
	return l
}

func (l *library) compilerOptions() []gojq.CompilerOption {
	return []gojq.CompilerOption{
		gojq.WithFunction("to_minor_units", 1, 2, l.toMinorUnits),
		gojq.WithFunction("from_minor_units", 1, 1, l.fromMinorUnits),
		gojq.WithFunction("sum_money", 0, 1, l.sumMoney),
		gojq.WithFunction("to_utc", 0, 0, l.toUTC),
		gojq.WithFunction("line_items_flat", 0, 0, l.lineItemsFlat),
		gojq.WithFunction("order_totals", 0, 0, l.orderTotals),
		gojq.WithFunction("canonical_order", 0, 0, l.canonicalOrder),
		gojq.WithFunction("hash_pii", 0, 1, l.hashPII),
		gojq.WithFunction("redact", 1, 1, l.redact),
		gojq.WithFunction("lookup", 2, 2, l.lookup),
		gojq.WithFunction("risk_score", 0, 1, l.riskScore),
	}
}

// funcError is an error raised by a library function. path, when set, is
// where in the function's input the bad value sits; Run reports it as the
// input path.
type funcError struct {
	fn   string
	msg  string
	path string
}

func (e *funcError) Error() string { return e.fn + ": " + e.msg }

func fail(fn, path, format string, args ...any) error {
	return &funcError{fn: fn, msg: fmt.Sprintf(format, args...), path: path}
}

// at extends a jq-style path with an object key or array index.
// At the root, brackets follow a "." (".[0]", `.["a b"]`), as jq writes them.
func at(path string, k any) string {
	if path == "" {
		path = "."
	}
	switch k := k.(type) {
	case int:
		return path + "[" + strconv.Itoa(k) + "]"
	case string:
		if isIdentifier(k) {
			return strings.TrimSuffix(path, ".") + "." + k
		}
		return path + "[" + strconv.Quote(k) + "]"
	}
	return path
}

func isIdentifier(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// get walks keys through nested objects and returns nil when any is missing.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str returns v as a string: strings as is, numbers in their shortest form,
// anything else "".
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int, float64, *big.Int:
		if d, err := decimalOf(v); err == nil {
			return d.String()
		}
	}
	return ""
}

// nullable returns nil for "", so absent and empty fields look alike.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// firstString returns the first non-empty string among vs.
func firstString(vs ...any) string {
	for _, v := range vs {
		if s := strings.TrimSpace(str(v)); s != "" {
			return s
		}
	}
	return ""
}

// intOf reads a count (a quantity, an orders_count) from a JSON number or an
// integer string.
func intOf(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case float64:
		if v == float64(int(v)) {
			return int(v), true
		}
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	}
	return 0, false
}
