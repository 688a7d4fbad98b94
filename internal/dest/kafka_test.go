package dest

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
)

// TestKafka runs against franz-go's in-process Kafka (kfake), so it needs
// no server.
func TestKafka(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()

	k, err := NewKafka(config.Destination{Name: "log", Type: "kafka", Brokers: cluster.ListenAddrs(), Topic: "orders"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()

	m := message([]byte(`{"id":1}`), "")
	m.Delivery.OrderingKey = "order-1"
	wantOK(t, k.Send(t.Context(), m))
	m.Attempt++
	wantOK(t, k.Send(t.Context(), m)) // a redelivery after, say, a lost ack
	m2 := message([]byte(`{"id":2}`), "")
	m2.Delivery.ID = "dlv_2"
	m2.Payload = []byte(`{"slim":2}`)
	tctx, traceparent, tracestate := traced(t, m2) // tracing on
	wantOK(t, k.Send(tctx, m2))

	// The producer is idempotent: the cluster gave it a producer id.
	if id, _, err := k.client.ProducerID(t.Context()); err != nil || id < 0 {
		t.Errorf("ProducerID = %d, %v; want an idempotent producer", id, err)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var recs []*kgo.Record
	for len(recs) < 3 {
		fs := consumer.PollFetches(t.Context())
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, fs.Records()...)
	}

	// Kafka stores the redelivery again; both copies carry the same
	// idempotency_key, so a consumer that deduplicates by it applies the
	// delivery once.
	applied := map[string]int{}
	for _, r := range recs {
		h := map[string]string{}
		for _, kv := range r.Headers {
			h[kv.Key] = string(kv.Value)
		}
		applied[h["idempotency_key"]]++
		switch h["idempotency_key"] {
		case "hy_dlv_1":
			if string(r.Key) != "order-1" || string(r.Value) != `{"id":1}` || h["event_id"] != "evt_1" || h["topic"] != "orders/create" {
				t.Errorf("record %+v, headers %v", r, h)
			}
			if _, ok := h["traceparent"]; ok {
				t.Errorf("untraced record has a traceparent: %v", h)
			}
		case "hy_dlv_2":
			if r.Key != nil || string(r.Value) != `{"slim":2}` || h["content-type"] != "application/json" ||
				h["traceparent"] != traceparent || h["tracestate"] != tracestate {
				t.Errorf("record %+v, headers %v; want traceparent %s, tracestate %s", r, h, traceparent, tracestate)
			}
		}
	}
	if len(applied) != 2 || applied["hy_dlv_1"] != 2 {
		t.Errorf("idempotency keys %v: want hy_dlv_1 twice and hy_dlv_2 once", applied)
	}
}

func TestKafkaDown(t *testing.T) {
	k, err := NewKafka(config.Destination{Name: "log", Type: "kafka", Brokers: []string{"127.0.0.1:1"}, Topic: "orders",
		Timeout: config.Duration(500 * time.Millisecond)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if r := k.Send(t.Context(), message([]byte(`{}`), "")); r.OK() || outcome.IsPermanent(r.Err) {
		t.Fatalf("Send = %v, want a retryable error", r.Err)
	}
}
