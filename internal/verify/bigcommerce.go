package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// BigCommerce signs with Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature "v1,<base64>", 5 minute window each way), keyed with the
// app's client secret as raw bytes: its docs feed base64(client secret) to
// the reference libraries, which decode it back. The secrets are therefore
// the client secrets exactly as BigCommerce shows them, with no whsec_.
//
// The topic is the body's "scope" ("store/order/statusUpdated"), and the
// dedup key the webhook-id. The body's "hash" is not used: it is the SHA-1
// of "data", which for most scopes is only {type, id}, so two genuine
// updates of one order share it.
var bigCommerceProvider = Provider{
	Name: "bigcommerce",
	JSON: true,
	New:  newBigCommerce,
	Sign: signBigCommerce,
}

type bigCommerce struct {
	sw *standardWebhooks
}

func newBigCommerce(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := tolerance(src)
	if err != nil {
		return nil, err
	}
	// The Standard Webhooks verifier, with v1 keys taken verbatim rather
	// than decoded from whsec_.
	sw := &standardWebhooks{keys: make([]swKey, len(src.Secrets)), versions: "v1", tol: tol}
	sw.msgs.New = func() any { return new([]byte) }
	for i, s := range src.Secrets {
		sw.keys[i].mac = newMACKey(sha256.New, []byte(s))
	}
	return bigCommerce{sw: sw}, nil
}

func (v bigCommerce) Verify(r *Request) (Result, error) {
	res, err := v.sw.Verify(r)
	if err != nil {
		return Result{}, err
	}
	var scope, created []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "scope":
			scope = val
		case "created_at":
			created = val
		}
		return true
	})
	res.Topic = jsonString(scope)
	if n := jsonInt(created); n > 0 {
		res.Timestamp = time.Unix(n, 0)
	}
	return res, nil
}

// signBigCommerce signs like BigCommerce: Standard Webhooks v1 keyed with
// the raw client secret. The scope travels in the body, so o.Topic is not
// used.
func signBigCommerce(secret string, body []byte, o SignOptions) (http.Header, error) {
	return signStandardWebhooks(swSecretPrefix+base64.StdEncoding.EncodeToString([]byte(secret)), body, o)
}
