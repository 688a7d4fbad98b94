package webhook

import (
	"crypto/rand"
	"time"
)

// crockford is Crockford's base32 alphabet: sortable, no ambiguous letters.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns prefix + a 26-character time-ordered id: 48 bits of
// milliseconds since the epoch followed by 80 random bits (the ULID layout).
// Ids made later sort after ids made earlier in a previous millisecond, which
// is what keyset pagination and "oldest first" rely on.
func NewID(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	b[0], b[1], b[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	b[3], b[4], b[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return encodeID(prefix, &b)
}

// NewIDBound returns the smallest (or, with high, the largest) id that
// NewID could return for t's millisecond: a bound for time-range queries.
func NewIDBound(prefix string, t time.Time, high bool) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	b[0], b[1], b[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	b[3], b[4], b[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	if high {
		for i := 6; i < 16; i++ {
			b[i] = 0xff
		}
	}
	return encodeID(prefix, &b)
}

func encodeID(prefix string, b *[16]byte) string {
	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
	dst := out[len(prefix):]
	// 128 bits → 26 base32 digits (the first carries 3 bits).
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[i+8])
	}
	for i := 25; i >= 0; i-- {
		dst[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}
