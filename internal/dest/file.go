package dest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// File appends one JSON line per delivery to a local file: for development,
// tests and simple pipelines that tail a file. Each line is written with one
// write call and synced before Send returns, so a successful Send is on
// disk; the price is one fsync per delivery (a few thousand a second at
// most), acceptable for local use. A failed sync retries the delivery, which
// may then appear twice; readers deduplicate by idempotency_key, as any
// destination must.
//
// With max_bytes set, a line that would take the file past it first
// rotates the file: out.jsonl becomes out.jsonl.1, out.jsonl.1 becomes
// out.jsonl.2, and so on up to keep files, the oldest dropped. A line
// longer than max_bytes still goes whole into a fresh file.
type File struct {
	path     string
	now      func() time.Time
	maxBytes int64 // 0: never rotate
	keep     int

	mu   sync.Mutex
	f    *os.File // nil after a rotation failed to reopen; the next Send retries
	size int64
	torn bool // the last write stopped part-way; end that line first
}

// DefaultKeep is how many rotated files a file destination keeps when
// keep is unset.
const DefaultKeep = 5

// fileLine is the JSON shape of one line. Body is the event body as JSON
// when it is valid JSON (compacted onto one line), else a base64 string with
// BodyEncoding "base64".
type fileLine struct {
	DeliveryID     string          `json:"delivery_id"`
	IdempotencyKey string          `json:"idempotency_key"`
	EventID        string          `json:"event_id"`
	Source         string          `json:"source"`
	Topic          string          `json:"topic"`
	Attempt        int             `json:"attempt"`
	ReceivedAt     time.Time       `json:"received_at"`
	DeliveredAt    time.Time       `json:"delivered_at"`
	Body           json.RawMessage `json:"body"`
	BodyEncoding   string          `json:"body_encoding,omitempty"`
	// Traceparent and Tracestate are the attempt span's W3C trace context
	// when tracing is on, as the other destinations send it.
	Traceparent string `json:"traceparent,omitempty"`
	Tracestate  string `json:"tracestate,omitempty"`
}

// NewFile opens (creating it and its parent directories if needed) the
// file of a file destination for appending. The file is readable by its
// owner only: bodies may hold personal data.
func NewFile(d config.Destination, o Options) (*File, error) {
	if d.Path == "" {
		return nil, fmt.Errorf("destination %q: path is required", d.Name)
	}
	if err := os.MkdirAll(filepath.Dir(d.Path), 0o750); err != nil {
		return nil, fmt.Errorf("destination %q: %w", d.Name, err)
	}
	if d.MaxBytes < 0 || d.Keep < 0 {
		return nil, fmt.Errorf("destination %q: max_bytes and keep must not be negative", d.Name)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	f := &File{path: d.Path, now: now, maxBytes: d.MaxBytes, keep: cmp.Or(d.Keep, DefaultKeep)}
	if err := f.open(); err != nil {
		return nil, fmt.Errorf("destination %q: %w", d.Name, err)
	}
	return f, nil
}

// open opens the file for appending and learns its size.
func (f *File) open() error {
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return err
	}
	f.f, f.size = file, info.Size()
	return nil
}

// rotate shifts path.N to path.N+1 (dropping path.keep), path to path.1,
// and opens a fresh path. The directory is synced so the renames survive
// a crash.
func (f *File) rotate() error {
	if f.torn {
		_, _ = f.f.Write([]byte{'\n'})
		f.torn = false
	}
	if err := f.f.Close(); err != nil {
		return err
	}
	f.f = nil
	for i := f.keep - 1; i >= 1; i-- {
		err := os.Rename(fmt.Sprintf("%s.%d", f.path, i), fmt.Sprintf("%s.%d", f.path, i+1))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(f.path, f.path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := f.open(); err != nil {
		return err
	}
	if dir, err := os.Open(filepath.Dir(f.path)); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}

// Send appends m as one line and syncs the file. Success is a zero
// Response.
func (f *File) Send(ctx context.Context, m *Message) Response {
	if err := ctx.Err(); err != nil {
		return Response{Err: err}
	}
	line := fileLine{
		DeliveryID:     m.Delivery.ID,
		IdempotencyKey: m.Delivery.IdempotencyKey(),
		EventID:        m.Event.ID,
		Source:         m.Event.Source,
		Topic:          m.Event.Topic,
		Attempt:        m.Attempt,
		ReceivedAt:     m.Event.ReceivedAt.UTC(),
		Body:           m.Body(),
	}
	for _, kv := range traceContext(ctx) { // traceparent, tracestate: when tracing is on
		if kv[0] == "traceparent" {
			line.Traceparent = kv[1]
		} else {
			line.Tracestate = kv[1]
		}
	}
	if !json.Valid(line.Body) {
		line.Body, _ = json.Marshal(base64.StdEncoding.EncodeToString(line.Body))
		line.BodyEncoding = "base64"
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	line.DeliveredAt = f.now().UTC()
	var buf bytes.Buffer
	buf.WriteByte('\n') // ends a torn line; dropped below if none
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep bodies as close to the original as JSON allows
	if err := enc.Encode(line); err != nil {
		return Response{Err: fmt.Errorf("file %s: encode: %w", f.path, err)}
	}
	if f.f == nil {
		if err := f.open(); err != nil {
			return Response{Err: fmt.Errorf("file %s: %w", f.path, err)}
		}
	}
	if f.maxBytes > 0 && f.size > 0 && f.size+int64(buf.Len()-1) > f.maxBytes {
		if err := f.rotate(); err != nil { // ends a torn line in the old file
			return Response{Err: fmt.Errorf("file %s: rotate: %w", f.path, err)}
		}
	}
	out := buf.Bytes()
	if !f.torn {
		out = out[1:]
	}
	n, err := f.f.Write(out)
	f.size += int64(n)
	if err != nil {
		f.torn = f.torn || n > 0
		return Response{Err: fmt.Errorf("file %s: %w", f.path, err)}
	}
	f.torn = false
	if err := f.f.Sync(); err != nil {
		return Response{Err: fmt.Errorf("file %s: sync: %w", f.path, err)}
	}
	return Response{}
}

// Close closes the file. Call it after the last Send.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	return f.f.Close()
}

var _ Sender = (*File)(nil)
