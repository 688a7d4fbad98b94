package verify

import (
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Lemon Squeezy signs the raw body: hex HMAC-SHA256 in X-Signature, keyed
// with the signing secret chosen when the webhook was created. It signs no
// timestamp.
//
// The topic is the body's meta.event_name, which the signature covers,
// rather than the unsigned X-Event-Name header (read only when the body has
// none). Lemon Squeezy sends no delivery id; the dedup key is
// "<event_name>/<data.type>/<data.id>@<data.attributes.updated_at>", which a
// retry repeats and a later change to the same object does not, and the
// time is that updated_at.
const (
	lemonSqueezySigHeader   = "X-Signature"
	lemonSqueezyEventHeader = "X-Event-Name"
)

var lemonSqueezyMAC = macHeader{name: lemonSqueezySigHeader, enc: encHex, alg: hmacSHA256}

var lemonSqueezyProvider = Provider{
	Name: "lemonsqueezy",
	JSON: true,
	New:  newLemonSqueezy,
	Sign: signLemonSqueezy,
}

type lemonSqueezy struct {
	keys []*macKey
}

func newLemonSqueezy(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	return &lemonSqueezy{keys: lemonSqueezyMAC.keys(src.Secrets)}, nil
}

func (v *lemonSqueezy) Verify(r *Request) (Result, error) {
	idx, err := lemonSqueezyMAC.verifyBody(v.keys, r.Header.Get(lemonSqueezySigHeader), r.Body)
	if err != nil {
		return Result{}, err
	}

	res := Result{SecretIndex: idx}
	var meta, data []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "meta":
			meta = val
		case "data":
			data = val
		}
		return true
	})
	if res.Topic = jsonString(member(meta, "event_name")); res.Topic == "" {
		res.Topic = r.Header.Get(lemonSqueezyEventHeader)
	}
	var typ, id, attrs []byte
	eachMember(data, func(name, val []byte) bool {
		switch string(name) {
		case "type":
			typ = val
		case "id":
			id = val
		case "attributes":
			attrs = val
		}
		return true
	})
	updated := jsonString(member(attrs, "updated_at"))
	if t, i := jsonString(typ), jsonString(id); res.Topic != "" && t != "" && i != "" && updated != "" {
		res.DeliveryID = res.Topic + "/" + t + "/" + i + "@" + updated
		res.Timestamp, _ = time.Parse(time.RFC3339Nano, updated)
	}
	return res, nil
}

// signLemonSqueezy signs like Lemon Squeezy; o.Topic is sent as
// X-Event-Name. Lemon Squeezy sends no id, so o.ID is not used.
func signLemonSqueezy(secret string, body []byte, o SignOptions) (http.Header, error) {
	h := http.Header{}
	h.Set(lemonSqueezySigHeader, lemonSqueezyMAC.sign([]byte(secret), body))
	if o.Topic != "" {
		h.Set(lemonSqueezyEventHeader, o.Topic)
	}
	return h, nil
}
