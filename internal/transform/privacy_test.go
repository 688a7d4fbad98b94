package transform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestHashPII(t *testing.T) {
	key := []byte("pii-key-1")
	hm := func(s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return `"` + hex.EncodeToString(m.Sum(nil)) + `"`
	}
	tests := []struct {
		src  string
		want string
	}{
		{`"bob.norman@mail.example.com" | hash_pii`, hm("bob.norman@mail.example.com")},
		{`" Bob.Norman@Mail.Example.com " | hash_pii`, hm("bob.norman@mail.example.com")},
		{`"BOB.NORMAN@MAIL.EXAMPLE.COM" | hash_pii("email")`, hm("bob.norman@mail.example.com")},
		{`"+1(502)-459-2181" | hash_pii`, hm("+15024592181")},
		{`" +1 502 459 2181 " | hash_pii`, hm("+15024592181")},
		{`"(555) 555-5555" | hash_pii`, hm("5555555555")},
		{`"555.555.5555" | hash_pii("phone")`, hm("5555555555")},
		{`"+557734881234" | hash_pii("auto")`, hm("+557734881234")},
		{`null | hash_pii`, `null`},
		{`"n/a" | hash_pii("phone")`, `error: no digits`},
		{`"+" | hash_pii`, `error: no digits`},
		{`"bob" | hash_pii("email")`, `error: not an email address`},
		{`"x@y" | hash_pii("ssn")`, `error: kind must be`},
		{`12345 | hash_pii`, `error: input must be a string`},
	}
	for _, tt := range tests {
		v, err := eval(t, tt.src, nil, Options{PIIKey: key})
		if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s = %v, %v; want error %q", tt.src, v, err, want)
			}
			continue
		}
		if err != nil || asJSON(v) != tt.want {
			t.Errorf("%s = %s, %v; want %s", tt.src, asJSON(v), err, tt.want)
		}
	}
	// Another key gives another hash; no key is an error, never an unkeyed hash.
	a := mustEval(t, `"a@b.c" | hash_pii`, nil, Options{PIIKey: []byte("k1")})
	b := mustEval(t, `"a@b.c" | hash_pii`, nil, Options{PIIKey: []byte("k2")})
	if a == b {
		t.Error("hash_pii ignores its key")
	}
	if _, err := eval(t, `"a@b.c" | hash_pii`, nil, Options{}); err == nil || !strings.Contains(err.Error(), "no PII key") {
		t.Errorf("hash_pii without a key: %v", err)
	}
	if HashPII(key, "+15024592181") != strings.Trim(hm("+15024592181"), `"`) {
		t.Error("HashPII differs from hash_pii")
	}
}

func TestRedact(t *testing.T) {
	doc := `{"email": "a@b.c", "name": "A", "n": 1,
		"customer": {"email": "c@d.e", "phone": "+1", "tags": ["x"]},
		"lines": [{"sku": "S1", "props": [{"v": "secret"}]}, {"sku": "S2", "props": []}],
		"headers": {"x-forwarded-for": "10.0.0.1", "a.b": "dotted"}}`
	tests := []struct {
		paths string // jq expression for the argument
		want  string // jq expression over the original giving the expected result
	}{
		{`["email"]`, `.email = "[redacted]"`},
		{`"email"`, `.email = "[redacted]"`},
		{`[".email", "customer.phone"]`, `.email = "[redacted]" | .customer.phone = "[redacted]"`},
		{`[["customer", "email"]]`, `.customer.email = "[redacted]"`},
		{`[path(.customer.email), path(.lines[1].sku)]`, `.customer.email = "[redacted]" | .lines[1].sku = "[redacted]"`},
		{`["customer"]`, `.customer = "[redacted]"`},
		{`["lines[].sku"]`, `.lines[].sku = "[redacted]"`},
		{`["lines[0].props[].v"]`, `.lines[0].props[0].v = "[redacted]"`},
		{`["lines[-1].sku"]`, `.lines[1].sku = "[redacted]"`},
		{`["customer.*"]`, `.customer[] = "[redacted]"`},
		{`["*.email"]`, `.customer.email = "[redacted]"`}, // top-level strings have no .email
		{`["headers[\"x-forwarded-for\"]", "headers[\"a.b\"]"]`, `.headers[] = "[redacted]"`},
		{`["missing", "customer.missing.deep", "lines[9].sku", "email.deeper", "n[0]"]`, `.`},
	}
	for _, tt := range tests {
		src := `redact(` + tt.paths + `) == ($orig | ` + tt.want + `)`
		p, err := Compile(`. as $orig | `+src, Options{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		v, err := p.First(t.Context(), jsonValue(t, doc))
		if err != nil || v != true {
			got := mustEval(t, `redact(`+tt.paths+`)`, jsonValue(t, doc), Options{})
			t.Errorf("redact(%s) = %s, %v", tt.paths, asJSON(got), err)
		}
	}
	// The input is not modified: gojq shares values between expressions.
	got := mustEval(t, `[redact(["customer.email"]), .] | map(.customer.email)`, jsonValue(t, doc), Options{})
	if asJSON(got) != `["[redacted]","c@d.e"]` {
		t.Errorf("redact changed its input: %s", asJSON(got))
	}
	for _, bad := range []string{`[""]`, `[[]]`, `["a..b"]`, `["a["]`, `["a[x]"]`, `[{}]`, `[[true]]`, `3`, `["a."]`, `["a[\"b"]`} {
		if _, err := eval(t, `redact(`+bad+`)`, jsonValue(t, doc), Options{}); err == nil {
			t.Errorf("redact(%s) accepted a bad path", bad)
		}
	}
}

func TestRedactEnvelope(t *testing.T) {
	env := sampleEnvelope(t, "shopify_orders_create.json")
	got := mustEval(t, `redact(["body.email", "body.customer.email", "body.customer.phone", "body.billing_address", "body.shipping_address", "body.line_items[].properties"])
		| [.body.email, .body.customer.email, .body.billing_address, (.body.line_items | map(.properties) | unique), .body.id]`, env, Options{})
	if want := `["[redacted]","[redacted]","[redacted]",["[redacted]"],450789469]`; asJSON(got) != want {
		t.Errorf("got %s, want %s", asJSON(got), want)
	}
}
