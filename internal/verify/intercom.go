package verify

import (
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Intercom signs the raw body: X-Hub-Signature is "sha1=" + hex HMAC-SHA1,
// keyed with the app's client secret (the subscription's hub_secret on the
// v1 API). It signs no timestamp. The notification's id (the same on every
// delivery attempt) is the dedup key, its topic the topic and created_at
// its time.
const (
	intercomSigHeader = "X-Hub-Signature"
	intercomSigPrefix = "sha1="
)

var intercomMAC = macHeader{name: intercomSigHeader, prefix: intercomSigPrefix, enc: encHex, alg: hmacSHA1}

var intercomProvider = Provider{
	Name: "intercom",
	JSON: true,
	New:  newIntercom,
	Sign: signIntercom,
}

type intercom struct {
	keys []*macKey
}

func newIntercom(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	return &intercom{keys: intercomMAC.keys(src.Secrets)}, nil
}

func (v *intercom) Verify(r *Request) (Result, error) {
	idx, err := intercomMAC.verifyBody(v.keys, r.Header.Get(intercomSigHeader), r.Body)
	if err != nil {
		return Result{}, err
	}
	res := Result{SecretIndex: idx}
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "topic":
			res.Topic = jsonString(val)
		case "id":
			res.DeliveryID = jsonString(val)
		case "created_at":
			if n := jsonInt(val); n > 0 {
				res.Timestamp = time.Unix(n, 0)
			}
		}
		return true
	})
	return res, nil
}

// signIntercom signs like Intercom, whose topic and id travel in the body.
func signIntercom(secret string, body []byte, _ SignOptions) (http.Header, error) {
	h := http.Header{}
	h.Set(intercomSigHeader, intercomMAC.sign([]byte(secret), body))
	return h, nil
}
