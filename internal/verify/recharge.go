package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strconv"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Recharge has two schemes, both keyed with the API client secret, and a
// delivery carries either:
//
//   - current: X-Recharge-Webhook-Signature "t=<unix>,v1=<hex>" (plus
//     X-Recharge-Webhook-Timestamp, the same t), v1 = hex HMAC-SHA256 of
//     "<t>.<body>", t within 48 hours either way unless the source sets a
//     tolerance;
//   - legacy: X-Recharge-Hmac-Sha256 = hex SHA-256 of secret+body. It is a
//     plain hash, not an HMAC, and signs no time, so a captured legacy
//     delivery can be replayed for as long as the secret lives.
//
// The current header is checked whenever it is present, the legacy one only
// when it is absent. Whoever strips the current header from a captured
// delivery therefore downgrades it to the legacy check: the price of
// accepting subscriptions that still sign the old way.
//
// Recharge bodies carry the resource ({"charge": {"id": …}}), whose id is
// the same on every update of it, so the dedup key is the body hash.
const (
	rechargeSigHeader    = "X-Recharge-Webhook-Signature"
	rechargeTSHeader     = "X-Recharge-Webhook-Timestamp"
	rechargeLegacyHeader = "X-Recharge-Hmac-Sha256"
	rechargeTopicHeader  = "X-Recharge-Topic"

	// rechargeTolerance is Recharge's documented window, as long as its
	// retries last.
	rechargeTolerance = 48 * time.Hour
)

// rechargeSig may omit t=, which X-Recharge-Webhook-Timestamp then carries.
var rechargeSig = timedSig{header: rechargeSigHeader, sep: ",", tKey: "t", sigKey: "v1", join: '.', optionalT: true}

var rechargeProvider = Provider{
	Name: "recharge",
	JSON: true,
	New:  newRecharge,
	Sign: signRecharge,
}

type recharge struct {
	keys    []*macKey
	secrets [][]byte // for the legacy hash
	tol     time.Duration
}

func newRecharge(src config.Source) (Verifier, error) {
	if err := requireSecrets(src); err != nil {
		return nil, err
	}
	tol, err := toleranceOr(src, rechargeTolerance)
	if err != nil {
		return nil, err
	}
	v := &recharge{keys: newMACKeys(sha256.New, src.Secrets), tol: tol}
	for _, s := range src.Secrets {
		v.secrets = append(v.secrets, []byte(s))
	}
	return v, nil
}

func (v *recharge) Verify(r *Request) (Result, error) {
	var res Result
	var err error
	if sig := r.Header.Get(rechargeSigHeader); sig != "" {
		res, err = v.verifyCurrent(r, sig)
	} else if legacy := r.Header.Get(rechargeLegacyHeader); legacy != "" {
		res, err = v.verifyLegacy(r, legacy)
	} else {
		return Result{}, badSignature("missing %s header (or legacy %s)", rechargeSigHeader, rechargeLegacyHeader)
	}
	if err != nil {
		return Result{}, err
	}
	res.Topic = r.Header.Get(rechargeTopicHeader)
	return res, nil
}

func (v *recharge) verifyCurrent(r *Request, sig string) (Result, error) {
	t, nv1, err := rechargeSig.scan(sig)
	if err != nil {
		return Result{}, err
	}
	// The timestamp header repeats t; when both are sent they must agree,
	// and either alone will do.
	switch th := r.Header.Get(rechargeTSHeader); {
	case t == "" && th == "":
		return Result{}, badSignature("missing %s header (and %s has no t=)", rechargeTSHeader, rechargeSigHeader)
	case t == "":
		t = th
	case th != "" && th != t:
		return Result{}, badSignature("%s %q differs from the signed t=%q", rechargeTSHeader, clip(th), clip(t))
	}
	idx, ts, err := rechargeSig.check(r, sig, t, nv1, v.keys, v.tol)
	if err != nil {
		return Result{}, err
	}
	if idx < 0 {
		return Result{}, badSignature("no v1 signature in %s matched", rechargeSigHeader)
	}
	return Result{SecretIndex: idx, Timestamp: time.Unix(ts, 0)}, nil
}

func (v *recharge) verifyLegacy(r *Request, sig string) (Result, error) {
	var got [sha256.Size]byte
	if !decodeSig(got[:], sig, encHex) {
		return Result{}, badSignature("%s is not a hex SHA-256", rechargeLegacyHeader)
	}
	for i, s := range v.secrets {
		var want [sha256.Size]byte
		h := sha256.New()
		h.Write(s)
		h.Write(r.Body)
		if hmac.Equal(h.Sum(want[:0]), got[:]) {
			return Result{SecretIndex: i}, nil
		}
	}
	return Result{}, badSignature("%s does not match the body", rechargeLegacyHeader)
}

// signRecharge signs with the current scheme only. Recharge has no delivery
// id header, so o.ID is not used.
func signRecharge(secret string, body []byte, o SignOptions) (http.Header, error) {
	t := strconv.FormatInt(signTime(o).Unix(), 10)
	h := http.Header{}
	h.Set(rechargeTSHeader, t)
	h.Set(rechargeSigHeader, rechargeSig.sign(secret, body, t))
	if o.Topic != "" {
		h.Set(rechargeTopicHeader, o.Topic)
	}
	return h, nil
}
