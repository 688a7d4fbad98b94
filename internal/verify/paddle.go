package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
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
	t, nh1, err := scanPaddleHeader(h)
	if err != nil {
		return Result{}, err
	}
	ts, err := parseUnix(paddleHeader+" ts=", t)
	if err != nil {
		return Result{}, err
	}
	if nh1 == 0 {
		return Result{}, badSignature("%s has no h1 signature", paddleHeader)
	}
	if err := checkTimestamp(ts, r.Now, v.tol); err != nil {
		return Result{}, err
	}
	var hb [24]byte
	head := append(append(hb[:0], t...), ':')
	idx := -1
	for i, k := range v.keys {
		var want [sha256.Size]byte
		if paddleMatch(h, k.sum(want[:], head, r.Body, nil)) {
			idx = i
			break
		}
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

// scanPaddleHeader returns the ts= value of a Paddle-Signature header and
// how many h1= entries it has.
func scanPaddleHeader(h string) (t string, nh1 int, err error) {
	hasT := false
	for rest := h; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ";")
		k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "ts":
			if hasT {
				return "", 0, badSignature("%s has more than one ts=", paddleHeader)
			}
			t, hasT = val, true
		case "h1":
			nh1++
		}
	}
	if !hasT {
		return "", 0, badSignature("%s has no ts= timestamp", paddleHeader)
	}
	return t, nh1, nil
}

// paddleMatch reports whether any h1= entry of h equals mac.
func paddleMatch(h string, mac []byte) bool {
	for rest := h; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ";")
		sig, ok := strings.CutPrefix(strings.TrimSpace(item), "h1=")
		var got [sha256.Size]byte
		if ok && decodeSig(got[:], sig, encHex) && hmac.Equal(got[:], mac) {
			return true
		}
	}
	return false
}

// signPaddle signs like Paddle. The event type and id travel in the body,
// so o.Topic and o.ID are not used.
func signPaddle(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	mac := macSum(sha256.New, []byte(secret), []byte(t+":"), body)
	h := http.Header{}
	h.Set(paddleHeader, "ts="+t+";h1="+hex.EncodeToString(mac))
	return h, nil
}
