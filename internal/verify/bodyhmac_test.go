package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/webhook"
)

// bodyFuzz describes a provider that signs only the raw body, for
// fuzzBodyMAC. The expected signature is computed here, independently of
// macHeader.
type bodyFuzz struct {
	provider string // seeds from the vectors of this provider
	header   string // the signature header
	prefix   string // before the encoded MAC
	hex      bool   // hex (either case) rather than canonical base64
	newHash  func() hash.Hash
	secret   string // configured secret
	key      []byte // the HMAC key secret stands for; nil means its bytes
	newV     func(config.Source) (Verifier, error)
}

// fuzzBodyMAC feeds arbitrary signature headers and bodies to a verifier
// holding c.secret: it must not panic, every rejection must wrap
// ErrBadSignature, and it may only accept the prefixed HMAC of the body.
func fuzzBodyMAC(f *testing.F, c bodyFuzz) {
	for _, v := range loadVectors(f) {
		if v.Provider == c.provider {
			f.Add(v.header(c.header), []byte(v.Body))
		}
	}
	ver, err := c.newV(config.Source{Secrets: []string{c.secret}})
	if err != nil {
		f.Fatal(err)
	}
	key := c.key
	if key == nil {
		key = []byte(c.secret)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set(c.header, sig)
		if _, err := ver.Verify(&Request{Header: h, Body: body, Now: vectorNow}); err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("%v does not wrap ErrBadSignature", err)
			}
			return
		}
		m := hmac.New(c.newHash, key)
		m.Write(body)
		if c.hex {
			if want := c.prefix + hex.EncodeToString(m.Sum(nil)); !strings.HasPrefix(sig, c.prefix) || !strings.EqualFold(sig, want) {
				t.Fatalf("accepted %q for a body whose signature is %q", sig, want)
			}
			return
		}
		if want := c.prefix + base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
			t.Fatalf("accepted %q for a body whose signature is %q", sig, want)
		}
	})
}

// timedFuzz describes a provider that signs a timestamp header with the
// body, for fuzzTimedMAC.
type timedFuzz struct {
	provider  string
	sigHeader string
	tsHeader  string
	prefix    string
	hex       bool // hex (either case) rather than canonical base64
	secret    string
	newV      func(config.Source) (Verifier, error)
	seedNow   func(vector) int64                  // the clock to seed a vector with
	unix      func(ts string) (int64, bool)       // reads the timestamp header
	content   func(ts string, body []byte) []byte // the signed bytes
}

// fuzzTimedMAC feeds arbitrary signatures, timestamps, bodies and clocks
// to a verifier holding c.secret: it must not panic, every rejection must
// wrap a sentinel, and it may only accept the HMAC-SHA256 of the signed
// content, with the timestamp inside the default window.
func fuzzTimedMAC(f *testing.F, c timedFuzz) {
	for _, v := range loadVectors(f) {
		if v.Provider == c.provider {
			f.Add(v.header(c.sigHeader), v.header(c.tsHeader), []byte(v.Body), c.seedNow(v))
		}
	}
	ver, err := c.newV(config.Source{Secrets: []string{c.secret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte, now int64) {
		h := http.Header{}
		h.Set(c.sigHeader, sig)
		h.Set(c.tsHeader, ts)
		_, err := ver.Verify(&Request{Header: h, Body: body, Now: time.Unix(now, 0)})
		if err != nil {
			if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("%v wraps neither sentinel", err)
			}
			return
		}
		if n, ok := c.unix(ts); !ok || n < now-300 || n > now+300 {
			t.Fatalf("accepted timestamp %q at %d", ts, now)
		}
		m := hmac.New(sha256.New, []byte(c.secret))
		m.Write(c.content(ts, body))
		if c.hex {
			if want := c.prefix + hex.EncodeToString(m.Sum(nil)); !strings.HasPrefix(sig, c.prefix) || !strings.EqualFold(sig, want) {
				t.Fatalf("accepted %q, want %s", sig, want)
			}
			return
		}
		if want := c.prefix + base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
			t.Fatalf("accepted %q, want %s", sig, want)
		}
	})
}

// vectorClock is the clock a vector verifies at.
func vectorClock(v vector) int64 { return v.VerifyAt }

// header returns the vector's header name, in any case (vectors spell
// headers as their provider's documents do).
func (v vector) header(name string) string {
	for k, val := range v.Headers {
		if strings.EqualFold(k, name) {
			return val
		}
	}
	return ""
}
