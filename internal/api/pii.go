package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// piiMask replaces every masked value, whatever its JSON type.
const piiMask = `"***"`

// piiPaths are parsed admin.pii_paths: each a list of object keys, where
// "*" matches any key. Arrays are crossed transparently: a path applies to
// every element of an array it meets, so "items.email" masks the email of
// every item.
type piiPaths [][]string

// parsePIIPaths parses admin.pii_paths ("customer.email",
// "billing_address", "*.card.number"). Empty segments are dropped; config
// validation rejects them first.
func parsePIIPaths(paths []string) piiPaths {
	var out piiPaths
	for _, p := range paths {
		var segs []string
		for s := range strings.SplitSeq(p, ".") {
			if s != "" {
				segs = append(segs, s)
			}
		}
		if len(segs) > 0 {
			out = append(out, segs)
		}
	}
	return out
}

// maskBody applies the PII paths to an event body shown to a role below
// admin. A JSON body comes back with the values at the paths replaced by
// "***"; a body that is not JSON (text or binary) cannot be masked by path
// and is withheld. ev.BodyMasked reports whether anything was hidden.
func (p piiPaths) maskBody(ev *Event) {
	if len(p) == 0 || len(ev.Body) == 0 {
		return
	}
	if ev.BodyEncoding != EncodingJSON {
		ev.Body, ev.BodyEncoding, ev.BodyMasked = nil, "", true
		return
	}
	out, hit, err := maskJSON(ev.Body, p)
	if err != nil {
		// Not expected (the body was checked as valid JSON); hide it rather
		// than risk showing what should be masked.
		ev.Body, ev.BodyEncoding, ev.BodyMasked = nil, "", true
		return
	}
	ev.Body, ev.BodyMasked = out, hit
}

// maskJSON returns raw with the values at paths replaced, preserving key
// order and everything else byte for byte.
func maskJSON(raw json.RawMessage, paths piiPaths) (json.RawMessage, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(paths) == 0 || len(raw) == 0 {
		return raw, false, nil
	}
	switch raw[0] {
	case '{':
		return maskObject(raw, paths)
	case '[':
		return maskArray(raw, paths)
	}
	return raw, false, nil
}

func maskObject(raw json.RawMessage, paths piiPaths) (json.RawMessage, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, false, err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	hit := false
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false, fmt.Errorf("object key is %T", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false, err
		}
		var sub piiPaths
		mask := false
		for _, p := range paths {
			if p[0] != key && p[0] != "*" {
				continue
			}
			if len(p) == 1 {
				mask = true
				break
			}
			sub = append(sub, p[1:])
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(key))
		b.WriteByte(':')
		switch {
		case mask:
			b.WriteString(piiMask)
			hit = true
		case len(sub) > 0:
			mv, h, err := maskJSON(v, sub)
			if err != nil {
				return nil, false, err
			}
			b.Write(mv)
			hit = hit || h
		default:
			b.Write(v)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, false, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, fmt.Errorf("trailing data after object")
	}
	b.WriteByte('}')
	return b.Bytes(), hit, nil
}

func maskArray(raw json.RawMessage, paths piiPaths) (json.RawMessage, bool, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, false, err
	}
	var b bytes.Buffer
	b.WriteByte('[')
	hit := false
	for i, e := range elems {
		mv, h, err := maskJSON(e, paths)
		if err != nil {
			return nil, false, err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mv)
		hit = hit || h
	}
	b.WriteByte(']')
	return b.Bytes(), hit, nil
}

// showBody prepares ev's body for caller: masked below admin; shown whole
// to an admin, which is recorded in the audit log when masking applies.
func (s *server) showBody(r *http.Request, caller who, ev *Event) {
	if len(s.pii) == 0 || len(ev.Body) == 0 {
		return
	}
	if caller.role >= roleAdmin {
		noteAudit(r, ev.ID, "unmasked body", true)
		return
	}
	s.pii.maskBody(ev)
}

