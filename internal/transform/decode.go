package transform

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeJSON decodes one JSON value into the types gojq computes with.
// Numbers are decoded from their text, never through float64 first: an
// integer that fits an int becomes an int, a larger one a *big.Int (exact,
// where float64 would round), anything with a fraction or exponent a float64
// (an integral one within ±2^53 an int). Strings — money strings like
// "19.99" included — stay strings.
//
// It is a small hand-written parser rather than encoding/json with
// UseNumber: event bodies are decoded on every delivery (and at ingest when a
// route has a filter), and this is several times faster on a Shopify order.
// It accepts exactly what encoding/json accepts and gives the same strings
// (invalid UTF-8 and unpaired surrogates become U+FFFD); a differential fuzz
// test holds it to that.
func DecodeJSON(data []byte) (any, error) {
	d := decoder{data: data}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("data after the top-level value")
	}
	return v, nil
}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

type decoder struct {
	data []byte
	pos  int
	keys map[string]string // object keys seen, so repeated keys share one string
}

var errUnexpectedEOF = errors.New("invalid JSON: unexpected end of input")

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, errUnexpectedEOF
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, d.errorf("nested too deeply")
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= maxDepth {
			return nil, d.errorf("nested too deeply")
		}
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.errorf("unexpected %q", c)
	}
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) {
		if string(d.data[d.pos:]) == word[:len(d.data)-d.pos] {
			return errUnexpectedEOF
		}
		return d.errorf("invalid literal")
	}
	if string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.errorf("invalid literal")
	}
	d.pos += len(word)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	d.pos++ // {
	m := map[string]any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errUnexpectedEOF
		}
		if d.data[d.pos] != '"' {
			return nil, d.errorf("expected a string for an object key")
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errUnexpectedEOF
		}
		if d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':' after an object key")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errUnexpectedEOF
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.errorf("expected ',' or '}' in an object")
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	d.pos++ // [
	a := []any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errUnexpectedEOF
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return a, nil
		default:
			return nil, d.errorf("expected ',' or ']' in an array")
		}
	}
}

// key reads an object key. Payloads repeat a few keys many times (a
// Shopify order has "amount" and "currency_code" dozens of times), so plain
// keys are interned: looking up m[string(b)] does not allocate.
func (d *decoder) key() (string, error) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			if k, ok := d.keys[string(d.data[start:i])]; ok {
				d.pos = i + 1
				return k, nil
			}
			if d.keys == nil {
				d.keys = make(map[string]string, 64)
			}
			k := string(d.data[start:i])
			d.keys[k] = k
			d.pos = i + 1
			return k, nil
		case c == '\\' || c >= utf8.RuneSelf || c < ' ':
			v, err := d.string()
			if err != nil {
				return "", err
			}
			return v.(string), nil
		}
	}
	return "", errUnexpectedEOF
}

// string reads a string starting at its opening quote. Strings without
// escapes or non-ASCII bytes — nearly all of them — are one slice copy.
func (d *decoder) string() (any, error) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return string(d.data[start:i]), nil
		case c == '\\' || c >= utf8.RuneSelf:
			return d.slowString(start)
		case c < ' ':
			d.pos = i
			return nil, d.errorf("control character in a string")
		}
	}
	return nil, errUnexpectedEOF
}

// slowString decodes escapes and non-ASCII text as encoding/json does.
func (d *decoder) slowString(start int) (any, error) {
	b := make([]byte, 0, 64)
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(b), nil
		case c < ' ':
			d.pos = i
			return nil, d.errorf("control character in a string")
		case c == '\\':
			if i+1 >= len(d.data) {
				return nil, errUnexpectedEOF
			}
			switch e := d.data[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				i += 2
			case 'b':
				b = append(b, '\b')
				i += 2
			case 'f':
				b = append(b, '\f')
				i += 2
			case 'n':
				b = append(b, '\n')
				i += 2
			case 'r':
				b = append(b, '\r')
				i += 2
			case 't':
				b = append(b, '\t')
				i += 2
			case 'u':
				r, ok, eof := hex4(d.data[i+2:])
				if !ok {
					if eof {
						return nil, errUnexpectedEOF
					}
					d.pos = i
					return nil, d.errorf("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if len(d.data) >= i+6 && d.data[i] == '\\' && d.data[i+1] == 'u' {
						if r2, ok, _ := hex4(d.data[i+2:]); ok {
							if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
								b = utf8.AppendRune(b, dec)
								i += 6
								continue
							}
						}
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
			default:
				d.pos = i
				return nil, d.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, unicode.ReplacementChar)
			} else {
				b = append(b, d.data[i:i+size]...)
			}
			i += size
		}
	}
	return nil, errUnexpectedEOF
}

// hex4 reads four hex digits; eof reports running out of input.
func hex4(s []byte) (r rune, ok, eof bool) {
	if len(s) < 4 {
		for _, c := range s {
			if unhex(c) < 0 {
				return 0, false, false
			}
		}
		return 0, false, true
	}
	for _, c := range s[:4] {
		h := unhex(c)
		if h < 0 {
			return 0, false, false
		}
		r = r<<4 | rune(h)
	}
	return r, true, false
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (d *decoder) number() (any, error) {
	start := d.pos
	i := d.pos
	digits := func() int {
		n := 0
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if d.data[i] == '-' {
		i++
	}
	if i >= len(d.data) {
		return nil, errUnexpectedEOF
	}
	switch {
	case d.data[i] == '0':
		i++
	case '1' <= d.data[i] && d.data[i] <= '9':
		digits()
	default:
		d.pos = i
		return nil, d.errorf("invalid number")
	}
	integer := true
	if i < len(d.data) && d.data[i] == '.' {
		integer = false
		i++
		if digits() == 0 {
			d.pos = i
			if i >= len(d.data) {
				return nil, errUnexpectedEOF
			}
			return nil, d.errorf("invalid number")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		integer = false
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			if i >= len(d.data) {
				return nil, errUnexpectedEOF
			}
			return nil, d.errorf("invalid number")
		}
	}
	d.pos = i
	if text := d.data[start:i]; integer && len(text) <= 18 { // fits an int64: no string needed
		n, neg := 0, text[0] == '-'
		if neg {
			text = text[1:]
		}
		for _, c := range text {
			n = n*10 + int(c-'0')
		}
		if neg {
			n = -n
		}
		return n, nil
	}
	return numberValue(string(d.data[start:i]), integer), nil
}

// numberValue converts valid JSON number text to int, *big.Int or float64.
func numberValue(s string, integer bool) any {
	if integer {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // out of range: ±Inf, which gojq writes as ±max float
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return int(f)
	}
	return f
}
