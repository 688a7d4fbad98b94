package transform

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TableCheckInterval is how often, at most, a lookup checks whether its
// table's file changed.
const TableCheckInterval = time.Second

// Tables holds named lookup tables loaded from CSV or JSON files, for
// lookup(table; key). A table is reloaded when its file's modification time
// or size changes, checked at most once per TableCheckInterval and only by a
// lookup that does not have to wait: lookups never block on a reload. A
// reload that fails keeps the previous rows and records the error (see
// Status). Tables is safe for concurrent use.
type Tables struct {
	now    func() time.Time
	mu     sync.RWMutex
	tables map[string]*table
}

// NewTables returns an empty set of tables. now is the clock used to space
// file checks; nil means time.Now.
func NewTables(now func() time.Time) *Tables {
	if now == nil {
		now = time.Now
	}
	return &Tables{now: now, tables: map[string]*table{}}
}

// Load reads the table name from path, replacing any table of that name.
// The format follows the extension: ".csv" is a header row then one row per
// record, keyed by the first column, each row an object of header → cell
// (cells are strings); ".json" is either an object (key → value) or an array
// of objects keyed by their field key (default "id"). For CSV, key, if set,
// names the key column instead of the first. Keys are compared as strings;
// a duplicate key is an error.
func (ts *Tables) Load(name, path, key string) error {
	t := &table{name: name, path: path, key: key}
	if err := t.reload(ts.now()); err != nil {
		return err
	}
	ts.mu.Lock()
	ts.tables[name] = t
	ts.mu.Unlock()
	return nil
}

// Lookup returns the row for key in table name, and whether there is one.
// It is the Go side of lookup(table; key).
func (ts *Tables) Lookup(name, key string) (any, bool, error) {
	ts.mu.RLock()
	t, ok := ts.tables[name]
	ts.mu.RUnlock()
	if !ok {
		return nil, false, fmt.Errorf("no lookup table named %q", name)
	}
	t.maybeReload(ts.now())
	row, ok := (*t.rows.Load())[key]
	return row, ok, nil
}

// TableStatus describes one table for an admin surface.
type TableStatus struct {
	Name     string
	Path     string
	Rows     int
	LoadedAt time.Time // when the rows in use were read
	Err      error     // the last reload's error; the previous rows stay in use
}

// Status lists the tables by name.
func (ts *Tables) Status() []TableStatus {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := make([]TableStatus, 0, len(ts.tables))
	for _, t := range ts.tables {
		t.mu.Lock()
		out = append(out, TableStatus{Name: t.name, Path: t.path, Rows: len(*t.rows.Load()), LoadedAt: t.loadedAt, Err: t.err})
		t.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b TableStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

type table struct {
	name, path, key string
	rows            atomic.Pointer[map[string]any]

	mu       sync.Mutex // held while checking or reloading; guards the fields below
	checked  time.Time
	modTime  time.Time
	size     int64
	loadedAt time.Time
	err      error
}

func (t *table) maybeReload(now time.Time) {
	if !t.mu.TryLock() {
		return // another lookup is checking; use the rows we have
	}
	defer t.mu.Unlock()
	if now.Sub(t.checked) < TableCheckInterval {
		return
	}
	t.checked = now
	fi, err := os.Stat(t.path)
	if err != nil {
		t.err = err
		return
	}
	if fi.ModTime().Equal(t.modTime) && fi.Size() == t.size {
		return
	}
	t.err = t.load(now)
}

// reload loads the file unconditionally (Load's first read).
func (t *table) reload(now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.checked = now
	return t.load(now)
}

// load reads the file into a fresh map and swaps it in; t.mu is held.
func (t *table) load(now time.Time) error {
	f, err := os.Open(t.path)
	if err != nil {
		return fmt.Errorf("lookup table %s: %w", t.name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("lookup table %s: %w", t.name, err)
	}
	var rows map[string]any
	switch strings.ToLower(filepath.Ext(t.path)) {
	case ".csv":
		rows, err = readCSVTable(f, t.key)
	case ".json":
		rows, err = readJSONTable(f, t.key)
	default:
		err = errors.New("the file must end in .csv or .json")
	}
	if err != nil {
		return fmt.Errorf("lookup table %s (%s): %w", t.name, t.path, err)
	}
	t.rows.Store(&rows)
	t.modTime, t.size, t.loadedAt = fi.ModTime(), fi.Size(), now
	return nil
}

func readCSVTable(r io.Reader, key string) (map[string]any, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header row: %w", err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM from spreadsheet exports
	col := 0
	if key != "" {
		if col = slices.Index(header, key); col < 0 {
			return nil, fmt.Errorf("no column %q in the header row", key)
		}
	}
	rows := map[string]any{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		k := rec[col]
		if _, dup := rows[k]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", line, k)
		}
		row := make(map[string]any, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		rows[k] = row
	}
}

func readJSONTable(r io.Reader, key string) (map[string]any, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case map[string]any:
		return v, nil
	case []any:
		if key == "" {
			key = "id"
		}
		rows := make(map[string]any, len(v))
		for i, x := range v {
			obj, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("element %d is %s, not an object", i, typeName(x))
			}
			k := str(obj[key])
			if k == "" {
				return nil, fmt.Errorf("element %d has no %q", i, key)
			}
			if _, dup := rows[k]; dup {
				return nil, fmt.Errorf("element %d: duplicate key %q", i, k)
			}
			rows[k] = obj
		}
		return rows, nil
	}
	return nil, errors.New("a JSON table must be an object or an array of objects")
}

// lookup implements lookup(table; key): the row for key in a configured
// lookup table, or null when there is none. Numbers are looked up by their
// decimal form (450789469 finds "450789469").
//
//	lookup("skus"; "IPOD2008GREEN")            → {"sku":"IPOD2008GREEN","category":"audio","warehouse":"LOU1"}
//	lookup("skus"; .sku).warehouse // "default"
//	.body.line_items | map(. + {category: lookup("skus"; .sku).category})
//	lookup("nope"; "x")                        → error: no lookup table named "nope"
func (l *library) lookup(_ any, args []any) any {
	const fn = "lookup"
	name, ok := args[0].(string)
	if !ok {
		return fail(fn, "", "table name must be a string, got %s", typeName(args[0]))
	}
	if l.tables == nil {
		return fail(fn, "", "no lookup table named %q (no tables are configured)", name)
	}
	if args[1] == nil {
		return nil
	}
	key := str(args[1])
	if _, isStr := args[1].(string); !isStr && key == "" {
		return fail(fn, "", "key must be a string or a number, got %s", typeName(args[1]))
	}
	row, _, err := l.tables.Lookup(name, key)
	if err != nil {
		return fail(fn, "", "%v", err)
	}
	return row
}
