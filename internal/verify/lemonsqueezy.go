package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
	return &lemonSqueezy{keys: newMACKeys(sha256.New, src.Secrets)}, nil
}

func (v *lemonSqueezy) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(lemonSqueezySigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", lemonSqueezySigHeader)
	}
	var got [sha256.Size]byte
	if !decodeSig(got[:], sig, encHex) {
		return Result{}, badSignature("%s is not a hex HMAC-SHA256", lemonSqueezySigHeader)
	}
	idx := -1
	for i, k := range v.keys {
		var want [sha256.Size]byte
		if hmac.Equal(k.sum(want[:], nil, r.Body, nil), got[:]) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return Result{}, badSignature("%s does not match the body", lemonSqueezySigHeader)
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
	h.Set(lemonSqueezySigHeader, hex.EncodeToString(macSum(sha256.New, []byte(secret), body)))
	if o.Topic != "" {
		h.Set(lemonSqueezyEventHeader, o.Topic)
	}
	return h, nil
}
