// Package verify proves that an inbound webhook came from its provider: one
// file per provider scheme, each exactly as the provider specifies (header
// format, signed bytes, key decoding, timestamp window), compared in constant
// time. Each provider also knows where its topic, delivery id and event time
// live, and can sign a payload exactly as the provider would (for
// `hookyard send` and tests).
package verify

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Request is what a verifier sees of an inbound webhook.
type Request struct {
	Header http.Header
	Body   []byte    // raw bytes, never re-serialised
	URL    string    // externally visible URL, for URL-bound schemes
	Now    time.Time // injected clock; zero reads the wall clock
}

// Result is what a successful verification learned.
type Result struct {
	// SecretIndex is the index of the configured secret that matched, or -1
	// when the scheme uses none (provider "none").
	SecretIndex int
	// Topic is the provider's event type ("orders/create"); may be empty.
	Topic string
	// DeliveryID is the provider's delivery or event id, used as the dedup
	// key; empty means the caller falls back to a hash of the body.
	DeliveryID string
	// Timestamp is the provider's event time when the scheme carries one.
	Timestamp time.Time
	// Handshake, when non-nil, marks a provider control request (Slack's
	// url_verification challenge, WooCommerce's unsigned setup ping): ingest
	// answers it with Handshake and neither stores nor routes it.
	Handshake *Handshake
}

// Handshake is the answer to a provider control request.
type Handshake struct {
	Status      int    // default 200
	ContentType string // default text/plain
	Body        []byte
}

// Verifier checks one source's requests. Errors wrap
// webhook.ErrBadSignature (missing or wrong signature) or
// webhook.ErrStaleTimestamp, with a message a human can act on that never
// contains a secret or the expected signature. A Verifier is safe for
// concurrent use.
type Verifier interface {
	Verify(r *Request) (Result, error)
}

// SignOptions are the provider-visible values a signer may need.
type SignOptions struct {
	Topic string    // event type header, where the provider sends one
	ID    string    // delivery/event id header, where the provider sends one; generated when empty
	Now   time.Time // timestamp to sign
	URL   string    // target URL, for URL-bound schemes
	// HMAC is the scheme provider "hmac" signs with, the same block a source
	// configures; nil means SHA-256, hex, header X-Signature, content "{body}".
	// Other providers ignore it.
	HMAC *config.HMAC
	// Token is the header provider "token" sends the secret in; nil means
	// "Authorization: Bearer <secret>". Other providers ignore it.
	Token *config.HeaderToken
	// PayPal is the block a provider "paypal" source configures; Sign reads
	// its webhook_id, which PayPal signs. Other providers ignore it.
	PayPal *config.PayPal
}

// Provider describes one signature scheme.
type Provider struct {
	Name string
	// JSON reports that the provider always sends a JSON body, so a body
	// that is not JSON is rejected with 400.
	JSON bool
	// New builds a verifier for a configured source; it validates the
	// source's secrets and options and names the offending field on error.
	New func(src config.Source) (Verifier, error)
	// Sign returns the headers the provider would send with body, signed
	// with secret.
	Sign func(secret string, body []byte, o SignOptions) (http.Header, error)
	// SignBody, when non-nil, is used instead of Sign by schemes whose
	// signature travels inside the body (Adyen's notification items): it
	// returns the body to send, signed, and its headers.
	SignBody func(secret string, body []byte, o SignOptions) ([]byte, http.Header, error)
}

// DefaultTolerance is the timestamp window, each way, of schemes that sign a
// timestamp, when the source sets none.
const DefaultTolerance = 5 * time.Minute

// badSignature returns an error wrapping webhook.ErrBadSignature. Callers pass
// only what is wrong with the request: never a secret or an expected value.
func badSignature(format string, a ...any) error {
	return fmt.Errorf("%w: %s", webhook.ErrBadSignature, fmt.Sprintf(format, a...))
}

// checkTimestamp rejects ts (unix seconds) when it is more than tol away from
// now in either direction. A zero now means the caller injected no clock; the
// wall clock is the only sensible reading then.
func checkTimestamp(ts int64, now time.Time, tol time.Duration) error {
	if now.IsZero() {
		now = time.Now()
	}
	// time.Unix overflows beyond about ±2^62 seconds; anything past ±2^40
	// (year 36812) is outside every window.
	const bound = 1 << 40
	if ts < -bound || ts > bound {
		return fmt.Errorf("%w: timestamp %d is far outside the %v window", webhook.ErrStaleTimestamp, ts, tol)
	}
	d := now.Sub(time.Unix(ts, 0))
	switch {
	case d > tol:
		return fmt.Errorf("%w: timestamp %d is %ds old, outside the %v window",
			webhook.ErrStaleTimestamp, ts, int64(d/time.Second), tol)
	case d < -tol:
		return fmt.Errorf("%w: timestamp %d is %ds in the future, outside the %v window",
			webhook.ErrStaleTimestamp, ts, int64(-d/time.Second), tol)
	}
	return nil
}

