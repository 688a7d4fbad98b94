package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
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
	return &easypost{keys: newMACKeys(sha256.New, keys)}, nil
}

func (v *easypost) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(easypostSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", easypostSigHeader)
	}
	hexSig, ok := strings.CutPrefix(sig, easypostSigPrefix)
	var got [sha256.Size]byte
	if !ok || !decodeSig(got[:], hexSig, encHex) {
		return Result{}, badSignature("%s is not %q followed by a hex HMAC-SHA256", easypostSigHeader, easypostSigPrefix)
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
		return Result{}, badSignature("%s does not match the body", easypostSigHeader)
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
	h.Set(easypostSigHeader, easypostSigPrefix+hex.EncodeToString(macSum(sha256.New, []byte(easypostKey(secret)), body)))
	return h, nil
}
