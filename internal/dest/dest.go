// Package dest sends one delivery attempt to a destination: one file per
// destination kind (http.go, file.go, sql.go, nats.go, amqp.go, redis.go,
// kafka.go), each built from its config.Destination, plus the SSRF guard
// (ssrf.go) and outbound signing (sign.go). A sender reports what happened
// — the response or the error — and leaves its meaning (success, retry,
// dead letter) to the deliver package, which this package does not import;
// where a sender knows better than a reading of the error (an SSRF
// refusal, a payload that can never fit), it says so with an
// *outcome.Error.
package dest

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Sender delivers messages to one destination. Send is safe for concurrent
// use; Close releases the destination's resources once no Send is running.
type Sender interface {
	Send(ctx context.Context, m *Message) Response
	Close() error
}

// BatchSender is a Sender that can also deliver several messages at once,
// more cheaply than one by one (an SQL destination writes them in one
// transaction). SendBatch returns one Response per message, in order; a
// message that cannot be written fails alone, without failing the others.
type BatchSender interface {
	Sender
	SendBatch(ctx context.Context, ms []*Message) []Response
}

// Message is one attempt to deliver an event. Event, Delivery and Attempt
// are required.
type Message struct {
	Event    *webhook.Event
	Delivery *webhook.Delivery
	Attempt  int // 1-based attempt number within the delivery's budget
	// Payload, when non-nil, is what is sent instead of Event.Body: a
	// route's transform output, which is JSON.
	Payload []byte
}

// Body returns what m delivers: Payload when set, else the event body.
func (m *Message) Body() []byte {
	if m.Payload != nil {
		return m.Payload
	}
	return m.Event.Body
}

// traceContext returns the W3C trace context of the attempt span in ctx as
// name/value pairs — traceparent, then tracestate when there is one — for
// the broker destinations to send as message headers, the way the HTTP
// destination sends HTTP headers. It is empty when tracing is off (ctx
// carries no span), so nothing is sent then.
func traceContext(ctx context.Context) [][2]string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	var out [][2]string
	for _, k := range []string{"traceparent", "tracestate"} {
		if v := c[k]; v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// contentType is the media type of m.Body(): JSON for a transform's output,
// else the type the event arrived with.
func (m *Message) contentType() string {
	if m.Payload != nil {
		return "application/json"
	}
	return cmp.Or(m.Event.Headers.Get("Content-Type"), "application/json")
}

// Response is what one attempt produced. HTTP senders fill StatusCode,
// Header and Body when a response arrived; other senders report success as
// a zero StatusCode with a nil Err. Err is the transport or sender error,
// unwrapped by the sender, so a classifier can see timeouts.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte // at most webhook.MaxAttemptResponse bytes
	Err        error
}

// OK reports whether the attempt succeeded: no error, and a 2xx status or
// none at all.
func (r Response) OK() bool {
	return r.Err == nil && (r.StatusCode == 0 || r.StatusCode >= 200 && r.StatusCode <= 299)
}

// Options are the settings a destination's config does not carry. Zero
// values are usable.
type Options struct {
	// Version is sent as User-Agent "hookyard/<version>"; default "dev".
	Version string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Control, if set, is called by the HTTP dialer after resolving and
	// before connecting (net.Dialer.Control): the place for an address
	// guard such as an SSRF filter. An error it returns fails the attempt
	// and reaches Response.Err wrapped only by net and url errors.
	Control func(network, address string, c syscall.RawConn) error
	// TLSConfig, if set, is cloned as the base of the HTTP client's TLS
	// config (roots for a private CA, client certificates). MinVersion is
	// raised to TLS 1.2 regardless. A destination's tls keys override it.
	TLSConfig *tls.Config
	// SSRFGuard makes the HTTP dialer refuse private, loopback, link-local
	// and other internal addresses at connect time (ssrf.go), except those
	// in AllowPrivate or the destination's allow_private. It runs before
	// Control.
	SSRFGuard bool
	// AllowPrivate is server.allow_private: networks every HTTP destination
	// may reach despite the guard. Metadata addresses stay refused.
	AllowPrivate []netip.Prefix
	// Resolver, if set, resolves host names for the HTTP dialer; default
	// the system resolver.
	Resolver *net.Resolver
	// Dir is the directory relative file names in a destination's config
	// (tls files) are resolved against: the config file's directory.
	Dir string
}

// New returns the sender for d's type.
func New(d config.Destination, o Options) (Sender, error) {
	switch d.Type {
	case "http":
		return NewHTTP(d, o)
	case "file":
		return NewFile(d, o)
	case "postgres", "mysql", "sqlite":
		return NewSQL(d, o)
	case "nats":
		return NewNATS(d, o)
	case "amqp":
		return NewAMQP(d, o)
	case "redis":
		return NewRedis(d, o)
	case "kafka":
		return NewKafka(d, o)
	}
	return nil, fmt.Errorf("destination %q: unknown type %q (want http, file, postgres, mysql, sqlite, nats, amqp, redis or kafka)", d.Name, d.Type)
}
