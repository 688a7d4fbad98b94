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

// Stripe sends "Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]": hex
// HMAC-SHA256 of "<t>.<body>", keyed with the whole whsec_ string as bytes
// (not decoded). During a secret roll it sends one v1 per active secret; v0
// and unknown schemes are ignored. Stripe's libraries check only the age of
// t; hookyard's rule is the window each way, so a t too far in the future is
// rejected as well.
const stripeHeader = "Stripe-Signature"

var stripeProvider = Provider{
	Name: "stripe",
	JSON: true,
	New:  newStripe,
	Sign: signStripe,
}

type stripe struct {
	keys []*macKey
	tol  time.Duration
}

func newStripe(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := tolerance(src)
	if err != nil {
		return nil, err
	}
	return &stripe{keys: newMACKeys(sha256.New, src.Secrets), tol: tol}, nil
}

func (v *stripe) Verify(r *Request) (Result, error) {
	h := r.Header.Get(stripeHeader)
	if h == "" {
		return Result{}, badSignature("missing %s header", stripeHeader)
	}
	t, nv1, err := scanStripeHeader(h)
	if err != nil {
		return Result{}, err
	}
	ts, err := parseUnix(stripeHeader+" t=", t)
	if err != nil {
		return Result{}, err
	}
	if nv1 == 0 {
		return Result{}, badSignature("%s has no v1 signature", stripeHeader)
	}
	if err := checkTimestamp(ts, r.Now, v.tol); err != nil {
		return Result{}, err
	}

	var hb [24]byte
	head := append(append(hb[:0], t...), '.')
	idx := -1
	for i, k := range v.keys {
		var want [sha256.Size]byte
		if stripeMatch(h, k.sum(want[:], head, r.Body, nil)) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return Result{}, badSignature("no v1 signature matched")
	}

	// Read only once authentic: unauthenticated bodies cost no parsing.
	ev := scanEvent(r.Body)
	res := Result{SecretIndex: idx, Topic: ev.Type, DeliveryID: ev.ID, Timestamp: time.Unix(ts, 0)}
	if ev.Created > 0 {
		res.Timestamp = time.Unix(ev.Created, 0)
	}
	return res, nil
}

// scanStripeHeader returns the t= value of a Stripe-Signature header and how
// many v1= entries it has.
func scanStripeHeader(h string) (t string, nv1 int, err error) {
	hasT := false
	for rest := h; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "t":
			if hasT {
				return "", 0, badSignature("%s has more than one t=", stripeHeader)
			}
			t, hasT = val, true
		case "v1":
			nv1++
		}
	}
	if !hasT {
		return "", 0, badSignature("%s has no t= timestamp", stripeHeader)
	}
	return t, nv1, nil
}

// stripeMatch reports whether any v1= entry of h equals mac.
func stripeMatch(h string, mac []byte) bool {
	for rest := h; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		sig, ok := strings.CutPrefix(strings.TrimSpace(item), "v1=")
		var got [sha256.Size]byte
		if ok && decodeSig(got[:], sig, encHex) && hmac.Equal(got[:], mac) {
			return true
		}
	}
	return false
}

// signStripe signs like Stripe. Stripe carries the event type and id in the
// body, so o.Topic and o.ID are not used.
func signStripe(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	mac := macSum(sha256.New, []byte(secret), []byte(t+"."), body)
	h := http.Header{}
	h.Set(stripeHeader, "t="+t+",v1="+hex.EncodeToString(mac))
	return h, nil
}
