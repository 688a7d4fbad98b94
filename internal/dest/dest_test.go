package dest

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var receivedAt = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

// message returns a message for attempt 3 of delivery dlv_1 of event evt_1.
func message(body []byte, contentType string) *Message {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &Message{
		Event: &webhook.Event{
			ID:         "evt_1",
			Source:     "shop",
			Provider:   "shopify",
			Topic:      "orders/create",
			ReceivedAt: receivedAt,
			Headers:    h,
			Body:       body,
		},
		Delivery: &webhook.Delivery{ID: "dlv_1", EventID: "evt_1", Destination: "oms"},
		Attempt:  3,
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		d       config.Destination
		want    string // type name; "" means an error
		wantErr bool
	}{
		{d: config.Destination{Name: "a", Type: "http", URL: "http://example.com/hook"}, want: "*dest.HTTP"},
		{d: config.Destination{Name: "b", Type: "file", Path: filepath.Join(t.TempDir(), "out.jsonl")}, want: "*dest.File"},
		{d: config.Destination{Name: "c", Type: "nats"}, wantErr: true},
		{d: config.Destination{Name: "d"}, wantErr: true},
		{d: config.Destination{Name: "e", Type: "file"}, wantErr: true},
		{d: config.Destination{Name: "f", Type: "http"}, wantErr: true},
		{d: config.Destination{Name: "g", Type: "sqlite", DSN: filepath.Join(t.TempDir(), "w.db"), Tables: map[string]config.Table{"t": {Key: []string{"id"}}}}, want: "*dest.SQL"},
		{d: config.Destination{Name: "h", Type: "postgres", DSN: "postgres://127.0.0.1:1/x", Tables: map[string]config.Table{"t": {Key: []string{"id"}}}}, want: "*dest.SQL"},
		{d: config.Destination{Name: "i", Type: "mysql", DSN: "u@tcp(127.0.0.1:1)/x"}, wantErr: true}, // no tables
		{d: config.Destination{Name: "j", Type: "nats", URL: "nats://127.0.0.1:1", Subject: "s"}, want: "*dest.NATS"},
		{d: config.Destination{Name: "k", Type: "amqp", URL: "amqp://127.0.0.1:1/", RoutingKey: "q"}, want: "*dest.AMQP"},
		{d: config.Destination{Name: "l", Type: "amqp", URL: "http://127.0.0.1:1/", RoutingKey: "q"}, wantErr: true},
		{d: config.Destination{Name: "m", Type: "redis", URL: "redis://127.0.0.1:1/0", Stream: "s"}, want: "*dest.Redis"},
		{d: config.Destination{Name: "n", Type: "redis", URL: "redis://127.0.0.1:1/0"}, wantErr: true}, // no stream
		{d: config.Destination{Name: "o", Type: "kafka", Brokers: []string{"127.0.0.1:1"}, Topic: "t"}, want: "*dest.Kafka"},
		{d: config.Destination{Name: "p", Type: "kafka", Topic: "t"}, wantErr: true},
	}
	for _, tt := range tests {
		s, err := New(tt.d, Options{})
		if tt.wantErr {
			if err == nil {
				t.Errorf("New(%+v): no error", tt.d)
				s.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%+v): %v", tt.d, err)
			continue
		}
		if got := typeName(s); got != tt.want {
			t.Errorf("New(%+v) = %s, want %s", tt.d, got, tt.want)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func typeName(s Sender) string {
	switch s.(type) {
	case *HTTP:
		return "*dest.HTTP"
	case *File:
		return "*dest.File"
	case *SQL:
		return "*dest.SQL"
	case *NATS:
		return "*dest.NATS"
	case *AMQP:
		return "*dest.AMQP"
	case *Redis:
		return "*dest.Redis"
	case *Kafka:
		return "*dest.Kafka"
	}
	return "?"
}

func TestResponseOK(t *testing.T) {
	tests := []struct {
		r    Response
		want bool
	}{
		{Response{}, true},
		{Response{StatusCode: 200}, true},
		{Response{StatusCode: 204}, true},
		{Response{StatusCode: 299}, true},
		{Response{StatusCode: 302}, false},
		{Response{StatusCode: 199}, false},
		{Response{StatusCode: 500}, false},
		{Response{Err: http.ErrHandlerTimeout}, false},
		{Response{StatusCode: 200, Err: http.ErrHandlerTimeout}, false},
	}
	for _, tt := range tests {
		if got := tt.r.OK(); got != tt.want {
			t.Errorf("%+v.OK() = %v, want %v", tt.r, got, tt.want)
		}
	}
}
