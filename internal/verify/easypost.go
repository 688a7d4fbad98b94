package verify

import (
	"net/http"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/hookyard/hookyard/internal/config"
)

// EasyPost signs the raw body: X-Hmac-Signature is "hmac-sha256-hex=" + hex
// HMAC-SHA256, keyed with the webhook secret after Unicode NFKD
// normalisation (its SDKs normalise, so "sécret" is keyed as
// "se\u0301cret"). EasyPost signs no timestamp. The event's id is the dedup
// key, its description ("tracker.updated") the topic, created_at its time.
const (
	easypostSigHeader = "X-Hmac-Signature"
	easypostSigPrefix = "hmac-sha256-hex="
)

var easypostMAC = macHeader{name: easypostSigHeader, prefix: easypostSigPrefix, enc: encHex, alg: hmacSHA256}

var easypostProvider = Provider{
	Name: "easypost",
	JSON: true,
	New:  newEasyPost,
	Sign: signEasyPost,
}

type easypost struct {
	keys []*macKey
}

// easypostKey normalises a secret as EasyPost's SDKs do.
func easypostKey(secret string) string { return norm.NFKD.String(secret) }

func newEasyPost(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	keys := make([]string, len(src.Secrets))
	for i, s := range src.Secrets {
		keys[i] = easypostKey(s)
	}
	return &easypost{keys: easypostMAC.keys(keys)}, nil
}

func (v *easypost) Verify(r *Request) (Result, error) {
	idx, err := easypostMAC.verifyBody(v.keys, r.Header.Get(easypostSigHeader), r.Body)
	if err != nil {
		return Result{}, err
	}
	res := Result{SecretIndex: idx}
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "id":
			res.DeliveryID = jsonString(val)
		case "description":
			res.Topic = jsonString(val)
		case "created_at":
			res.Timestamp, _ = time.Parse(time.RFC3339Nano, jsonString(val))
		}
		return true
	})
	return res, nil
}

// signEasyPost signs like EasyPost, whose event type and id travel in the
// body.
func signEasyPost(secret string, body []byte, _ SignOptions) (http.Header, error) {
	h := http.Header{}
	h.Set(easypostSigHeader, easypostMAC.sign([]byte(easypostKey(secret)), body))
	return h, nil
}
