package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// pageNames are the templates under templates/, each rendered inside
// layout.html.
var pageNames = []string{"login", "error", "status", "events", "event", "dlq", "replay", "destinations", "pause", "drift",
	"quarantine", "alerts", "routes", "audit"}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"ms":    func(f float64) string { return fmt.Sprintf("%.1f ms", f) },
	"pct":   pct,
	"ptr":   func(f float64) *float64 { return &f },
	"burn":  burnChart,
	"upper": strings.ToUpper,
	"ago": func(t, now time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return now.Sub(t).Round(time.Second).String()
	},
	"seconds": func(f *float64) string {
		if f == nil {
			return "—"
		}
		return (time.Duration(*f * float64(time.Second))).Round(time.Second).String()
	},
}

func parseTemplates() (map[string]*template.Template, error) {
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		out[name] = t
	}
	return out, nil
}
