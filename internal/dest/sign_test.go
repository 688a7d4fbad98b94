package dest

import (
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/verify"
)

const (
	secretOld = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretNew = "whsec_c2VjcmV0LXR3by1zZWNyZXQtdHdvLXR3bw=="
)

// TestHTTPSigning signs with two secrets, as during a rotation, and checks
// with hookyard's own Standard Webhooks verifier that a receiver holding
// either secret accepts the request.
func TestHTTPSigning(t *testing.T) {
	sentAt := time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC)
	srv, got := newServer(t, status(200))
	h := newHTTP(t, config.Destination{URL: srv.URL, Signing: &config.Signing{Secrets: []string{secretOld, secretNew}}},
		Options{Now: func() time.Time { return sentAt }})

	m := message([]byte(`{"id":1}`), "")
	m.Payload = []byte(`{"order_id":1}`) // the signature covers what is sent
	h.Send(t.Context(), m)
	r := <-got

	if id := r.header.Get("Webhook-Id"); id != "hy_dlv_1" {
		t.Errorf("webhook-id = %q, want the idempotency key hy_dlv_1", id)
	}
	if ts := r.header.Get("Webhook-Timestamp"); ts != "1773504000" {
		t.Errorf("webhook-timestamp = %q, want 1773504000", ts)
	}
	if sigs := strings.Fields(r.header.Get("Webhook-Signature")); len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") {
		t.Errorf("webhook-signature = %q, want two v1 signatures", sigs)
	}
	p, _ := verify.Lookup("standard-webhooks")
	for _, secret := range []string{secretOld, secretNew} {
		v, err := p.New(config.Source{Name: "in", Provider: "standard-webhooks", Secrets: []string{secret}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(&verify.Request{Header: r.header, Body: r.body, Now: sentAt.Add(time.Minute)}); err != nil {
			t.Errorf("a receiver holding %s…: %v", secret[:10], err)
		}
		if _, err := v.Verify(&verify.Request{Header: r.header, Body: []byte(`{"order_id":2}`), Now: sentAt}); err == nil {
			t.Errorf("a tampered body verified")
		}
	}

	// A retry repeats webhook-id, so receivers deduplicate it.
	m.Attempt++
	h.Send(t.Context(), m)
	if r2 := <-got; r2.header.Get("Webhook-Id") != r.header.Get("Webhook-Id") {
		t.Errorf("retry webhook-id %q differs from %q", r2.header.Get("Webhook-Id"), r.header.Get("Webhook-Id"))
	}
}

func TestHTTPSigningRejects(t *testing.T) {
	for _, tt := range []struct {
		name    string
		d       config.Destination
		errText string
	}{
		{"no secrets", config.Destination{Signing: &config.Signing{}}, "at least one"},
		{"no prefix", config.Destination{Signing: &config.Signing{Secrets: []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}, "want whsec_"},
		{"not base64", config.Destination{Signing: &config.Signing{Secrets: []string{"whsec_!!!"}}}, "not base64"},
		{"static webhook-id", config.Destination{Signing: &config.Signing{Secrets: []string{secretOld}}, Headers: map[string]string{"webhook-id": "x"}}, "set by signing"},
	} {
		tt.d.Name, tt.d.Type, tt.d.URL = "oms", "http", "http://example.com/"
		if _, err := NewHTTP(tt.d, Options{}); err == nil || !strings.Contains(err.Error(), tt.errText) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.errText)
		}
	}
}
