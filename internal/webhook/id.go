package webhook

import (
	"crypto/rand"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet: sortable, no ambiguous letters.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns prefix + a 26-character time-ordered id: 48 bits of
// milliseconds since the epoch followed by 80 random bits (the ULID layout).
// Ids made later sort after ids made earlier in a previous millisecond, which
// is what keyset pagination and "oldest first" rely on.
//
// Within one process, ids made in the same millisecond are strictly
// increasing (the previous id plus one), so events keep their arrival order
// — which per-key ordering relies on. An id for an earlier millisecond is
// made fresh, so an id always carries its own time.
func NewID(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	mono.Lock()
	if ms == mono.ms {
		// Same millisecond: increment the last id.
		b = mono.last
		for i := 15; i >= 6; i-- {
			b[i]++
			if b[i] != 0 {
				break
			}
		}
	} else {
		b[0], b[1], b[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
		b[3], b[4], b[5] = byte(ms>>16), byte(ms>>8), byte(ms)
		_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails (Go ≥ 1.24)
		b[6] &= 0x7f            // headroom so increments within a millisecond never wrap
	}
	if ms >= mono.ms {
		mono.ms, mono.last = ms, b
	}
	mono.Unlock()
	return encodeID(prefix, &b)
}

// mono is the last id made, for monotonic ids.
var mono struct {
	sync.Mutex
	ms   uint64
	last [16]byte
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
