// Package dest sends one delivery attempt to a destination: one file per
// destination kind (http.go, file.go), each built from its
// config.Destination. A sender only reports what happened — the response or
// the error, unchanged — and leaves its meaning (success, retry, dead
// letter) to the deliver package, which this package does not import.
package dest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Sender delivers messages to one destination. Send is safe for concurrent
// use; Close releases the destination's resources once no Send is running.
type Sender interface {
	Send(ctx context.Context, m *Message) Response
	Close() error
}

// Message is one attempt to deliver an event. Every field is required.
type Message struct {
	Event    *webhook.Event
	Delivery *webhook.Delivery
	Attempt  int // 1-based attempt number within the delivery's budget
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
	// raised to TLS 1.2 regardless.
	TLSConfig *tls.Config
}

// New returns the sender for d's type.
func New(d config.Destination, o Options) (Sender, error) {
	switch d.Type {
	case "http":
		return NewHTTP(d, o)
	case "file":
		return NewFile(d, o)
	}
	return nil, fmt.Errorf("destination %q: unknown type %q (want http or file)", d.Name, d.Type)
}
