package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// referenceDecode is DecodeJSON done with encoding/json: the behaviour the
// hand-written decoder must match.
func referenceDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the top-level value")
	}
	var norm func(v any) any
	norm = func(v any) any {
		switch v := v.(type) {
		case json.Number:
			s := v.String()
			return numberValue(s, !strings.ContainsAny(s, ".eE"))
		case map[string]any:
			for k, x := range v {
				v[k] = norm(x)
			}
		case []any:
			for i, x := range v {
				v[i] = norm(x)
			}
		}
		return v
	}
	return norm(v), nil
}

// sameValue is reflect.DeepEqual that compares *big.Int by value.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case *big.Int:
		b, ok := b.(*big.Int)
		return ok && a.Cmp(b) == 0
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, x := range a {
			y, ok := b[k]
			if !ok || !sameValue(x, y) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

var decodeCases = []string{
	`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
	` [ 1 , -0 , 0.5 , -1.25e3 , 1E2 , 2.0 , 1e400 , 9223372036854775807 , 9223372036854775808 , -9223372036854775809 ] `,
	`"plain"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u20AC\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`,
	"\"caf\xc3\xa9\"", "\"bad \xff utf8\"", "\"\xed\xa0\x80\"", `"Léon, Noël"`,
	`{"dup":1,"dup":2}`, `{}`, `[]`, `[[]]`, `{"":""}`, "\t\n\r 42 \n",
	// errors
	``, ` `, `{`, `[`, `"`, `"\`, `"\u12`, `"\u12G4"`, `"\x"`, "\"a\x01\"", `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`,
	`{a:1}`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `tru`, `trux`, `nul`, `NaN`, `1 2`, `{} x`, `"\u00e9`, `[1}`, `{"a":1]`,
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	cases := append([]string(nil), decodeCases...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, string(b))
	}
	cases = append(cases, strings.Repeat("[", 10001)+strings.Repeat("]", 10001), strings.Repeat("[", 9999)+strings.Repeat("]", 9999))
	for _, c := range cases {
		checkDecode(t, []byte(c))
	}
}

func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	got, err := DecodeJSON(data)
	want, werr := referenceDecode(data)
	if (err != nil) != (werr != nil) {
		t.Fatalf("DecodeJSON(%.60q): error %v, encoding/json error %v", data, err, werr)
	}
	if err == nil && !sameValue(got, want) {
		t.Fatalf("DecodeJSON(%.60q) = %#v, encoding/json gives %#v", data, got, want)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}

func BenchmarkDecodeJSON(b *testing.B) {
	data, err := os.ReadFile("testdata/shopify_orders_create.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hookyard", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-usenumber", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := referenceDecode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
