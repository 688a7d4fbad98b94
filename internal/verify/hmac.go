package verify

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Provider "hmac" is a generic scheme for senders without a provider of
// their own (WooCommerce, Lemon Squeezy, Intercom, Slack, in-house systems):
// an HMAC of a signed-content template, encoded into one header, optionally
// after a prefix. The template holds {body} exactly once, and {timestamp}
// and {id} for the values of the timestamp and id headers, so
// "v0:{timestamp}:{body}" describes Slack. A literal "{" cannot be written.
//
// A timestamp header is only accepted when the template signs it: a window
// on an unsigned timestamp would suggest replay protection it cannot give.
var hmacProvider = Provider{
	Name: "hmac",
	JSON: false,
	New:  newHMAC,
	Sign: signHMAC,
}

// hmacScheme is a validated config.HMAC.
type hmacScheme struct {
	algorithm string
	newHash   func() hash.Hash
	size      int
	enc       sigEncoding
	header    string // as configured, for messages
	headerKey string // canonical, for lookups
	prefix    string
	// head and tail are the template around {body}.
	head, tail      []segment
	timestampHeader string
	idHeader        string
	topicHeader     string
	signsID         bool
}

type segKind uint8

const (
	segLiteral segKind = iota
	segTimestamp
	segID
)

type segment struct {
	kind segKind
	lit  string
}

func parseHMAC(c *config.HMAC) (*hmacScheme, error) {
	if c == nil {
		return nil, errors.New(`hmac: required for provider "hmac" (at least hmac.header)`)
	}
	s := &hmacScheme{prefix: c.Prefix}
	switch s.algorithm = cmp.Or(c.Algorithm, "sha256"); s.algorithm {
	case "sha1":
		s.newHash, s.size = sha1.New, sha1.Size
	case "sha256":
		s.newHash, s.size = sha256.New, sha256.Size
	case "sha512":
		s.newHash, s.size = sha512.New, sha512.Size
	default:
		return nil, fmt.Errorf("hmac.algorithm: unknown %q (want sha1, sha256, sha512)", c.Algorithm)
	}
	switch cmp.Or(c.Encoding, "hex") {
	case "hex":
		s.enc = encHex
	case "base64":
		s.enc = encBase64
	default:
		return nil, fmt.Errorf("hmac.encoding: unknown %q (want hex, base64)", c.Encoding)
	}
	if c.Header == "" {
		return nil, errors.New("hmac.header: required (the signature header name)")
	}
	for _, f := range []struct{ field, name string }{
		{"header", c.Header},
		{"timestamp_header", c.TimestampHeader},
		{"id_header", c.IDHeader},
		{"topic_header", c.TopicHeader},
	} {
		if strings.ContainsAny(f.name, " \t\r\n:") {
			return nil, fmt.Errorf("hmac.%s: %q is not a header name", f.field, f.name)
		}
	}
	s.header, s.headerKey = c.Header, http.CanonicalHeaderKey(c.Header)
	s.timestampHeader = http.CanonicalHeaderKey(c.TimestampHeader)
	s.idHeader = http.CanonicalHeaderKey(c.IDHeader)
	s.topicHeader = http.CanonicalHeaderKey(c.TopicHeader)

	var err error
	var signsTS bool
	s.head, s.tail, signsTS, s.signsID, err = parseContent(cmp.Or(c.Content, "{body}"))
	if err != nil {
		return nil, err
	}
	switch {
	case signsTS && c.TimestampHeader == "":
		return nil, errors.New("hmac.content: {timestamp} needs hmac.timestamp_header")
	case !signsTS && c.TimestampHeader != "":
		return nil, errors.New("hmac.timestamp_header: the timestamp is not signed, so its window would prove nothing; add {timestamp} to hmac.content")
	case s.signsID && c.IDHeader == "":
		return nil, errors.New("hmac.content: {id} needs hmac.id_header")
	}
	return s, nil
}

// parseContent splits a signed-content template around its one {body}.
func parseContent(tmpl string) (head, tail []segment, signsTS, signsID bool, err error) {
	segs, sawBody := &head, false
	for rest := tmpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			*segs = append(*segs, segment{kind: segLiteral, lit: rest})
			break
		}
		if i > 0 {
			*segs = append(*segs, segment{kind: segLiteral, lit: rest[:i]})
		}
		rest = rest[i:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return nil, nil, false, false, fmt.Errorf("hmac.content: unclosed %q (placeholders are {body}, {timestamp}, {id})", clip(rest))
		}
		switch p := rest[:j+1]; p {
		case "{body}":
			if sawBody {
				return nil, nil, false, false, errors.New("hmac.content: {body} appears more than once")
			}
			segs, sawBody = &tail, true
		case "{timestamp}":
			*segs = append(*segs, segment{kind: segTimestamp})
			signsTS = true
		case "{id}":
			*segs = append(*segs, segment{kind: segID})
			signsID = true
		default:
			return nil, nil, false, false, fmt.Errorf("hmac.content: unknown placeholder %q (want {body}, {timestamp}, {id})", clip(p))
		}
		rest = rest[j+1:]
	}
	if !sawBody {
		return nil, nil, false, false, errors.New("hmac.content: must contain {body}, or the body would not be signed")
	}
	return head, tail, signsTS, signsID, nil
}

