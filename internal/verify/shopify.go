package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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
	return &shopify{keys: newMACKeys(sha256.New, src.Secrets)}, nil
}

func (v *shopify) Verify(r *Request) (Result, error) {
	sig := firstHeader(r.Header, shopifyHMACHeader, shopifyHMACAlt)
	if sig == "" {
		return Result{}, badSignature("missing %s header", shopifyHMACHeader)
	}
	var got [sha256.Size]byte
	if !decodeSig(got[:], sig, encBase64) {
		return Result{}, badSignature("%s is not a base64 HMAC-SHA256", shopifyHMACHeader)
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
		return Result{}, badSignature("%s does not match the body", shopifyHMACHeader)
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
	h.Set(shopifyHMACHeader, base64.StdEncoding.EncodeToString(macSum(sha256.New, []byte(secret), body)))
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
