package dest

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
)

// amqpQueue declares a fresh queue on the default exchange and returns a
// channel to read it with; both are deleted at the end.
func amqpQueue(t *testing.T, url string) (*amqp.Channel, string) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("hookyard.test."+randomHex(t), true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := ch.QueueDelete(q.Name, false, false, false); err != nil {
			t.Errorf("delete queue: %v", err)
		}
	})
	return ch, q.Name
}

func drain(t *testing.T, ch *amqp.Channel, queue string) []amqp.Delivery {
	t.Helper()
	var out []amqp.Delivery
	for {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, d)
	}
}

func TestAMQP(t *testing.T) {
	url := testURL(t, "HOOKYARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/", "amqp")
	ch, queue := amqpQueue(t, url)
	a, err := NewAMQP(config.Destination{Name: "mq", Type: "amqp", URL: url, RoutingKey: queue}, Options{
		Now: func() time.Time { return deliveredAt },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	m := message([]byte(`{"id":1}`), "")
	wantOK(t, a.Send(t.Context(), m))
	m.Attempt++
	wantOK(t, a.Send(t.Context(), m)) // a redelivery
	other := message([]byte(`{"id":2}`), "")
	other.Delivery.ID = "dlv_2"
	tctx, traceparent, tracestate := traced(t, other) // tracing on
	wantOK(t, a.Send(tctx, other))

	got := drain(t, ch, queue)
	if len(got) != 3 {
		t.Fatalf("queue holds %d messages, want 3", len(got))
	}
	d := got[0]
	if d.MessageId != "hy_dlv_1" || d.DeliveryMode != amqp.Persistent || d.ContentType != "application/json" ||
		string(d.Body) != `{"id":1}` || !d.Timestamp.Equal(deliveredAt) || d.Headers["hookyard-event-id"] != "evt_1" ||
		d.Headers["x-deduplication-header"] != "hy_dlv_1" {
		t.Errorf("message = %+v", d)
	}
	if v, ok := d.Headers["traceparent"]; ok {
		t.Errorf("untraced send carries traceparent %v", v)
	}
	if h := got[2].Headers; h["traceparent"] != traceparent || h["tracestate"] != tracestate {
		t.Errorf("trace context %v, %v; want %q, %q", h["traceparent"], h["tracestate"], traceparent, tracestate)
	}
	// RabbitMQ stores a redelivery again; it carries the same message id,
	// so a consumer that deduplicates by it applies the delivery once.
	applied := map[string]int{}
	for _, d := range got {
		applied[d.MessageId]++
	}
	if len(applied) != 2 || applied["hy_dlv_1"] != 2 {
		t.Errorf("message ids %v: want hy_dlv_1 twice and hy_dlv_2 once", applied)
	}
}

// TestAMQPFailures: an unroutable message and a missing exchange fail the
// attempt (to retry), and the sender recovers from the closed channel.
func TestAMQPFailures(t *testing.T) {
	url := testURL(t, "HOOKYARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/", "amqp")
	ch, queue := amqpQueue(t, url)
	m := message([]byte(`{}`), "")

	unroutable, err := NewAMQP(config.Destination{Name: "mq", Type: "amqp", URL: url, Exchange: "amq.direct", RoutingKey: "nobody." + queue}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer unroutable.Close()
	for range 2 { // the channel is reused after a return
		r := unroutable.Send(t.Context(), m)
		if r.OK() || outcome.IsPermanent(r.Err) || !strings.Contains(r.Err.Error(), "unroutable") {
			t.Fatalf("unroutable Send = %v, want a retryable unroutable error", r.Err)
		}
		t.Logf("unroutable: %v", r.Err)
	}

	missing, err := NewAMQP(config.Destination{Name: "mq", Type: "amqp", URL: url, Exchange: "hookyard.missing." + queue, RoutingKey: "x"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer missing.Close()
	r := missing.Send(t.Context(), m)
	if r.OK() || outcome.IsPermanent(r.Err) || !strings.Contains(r.Err.Error(), "404") {
		t.Fatalf("missing exchange Send = %v, want a retryable error naming 404", r.Err)
	}
	t.Logf("missing exchange: %v", r.Err)

	// Once the exchange exists (bound to the queue), the next attempt
	// succeeds on a fresh channel.
	exchange := "hookyard.missing." + queue
	if err := ch.ExchangeDeclare(exchange, "direct", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(queue, "x", exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	wantOK(t, missing.Send(t.Context(), m))
	if got := drain(t, ch, queue); len(got) != 1 {
		t.Fatalf("queue holds %d messages, want 1", len(got))
	}
}

func TestAMQPDown(t *testing.T) {
	a, err := NewAMQP(config.Destination{Name: "mq", Type: "amqp", URL: "amqp://guest:s3cret@127.0.0.1:1/", RoutingKey: "q"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r := a.Send(t.Context(), message([]byte(`{}`), ""))
	if r.OK() || outcome.IsPermanent(r.Err) || strings.Contains(r.Err.Error(), "s3cret") {
		t.Fatalf("Send = %v, want a retryable error without the password", r.Err)
	}
}
