package verify

import (
	"encoding/json"
	"math"
	"unicode/utf8"
)

// eventFields are the top-level members of a JSON event body that Stripe and
// Standard Webhooks keep their event type, id and time in.
type eventFields struct {
	ID      string // "id"
	Type    string // "type"
	Created int64  // "created", unix seconds
}

// scanEvent extracts eventFields from body without decoding the rest.
//
// json.Unmarshal into a three-field struct still costs ~20µs for a 2 KiB
// Stripe event (it validates, then walks every nested value), more than
// ten times the HMAC; this scan skips nested values by counting brackets
// and costs about a microsecond. It does not validate: a body that is not a
// JSON object yields zero fields, and rejecting it is the caller's business
// (Provider.JSON). Keys match exactly, unlike encoding/json's
// case-insensitive match; a repeated key keeps its last value, as there. A
// "created" that is not an integer reads as 0.
func scanEvent(body []byte) eventFields {
	var ev eventFields
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return eventFields{}
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return ev
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return eventFields{}
		}
		k := i
		if i = skipString(body, i); i < 0 {
			return eventFields{}
		}
		key := body[k:i]
		if i = skipSpace(body, i); i >= len(body) || body[i] != ':' {
			return eventFields{}
		}
		v := skipSpace(body, i+1)
		if i = skipValue(body, v); i < 0 {
			return eventFields{}
		}
		val := body[v:i]
		switch jsonKey(key) {
		case "id":
			ev.ID = jsonString(val)
		case "type":
			ev.Type = jsonString(val)
		case "created":
			ev.Created = jsonInt(val)
		}
		if i = skipSpace(body, i); i >= len(body) {
			return eventFields{}
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case '}':
			return ev
		default:
			return eventFields{}
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"',
// or -1 if it does not end.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i-- // the loop's i++ steps past the closing quote
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	start := i // number, true, false or null
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	return -1 // the top-level object is not closed
}

// jsonString returns the value of a JSON string token, or "" if raw is not
// one. Plain strings are copied; escapes and invalid UTF-8 (which
// encoding/json replaces) go the slow way.
func jsonString(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return ""
	}
	s := raw[1 : len(raw)-1]
	plain := utf8.Valid(s)
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(s)
	}
	var out string
	if json.Unmarshal(raw, &out) != nil {
		return ""
	}
	return out
}

// jsonKey returns the name of a member key; plain keys are compared without
// being copied.
func jsonKey(raw []byte) string {
	for _, c := range raw {
		if c == '\\' {
			return jsonString(raw)
		}
	}
	switch string(raw) { // does not allocate
	case `"id"`:
		return "id"
	case `"type"`:
		return "type"
	case `"created"`:
		return "created"
	}
	return ""
}

// jsonInt returns the value of a JSON integer token that fits an int64, or 0.
func jsonInt(raw []byte) int64 {
	neg := len(raw) > 0 && raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	if len(raw) == 0 || len(raw) > 19 || (raw[0] == '0' && len(raw) > 1) {
		return 0
	}
	var n uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	switch {
	case !neg && n <= math.MaxInt64:
		return int64(n)
	case neg && n <= -math.MinInt64:
		return -int64(n)
	}
	return 0
}
