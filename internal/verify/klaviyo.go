package verify

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Klaviyo (system webhooks) sends Klaviyo-Signature: hex HMAC-SHA256 of the
// raw body followed by the Klaviyo-Timestamp header value, exactly as sent
// (body first, no separator), keyed with the webhook secret. The order and
// encoding are confirmed only by independent implementations, not Klaviyo's
// own text. The timestamp is an HTTP date; RFC 3339 and unix seconds are
// read too, since its format is documented no better. It must lie within the
// window either way.
//
// A body batches events in data[] and names its webhook in
// meta.klaviyo_webhook_id, which must equal the Klaviyo-Webhook-Id header
// when both are present. The topic is data[].topic when every event shares
// it; the dedup key is the body hash, since a batch has no id of its own.
const (
	klaviyoSigHeader     = "Klaviyo-Signature"
	klaviyoTSHeader      = "Klaviyo-Timestamp"
	klaviyoWebhookHeader = "Klaviyo-Webhook-Id"
)

var klaviyoMAC = macHeader{name: klaviyoSigHeader, enc: encHex, alg: hmacSHA256, signed: "the body and timestamp"}

var klaviyoProvider = Provider{
	Name: "klaviyo",
	JSON: true,
	New:  newKlaviyo,
	Sign: signKlaviyo,
}

type klaviyo struct {
	keys []*macKey
	tol  time.Duration
}

func newKlaviyo(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := tolerance(src)
	if err != nil {
		return nil, err
	}
	return &klaviyo{keys: klaviyoMAC.keys(src.Secrets), tol: tol}, nil
}

func (v *klaviyo) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(klaviyoSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing %s header", klaviyoSigHeader)
	}
	t := r.Header.Get(klaviyoTSHeader)
	if t == "" {
		return Result{}, badSignature("missing %s header", klaviyoTSHeader)
	}
	at, ok := parseKlaviyoTime(t)
	if !ok {
		return Result{}, badSignature("%s %q is not an HTTP date", klaviyoTSHeader, clip(t))
	}
	var got [sha256.Size]byte
	if err := klaviyoMAC.decode(&got, sig); err != nil {
		return Result{}, err
	}
	if err := checkTimestamp(at.Unix(), r.Now, v.tol); err != nil {
		return Result{}, err
	}
	idx, err := klaviyoMAC.match(v.keys, &got, nil, r.Body, []byte(t))
	if err != nil {
		return Result{}, err
	}

	var data, hookID []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "data":
			data = val
		case "meta":
			hookID = member(val, "klaviyo_webhook_id")
		}
		return true
	})
	if h := r.Header.Get(klaviyoWebhookHeader); h != "" && hookID != nil && jsonString(hookID) != h {
		return Result{}, badSignature("%s does not match the body's meta.klaviyo_webhook_id", klaviyoWebhookHeader)
	}
	return Result{SecretIndex: idx, Topic: batchField(data, "topic"), Timestamp: at}, nil
}

// parseKlaviyoTime reads an HTTP date, an RFC 3339 time or unix seconds.
func parseKlaviyoTime(s string) (time.Time, bool) {
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// signKlaviyo signs like Klaviyo, with an HTTP-date timestamp. o.ID, when
// set, is sent as the webhook id; o.Topic travels in the body.
func signKlaviyo(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := signTime(o).UTC().Format(http.TimeFormat)
	h := http.Header{}
	h.Set(klaviyoTSHeader, t)
	h.Set(klaviyoSigHeader, klaviyoMAC.sign([]byte(secret), body, []byte(t)))
	if o.ID != "" {
		h.Set(klaviyoWebhookHeader, o.ID)
	}
	return h, nil
}
