package transform

import (
	"maps"
	"slices"

	"github.com/itchyny/gojq"
)

// Kinds of Change.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Change is one path-level difference between two JSON values.
type Change struct {
	Path string `json:"path"`          // jq path: ".lines[0].sku", `.["odd key"]`, "." for the root
	Kind string `json:"kind"`          // Added, Removed or Changed
	Old  any    `json:"old,omitempty"` // the value in a (absent when Added)
	New  any    `json:"new,omitempty"` // the value in b (absent when Removed)
}

// Diff lists how b differs from a — the shadow transform's output against
// the live one — as at most max changes (max ≤ 0: all), in a stable order:
// object keys sorted, array elements by index. Objects and arrays are
// compared member by member; a value that changes type (object to string,
// say) is one Changed at its path. Numbers compare by value (1 equals 1.0).
func Diff(a, b any, max int) []Change {
	d := differ{max: max}
	d.diff("", a, b)
	return d.out
}

type differ struct {
	max int
	out []Change
}

func (d *differ) full() bool { return d.max > 0 && len(d.out) >= d.max }

func (d *differ) add(c Change) {
	if !d.full() {
		if c.Path == "" {
			c.Path = "."
		}
		d.out = append(d.out, c)
	}
}

func (d *differ) diff(path string, a, b any) {
	if d.full() {
		return
	}
	switch a := a.(type) {
	case map[string]any:
		if b, ok := b.(map[string]any); ok {
			keys := slices.Sorted(maps.Keys(a))
			for k := range b {
				if _, ok := a[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				av, inA := a[k]
				bv, inB := b[k]
				switch {
				case !inB:
					d.add(Change{Path: at(path, k), Kind: Removed, Old: av})
				case !inA:
					d.add(Change{Path: at(path, k), Kind: Added, New: bv})
				default:
					d.diff(at(path, k), av, bv)
				}
				if d.full() {
					return
				}
			}
			return
		}
	case []any:
		if b, ok := b.([]any); ok {
			for i := 0; i < len(a) || i < len(b); i++ {
				switch {
				case i >= len(b):
					d.add(Change{Path: at(path, i), Kind: Removed, Old: a[i]})
				case i >= len(a):
					d.add(Change{Path: at(path, i), Kind: Added, New: b[i]})
				default:
					d.diff(at(path, i), a[i], b[i])
				}
				if d.full() {
					return
				}
			}
			return
		}
	}
	if !sameScalar(a, b) {
		d.add(Change{Path: path, Kind: Changed, Old: a, New: b})
	}
}

// sameScalar compares leaves (and containers of differing types) as jq does.
func sameScalar(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		return false // b is not the same kind of container, or we would not be here
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return gojq.Compare(a, b) == 0
}
