// Package schema checks webhook bodies against the small subset of JSON
// Schema that minimal validation at the front door needs: type, required,
// properties, items, enum, minLength and minimum. It reports the first
// violation with a JSON path a person can find in the payload
// ($.line_items[0].price). Anything beyond this subset is refused when the
// schema is loaded, so a schema never silently validates less than it says.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Schema is a compiled schema node.
type Schema struct {
	Types      []string           `json:"-"`
	Required   []string           `json:"required,omitempty"`
	Properties map[string]*Schema `json:"properties,omitempty"`
	Items      *Schema            `json:"items,omitempty"`
	Enum       []any              `json:"enum,omitempty"`
	MinLength  *int               `json:"minLength,omitempty"`
	Minimum    *float64           `json:"minimum,omitempty"`
}

var known = map[string]bool{"type": true, "required": true, "properties": true, "items": true, "enum": true,
	"minLength": true, "minimum": true, "$schema": true, "$id": true, "title": true, "description": true,
	"additionalProperties": true, "examples": true}

var typeNames = map[string]bool{"object": true, "array": true, "string": true, "number": true,
	"integer": true, "boolean": true, "null": true}

// Load reads and compiles a schema file.
func Load(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse compiles a schema document.
func Parse(b []byte) (*Schema, error) {
	var raw any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	return compile(raw, "#")
}

func compile(raw any, at string) (*Schema, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a schema must be an object", at)
	}
	s := &Schema{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		if !known[k] {
			return nil, fmt.Errorf("%s: keyword %q is not supported (supported: type, required, properties, items, enum, minLength, minimum)", at, k)
		}
		switch k {
		case "type":
			switch t := v.(type) {
			case string:
				s.Types = []string{t}
			case []any:
				for _, x := range t {
					str, ok := x.(string)
					if !ok {
						return nil, fmt.Errorf("%s/type: want strings", at)
					}
					s.Types = append(s.Types, str)
				}
			default:
				return nil, fmt.Errorf("%s/type: want a string or a list of strings", at)
			}
			for _, t := range s.Types {
				if !typeNames[t] {
					return nil, fmt.Errorf("%s/type: unknown type %q", at, t)
				}
			}
		case "required":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s/required: want a list of property names", at)
			}
			for _, x := range list {
				str, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("%s/required: want property names", at)
				}
				s.Required = append(s.Required, str)
			}
		case "properties":
			pm, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s/properties: want an object", at)
			}
			s.Properties = make(map[string]*Schema, len(pm))
			for name, sub := range pm {
				c, err := compile(sub, at+"/properties/"+name)
				if err != nil {
					return nil, err
				}
				s.Properties[name] = c
			}
		case "items":
			c, err := compile(v, at+"/items")
			if err != nil {
				return nil, err
			}
			s.Items = c
		case "enum":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s/enum: want a list", at)
			}
			s.Enum = list
		case "minLength":
			n, err := intOf(v)
			if err != nil {
				return nil, fmt.Errorf("%s/minLength: %w", at, err)
			}
			s.MinLength = &n
		case "minimum":
			num, ok := v.(json.Number)
			if !ok {
				return nil, fmt.Errorf("%s/minimum: want a number", at)
			}
			f, err := num.Float64()
			if err != nil {
				return nil, fmt.Errorf("%s/minimum: %w", at, err)
			}
			s.Minimum = &f
		}
	}
	return s, nil
}

func intOf(v any) (int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("want an integer")
	}
	n, err := strconv.Atoi(num.String())
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a non-negative integer")
	}
	return n, nil
}

// Violation is the first place a document breaks its schema.
type Violation struct {
	Path string // JSON path, e.g. $.line_items[0].price
	Msg  string
}

func (v *Violation) Error() string { return v.Path + ": " + v.Msg }

// Validate checks a JSON document against s. It returns a *Violation, or
// an error if body is not JSON.
func (s *Schema) Validate(body []byte) error {
	var doc any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	return s.check(doc, "$")
}

func (s *Schema) check(v any, path string) error {
	if len(s.Types) > 0 && !s.typeOK(v) {
		return &Violation{path, fmt.Sprintf("want %s, got %s", strings.Join(s.Types, " or "), typeOf(v))}
	}
	if len(s.Enum) > 0 {
		found := false
		for _, e := range s.Enum {
			if equal(e, v) {
				found = true
				break
			}
		}
		if !found {
			return &Violation{path, "value is not one of the allowed values"}
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, name := range s.Required {
			if _, ok := x[name]; !ok {
				return &Violation{path + "." + name, "required field is missing"}
			}
		}
		names := make([]string, 0, len(s.Properties))
		for name := range s.Properties {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if sub, ok := x[name]; ok {
				if err := s.Properties[name].check(sub, path+"."+name); err != nil {
					return err
				}
			}
		}
	case []any:
		if s.Items != nil {
			for i, item := range x {
				if err := s.Items.check(item, path+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
		}
	case string:
		if s.MinLength != nil && len([]rune(x)) < *s.MinLength {
			return &Violation{path, fmt.Sprintf("shorter than %d characters", *s.MinLength)}
		}
	case json.Number:
		if s.Minimum != nil {
			if f, err := x.Float64(); err == nil && f < *s.Minimum {
				return &Violation{path, fmt.Sprintf("less than the minimum %v", *s.Minimum)}
			}
		}
	}
	return nil
}

func (s *Schema) typeOK(v any) bool {
	t := typeOf(v)
	for _, want := range s.Types {
		if want == t || want == "number" && t == "integer" {
			return true
		}
	}
	return false
}

func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return "integer"
		}
		if f, err := x.Float64(); err == nil && f == float64(int64(f)) && !strings.ContainsAny(x.String(), "eE") && !strings.Contains(x.String(), ".") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func equal(a, b any) bool {
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ab, bb)
}
