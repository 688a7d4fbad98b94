package verify

import "bytes"

// Providers whose topic or id is not a top-level "id", "type" or "created"
// (scanEvent) read their fields with these. Like scanEvent they skip nested
// values by counting brackets instead of decoding, and they do not validate:
// the caller has already verified the body, and a malformed one yields no
// fields rather than an error.

// eachMember calls fn with the name and raw value of each member of the JSON
// object b, in order, until fn returns false. Names with escapes are
// decoded; plain names alias b. A body that is not an object, or stops
// being well formed, ends the walk early.
func eachMember(b []byte, fn func(name, val []byte) bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return
		}
		k := i
		if i = skipString(b, i); i < 0 {
			return
		}
		name := b[k+1 : i-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			name = []byte(jsonString(b[k:i]))
		}
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			return
		}
		v := skipSpace(b, i+1)
		if i = skipValue(b, v); i < 0 {
			return
		}
		if !fn(name, b[v:i]) {
			return
		}
		if i = skipSpace(b, i); i >= len(b) {
			return
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		default:
			return // '}' or garbage
		}
	}
}

// member returns the raw value of the last member called name in the JSON
// object b (encoding/json keeps the last of repeated keys), or nil.
func member(b []byte, name string) []byte {
	var out []byte
	eachMember(b, func(n, v []byte) bool {
		if string(n) == name {
			out = v
		}
		return true
	})
	return out
}

// eachElement calls fn with each raw element of the JSON array b until fn
// returns false.
func eachElement(b []byte, fn func(val []byte) bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return
	}
	for {
		v := i
		if i = skipValue(b, v); i < 0 {
			return
		}
		if !fn(b[v:i]) {
			return
		}
		if i = skipSpace(b, i); i >= len(b) || b[i] != ',' {
			return
		}
		i = skipSpace(b, i+1)
	}
}

// isEmptyArray reports whether b is the JSON array [].
func isEmptyArray(b []byte) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipSpace(b, i+1)
	return i < len(b) && b[i] == ']' && skipSpace(b, i+1) == len(b)
}

// batchField returns the string field name shared by every object of the
// JSON array b, or "" when the array is empty or the objects disagree. It
// gives a batched delivery (SendGrid, Mandrill, Klaviyo) a topic when all
// its events are of one type, which is the common case.
func batchField(b []byte, name string) string {
	var common string
	first, agree := true, true
	eachElement(b, func(el []byte) bool {
		s := jsonString(member(el, name))
		switch {
		case first:
			common, first = s, false
		case s != common:
			agree = false
		}
		return agree && common != ""
	})
	if !agree {
		return ""
	}
	return common
}
