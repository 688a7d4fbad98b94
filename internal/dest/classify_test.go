package dest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/dest"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestClassify checks that the outcomes senders state reach the worker's
// classifier as intended, although dest does not import deliver.
func TestClassify(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request reached the loopback listener")
	}))
	defer srv.Close()
	h, err := dest.NewHTTP(config.Destination{Name: "oms", Type: "http", URL: srv.URL}, dest.Options{SSRFGuard: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	s, err := dest.NewSQL(config.Destination{Name: "wh", Type: "sqlite", DSN: filepath.Join(t.TempDir(), "w.db"),
		Tables: map[string]config.Table{"t": {Key: []string{"id"}}}}, dest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	m := &dest.Message{
		Event:    &webhook.Event{ID: "evt_1", Body: []byte(`{"nope": [{"id": 1}]}`), Headers: http.Header{}},
		Delivery: &webhook.Delivery{ID: "dlv_1"},
		Attempt:  1,
	}
	tests := []struct {
		name      string
		sender    dest.Sender
		wantClass string
	}{
		{"ssrf", h, webhook.ClassSSRFBlocked},
		{"sql unknown table", s, webhook.ClassTransform},
	}
	for _, tt := range tests {
		r := tt.sender.Send(context.Background(), m)
		o := deliver.Classify(r.StatusCode, r.Header, r.Err, time.Now())
		if o.OK() || !o.Permanent || o.Class != tt.wantClass {
			t.Errorf("%s: outcome %+v; want permanent, class %s", tt.name, o, tt.wantClass)
		}
	}
}
