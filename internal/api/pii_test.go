package api

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestMaskJSON(t *testing.T) {
	for _, tc := range []struct {
		name, paths, in, want string
		hit                   bool
	}{
		{"nested key", "customer.email", `{"customer":{"email":"a@b","name":"A"}}`, `{"customer":{"email":"***","name":"A"}}`, true},
		{"whole object", "customer", `{"customer":{"email":"a@b"},"id":1}`, `{"customer":"***","id":1}`, true},
		{"any key", "*.ssn", `{"a":{"ssn":1},"b":{"ssn":[1,2]},"ssn":3}`, `{"a":{"ssn":"***"},"b":{"ssn":"***"},"ssn":3}`, true},
		{"arrays crossed", "items.card", `{"items":[{"card":"4242","sku":"A"},{"sku":"B"},[{"card":1}]]}`,
			`{"items":[{"card":"***","sku":"A"},{"sku":"B"},[{"card":"***"}]]}`, true},
		{"top-level array", "email", `[{"email":"x"},{"email":null}]`, `[{"email":"***"},{"email":"***"}]`, true},
		{"path through a scalar", "id.x", `{"id":7}`, `{"id":7}`, false},
		{"no match keeps bytes", "nope", `{"n":1.50000000000000000001,"s":"\u00e9<>"}`, `{"n":1.50000000000000000001,"s":"\u00e9<>"}`, false},
		{"escaped key", "e\"k", `{"e\"k":1,"k":2}`, `{"e\"k":"***","k":2}`, true},
		{"key order kept", "b", `{"c":1,"b":2,"a":3}`, `{"c":1,"b":"***","a":3}`, true},
		{"duplicate keys both masked", "a", `{"a":1,"a":2}`, `{"a":"***","a":"***"}`, true},
		{"scalar body", "a", `"text"`, `"text"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, hit, err := maskJSON(json.RawMessage(tc.in), parsePIIPaths([]string{tc.paths}))
			if err != nil || string(got) != tc.want || hit != tc.hit {
				t.Errorf("maskJSON(%s, %s) = %s, %v, %v; want %s, %v", tc.in, tc.paths, got, hit, err, tc.want, tc.hit)
			}
		})
	}
}

// FuzzMaskJSON: for any valid JSON body the masked body is valid JSON, and
// masking it again changes nothing.
func FuzzMaskJSON(f *testing.F) {
	for _, s := range []string{`{"a":{"b":1}}`, `[{"a":[1,{"a":2}]}]`, `{"x":"y","a":null}`, `1`, `{"\u0061":{"b":"\ud83d\ude00"}}`} {
		f.Add(s)
	}
	paths := parsePIIPaths([]string{"a.b", "*.c", "a"})
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return
		}
		out, _, err := maskJSON(json.RawMessage(in), paths)
		if err != nil {
			t.Fatalf("maskJSON(%q): %v", in, err)
		}
		if !json.Valid(out) {
			t.Fatalf("maskJSON(%q) = %q: not JSON", in, out)
		}
		again, _, err := maskJSON(out, paths)
		if err != nil || string(again) != string(out) {
			t.Fatalf("masking %q twice: %q then %q (%v)", in, out, again, err)
		}
	})
}

func TestPIIValues(t *testing.T) {
	vals, ok := piiValues([]byte(piiBodyForValues), parsePIIPaths([]string{"customer", "items.card", "zip"}))
	want := []string{"ann@example.com", "4111111111", "Ann Lee", "4242"}
	if !ok || fmt.Sprint(vals) != fmt.Sprint(want) {
		t.Fatalf("piiValues = %q, %v; want %q", vals, ok, want)
	}
	if _, ok := piiValues([]byte("email=a"), parsePIIPaths([]string{"email"})); ok {
		t.Fatal("a form body counted as JSON")
	}
}

// piiBodyForValues has values under masked objects and arrays, short
// values (not collected) and a number.
const piiBodyForValues = `{"customer":{"email":"ann@example.com","name":"Ann Lee","vip":true,"tags":["a","b"]},
"items":[{"card":{"last4":"4242","pan":4111111111}},{"card":"AB"}],"zip":"12","other":"ann@example.com"}`
