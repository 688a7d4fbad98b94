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
