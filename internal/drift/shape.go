// Package drift tracks the shape of event bodies: per (source, topic), the
// set of JSON paths and types seen, a baseline frozen after a number of
// events (or on command), and the paths that are new, missing or of
// another type since. Observing is off the ingest path: accepted events are
// queued (dropped and counted when the queue is full), shaped by one
// goroutine, and their counts added to the store in batches, so every node
// of a cluster contributes to the same counts.
package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// Types of a JSON value, as recorded.
const (
	TypeObject  = "object"
	TypeArray   = "array"
	TypeString  = "string"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	TypeNull    = "null"
)

// maxPathLen bounds a recorded path; longer ones are left out (and the
// shape reported truncated).
const maxPathLen = 512

// Pair is one path with one type.
type Pair struct{ Path, Type string }

// Shape returns the distinct (path, type) pairs of a JSON document, in the
// order first met, at most max (max ≤ 0: all); truncated reports whether
// some were left out. Paths are jq-like: ".customer.email", array
// elements as "[]" (".line_items[].sku"), odd keys quoted (`.["a b"]`);
// the root is ".". Containers are recorded too (".customer" object), so an
// object that becomes a string is a type change at its own path.
func Shape(body []byte, max int) (pairs []Pair, truncated bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	s := &shaper{dec: dec, max: max, seen: map[Pair]bool{}}
	if err := s.value(""); err != nil {
		return nil, false, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false, errors.New("drift: more than one JSON value")
	}
	return s.out, s.truncated, nil
}

type shaper struct {
	dec       *json.Decoder
	max       int
	seen      map[Pair]bool
	out       []Pair
	truncated bool
}

func (s *shaper) add(path, typ string) {
	if path == "" {
		path = "."
	}
	p := Pair{path, typ}
	if s.seen[p] {
		return
	}
	if len(path) > maxPathLen || (s.max > 0 && len(s.out) >= s.max) {
		s.truncated = true
		return
	}
	s.seen[p] = true
	s.out = append(s.out, p)
}

// value reads one value at path from the token stream.
func (s *shaper) value(path string) error {
	tok, err := s.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			s.add(path, TypeObject)
			for s.dec.More() {
				kt, err := s.dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				if err := s.value(key(path, k)); err != nil {
					return err
				}
			}
		case '[':
			s.add(path, TypeArray)
			for s.dec.More() {
				if err := s.value(path + "[]"); err != nil {
					return err
				}
			}
		}
		_, err := s.dec.Token() // the closing delimiter
		return err
	case string:
		s.add(path, TypeString)
	case json.Number:
		s.add(path, TypeNumber)
	case bool:
		s.add(path, TypeBoolean)
	case nil:
		s.add(path, TypeNull)
	}
	return nil
}

func key(path, k string) string {
	switch {
	case isIdent(k):
		return path + "." + k
	case path == "":
		return `.[` + strconv.Quote(k) + "]"
	}
	return path + "[" + strconv.Quote(k) + "]"
}

func isIdent(s string) bool {
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
