package transform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Redacted replaces every value redact removes.
const Redacted = "[redacted]"

// hashPII implements hash_pii and hash_pii(kind): the hex HMAC-SHA256, keyed
// with the configured PII key, of an email address or phone number after
// normalising it, so two systems given the same key can join on customers
// without either holding the address. kind is "email", "phone" or "auto"
// (the default: an input with "@" is an email). Emails are trimmed and
// lower-cased; phones keep their digits and a leading "+". Phones are not
// converted to E.164, so "+1 502 459 2181" and "(502) 459-2181" hash
// differently. null gives null; no key configured is an error (an unkeyed
// hash of an email is easily reversed by guessing).
//
//	" Bob.Norman@Mail.Example.com " | hash_pii     → hmac("bob.norman@mail.example.com")
//	"+1(502)-459-2181" | hash_pii                  → hmac("+15024592181")
//	"n/a" | hash_pii("phone")                      → error: no digits
func (l *library) hashPII(v any, args []any) any {
	const fn = "hash_pii"
	if v == nil {
		return nil
	}
	if len(l.piiKey) == 0 {
		return fail(fn, "", "no PII key is configured")
	}
	s, ok := v.(string)
	if !ok {
		return fail(fn, "", "input must be a string, got %s", typeName(v))
	}
	kind := "auto"
	if len(args) > 0 {
		kind, _ = args[0].(string)
	}
	if kind == "auto" {
		kind = "phone"
		if strings.Contains(s, "@") {
			kind = "email"
		}
	}
	var norm string
	switch kind {
	case "email":
		norm = strings.ToLower(strings.TrimSpace(s))
		if !strings.Contains(norm, "@") {
			return fail(fn, "", "%q is not an email address", s)
		}
	case "phone":
		norm = normalizePhone(s)
		if strings.TrimPrefix(norm, "+") == "" {
			return fail(fn, "", "%q has no digits to hash as a phone number", s)
		}
	default:
		return fail(fn, "", `kind must be "email", "phone" or "auto", got %v`, args[0])
	}
	return HashPII(l.piiKey, norm)
}

