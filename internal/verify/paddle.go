package verify

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Paddle Billing sends "Paddle-Signature: ts=<unix>;h1=<hex>": hex
// HMAC-SHA256 of "<ts>:<body>", keyed with the notification secret string
// (pdl_ntfset_…) as is. Entries are parsed by key, any h1 may match (during
// a secret rotation there is one per secret) and unknown keys are ignored.
//
// The window defaults to 5 seconds each way, the age paddle-node-sdk
// accepts (retries therefore carry a fresh ts, or Paddle's own SDK would
// reject them), so only clock skew and transit must fit in it. A source may
// widen it with tolerance.
//
// The topic is the body's "event_type", the dedup key its "event_id" (one
// per event, across retries and notification destinations; else
// "notification_id"), and the time its "occurred_at" (else ts).
const (
	paddleHeader    = "Paddle-Signature"
	paddleTolerance = 5 * time.Second
)

var paddleSig = timedSig{header: paddleHeader, sep: ";", tKey: "ts", sigKey: "h1", join: ':'}

var paddleProvider = Provider{
	Name: "paddle",
	JSON: true,
	New:  newPaddle,
	Sign: signPaddle,
}

type paddle struct {
	keys []*macKey
	tol  time.Duration
}

func newPaddle(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := toleranceOr(src, paddleTolerance)
	if err != nil {
		return nil, err
	}
	return &paddle{keys: newMACKeys(sha256.New, src.Secrets), tol: tol}, nil
}

func (v *paddle) Verify(r *Request) (Result, error) {
	h := r.Header.Get(paddleHeader)
	if h == "" {
		return Result{}, badSignature("missing %s header", paddleHeader)
	}
	t, nh1, err := paddleSig.scan(h)
	if err != nil {
		return Result{}, err
	}
	idx, ts, err := paddleSig.check(r, h, t, nh1, v.keys, v.tol)
	if err != nil {
		return Result{}, err
	}
	if idx < 0 {
		return Result{}, badSignature("no h1 signature matched")
	}

	res := Result{SecretIndex: idx, Timestamp: time.Unix(ts, 0)}
	var typ, eventID, notificationID, occurred []byte
	eachMember(r.Body, func(name, val []byte) bool {
		switch string(name) {
		case "event_type":
			typ = val
		case "event_id":
			eventID = val
		case "notification_id":
			notificationID = val
		case "occurred_at":
			occurred = val
		}
		return true
	})
	res.Topic = jsonString(typ)
	if res.DeliveryID = jsonString(eventID); res.DeliveryID == "" {
		res.DeliveryID = jsonString(notificationID)
	}
	if at, err := time.Parse(time.RFC3339Nano, jsonString(occurred)); err == nil {
		res.Timestamp = at
	}
	return res, nil
}

// signPaddle signs like Paddle. The event type and id travel in the body,
// so o.Topic and o.ID are not used.
func signPaddle(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	h := http.Header{}
	h.Set(paddleHeader, paddleSig.sign(secret, body, t))
	return h, nil
}
