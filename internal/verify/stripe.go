package verify

import (
	"crypto/sha256"
	"net/http"
	"strconv"
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

var stripeSig = timedSig{header: stripeHeader, sep: ",", tKey: "t", sigKey: "v1", join: '.'}

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
	t, nv1, err := stripeSig.scan(h)
	if err != nil {
		return Result{}, err
	}
	idx, ts, err := stripeSig.check(r, h, t, nv1, v.keys, v.tol)
	if err != nil {
		return Result{}, err
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

// signStripe signs like Stripe. Stripe carries the event type and id in the
// body, so o.Topic and o.ID are not used.
func signStripe(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	h := http.Header{}
	h.Set(stripeHeader, stripeSig.sign(secret, body, t))
	return h, nil
}
