package transform

import "testing"

func TestDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		max  int
		want string
	}{
		{"equal", `{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, 0, `null`},
		{"numbers by value", `{"a":1}`, `{"a":1.0}`, 0, `null`},
		{"changed leaf", `{"lines":[{"sku":"A"}]}`, `{"lines":[{"sku":"B"}]}`, 0,
			`[{"path":".lines[0].sku","kind":"changed","old":"A","new":"B"}]`},
		{"added and removed keys, sorted", `{"b":1,"c":2}`, `{"a":0,"b":1}`, 0,
			`[{"path":".a","kind":"added","new":0},{"path":".c","kind":"removed","old":2}]`},
		{"array grows", `[1]`, `[1,2,3]`, 0,
			`[{"path":".[1]","kind":"added","new":2},{"path":".[2]","kind":"added","new":3}]`},
		{"array shrinks", `{"x":[1,2]}`, `{"x":[1]}`, 0, `[{"path":".x[1]","kind":"removed","old":2}]`},
		{"type change", `{"a":{"b":1}}`, `{"a":"flat"}`, 0, `[{"path":".a","kind":"changed","old":{"b":1},"new":"flat"}]`},
		{"root change", `1`, `"1"`, 0, `[{"path":".","kind":"changed","old":1,"new":"1"}]`},
		{"null to value", `{"a":null}`, `{"a":0}`, 0, `[{"path":".a","kind":"changed","new":0}]`},
		{"odd keys quoted", `{"a b":1,"x-y":{"0":1}}`, `{"a b":2,"x-y":{"0":2}}`, 0,
			`[{"path":".[\"a b\"]","kind":"changed","old":1,"new":2},{"path":".[\"x-y\"][\"0\"]","kind":"changed","old":1,"new":2}]`},
		{"bounded", `[1,2,3,4,5]`, `[5,4,3,2,1]`, 2,
			`[{"path":".[0]","kind":"changed","old":1,"new":5},{"path":".[1]","kind":"changed","old":2,"new":4}]`},
	}
	for _, tt := range tests {
		got := Diff(jsonValue(t, tt.a), jsonValue(t, tt.b), tt.max)
		if asJSON(got) != tt.want {
			t.Errorf("%s: Diff = %s\nwant %s", tt.name, asJSON(got), tt.want)
		}
	}
}

func TestDiffShadowTransform(t *testing.T) {
	// The use it is for: live and candidate transforms over one event.
	env := sampleEnvelope(t, "shopify_orders_create.json")
	live := mustEval(t, `canonical_order`, env, Options{})
	candidate := mustEval(t, `canonical_order | .lines[1].sku |= ascii_downcase | del(.number) | .channel = "web"`, env, Options{})
	got := Diff(live, candidate, 10)
	want := `[{"path":".channel","kind":"added","new":"web"},{"path":".lines[1].sku","kind":"changed","old":"IPOD2008RED","new":"ipod2008red"},{"path":".number","kind":"removed","old":"1001"}]`
	if asJSON(got) != want {
		t.Errorf("Diff = %s\nwant %s", asJSON(got), want)
	}
}