// minPIIValue is the shortest PII value masked inside a destination's
// answer: shorter ones ("NY", "1") would hide unrelated text.
const minPIIValue = 4

// showAttempts prepares the destinations' answers in each of histories for
// caller (the event's PII values are found once for all of them). A
// destination may echo what it was sent, so below admin, once PII paths
// are configured, each answer is masked: a JSON answer at the PII paths,
// and any answer wherever it contains a PII value of the event (eventBody)
// at least minPIIValue long. An answer that cannot be checked (not UTF-8,
// or text when the event body is not JSON) is withheld. An admin sees
// answers whole, which is recorded in the audit log.
func (s *server) showAttempts(r *http.Request, caller who, target string, eventBody []byte, histories ...[]Attempt) {
	answered := func(a Attempt) bool { return a.ResponseBody != "" }
	if len(s.pii) == 0 || !slices.ContainsFunc(histories, func(as []Attempt) bool { return slices.ContainsFunc(as, answered) }) {
		return
	}
	if caller.role >= roleAdmin {
		noteAudit(r, target, "unmasked attempt responses", true)
		return
	}
	vals, ok := piiValues(eventBody, s.pii)
	for _, as := range histories {
		for i := range as {
			maskResponse(&as[i], s.pii, vals, ok)
		}
	}
}

// maskResponse masks one attempt's answer; known reports whether vals
// holds the event's PII values (the event body was JSON).
func maskResponse(a *Attempt, p piiPaths, vals []string, known bool) {
	if a.ResponseBody == "" {
		return
	}
	withhold := func() { a.ResponseBody, a.ResponseBodyEncoding, a.ResponseBodyMasked = "", "", true }
	if a.ResponseBodyEncoding == EncodingBase64 {
		withhold()
		return
	}
	body := a.ResponseBody
	isJSON := json.Valid([]byte(body))
	if !isJSON && !known {
		withhold()
		return
	}
	if isJSON {
		out, hit, err := maskJSON(json.RawMessage(body), p)
		if err != nil {
			withhold()
			return
		}
		if hit {
			body, a.ResponseBodyMasked = string(out), true
		}
	}
	for _, v := range vals {
		for _, form := range []string{v, string(jsonString(v)[1 : len(jsonString(v))-1])} {
			if strings.Contains(body, form) {
				body, a.ResponseBodyMasked = strings.ReplaceAll(body, form, "***"), true
			}
		}
	}
	a.ResponseBody = body
}

// piiValues returns the values at paths in a JSON body as they read in
// text (strings unescaped, numbers as written; every scalar under an
// object or array at a path), at least minPIIValue long, longest first so
// a value is masked before any shorter value inside it. ok is false when
// the body is not JSON.
func piiValues(body []byte, paths piiPaths) (vals []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	seen := map[string]bool{}
	var leaves func(v any)
	leaves = func(v any) {
		switch v := v.(type) {
		case string:
			seen[v] = true
		case json.Number:
			seen[string(v)] = true
		case map[string]any:
			for _, e := range v {
				leaves(e)
			}
		case []any:
			for _, e := range v {
				leaves(e)
			}
		}
	}
	var walk func(v any, paths piiPaths)
	walk = func(v any, paths piiPaths) {
		switch v := v.(type) {
		case map[string]any:
			for key, e := range v {
				var sub piiPaths
				for _, p := range paths {
					if p[0] != key && p[0] != "*" {
						continue
					}
					if len(p) == 1 {
						leaves(e)
						sub = nil
						break
					}
					sub = append(sub, p[1:])
				}
				if len(sub) > 0 {
					walk(e, sub)
				}
			}
		case []any:
			for _, e := range v {
				walk(e, paths)
			}
		}
	}
	walk(v, paths)
	for s := range seen {
		if len(s) >= minPIIValue {
			vals = append(vals, s)
		}
	}
	slices.SortFunc(vals, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return vals, true
}
