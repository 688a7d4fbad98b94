package verify

import (
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Shopify signs the raw body: base64 HMAC-SHA256 keyed with the app's client
// secret. It signs no timestamp, so X-Shopify-Triggered-At is reported but
// never enforced. The Events preview sends every header also without the
// "X-" prefix; both spellings are read.
const (
	shopifyHMACHeader = "X-Shopify-Hmac-Sha256"
	shopifyHMACAlt    = "Shopify-Hmac-Sha256"
)

var shopifyMAC = macHeader{name: shopifyHMACHeader, enc: encBase64, alg: hmacSHA256}

var shopifyProvider = Provider{
	Name: "shopify",
	JSON: true,
	New:  newShopify,
	Sign: signShopify,
}

type shopify struct {
	keys []*macKey
}

func newShopify(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	return &shopify{keys: shopifyMAC.keys(src.Secrets)}, nil
}

func (v *shopify) Verify(r *Request) (Result, error) {
	idx, err := shopifyMAC.verifyBody(v.keys, firstHeader(r.Header, shopifyHMACHeader, shopifyHMACAlt), r.Body)
	if err != nil {
		return Result{}, err
	}
	res := Result{SecretIndex: idx}
	res.Topic = firstHeader(r.Header, "X-Shopify-Topic", "Shopify-Topic")
	res.DeliveryID = firstHeader(r.Header,
		"X-Shopify-Webhook-Id", "Shopify-Webhook-Id", "X-Shopify-Event-Id", "Shopify-Event-Id")
	if at := firstHeader(r.Header, "X-Shopify-Triggered-At", "Shopify-Triggered-At"); at != "" {
		res.Timestamp, _ = time.Parse(time.RFC3339Nano, at) // informational only
	}
	return res, nil
}

func signShopify(secret string, body []byte, o SignOptions) (http.Header, error) {
	h := http.Header{}
	h.Set(shopifyHMACHeader, shopifyMAC.sign([]byte(secret), body))
	if o.Topic != "" {
		h.Set("X-Shopify-Topic", o.Topic)
	}
	id := o.ID
	if id == "" {
		id = newUUID()
	}
	h.Set("X-Shopify-Webhook-Id", id)
	h.Set("X-Shopify-Triggered-At", signTime(o).UTC().Format(time.RFC3339Nano))
	return h, nil
}
