package transform

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// writeTable writes a table file with a given modification time.
func writeTable(t *testing.T, path, content string, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestTablesLoad(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		file, content, key string
		lookups            map[string]string // key → JSON of the row ("null": none)
		wantErr            string
	}{
		{file: "skus.csv", content: "sku,category,cost\nA1,audio,1.50\nB2,video,2.00\n",
			lookups: map[string]string{"A1": `{"category":"audio","cost":"1.50","sku":"A1"}`, "Z9": `null`}},
		{file: "bom.csv", content: "\ufeffsku,warehouse\nA1,LOU1\n",
			lookups: map[string]string{"A1": `{"sku":"A1","warehouse":"LOU1"}`}},
		{file: "bycol.csv", content: "name,sku\nBeans,B-1\n", key: "sku",
			lookups: map[string]string{"B-1": `{"name":"Beans","sku":"B-1"}`}},
		{file: "obj.json", content: `{"A1": {"category": "audio", "cost": 1.5}, "B2": "plain"}`,
			lookups: map[string]string{"A1": `{"category":"audio","cost":1.5}`, "B2": `"plain"`}},
		{file: "arr.json", content: `[{"id": 10, "name": "ten"}, {"id": "x", "name": "ex"}]`,
			lookups: map[string]string{"10": `{"id":10,"name":"ten"}`, "x": `{"id":"x","name":"ex"}`}},
		{file: "arrkey.json", content: `[{"sku": "A1", "w": "LOU1"}]`, key: "sku",
			lookups: map[string]string{"A1": `{"sku":"A1","w":"LOU1"}`}},
		{file: "dup.csv", content: "sku,c\nA1,x\nA1,y\n", wantErr: `line 3: duplicate key "A1"`},
		{file: "ragged.csv", content: "sku,c\nA1\n", wantErr: "wrong number of fields"},
		{file: "empty.csv", content: "", wantErr: "header row"},
		{file: "nokey.csv", content: "a,b\n1,2\n", key: "sku", wantErr: `no column "sku"`},
		{file: "dup.json", content: `[{"id": 1}, {"id": "1"}]`, wantErr: "duplicate key"},
		{file: "nokey.json", content: `[{"name": "x"}]`, wantErr: `element 0 has no "id"`},
		{file: "scalar.json", content: `42`, wantErr: "object or an array"},
		{file: "bad.json", content: `{`, wantErr: "unexpected end of input"},
		{file: "table.txt", content: "a,b\n", wantErr: ".csv or .json"},
		{file: "missing.csv", wantErr: "no such file"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.file)
		if tt.file != "missing.csv" {
			writeTable(t, path, tt.content, time.Now())
		}
		ts := NewTables(nil)
		err := ts.Load("t", path, tt.key)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Load = %v, want error %q", tt.file, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		for k, want := range tt.lookups {
			got := mustEval(t, `lookup("t"; $k)`, nil, Options{Tables: ts, Vars: map[string]any{"k": k}})
			if asJSON(got) != want {
				t.Errorf("%s: lookup(%q) = %s, want %s", tt.file, k, asJSON(got), want)
			}
		}
	}
}