// parseUnix parses a unix-seconds header value.
func parseUnix(header, v string) (int64, error) {
	ts, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badSignature("%s %q is not unix seconds", header, clip(v))
	}
	return ts, nil
}

// clip shortens request-supplied text quoted in an error message.
func clip(s string) string {
	const limit = 40
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// tolerance returns the source's timestamp window, or DefaultTolerance.
func tolerance(src config.Source) (time.Duration, error) {
	return toleranceOr(src, DefaultTolerance)
}

// toleranceOr returns the source's timestamp window, or def when the source
// sets none (config leaves an absent tolerance zero for this reason).
func toleranceOr(src config.Source, def time.Duration) (time.Duration, error) {
	d := src.Tolerance.D()
	if d < 0 {
		return 0, fmt.Errorf("tolerance: must not be negative, got %v", d)
	}
	return cmp.Or(d, def), nil
}

// requireSecrets checks that the source has at least one non-empty secret.
// The messages name the field only; the caller prefixes the source's path.
func requireSecrets(src config.Source) error {
	if len(src.Secrets) == 0 {
		return errors.New("secrets: at least one is required")
	}
	for i, s := range src.Secrets {
		if s == "" {
			return fmt.Errorf("secrets[%d]: empty (is its environment variable set?)", i)
		}
	}
	return nil
}

// macKey is one configured HMAC key. Keyed hash states are pooled because
// Verify runs on every ingest request: hmac.New allocates and hashes the
// padded key twice, while Reset on a used state restores it from a snapshot.
type macKey struct {
	pool sync.Pool // of *macState
}

type macState struct {
	h       hash.Hash
	sum     [sha512.Size]byte
	scratch []byte // head and tail are copied here so callers' buffers stay on their stack
}

func newMACKey(newHash func() hash.Hash, key []byte) *macKey {
	key = bytes.Clone(key)
	k := &macKey{}
	k.pool.New = func() any { return &macState{h: hmac.New(newHash, key)} }
	return k
}

func newMACKeys(newHash func() hash.Hash, secrets []string) []*macKey {
	keys := make([]*macKey, len(secrets))
	for i, s := range secrets {
		keys[i] = newMACKey(newHash, []byte(s))
	}
	return keys
}

// sum writes the MAC of head|body|tail into dst and returns dst[:size].
func (k *macKey) sum(dst, head, body, tail []byte) []byte {
	s := k.pool.Get().(*macState)
	s.h.Reset()
	if len(head) > 0 {
		s.scratch = append(s.scratch[:0], head...)
		s.h.Write(s.scratch)
	}
	s.h.Write(body)
	if len(tail) > 0 {
		s.scratch = append(s.scratch[:0], tail...)
		s.h.Write(s.scratch)
	}
	n := copy(dst, s.h.Sum(s.sum[:0]))
	k.pool.Put(s)
	return dst[:n]
}

// macSum computes one MAC without pooling, for signing.
func macSum(newHash func() hash.Hash, key []byte, parts ...[]byte) []byte {
	h := hmac.New(newHash, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// sigEncoding is how a provider writes signature bytes into a header.
type sigEncoding uint8

const (
	encHex sigEncoding = iota
	encBase64
)

// strictBase64 rejects non-canonical encodings, so one signature has exactly
// one accepted spelling (the provider libraries compare encoded strings).
var strictBase64 = base64.StdEncoding.Strict()

// decodeCanonicalBase64 decodes a standard base64 signature whose length is
// not known in advance, accepting only its canonical spelling: Go's decoder
// skips CR and LF even in strict mode, so they are refused here.
func decodeCanonicalBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in base64")
	}
	return strictBase64.DecodeString(s)
}

// decodeSig decodes s into dst and reports whether it holds exactly
// len(dst) bytes. Hex is accepted in either case. It does not allocate.
func decodeSig(dst []byte, s string, enc sigEncoding) bool {
	if enc == encHex {
		if len(s) != 2*len(dst) {
			return false
		}
		for i := range dst {
			hi, ok1 := unhex(s[2*i])
			lo, ok2 := unhex(s[2*i+1])
			if !ok1 || !ok2 {
				return false
			}
			dst[i] = hi<<4 | lo
		}
		return true
	}
	// An exact length also rules out the CR and LF that Decode skips.
	var src [128]byte
	var out [96]byte
	if len(s) != base64.StdEncoding.EncodedLen(len(dst)) || len(s) > len(src) || len(dst) > len(out) {
		return false
	}
	n, err := strictBase64.Decode(out[:], src[:copy(src[:], s)])
	if err != nil || n != len(dst) {
		return false
	}
	copy(dst, out[:n])
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// firstHeader returns the first non-empty value among names.
func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// newUUID returns a random version 4 UUID, the form GitHub and Shopify use
// for delivery ids.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// signTime is the timestamp a signer uses: o.Now, or the wall clock when the
// caller (the CLI) set none.
func signTime(o SignOptions) time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}
