package verify

import (
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Adyen's Balance Platform, Management and other newer webhooks sign the
// raw body: base64 HMAC-SHA256 in the HmacSignature header, keyed with the
// hex-decoded HMAC key of the webhook (as provider adyen). They sign no
// timestamp. The topic is the body's "type", the dedup key its top-level
// "id" when it has one (else the body hash), and the time its "timestamp".
const adyenPlatformHeader = "Hmacsignature" // canonical form of HmacSignature

var adyenPlatformMAC = macHeader{name: "HmacSignature", enc: encBase64, alg: hmacSHA256}

var adyenPlatformProvider = Provider{
	Name: "adyen-platform",
	JSON: true,
	New:  newAdyenPlatform,
	Sign: signAdyenPlatform,
}

type adyenPlatform struct {
	keys []*macKey
}

func newAdyenPlatform(src config.Source) (Verifier, error) {
	keys, err := adyenKeys(src)
	if err != nil {
		return nil, err
	}
	return &adyenPlatform{keys: keys}, nil
}

func (v *adyenPlatform) Verify(r *Request) (Result, error) {
	idx, err := adyenPlatformMAC.verifyBody(v.keys, r.Header.Get(adyenPlatformHeader), r.Body)
	if err != nil {
		return Result{}, err
	}
	res := Result{SecretIndex: idx}
	var typ, id, at []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "type":
			typ = val
		case "id":
			id = val
		case "timestamp":
			at = val
		}
		return true
	})
	res.Topic, res.DeliveryID = jsonString(typ), jsonString(id)
	res.Timestamp, _ = time.Parse(time.RFC3339Nano, jsonString(at)) // informational only
	return res, nil
}

// signAdyenPlatform signs like Adyen; secret is the hex HMAC key. The type
// travels in the body, so o.Topic and o.ID are not used.
func signAdyenPlatform(secret string, body []byte, _ SignOptions) (http.Header, error) {
	key, err := adyenKey(secret)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(adyenPlatformHeader, adyenPlatformMAC.sign(key, body))
	return h, nil
}
