package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/store/sqlite"
)

// openAPIOps reads the committed document: "METHOD /path" → operation.
func openAPIOps(t *testing.T) (map[string]any, map[string]map[string]any) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	ops := map[string]map[string]any{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			ops[strings.ToUpper(method)+" "+path] = op.(map[string]any)
		}
	}
	return doc, ops
}

// TestOpenAPISync fails when a route is served without being documented,
// documented without being served, or documented with another role than
// the one enforced.
func TestOpenAPISync(t *testing.T) {
	_, ops := openAPIOps(t)
	_, s := newHandler(Config{})
	served := map[string]bool{}
	for _, e := range s.endpoints {
		served[e.pattern] = true
		op, ok := ops[e.pattern]
		if !ok {
			t.Errorf("%s is served but not in openapi.json", e.pattern)
			continue
		}
		if got := op["x-hookyard-role"]; got != e.min.String() {
			t.Errorf("%s: openapi.json says role %v, the route enforces %s", e.pattern, got, e.min)
		}
	}
	for key := range ops {
		if !served[key] {
			t.Errorf("%s is in openapi.json but not served", key)
		}
	}
	if len(s.endpoints) < 10 {
		t.Fatalf("only %d endpoints registered", len(s.endpoints))
	}
}

// TestOpenAPIQueryParams checks each list endpoint's documented query
// parameters against the ones its handler accepts (the rest are refused).
// An endpoint with query parameters belongs in this table.
func TestOpenAPIQueryParams(t *testing.T) {
	doc, ops := openAPIOps(t)
	accepted := map[string][]string{
		"GET /api/v1/events":         eventParams,
		"GET /api/v1/deliveries":     deliveryParams,
		"GET /api/v1/dlq":            dlqParams,
		"GET /api/v1/quarantine":     quarantineParams,
		"GET /api/v1/audit":          auditParams,
		"GET /api/v1/reconcile/runs": reconcileParams,
		"GET /api/v1/status/series":  seriesParams,
		"GET /api/v1/drift":          driftParams,
	}
	for key, want := range accepted {
		op, ok := ops[key]
		if !ok {
			t.Errorf("%s is not documented", key)
			continue
		}
		var got []string
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := resolve(t, doc, p.(map[string]any))
			if pm["in"] == "query" {
				got = append(got, pm["name"].(string))
			}
		}
		want = slices.Clone(want)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: documented query parameters %v, accepted %v", key, got, want)
		}
	}
}

// TestOpenAPIRefs checks that every $ref in the document resolves.
func TestOpenAPIRefs(t *testing.T) {
	doc, _ := openAPIOps(t)
	n := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["$ref"]; ok {
				n++
				resolve(t, doc, v)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if n == 0 {
		t.Fatal("no $ref found; the walk is broken")
	}
}

// resolve follows a local $ref ("#/components/…") in doc.
func resolve(t *testing.T, doc map[string]any, v map[string]any) map[string]any {
	t.Helper()
	r, ok := v["$ref"].(string)
	if !ok {
		return v
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok || m[part] == nil {
			t.Fatalf("$ref %s does not resolve", r)
		}
		cur = m[part]
	}
	return cur.(map[string]any)
}

// TestOpenAPIRolesEnforced is the generated route × role test: it sends
// every documented operation, over HTTP to the real handler on real
// SQLite, without a token and with a forged one (401), with the documented
// role (never 401, 403 or 5xx) and with the role just below it (403).
func TestOpenAPIRolesEnforced(t *testing.T) {
	_, ops := openAPIOps(t)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokens := map[string]string{"viewer": "viewer-token-0123456789", "operator": "operator-token-0123456789",
		"admin": "admin-token-0123456789"}
	var cfg []config.Token
	for r, tok := range tokens {
		cfg = append(cfg, config.Token{Name: r, Token: tok, Role: r})
	}
	srv := httptest.NewServer(New(Config{Store: st, Tokens: cfg}))
	defer srv.Close()
	below := map[string]string{"operator": "viewer", "admin": "operator"}
	for key, op := range ops {
		method, path, _ := strings.Cut(key, " ")
		path = strings.ReplaceAll(path, "{id}", "x")
		role := op["x-hookyard-role"].(string)
		send := func(r string) int {
			var body *strings.Reader
			if method == http.MethodPost {
				body = strings.NewReader("{}")
			} else {
				body = strings.NewReader("")
			}
			req, _ := http.NewRequest(method, srv.URL+path, body)
			switch r {
			case "anonymous":
			case "forged":
				req.Header.Set("Authorization", "Bearer hyt_0123456789abcdef_"+strings.Repeat("A", 43))
			default:
				req.Header.Set("Authorization", "Bearer "+tokens[r])
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, r := range []string{"anonymous", "forged"} {
			if got := send(r); got != http.StatusUnauthorized {
				t.Errorf("%s as %s = %d, want 401", key, r, got)
			}
		}
		if got := send(role); got == http.StatusUnauthorized || got == http.StatusForbidden || got >= 500 {
			t.Errorf("%s as %s (documented) = %d", key, role, got)
		}
		if b, ok := below[role]; ok {
			if got := send(b); got != http.StatusForbidden {
				t.Errorf("%s as %s (below documented %s) = %d, want 403", key, b, role, got)
			}
		}
	}
}

// TestOpenAPISchemaFields checks that the documented properties of the
// main response schemas are exactly the JSON fields the types encode.
func TestOpenAPISchemaFields(t *testing.T) {
	doc, _ := openAPIOps(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, v := range map[string]any{"Event": Event{}, "Delivery": Delivery{}, "Attempt": Attempt{}} {
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Errorf("schema %s is not documented", name)
			continue
		}
		var documented, encoded []string
		for p := range s["properties"].(map[string]any) {
			documented = append(documented, p)
		}
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			if tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
				encoded = append(encoded, tag)
			}
		}
		sort.Strings(documented)
		sort.Strings(encoded)
		if !slices.Equal(documented, encoded) {
			t.Errorf("schema %s documents %v; the type encodes %v", name, documented, encoded)
		}
	}
}
