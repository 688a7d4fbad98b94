package dest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookyard/hookyard/internal/config"
)

// AMQP publishes deliveries to a RabbitMQ (AMQP 0-9-1) exchange as
// persistent messages and waits for the broker's publisher confirm, so a
// successful Send is stored by the broker. Messages are published
// mandatory: one that no queue is bound to receive comes back and fails
// the attempt (it retries) instead of vanishing. The message id is the
// delivery's idempotency key, the same on every retry and replay;
// RabbitMQ itself does not deduplicate, so consumers (or the
// message-deduplication plugin, which reads x-deduplication-header) must.
//
// Each in-flight Send uses a channel of its own from a small pool over one
// connection; a connection or channel that fails is dropped and re-made
// by the next Send.
type AMQP struct {
	name       string
	url        string
	exchange   string
	routingKey string
	timeout    time.Duration
	version    string
	now        func() time.Time

	mu     sync.Mutex
	conn   *amqp.Connection
	idle   []*amqpChannel
	closed bool
}

// amqpChannel is a confirm-mode channel and its notifications.
type amqpChannel struct {
	ch      *amqp.Channel
	returns chan amqp.Return
	closes  chan *amqp.Error
}

// amqpDialTimeout bounds connecting and the AMQP handshake.
const amqpDialTimeout = 10 * time.Second

// NewAMQP returns the sender for an amqp destination. It does not connect:
// a broker that is down at start makes deliveries retry, not hookyard
// fail.
func NewAMQP(d config.Destination, o Options) (*AMQP, error) {
	if d.URL == "" {
		return nil, fmt.Errorf("destination %q: url is required for type amqp", d.Name)
	}
	if _, err := amqp.ParseURI(d.URL); err != nil {
		return nil, fmt.Errorf("destination %q: url: not an amqp:// or amqps:// URI", d.Name)
	}
	if d.Exchange == "" && d.RoutingKey == "" {
		return nil, fmt.Errorf("destination %q: routing_key is required with the default exchange", d.Name)
	}
	a := &AMQP{
		name:       d.Name,
		url:        d.URL,
		exchange:   d.Exchange,
		routingKey: d.RoutingKey,
		timeout:    cmp.Or(max(d.Timeout.D(), 0), DefaultTimeout),
		version:    cmp.Or(o.Version, "dev"),
		now:        o.Now,
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// Send publishes m and waits for the confirm.
func (a *AMQP) Send(ctx context.Context, m *Message) Response {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	c, err := a.channel(ctx)
	if err != nil {
		return Response{Err: err}
	}
	key := m.Delivery.IdempotencyKey()
	headers := amqp.Table{
		"hookyard-delivery-id":   m.Delivery.ID,
		"hookyard-event-id":      m.Event.ID,
		"hookyard-source":        m.Event.Source,
		"hookyard-topic":         m.Event.Topic,
		"hookyard-attempt":       strconv.Itoa(m.Attempt),
		"x-deduplication-header": key,
	}
	for _, kv := range traceContext(ctx) { // traceparent, tracestate: when tracing is on
		headers[kv[0]] = kv[1]
	}
	dc, err := c.ch.PublishWithDeferredConfirmWithContext(ctx, a.exchange, a.routingKey, true, false, amqp.Publishing{
		Headers:      headers,
		ContentType:  m.contentType(),
		DeliveryMode: amqp.Persistent,
		MessageId:    key,
		Timestamp:    a.now(),
		AppId:        "hookyard/" + a.version,
		Body:         m.Body(),
	})
	if err != nil {
		a.discard(c)
		return Response{Err: fmt.Errorf("amqp: publish: %w", err)}
	}
	ack, err := dc.WaitContext(ctx)
	if err != nil {
		a.discard(c) // its confirm is outstanding: never reuse it
		return Response{Err: fmt.Errorf("amqp: waiting for the confirm: %w", err)}
	}
	if !ack {
		// A nack, or the channel closed (an exchange that does not exist
		// closes it with 404): report the broker's reason when it gave one.
		a.discard(c)
		select {
		case e := <-c.closes:
			if e != nil {
				return Response{Err: fmt.Errorf("amqp: not confirmed: %w", e)}
			}
		default:
		}
		return Response{Err: errors.New("amqp: the broker did not confirm the message (nack)")}
	}
	// The broker sends basic.return before the ack, and the client hands
	// it to c.returns before resolving the confirm, so an unroutable
	// message is already waiting here.
drain:
	for {
		select {
		case r := <-c.returns:
			if r.MessageId != key {
				continue // left over from an earlier, abandoned publish
			}
			a.release(c)
			return Response{Err: fmt.Errorf("amqp: unroutable: no queue is bound to exchange %q for routing key %q (%d %s)",
				a.exchange, a.routingKey, r.ReplyCode, r.ReplyText)}
		default:
			break drain
		}
	}
	a.release(c)
	return Response{}
}

// channel returns an idle channel, or opens one (connecting first when
// there is no live connection).
func (a *AMQP) channel(ctx context.Context) (*amqpChannel, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("amqp: destination closed")
	}
	for len(a.idle) > 0 {
		c := a.idle[len(a.idle)-1]
		a.idle = a.idle[:len(a.idle)-1]
		if !c.ch.IsClosed() {
			return c, nil
		}
	}
	if a.conn == nil || a.conn.IsClosed() {
		timeout := amqpDialTimeout
		if dl, ok := ctx.Deadline(); ok {
			timeout = min(timeout, time.Until(dl))
		}
		props := amqp.NewConnectionProperties()
		props.SetClientConnectionName("hookyard " + a.name)
		conn, err := amqp.DialConfig(a.url, amqp.Config{
			Heartbeat:  10 * time.Second,
			Locale:     "en_US",
			Properties: props,
			Dial:       amqp.DefaultDial(timeout),
		})
		if err != nil {
			// amqp errors do not quote the URL's password.
			return nil, fmt.Errorf("amqp: connect: %w", err)
		}
		a.conn = conn
	}
	ch, err := a.conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("amqp: open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, fmt.Errorf("amqp: confirm mode: %w", err)
	}
	return &amqpChannel{
		ch: ch,
		// Buffered: the client delivers notifications from its reader
		// goroutine, which a full channel would stall.
		returns: ch.NotifyReturn(make(chan amqp.Return, 4)),
		closes:  ch.NotifyClose(make(chan *amqp.Error, 1)),
	}, nil
}

// release returns c to the pool.
func (a *AMQP) release(c *amqpChannel) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || c.ch.IsClosed() {
		_ = c.ch.Close()
		return
	}
	a.idle = append(a.idle, c)
}

// discard closes c instead of pooling it.
func (a *AMQP) discard(c *amqpChannel) { _ = c.ch.Close() }

// Close closes the pooled channels and the connection. Call it after the
// last Send.
func (a *AMQP) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for _, c := range a.idle {
		_ = c.ch.Close()
	}
	a.idle = nil
	if a.conn != nil && !a.conn.IsClosed() {
		return a.conn.Close()
	}
	return nil
}

var _ Sender = (*AMQP)(nil)
