package verify

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// WooCommerce signs the raw body (PHP's wp_json_encode output, with "\/"
// escapes: never re-encoded) in X-WC-Webhook-Signature: base64 HMAC-SHA256
// keyed with the webhook secret after wp_specialchars_decode, so a secret
// stored as "a&amp;b" signs as "a&b". It signs no timestamp.
//
// X-WC-Webhook-Delivery-ID is new on every send, so it cannot drop
// duplicates; the dedup key is the topic, the resource id and its
// date_modified_gmt from the body ("order.updated/727@2017-03-22T16:28:08"),
// which WooCommerce's double-fired updates share. Bodies without both
// (deletions carry only {"id":…}; action.* topics) fall back to the body
// hash.
//
// Creating a webhook sends an unsigned ping, a form body "webhook_id=<n>"
// with no X-WC-Webhook-* headers, which must be answered 200 or WooCommerce
// will not activate the webhook. Exactly that shape is answered as a
// handshake, neither stored nor routed; any other unsigned request is
// rejected.
const (
	wcSigHeader      = "X-Wc-Webhook-Signature" // canonical form of X-WC-Webhook-Signature
	wcTopicHeader    = "X-Wc-Webhook-Topic"
	wcResourceHeader = "X-Wc-Webhook-Resource"
	wcEventHeader    = "X-Wc-Webhook-Event"
	wcIDHeader       = "X-Wc-Webhook-Id"
	wcDeliveryHeader = "X-Wc-Webhook-Delivery-Id"
	wcHeaderPrefix   = "X-Wc-Webhook-"
	wcPingKey        = "webhook_id="
)

var wcMAC = macHeader{name: "X-WC-Webhook-Signature", enc: encBase64, alg: hmacSHA256}

var wooCommerceProvider = Provider{
	Name: "woocommerce",
	JSON: true, // the ping is answered before the JSON check
	New:  newWooCommerce,
	Sign: signWooCommerce,
}

type wooCommerce struct {
	keys []*macKey
}

func newWooCommerce(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	keys := make([]string, len(src.Secrets))
	for i, s := range src.Secrets {
		keys[i] = wpSpecialCharsDecode(s)
	}
	return &wooCommerce{keys: wcMAC.keys(keys)}, nil
}

func (v *wooCommerce) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(wcSigHeader)
	if sig == "" && isWooCommercePing(r) {
		return Result{SecretIndex: -1, Handshake: &Handshake{}}, nil
	}
	idx, err := wcMAC.verifyBody(v.keys, sig, r.Body)
	if err != nil {
		return Result{}, err
	}

	res := Result{SecretIndex: idx, Topic: r.Header.Get(wcTopicHeader)}
	var id, modified []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "id":
			id = val
		case "date_modified_gmt":
			modified = val
		}
		return true
	})
	// WooCommerce writes ids as numbers; a string id is taken as written.
	ids := jsonString(id)
	if ids == "" && jsonInt(id) > 0 {
		ids = string(id)
	}
	if m := jsonString(modified); m != "" && ids != "" && res.Topic != "" {
		res.DeliveryID = res.Topic + "/" + ids + "@" + m
		res.Timestamp, _ = time.Parse("2006-01-02T15:04:05", m) // GMT, no zone written
	}
	return res, nil
}

// isWooCommercePing reports whether r is exactly WooCommerce's setup ping:
// no X-WC-Webhook-* header at all and a body "webhook_id=<n>", n a decimal
// id without sign or leading zero.
func isWooCommercePing(r *Request) bool {
	for k := range r.Header {
		if len(k) >= len(wcHeaderPrefix) && strings.EqualFold(k[:len(wcHeaderPrefix)], wcHeaderPrefix) {
			return false
		}
	}
	n, ok := strings.CutPrefix(string(r.Body), wcPingKey)
	if !ok || len(n) == 0 || len(n) > 20 || n[0] == '0' {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// wpSpecialCharsDecode mirrors WordPress's wp_specialchars_decode with
// ENT_QUOTES, which WooCommerce applies to the secret before keying the
// HMAC: the entities for & < > " ' (named, or numeric with any zero padding)
// become their characters, in one pass, so "&amp;lt;" becomes "&lt;".
func wpSpecialCharsDecode(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '&' {
			b.WriteByte(s[i])
			i++
			continue
		}
		semi := strings.IndexByte(s[i:], ';')
		if semi < 0 {
			b.WriteString(s[i:])
			break
		}
		if c, ok := wpEntity(s[i+1 : i+semi]); ok {
			b.WriteByte(c)
			i += semi + 1
			continue
		}
		b.WriteByte('&')
		i++
	}
	return b.String()
}

// wpEntity decodes the name between & and ; of one entity that
// wp_specialchars_decode translates.
func wpEntity(name string) (byte, bool) {
	switch name {
	case "amp":
		return '&', true
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "quot":
		return '"', true
	}
	num, ok := strings.CutPrefix(name, "#")
	if !ok || num == "" {
		return 0, false
	}
	base := 10
	if num[0] == 'x' || num[0] == 'X' {
		base, num = 16, num[1:]
	}
	num = strings.TrimLeft(num, "0")
	if base == 10 {
		switch num {
		case "39":
			return '\'', true
		case "34":
			return '"', true
		case "60":
			return '<', true
		case "62":
			return '>', true
		case "38":
			return '&', true
		}
		return 0, false
	}
	// WordPress translates only these three hexadecimal forms.
	switch strings.ToLower(num) {
	case "27":
		return '\'', true
	case "22":
		return '"', true
	case "26":
		return '&', true
	}
	return 0, false
}

// signWooCommerce signs like WooCommerce: o.Topic ("order.created") is sent
// as the topic and split into resource and event; o.ID is the delivery id
// (32 hex characters, as wp_hash gives, when empty).
func signWooCommerce(secret string, body []byte, o SignOptions) (http.Header, error) {
	h := http.Header{}
	h.Set(wcSigHeader, wcMAC.sign([]byte(wpSpecialCharsDecode(secret)), body))
	if o.Topic != "" {
		h.Set(wcTopicHeader, o.Topic)
		if res, ev, ok := strings.Cut(o.Topic, "."); ok {
			h.Set(wcResourceHeader, res)
			h.Set(wcEventHeader, ev)
		}
	}
	id := o.ID
	if id == "" {
		var b [16]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	h.Set(wcDeliveryHeader, id)
	h.Set(wcIDHeader, "1")
	return h, nil
}
