package dest

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/hookyard/hookyard/internal/config"
)

// Kafka produces deliveries to a Kafka topic with an idempotent producer
// (franz-go's default: acks from all in-sync replicas, sequence numbers per
// partition), and waits until the record is acknowledged. The idempotent
// producer keeps the client's own retries from writing a record twice; it
// cannot recognise hookyard's redelivery after a failed attempt, so each
// record carries the delivery's idempotency key as the header
// idempotency_key, the same on every retry and replay, for consumers to
// deduplicate by.
//
// The record key is the delivery's ordering key when the route has one
// (so one key's records share a partition, in order), else none.
type Kafka struct {
	name    string
	topic   string
	timeout time.Duration
	client  *kgo.Client
}

// NewKafka returns the sender for a kafka destination. The client connects
// on first use.
func NewKafka(d config.Destination, o Options) (*Kafka, error) {
	if len(d.Brokers) == 0 || d.Topic == "" {
		return nil, fmt.Errorf("destination %q: brokers and topic are required for type kafka", d.Name)
	}
	timeout := cmp.Or(max(d.Timeout.D(), 0), DefaultTimeout)
	client, err := kgo.NewClient(
		kgo.SeedBrokers(d.Brokers...),
		kgo.DefaultProduceTopic(d.Topic),
		kgo.ClientID("hookyard"),
		kgo.SoftwareNameAndVersion("hookyard", cmp.Or(o.Version, "dev")),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(cmp.Or(max(d.Concurrency, 0), DefaultConcurrency)*4),
	)
	if err != nil {
		return nil, fmt.Errorf("destination %q: kafka: %w", d.Name, err)
	}
	return &Kafka{name: d.Name, topic: d.Topic, timeout: timeout, client: client}, nil
}

// Send produces m and waits for the acknowledgement.
func (k *Kafka) Send(ctx context.Context, m *Message) Response {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	r := &kgo.Record{
		Value: m.Body(),
		Headers: []kgo.RecordHeader{
			{Key: "idempotency_key", Value: []byte(m.Delivery.IdempotencyKey())},
			{Key: "event_id", Value: []byte(m.Event.ID)},
			{Key: "delivery_id", Value: []byte(m.Delivery.ID)},
			{Key: "source", Value: []byte(m.Event.Source)},
			{Key: "topic", Value: []byte(m.Event.Topic)},
			{Key: "attempt", Value: []byte(strconv.Itoa(m.Attempt))},
			{Key: "content-type", Value: []byte(m.contentType())},
		},
	}
	for _, kv := range traceContext(ctx) { // traceparent, tracestate: when tracing is on
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: kv[0], Value: []byte(kv[1])})
	}
	if m.Delivery.OrderingKey != "" {
		r.Key = []byte(m.Delivery.OrderingKey)
	}
	if err := k.client.ProduceSync(ctx, r).FirstErr(); err != nil {
		return Response{Err: fmt.Errorf("kafka: produce to %s: %w", k.topic, err)}
	}
	return Response{}
}

// Close flushes nothing (every Send waited) and closes the client. Call it
// after the last Send.
func (k *Kafka) Close() error {
	k.client.Close()
	return nil
}

var _ Sender = (*Kafka)(nil)