// HashPII returns the hex HMAC-SHA256 of an already-normalised value, as
// hash_pii computes it; for callers that match hashes outside jq.
func HashPII(key []byte, normalized string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

func normalizePhone(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	if strings.HasPrefix(s, "+") {
		b.WriteByte('+')
	}
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// pathStep is one step of a redaction path: an object key, an array index,
// or every element ("[]" or "*").
type pathStep struct {
	key   string
	index int
	kind  byte // 'k' key, 'i' index, '*' every element or member
}

// redact implements redact(paths): the input with the value at each path
// replaced by "[redacted]". paths is an array whose elements are either jq
// path arrays (as path(…) and paths produce) or dotted strings; a single
// dotted string may stand for a one-element array. In a dotted string a
// leading "." is optional, ["key"] quotes a key, [n] indexes an array, and
// [] or * stands for every element or member. Paths that do not exist are
// skipped, so one redact list serves payloads with and without the field.
// The input is not changed: only the containers on a redacted path are
// copied.
//
//	{"email":"a@b.c","name":"A"} | redact(["email"])     → {"email":"[redacted]","name":"A"}
//	.body | redact(["customer.email", "billing_address.phone", "line_items[].properties"])
//	. | redact([path(.body.customer.email)])
//	redact(["body.customer"])   → the whole customer object becomes "[redacted]"
//
// Note that ["body","email"] is two dotted paths (.body and .email); a single
// jq path array must be wrapped: [["body","email"]].
func (l *library) redact(v any, args []any) any {
	const fn = "redact"
	specs, ok := args[0].([]any)
	if !ok {
		if s, isStr := args[0].(string); isStr {
			specs = []any{s}
		} else {
			return fail(fn, "", "paths must be an array of paths, got %s", typeName(args[0]))
		}
	}
	for i, spec := range specs {
		steps, err := parseRedactPath(spec)
		if err != nil {
			return fail(fn, "", "path %d: %v", i, err)
		}
		if len(steps) == 0 {
			return fail(fn, "", "path %d is empty: refusing to redact the whole input", i)
		}
		v = redactAt(v, steps)
	}
	return v
}

func parseRedactPath(spec any) ([]pathStep, error) {
	switch spec := spec.(type) {
	case string:
		return parseDotted(spec)
	case []any:
		steps := make([]pathStep, len(spec))
		for i, x := range spec {
			switch x := x.(type) {
			case string:
				steps[i] = pathStep{key: x, kind: 'k'}
			case int:
				steps[i] = pathStep{index: x, kind: 'i'}
			case float64:
				if x != float64(int(x)) {
					return nil, fmt.Errorf("index %v is not an integer", x)
				}
				steps[i] = pathStep{index: int(x), kind: 'i'}
			default:
				return nil, fmt.Errorf("path elements must be strings or numbers, got %s", typeName(x))
			}
		}
		return steps, nil
	}
	return nil, fmt.Errorf("a path must be a string or an array, got %s", typeName(spec))
}

// parseDotted reads "body.customer.email", ".line_items[0].sku",
// "line_items[].properties", `headers["x-forwarded-for"]`, "*.email".
func parseDotted(s string) ([]pathStep, error) {
	var steps []pathStep
	i := 0
	if strings.HasPrefix(s, ".") {
		i = 1
	}
	for i < len(s) {
		switch c := s[i]; {
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if i+1 < len(s) && s[i+1] == '"' { // a quoted key may hold "]"
				var key string
				dec := json.NewDecoder(strings.NewReader(s[i+1:]))
				if err := dec.Decode(&key); err != nil {
					return nil, fmt.Errorf("%q: bad quoted key at %d", s, i)
				}
				j := i + 1 + int(dec.InputOffset())
				if j >= len(s) || s[j] != ']' {
					return nil, fmt.Errorf("%q: missing ] at %d", s, j)
				}
				steps = append(steps, pathStep{key: key, kind: 'k'})
				i = j + 1
				continue
			}
			if end < 0 {
				return nil, fmt.Errorf("%q: missing ]", s)
			}
			inner := s[i+1 : i+end]
			if inner == "" {
				steps = append(steps, pathStep{kind: '*'})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil {
					return nil, fmt.Errorf("%q: [%s] is not an index", s, inner)
				}
				steps = append(steps, pathStep{index: n, kind: 'i'})
			}
			i += end + 1
		case c == '.':
			if i+1 >= len(s) || s[i+1] == '.' {
				return nil, fmt.Errorf("%q: empty key", s)
			}
			i++
		default:
			end := strings.IndexAny(s[i:], ".[")
			if end < 0 {
				end = len(s) - i
			}
			key := s[i : i+end]
			if key == "*" {
				steps = append(steps, pathStep{kind: '*'})
			} else {
				steps = append(steps, pathStep{key: key, kind: 'k'})
			}
			i += end
		}
	}
	return steps, nil
}

// redactAt returns v with the values at steps replaced, copying only the
// containers it changes: gojq shares values between expressions, so the
// input must never be modified in place.
func redactAt(v any, steps []pathStep) any {
	st, rest := steps[0], steps[1:]
	replace := func(x any) any {
		if len(rest) == 0 {
			return Redacted
		}
		return redactAt(x, rest)
	}
	switch c := v.(type) {
	case map[string]any:
		switch st.kind {
		case 'k':
			x, ok := c[st.key]
			if !ok {
				return v
			}
			out := copyMap(c)
			out[st.key] = replace(x)
			return out
		case '*':
			out := copyMap(c)
			for k, x := range c {
				out[k] = replace(x)
			}
			return out
		}
	case []any:
		switch st.kind {
		case 'i':
			i := st.index
			if i < 0 {
				i += len(c)
			}
			if i < 0 || i >= len(c) {
				return v
			}
			out := append([]any(nil), c...)
			out[i] = replace(c[i])
			return out
		case '*':
			out := make([]any, len(c))
			for i, x := range c {
				out[i] = replace(x)
			}
			return out
		}
	}
	return v
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
