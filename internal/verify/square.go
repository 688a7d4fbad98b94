package verify

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Square signs the notification URL exactly as registered on the
// subscription followed by the raw body: base64 HMAC-SHA256, keyed with the
// subscription's signature key, in x-square-hmacsha256-signature. Old
// subscriptions also (or only) send x-square-signature, the same content
// under HMAC-SHA1; it is checked only when the SHA-256 header is absent, so
// a request that carries a wrong SHA-256 signature is never rescued by its
// SHA-1 one.
//
// The URL is the source's notification_url (Request.URL overrides it when
// the caller sets one), never reconstructed from the request: behind a
// proxy the two differ. Several subscriptions posting to one URL each have
// their own key; list them all as secrets.
//
// Square signs no timestamp. The topic is the body's "type", the dedup key
// its "event_id", and the time its "created_at" (else the
// square-initial-delivery-timestamp header).
const (
	squareSigHeader    = "X-Square-Hmacsha256-Signature"
	squareLegacyHeader = "X-Square-Signature"
	squareTimeHeader   = "Square-Initial-Delivery-Timestamp"
)

var squareProvider = Provider{
	Name: "square",
	JSON: true,
	New:  newSquare,
	Sign: signSquare,
}

type square struct {
	keys   []*macKey // SHA-256
	legacy []*macKey // SHA-1, same secrets
	url    string
}

func newSquare(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	u, err := requireURL(src)
	if err != nil {
		return nil, err
	}
	return &square{
		keys:   newMACKeys(sha256.New, src.Secrets),
		legacy: newMACKeys(sha1.New, src.Secrets),
		url:    u,
	}, nil
}

func (v *square) Verify(r *Request) (Result, error) {
	keys, size, name := v.keys, sha256.Size, "x-square-hmacsha256-signature"
	sig := r.Header.Get(squareSigHeader)
	if sig == "" {
		if sig = r.Header.Get(squareLegacyHeader); sig == "" {
			return Result{}, badSignature("missing x-square-hmacsha256-signature header")
		}
		keys, size, name = v.legacy, sha1.Size, "x-square-signature"
	}
	var got [sha256.Size]byte
	if !decodeSig(got[:size], sig, encBase64) {
		return Result{}, badSignature("%s is not a base64 HMAC", name)
	}
	u := []byte(cmp.Or(r.URL, v.url))
	idx := -1
	for i, k := range keys {
		var want [sha256.Size]byte
		if hmac.Equal(k.sum(want[:], u, r.Body, nil), got[:size]) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return Result{}, badSignature("%s does not match the notification URL and body", name)
	}

	res := Result{SecretIndex: idx}
	var typ, id, created []byte
	eachMember(r.Body, func(n, val []byte) bool {
		switch string(n) {
		case "type":
			typ = val
		case "event_id":
			id = val
		case "created_at":
			created = val
		}
		return true
	})
	res.Topic, res.DeliveryID = jsonString(typ), jsonString(id)
	t := jsonString(created)
	if t == "" {
		t = r.Header.Get(squareTimeHeader)
	}
	res.Timestamp, _ = time.Parse(time.RFC3339Nano, t) // informational only
	return res, nil
}

// signSquare signs body for the notification URL o.URL, sending both the
// SHA-256 and the legacy SHA-1 header as Square did during the migration.
// The type and event id travel in the body, so o.Topic and o.ID are not
// used.
func signSquare(secret string, body []byte, o SignOptions) (http.Header, error) {
	if o.URL == "" {
		return nil, errors.New("square: the notification URL is signed, so it is required")
	}
	h := http.Header{}
	h.Set(squareSigHeader, base64.StdEncoding.EncodeToString(macSum(sha256.New, []byte(secret), []byte(o.URL), body)))
	h.Set(squareLegacyHeader, base64.StdEncoding.EncodeToString(macSum(sha1.New, []byte(secret), []byte(o.URL), body)))
	h.Set(squareTimeHeader, signTime(o).UTC().Format(time.RFC3339Nano))
	return h, nil
}
