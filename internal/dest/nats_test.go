package dest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
)

// testURL returns the variable's value, or skips the test saying how to
// run it.
func testURL(t *testing.T, env, example, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("%s is unset; set it (e.g. %s) to test the %s destination against a real server", env, example, what)
	}
	return v
}

func TestNATS(t *testing.T) {
	url := testURL(t, "HOOKYARD_TEST_NATS_URL", "nats://127.0.0.1:4222", "nats")
	ctx := t.Context()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	suffix := randomHex(t)
	name, subject := "HOOKYARD_TEST_"+suffix, "hookyard.test."+suffix
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{subject}, Storage: jetstream.MemoryStorage, Duplicates: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer js.DeleteStream(context.Background(), name)

	n, err := NewNATS(config.Destination{Name: "bus", Type: "nats", URL: url, Subject: subject}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	m := message([]byte(`{"id":1}`), "")
	// A redelivery (a retry after a lost ack, or a replay) is stored once.
	for attempt := 1; attempt <= 3; attempt++ {
		m.Attempt = attempt
		wantOK(t, n.Send(ctx, m))
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages after three attempts of one delivery, want 1", info.State.Msgs)
	}
	got, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"Nats-Msg-Id": "hy_dlv_1", "Hookyard-Event-Id": "evt_1", "Hookyard-Topic": "orders/create",
		"Hookyard-Source": "shop", "Hookyard-Attempt": "1", "Content-Type": "application/json",
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if string(got.Data) != `{"id":1}` {
		t.Errorf("data = %q", got.Data)
	}
	if v := got.Header.Get("traceparent"); v != "" {
		t.Errorf("untraced send carries traceparent %q", v)
	}

	// Another delivery is another message; a payload replaces the body.
	m2 := message([]byte(`{"id":1}`), "")
	m2.Delivery.ID = "dlv_2"
	m2.Payload = []byte(`{"slim":true}`)
	// With tracing on, the attempt's span travels as W3C trace context.
	tctx, traceparent, tracestate := traced(t, m2)
	wantOK(t, n.Send(tctx, m2))
	if got, err := stream.GetMsg(ctx, 2); err != nil || string(got.Data) != `{"slim":true}` || got.Header.Get("Nats-Msg-Id") != "hy_dlv_2" {
		t.Fatalf("second message: %v, %+v", err, got)
	} else if got.Header.Get("traceparent") != traceparent || got.Header.Get("tracestate") != tracestate {
		t.Errorf("trace context %q, %q; want %q, %q", got.Header.Get("traceparent"), got.Header.Get("tracestate"), traceparent, tracestate)
	}

	// A subject no stream listens on: a retry, not a dead letter.
	none, err := NewNATS(config.Destination{Name: "bus", Type: "nats", URL: url, Subject: "hookyard.nostream." + suffix, Timeout: config.Duration(2 * time.Second)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	if r := none.Send(ctx, m); r.OK() || outcome.IsPermanent(r.Err) {
		t.Fatalf("Send without a stream = %v, want a retryable error", r.Err)
	}
}

// TestNATSDown: a server that is down at start is not a construction
// error; sends fail (and retry) until it is back.
func TestNATSDown(t *testing.T) {
	n, err := NewNATS(config.Destination{Name: "bus", Type: "nats", URL: "nats://127.0.0.1:1", Subject: "a", Timeout: config.Duration(300 * time.Millisecond)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	r := n.Send(t.Context(), message([]byte(`{}`), ""))
	if r.OK() || outcome.IsPermanent(r.Err) {
		t.Fatalf("Send = %v, want a retryable error", r.Err)
	}
	t.Logf("Send: %v", r.Err)
}