func TestLookupFunction(t *testing.T) {
	ts := NewTables(nil)
	if err := ts.Load("skus", "testdata/skus.csv", ""); err != nil {
		t.Fatal(err)
	}
	if err := ts.Load("ids", filepath.Join(t.TempDir(), "ids.json"), ""); err == nil {
		t.Fatal("loading a missing file succeeded")
	}
	env := sampleEnvelope(t, "shopify_orders_create.json")
	tests := []struct {
		src  string
		want string
	}{
		{`lookup("skus"; "IPOD2008GREEN").warehouse`, `"LOU1"`},
		{`[.body.line_items[] | lookup("skus"; .sku).category] | unique`, `["audio"]`},
		{`lookup("skus"; "NOPE")`, `null`},
		{`lookup("skus"; "NOPE").warehouse // "MAIN"`, `"MAIN"`},
		{`lookup("skus"; null)`, `null`},
		{`lookup("nope"; "x")`, `error: no lookup table named "nope"`},
		{`lookup("skus"; {})`, `error: key must be a string or a number`},
		{`lookup(1; "x")`, `error: table name must be a string`},
	}
	for _, tt := range tests {
		v, err := eval(t, tt.src, env, Options{Tables: ts})
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
	if _, err := eval(t, `lookup("skus"; "x")`, nil, Options{}); err == nil || !strings.Contains(err.Error(), "no tables are configured") {
		t.Errorf("lookup without tables: %v", err)
	}
}

func TestTablesReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "skus.csv")
	mod := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	writeTable(t, path, "sku,w\nA1,LOU1\n", mod)
	clk := &clock{t: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}
	ts := NewTables(clk.Now)
	if err := ts.Load("skus", path, ""); err != nil {
		t.Fatal(err)
	}
	w := func() string {
		row, ok, err := ts.Lookup("skus", "A1")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "-"
		}
		return row.(map[string]any)["w"].(string)
	}
	if got := w(); got != "LOU1" {
		t.Fatalf("first load: %s", got)
	}

	// Changed within the check interval: not seen yet.
	writeTable(t, path, "sku,w\nA1,SEA2\n", mod.Add(time.Minute))
	clk.Add(500 * time.Millisecond)
	if got := w(); got != "LOU1" {
		t.Errorf("reloaded before the check interval: %s", got)
	}
	clk.Add(600 * time.Millisecond)
	if got := w(); got != "SEA2" {
		t.Errorf("not reloaded after the check interval: %s", got)
	}

	// Same mtime, different size: reloaded.
	writeTable(t, path, "sku,w\nA1,SEATTLE\n", mod.Add(time.Minute))
	clk.Add(2 * time.Second)
	if got := w(); got != "SEATTLE" {
		t.Errorf("size change not noticed: %s", got)
	}

	// A broken file keeps the last good rows and reports the error.
	writeTable(t, path, "sku,w\nA1,X\nA1,Y\n", mod.Add(2*time.Minute))
	clk.Add(2 * time.Second)
	if got := w(); got != "SEATTLE" {
		t.Errorf("a failed reload dropped the rows: %s", got)
	}
	st := ts.Status()
	if len(st) != 1 || st[0].Err == nil || st[0].Rows != 1 || st[0].Name != "skus" {
		t.Errorf("Status after a failed reload = %+v", st)
	}

	// A deleted file too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Second)
	if got := w(); got != "SEATTLE" {
		t.Errorf("a deleted file dropped the rows: %s", got)
	}

	// Fixed: reloaded and the error cleared.
	writeTable(t, path, "sku,w\nA1,LOU1\nB2,LOU1\n", mod.Add(3*time.Minute))
	clk.Add(2 * time.Second)
	if got := w(); got != "LOU1" {
		t.Errorf("not reloaded after the fix: %s", got)
	}
	if st := ts.Status(); st[0].Err != nil || st[0].Rows != 2 || !st[0].LoadedAt.Equal(clk.Now()) {
		t.Errorf("Status after the fix = %+v", st)
	}
}

func TestTablesConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "skus.json")
	writeTable(t, path, `{"A1": "v0"}`, time.Now())
	clk := &clock{t: time.Now()}
	ts := NewTables(clk.Now)
	if err := ts.Load("skus", path, ""); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(`lookup("skus"; "A1")`, Options{Tables: ts})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				v, err := p.First(t.Context(), nil)
				if err != nil {
					t.Error(err)
					return
				}
				if s, _ := v.(string); !strings.HasPrefix(s, "v") {
					t.Errorf("lookup = %v", v)
					return
				}
				if g == 0 && i%20 == 0 {
					writeTable(t, path, `{"A1": "v`+string(rune('0'+i/20))+`"}`, time.Now().Add(time.Duration(i)*time.Second))
					clk.Add(2 * time.Second)
				}
			}
		})
	}
	wg.Wait()
}
