package dest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

var deliveredAt = time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC)

func newFile(t *testing.T, path string) *File {
	t.Helper()
	f, err := NewFile(config.Destination{Name: "log", Type: "file", Path: path}, Options{
		Now: func() time.Time { return deliveredAt },
	})
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readLines returns each line of path decoded into a map, failing the test
// on a line that is not one JSON object.
func readLines(t *testing.T, path string) []map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", len(lines)+1, err, sc.Bytes())
		}
		lines = append(lines, m)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Error("file does not end with a newline")
	}
	return lines
}

func TestFileSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "out.jsonl")
	f := newFile(t, path)

	body := []byte("{\n  \"id\": 12345678901234567890,\n  \"note\": \"<b>&</b>\"\n}\n")
	if resp := f.Send(t.Context(), message(body, "application/json")); !resp.OK() || resp.StatusCode != 0 || resp.Header != nil || resp.Body != nil {
		t.Fatalf("Send = %+v", resp)
	}
	lines := readLines(t, path)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	want := map[string]string{
		"delivery_id":     `"dlv_1"`,
		"idempotency_key": `"hy_dlv_1"`,
		"event_id":        `"evt_1"`,
		"source":          `"shop"`,
		"topic":           `"orders/create"`,
		"attempt":         `3`,
		"received_at":     `"2026-03-14T14:09:26.535897932Z"`,
		"delivered_at":    `"2026-03-14T16:00:00Z"`,
		// Compacted onto one line; big numbers and HTML kept as written.
		"body": `{"id":12345678901234567890,"note":"<b>&</b>"}`,
	}
	for k, v := range want {
		if string(lines[0][k]) != v {
			t.Errorf("%s = %s, want %s", k, lines[0][k], v)
		}
	}
	if len(lines[0]) != len(want) {
		t.Errorf("line has keys %v, want exactly %d (no body_encoding for JSON)", lines[0], len(want))
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v; want 0600", info.Mode(), err)
	}
}

func TestFileBodyEncoding(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		wantBody string
		encoding string
	}{
		{"object", []byte(`{"a":1}`), `{"a":1}`, ""},
		{"array", []byte(` [1, 2] `), `[1,2]`, ""},
		{"string", []byte(`"x"`), `"x"`, ""},
		{"form", []byte("a=1&b=2"), `"` + base64.StdEncoding.EncodeToString([]byte("a=1&b=2")) + `"`, `"base64"`},
		{"binary", []byte{0xff, 0x00, '\n'}, `"/wAK"`, `"base64"`},
		{"truncated JSON", []byte(`{"a":`), `"eyJhIjo="`, `"base64"`},
		{"empty", nil, `""`, `"base64"`},
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	f := newFile(t, path)
	for _, tt := range tests {
		if resp := f.Send(t.Context(), message(tt.body, "")); !resp.OK() {
			t.Fatalf("%s: Send: %v", tt.name, resp.Err)
		}
	}
	lines := readLines(t, path)
	if len(lines) != len(tests) {
		t.Fatalf("%d lines, want %d", len(lines), len(tests))
	}
	for i, tt := range tests {
		if got := string(lines[i]["body"]); got != tt.wantBody {
			t.Errorf("%s: body = %s, want %s", tt.name, got, tt.wantBody)
		}
		if got := string(lines[i]["body_encoding"]); got != tt.encoding {
			t.Errorf("%s: body_encoding = %s, want %q", tt.name, got, tt.encoding)
		}
	}
}

func TestFileConcurrentSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	f := newFile(t, path)

	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				m := message([]byte(fmt.Sprintf(`{"writer":%d,"i":%d,"pad":"%0500d"}`, w, i, 0)), "")
				m.Delivery.ID = fmt.Sprintf("dlv_%d_%d", w, i)
				if resp := f.Send(t.Context(), m); !resp.OK() {
					t.Errorf("Send: %v", resp.Err)
				}
			}
		})
	}
	wg.Wait()

	seen := map[string]bool{}
	for _, line := range readLines(t, path) {
		var id string
		json.Unmarshal(line["delivery_id"], &id)
		if seen[id] {
			t.Errorf("delivery %s written twice", id)
		}
		seen[id] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct deliveries written, want %d", len(seen), writers*each)
	}
}

func TestFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	for range 2 {
		f, err := NewFile(config.Destination{Name: "log", Path: path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if resp := f.Send(t.Context(), message([]byte("{}"), "")); !resp.OK() {
			t.Fatalf("Send: %v", resp.Err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(readLines(t, path)); n != 2 {
		t.Errorf("%d lines after reopening, want 2", n)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewFile(config.Destination{Name: "log"}, Options{}); err == nil {
		t.Error("NewFile without a path: no error")
	}
	// A parent that is a file cannot become a directory.
	blocker := filepath.Join(dir, "blocker")
	os.WriteFile(blocker, nil, 0o600)
	if _, err := NewFile(config.Destination{Name: "log", Path: filepath.Join(blocker, "out.jsonl")}, Options{}); err == nil {
		t.Error("NewFile under a regular file: no error")
	}

	path := filepath.Join(dir, "out.jsonl")
	f := newFile(t, path)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if resp := f.Send(ctx, message([]byte("{}"), "")); resp.OK() {
		t.Error("Send with a cancelled context succeeded")
	}
	f.Close()
	if resp := f.Send(t.Context(), message([]byte("{}"), "")); resp.OK() || resp.Err == nil {
		t.Error("Send after Close succeeded")
	}
	if n := len(readLines(t, path)); n != 0 {
		t.Errorf("%d lines written by failed sends", n)
	}
}

func TestFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	f, err := NewFile(config.Destination{Name: "log", Type: "file", Path: path, MaxBytes: 1000, Keep: 2}, Options{
		Now: func() time.Time { return deliveredAt },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })

	// Each line is ~300 bytes, so a file holds three and the eleventh line
	// lands in the fourth file; with keep 2, the first file is gone.
	var ids []string
	for i := range 11 {
		m := message(fmt.Appendf(nil, `{"n": %d, "pad": %q}`, i, strings.Repeat("x", 40)), "")
		m.Delivery.ID = fmt.Sprintf("dlv_%02d", i)
		ids = append(ids, "hy_"+m.Delivery.ID)
		if r := f.Send(t.Context(), m); !r.OK() {
			t.Fatalf("Send %d: %v", i, r.Err)
		}
	}
	var seen []string
	for _, name := range []string{"out.jsonl.2", "out.jsonl.1", "out.jsonl"} {
		p := filepath.Join(dir, name)
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > 1000 {
			t.Errorf("%s is %d bytes, over max_bytes 1000", name, info.Size())
		}
		for _, l := range readLines(t, p) {
			var key string
			json.Unmarshal(l["idempotency_key"], &key)
			seen = append(seen, key)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.jsonl.3")); !os.IsNotExist(err) {
		t.Errorf("out.jsonl.3 exists (keep is 2): %v", err)
	}
	// The files hold the newest lines, oldest first, none twice or torn.
	if want := ids[len(ids)-len(seen):]; len(seen) < 5 || !slices.Equal(seen, want) {
		t.Errorf("lines across files = %v, want the newest ones %v", seen, want)
	}

	// Reopening continues the current file's size count.
	f.Close()
	f2, err := NewFile(config.Destination{Name: "log", Type: "file", Path: path, MaxBytes: 1000, Keep: 2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	before, _ := os.ReadFile(path)
	for range 4 {
		f2.Send(t.Context(), message([]byte(`{}`), ""))
	}
	if rotated, _ := os.ReadFile(filepath.Join(dir, "out.jsonl.1")); !bytes.HasPrefix(rotated, before) {
		t.Error("reopened file did not rotate by its existing size")
	}
}

// TestFileRotationAfterTornLine: a torn line is ended in the old file, not
// carried as a stray newline into the new one.
func TestFileRotationTorn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	f, err := NewFile(config.Destination{Name: "log", Type: "file", Path: path, MaxBytes: 300}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Send(t.Context(), message([]byte(`{}`), ""))
	f.mu.Lock()
	f.f.Write([]byte(`{"torn":`))
	f.size += 8
	f.torn = true
	f.mu.Unlock()
	f.Send(t.Context(), message([]byte(`{}`), ""))
	cur, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	if !bytes.HasSuffix(old, []byte("{\"torn\":\n")) || bytes.HasPrefix(cur, []byte("\n")) || len(readLines(t, path)) != 1 {
		t.Errorf("old file ends %q, new file %q", old[max(0, len(old)-20):], cur)
	}
}

// TestFileTraceContext: with tracing on, each line carries the attempt
// span's trace context, as the broker destinations' messages do.
func TestFileTraceContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	f := newFile(t, path)
	m := message([]byte(`{"id":1}`), "application/json")
	ctx, traceparent, tracestate := traced(t, m)
	if resp := f.Send(ctx, m); !resp.OK() {
		t.Fatalf("Send = %+v", resp)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || string(lines[0]["traceparent"]) != `"`+traceparent+`"` || string(lines[0]["tracestate"]) != `"`+tracestate+`"` {
		t.Fatalf("line %v; want traceparent %q and tracestate %q", lines, traceparent, tracestate)
	}
}
