package verify

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Zendesk signs the timestamp followed by the raw body, with no separator:
// base64 HMAC-SHA256 in x-zendesk-webhook-signature, the timestamp (RFC
// 3339, "2021-03-25T05:09:27Z") in x-zendesk-webhook-signature-timestamp.
// The signing secret is used verbatim: it looks like base64 but is not
// decoded. Bodies may be empty (GET and DELETE webhooks). Zendesk
// prescribes no window; hookyard applies its default of 5 minutes each way
// to the signed timestamp.
//
// The dedup key is x-zendesk-webhook-invocation-id; the topic and time are
// the body's "type" and "time" for event webhooks (trigger webhooks have
// free-form bodies, and take the signed timestamp).
const (
	zendeskSigHeader        = "X-Zendesk-Webhook-Signature"
	zendeskTimestampHeader  = "X-Zendesk-Webhook-Signature-Timestamp"
	zendeskInvocationHeader = "X-Zendesk-Webhook-Invocation-Id"
	zendeskWebhookIDHeader  = "X-Zendesk-Webhook-Id"
)

var zendeskMAC = macHeader{name: "x-zendesk-webhook-signature", enc: encBase64, alg: hmacSHA256, signed: "the timestamp and body"}

var zendeskProvider = Provider{
	Name: "zendesk",
	JSON: false, // GET and DELETE webhooks are signed with an empty body
	New:  newZendesk,
	Sign: signZendesk,
}

type zendesk struct {
	keys []*macKey
	tol  time.Duration
}

func newZendesk(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := tolerance(src)
	if err != nil {
		return nil, err
	}
	return &zendesk{keys: zendeskMAC.keys(src.Secrets), tol: tol}, nil
}

func (v *zendesk) Verify(r *Request) (Result, error) {
	sig := r.Header.Get(zendeskSigHeader)
	if sig == "" {
		return Result{}, badSignature("missing x-zendesk-webhook-signature header")
	}
	t := r.Header.Get(zendeskTimestampHeader)
	if t == "" {
		return Result{}, badSignature("missing x-zendesk-webhook-signature-timestamp header")
	}
	var got [sha256.Size]byte
	if err := zendeskMAC.decode(&got, sig); err != nil {
		return Result{}, err
	}
	ts, err := time.Parse(time.RFC3339, t)
	if err != nil {
		return Result{}, badSignature("x-zendesk-webhook-signature-timestamp %q is not an RFC 3339 time", clip(t))
	}
	if err := checkTimestamp(ts.Unix(), r.Now, v.tol); err != nil {
		return Result{}, err
	}
	var hb [64]byte
	head := append(hb[:0], t...)
	idx, err := zendeskMAC.match(v.keys, &got, head, r.Body, nil)
	if err != nil {
		return Result{}, err
	}

	res := Result{SecretIndex: idx, DeliveryID: r.Header.Get(zendeskInvocationHeader), Timestamp: ts}
	var typ, at []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "type":
			typ = val
		case "time":
			at = val
		}
		return true
	})
	res.Topic = jsonString(typ)
	if e, err := time.Parse(time.RFC3339Nano, jsonString(at)); err == nil {
		res.Timestamp = e
	}
	return res, nil
}

// signZendesk signs like Zendesk. The event type travels in the body, so
// o.Topic is not used; o.ID is the invocation id.
func signZendesk(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := signTime(o).UTC().Format(time.RFC3339)
	h := http.Header{}
	h.Set(zendeskSigHeader, zendeskMAC.sign([]byte(secret), []byte(t), body))
	h.Set(zendeskTimestampHeader, t)
	id := o.ID
	if id == "" {
		id = newUUID()
	}
	h.Set(zendeskInvocationHeader, id)
	return h, nil
}
