package dest

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookyard/hookyard/internal/config"
)

// NATS publishes deliveries to a JetStream subject and waits for the
// stream's acknowledgement, so a successful Send is stored by the stream.
// The Nats-Msg-Id header is the delivery's idempotency key: the stream
// drops a redelivery inside its duplicate window (StreamConfig.Duplicates,
// two minutes unless configured), and consumers can deduplicate by it
// beyond that window. The stream must exist; hookyard does not create it.
type NATS struct {
	name    string
	subject string
	timeout time.Duration
	nc      *nats.Conn
	js      jetstream.JetStream
}

// NewNATS returns the sender for a nats destination. The connection is
// made in the background and re-made whenever it drops, so a server that is
// down at start makes deliveries retry, not hookyard fail.
func NewNATS(d config.Destination, o Options) (*NATS, error) {
	if d.URL == "" || d.Subject == "" {
		return nil, fmt.Errorf("destination %q: url and subject are required for type nats", d.Name)
	}
	nc, err := nats.Connect(d.URL,
		nats.Name("hookyard/"+cmp.Or(o.Version, "dev")+" "+d.Name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
	)
	if err != nil {
		// nats errors do not quote the URL, but keep it out regardless.
		return nil, fmt.Errorf("destination %q: nats: %w", d.Name, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("destination %q: jetstream: %w", d.Name, err)
	}
	return &NATS{
		name:    d.Name,
		subject: d.Subject,
		timeout: cmp.Or(max(d.Timeout.D(), 0), DefaultTimeout),
		nc:      nc,
		js:      js,
	}, nil
}

// Send publishes m and waits for the PubAck. A duplicate (the stream had
// the idempotency key already) is a success.
func (n *NATS) Send(ctx context.Context, m *Message) Response {
	if !n.nc.IsConnected() {
		// Publishing now would fail with a misleading "headers not
		// supported": the server's features are unknown until connected.
		return Response{Err: fmt.Errorf("nats: not connected (%s); the client keeps reconnecting", n.nc.Status())}
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	msg := &nats.Msg{Subject: n.subject, Data: m.Body(), Header: nats.Header{}}
	msg.Header.Set("Content-Type", m.contentType())
	msg.Header.Set("Hookyard-Delivery-Id", m.Delivery.ID)
	msg.Header.Set("Hookyard-Event-Id", m.Event.ID)
	msg.Header.Set("Hookyard-Source", m.Event.Source)
	msg.Header.Set("Hookyard-Topic", m.Event.Topic)
	msg.Header.Set("Hookyard-Attempt", strconv.Itoa(m.Attempt))
	for _, kv := range traceContext(ctx) { // traceparent, tracestate: when tracing is on
		msg.Header.Set(kv[0], kv[1])
	}
	if _, err := n.js.PublishMsg(ctx, msg, jetstream.WithMsgID(m.Delivery.IdempotencyKey())); err != nil {
		return Response{Err: fmt.Errorf("nats: publish to %s: %w", n.subject, err)}
	}
	return Response{}
}

// Close drains nothing (every Send waited for its ack) and closes the
// connection. Call it after the last Send.
func (n *NATS) Close() error {
	n.nc.Close()
	return nil
}

var _ Sender = (*NATS)(nil)
