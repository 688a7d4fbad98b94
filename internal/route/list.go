package route

import (
	"slices"
	"strings"
)

// Routes returns every route, sorted by name.
func (t *Table) Routes() []*Route {
	out := make([]*Route, 0, len(t.byName))
	for _, r := range t.byName {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Route) int { return strings.Compare(a.Name, b.Name) })
	return out
}
