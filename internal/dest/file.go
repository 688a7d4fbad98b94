package dest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
type File struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	f    *os.File
	torn bool // the last write stopped part-way; end that line first
}

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
	f, err := os.OpenFile(d.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %w", d.Name, err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &File{path: d.Path, now: now, f: f}, nil
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
		Body:           m.Event.Body,
	}
	if !json.Valid(m.Event.Body) {
		line.Body, _ = json.Marshal(base64.StdEncoding.EncodeToString(m.Event.Body))
		line.BodyEncoding = "base64"
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	line.DeliveredAt = f.now().UTC()
	var buf bytes.Buffer
	if f.torn {
		buf.WriteByte('\n')
	}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep bodies as close to the original as JSON allows
	if err := enc.Encode(line); err != nil {
		return Response{Err: fmt.Errorf("file %s: encode: %w", f.path, err)}
	}
	n, err := f.f.Write(buf.Bytes())
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
	return f.f.Close()
}

var _ Sender = (*File)(nil)
