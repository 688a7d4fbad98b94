package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// timedSig is a signature header of key=value entries that carries a unix
// timestamp and hex HMAC-SHA256 signatures of "<timestamp><join><body>":
// Stripe's "t=…,v1=…", Paddle's "ts=…;h1=…" and Recharge's "t=…,v1=…".
// Entries are parsed by key and unknown keys are ignored; any signature
// entry may match, since providers send one per active secret during a
// rotation.
type timedSig struct {
	header string // the header's name, for messages
	sep    string // between entries
	tKey   string // the timestamp's key
	sigKey string // the signatures' key
	join   byte   // between the timestamp and the body in the signed content
	// optionalT means the header may omit the timestamp (another header
	// carries it); an empty one is then rejected while scanning, so that
	// it is not taken for an absent one.
	optionalT bool
}

// scan returns the timestamp entry's value ("" when optional and absent)
// and how many signature entries h has.
func (s *timedSig) scan(h string) (t string, nsig int, err error) {
	hasT := false
	for rest := h; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, s.sep)
		k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case s.tKey:
			if hasT {
				return "", 0, badSignature("%s has more than one %s=", s.header, s.tKey)
			}
			if val == "" && s.optionalT {
				return "", 0, badSignature("%s has an empty %s=", s.header, s.tKey)
			}
			t, hasT = val, true
		case s.sigKey:
			nsig++
		}
	}
	if !hasT && !s.optionalT {
		return "", 0, badSignature("%s has no %s= timestamp", s.header, s.tKey)
	}
	return t, nsig, nil
}

// check reads t as unix seconds, requires a signature entry, applies the
// window tol and returns the index of the key whose MAC matches an entry of
// h (-1 when none does, for the caller to word) and the timestamp.
func (s *timedSig) check(r *Request, h, t string, nsig int, keys []*macKey, tol time.Duration) (int, int64, error) {
	ts, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return -1, 0, badSignature("%s %s= %q is not unix seconds", s.header, s.tKey, clip(t))
	}
	if nsig == 0 {
		return -1, 0, badSignature("%s has no %s signature", s.header, s.sigKey)
	}
	if err := checkTimestamp(ts, r.Now, tol); err != nil {
		return -1, 0, err
	}
	var hb [24]byte
	head := append(append(hb[:0], t...), s.join)
	for i, k := range keys {
		var want [sha256.Size]byte
		if s.match(h, k.sum(want[:], head, r.Body, nil)) {
			return i, ts, nil
		}
	}
	return -1, ts, nil
}

// match reports whether any signature entry of h equals mac.
func (s *timedSig) match(h string, mac []byte) bool {
	for rest := h; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, s.sep)
		k, sig, _ := strings.Cut(strings.TrimSpace(item), "=")
		var got [sha256.Size]byte
		if k == s.sigKey && decodeSig(got[:], sig, encHex) && hmac.Equal(got[:], mac) {
			return true
		}
	}
	return false
}

// sign returns the header value a provider sends for body at t (unix
// seconds), signed with secret.
func (s *timedSig) sign(secret string, body []byte, t string) string {
	mac := macSum(sha256.New, []byte(secret), append([]byte(t), s.join), body)
	return s.tKey + "=" + t + s.sep + s.sigKey + "=" + hex.EncodeToString(mac)
}
