package transform

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
)

// Hash returns a version stamp for a route and its transform: the first 12
// hex digits of the SHA-256 of parts. Each part is length-prefixed, so
// ("ab", "c") and ("a", "bc") differ. Deliveries record it so an operator can
// tell which version of a route produced a payload.
func Hash(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// InCanary reports whether the event with this id belongs to a canary of
// percent percent (0–100). The choice is a pure function of the id — the
// first 64 bits of its SHA-256 read as a fraction of 2^64 — so retries and
// replays of an event make the same choice, every node agrees, and the share
// of events chosen is percent/100 for any id scheme.
func InCanary(eventID string, percent float64) bool {
	if !(percent > 0) { // also false for NaN
		return false
	}
	if percent >= 100 {
		return true
	}
	sum := sha256.Sum256([]byte(eventID))
	u := binary.BigEndian.Uint64(sum[:8])
	return float64(u) < percent/100*math.Exp2(64)
}