func appendSegments(dst []byte, segs []segment, ts, id string) []byte {
	for _, s := range segs {
		switch s.kind {
		case segLiteral:
			dst = append(dst, s.lit...)
		case segTimestamp:
			dst = append(dst, ts...)
		case segID:
			dst = append(dst, id...)
		}
	}
	return dst
}

type genericHMAC struct {
	s    *hmacScheme
	keys []*macKey
	tol  time.Duration
}

func newHMAC(src config.Source) (Verifier, error) {
	s, err := parseHMAC(src.HMAC)
	if err != nil {
		return nil, err
	}
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := tolerance(src)
	if err != nil {
		return nil, err
	}
	return &genericHMAC{s: s, keys: newMACKeys(s.newHash, src.Secrets), tol: tol}, nil
}

func (v *genericHMAC) Verify(r *Request) (Result, error) {
	s := v.s
	sig := r.Header.Get(s.headerKey)
	if sig == "" {
		return Result{}, badSignature("missing %s header", s.header)
	}
	raw, ok := strings.CutPrefix(sig, s.prefix)
	if !ok {
		return Result{}, badSignature("%s does not start with %q", s.header, s.prefix)
	}
	var got [sha512.Size]byte
	if !decodeSig(got[:s.size], raw, s.enc) {
		return Result{}, badSignature("%s is not a %s HMAC-%s", s.header, encName(s.enc), strings.ToUpper(s.algorithm))
	}
	var res Result
	var t, id string
	if s.timestampHeader != "" {
		if t = r.Header.Get(s.timestampHeader); t == "" {
			return Result{}, badSignature("missing %s header", s.timestampHeader)
		}
		ts, err := parseUnix(s.timestampHeader, t)
		if err != nil {
			return Result{}, err
		}
		if err := checkTimestamp(ts, r.Now, v.tol); err != nil {
			return Result{}, err
		}
		res.Timestamp = time.Unix(ts, 0)
	}
	if s.idHeader != "" {
		if id = r.Header.Get(s.idHeader); id == "" && s.signsID {
			return Result{}, badSignature("missing %s header", s.idHeader)
		}
	}

	var hb, tb [128]byte
	head := appendSegments(hb[:0], s.head, t, id)
	tail := appendSegments(tb[:0], s.tail, t, id)
	res.SecretIndex = -1
	for i, k := range v.keys {
		var want [sha512.Size]byte
		if hmac.Equal(k.sum(want[:], head, r.Body, tail), got[:s.size]) {
			res.SecretIndex = i
			break
		}
	}
	if res.SecretIndex < 0 {
		return Result{}, badSignature("%s does not match the signed content", s.header)
	}
	res.DeliveryID = id
	if s.topicHeader != "" {
		res.Topic = r.Header.Get(s.topicHeader)
	}
	return res, nil
}

func encName(e sigEncoding) string {
	if e == encBase64 {
		return "base64"
	}
	return "hex"
}

// signHMAC signs with o.HMAC, the same block a source configures.
func signHMAC(secret string, body []byte, o SignOptions) (http.Header, error) {
	c := o.HMAC
	if c == nil {
		c = &config.HMAC{Algorithm: "sha256", Encoding: "hex", Header: "X-Signature", Content: "{body}"}
	}
	s, err := parseHMAC(c)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	var t, id string
	if s.timestampHeader != "" {
		t = strconv.FormatInt(signTime(o).Unix(), 10)
		h.Set(s.timestampHeader, t)
	}
	if s.idHeader != "" {
		if id = o.ID; id == "" {
			id = newUUID()
		}
		h.Set(s.idHeader, id)
	}
	if s.topicHeader != "" && o.Topic != "" {
		h.Set(s.topicHeader, o.Topic)
	}
	mac := macSum(s.newHash, []byte(secret),
		appendSegments(nil, s.head, t, id), body, appendSegments(nil, s.tail, t, id))
	enc := hex.EncodeToString(mac)
	if s.enc == encBase64 {
		enc = base64.StdEncoding.EncodeToString(mac)
	}
	h.Set(s.headerKey, s.prefix+enc)
	return h, nil
}
