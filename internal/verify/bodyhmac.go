package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
)

// macHeader is the shape most providers share: one header holding an HMAC,
// hex or base64, after an optional prefix ("sha256="). Those that sign only
// the raw body (GitHub, Shopify, Intercom, …) verify with verifyBody; those
// that sign a timestamp too (Slack, Zendesk, Klaviyo) read and check the
// timestamp themselves, in their own order, and use decode and match.
//
// Each provider keeps its own header lookup, since the missing-header cases
// differ (Shopify's alternate spelling, GitHub's legacy header,
// WooCommerce's unsigned ping).
type macHeader struct {
	name   string // the header as messages name it
	prefix string // before the encoded MAC, or ""
	enc    sigEncoding
	alg    macAlg
	signed string // what the MAC covers, for messages; "" means "the body"
}

// macAlg is the hash of an HMAC, as macHeader needs it.
type macAlg struct {
	newHash func() hash.Hash
	size    int    // at most sha256.Size
	name    string // in messages: "HMAC-" + name
}

var (
	hmacSHA1   = macAlg{sha1.New, sha1.Size, "SHA1"}
	hmacSHA256 = macAlg{sha256.New, sha256.Size, "SHA256"}
)

// keys returns a key for each secret, used as its bytes.
func (m *macHeader) keys(secrets []string) []*macKey {
	return newMACKeys(m.alg.newHash, secrets)
}

// verifyBody checks sig, the header's value, against the MAC of body and
// returns the index of the key that matched.
func (m *macHeader) verifyBody(keys []*macKey, sig string, body []byte) (int, error) {
	if sig == "" {
		return -1, badSignature("missing %s header", m.name)
	}
	var got [sha256.Size]byte
	if err := m.decode(&got, sig); err != nil {
		return -1, err
	}
	return m.match(keys, &got, nil, body, nil)
}

// decode reads the MAC in sig into got.
func (m *macHeader) decode(got *[sha256.Size]byte, sig string) error {
	raw, ok := strings.CutPrefix(sig, m.prefix)
	if ok && decodeSig(got[:m.alg.size], raw, m.enc) {
		return nil
	}
	if m.prefix != "" {
		return badSignature("%s is not %q followed by a %s HMAC-%s", m.name, m.prefix, encName(m.enc), m.alg.name)
	}
	return badSignature("%s is not a %s HMAC-%s", m.name, encName(m.enc), m.alg.name)
}

// match returns the index of the key whose MAC of head|body|tail is got.
func (m *macHeader) match(keys []*macKey, got *[sha256.Size]byte, head, body, tail []byte) (int, error) {
	for i, k := range keys {
		var want [sha256.Size]byte
		if hmac.Equal(k.sum(want[:], head, body, tail), got[:m.alg.size]) {
			return i, nil
		}
	}
	signed := m.signed
	if signed == "" {
		signed = "the body"
	}
	return -1, badSignature("%s does not match %s", m.name, signed)
}

// sign returns the header value for the MAC of parts under key.
func (m *macHeader) sign(key []byte, parts ...[]byte) string {
	mac := macSum(m.alg.newHash, key, parts...)
	if m.enc == encBase64 {
		return m.prefix + base64.StdEncoding.EncodeToString(mac)
	}
	return m.prefix + hex.EncodeToString(mac)
}
