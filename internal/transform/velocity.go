package transform

import (
	"strconv"
	"sync"
	"time"
)

// Keys risk_score's built-in velocity counter can count by.
const (
	VelocityByCustomer = "customer" // lower-cased email, else "id:<customer id>"
	VelocityByIP       = "ip"       // the buyer's IP address as the order gives it
)

// VelocityCounter counts the distinct orders seen per key (a customer or an
// IP address) within a sliding window. It is what risk_score asks when the
// rules name a window and no count is given: risk_score may run several
// times for one order (retries, shadow, canary, several routes), so an order
// is counted once by its id. Counts live in the memory of one node; a
// restart or another node starts from zero.
type VelocityCounter struct {
	window  time.Duration
	maxKeys int

	mu      sync.Mutex
	keys    map[string]map[string]time.Time // key → order id → first seen
	unnamed int
}

// Bounds of a VelocityCounter's memory.
const (
	DefaultVelocityMaxKeys = 100_000
	maxVelocityOrders      = 1000 // per key; a count above this is reported as this
)

// NewVelocityCounter counts orders within window, keeping at most maxKeys
// keys (DefaultVelocityMaxKeys if ≤ 0); past that, keys without a recent
// order go first, then arbitrary ones.
func NewVelocityCounter(window time.Duration, maxKeys int) *VelocityCounter {
	if maxKeys <= 0 {
		maxKeys = DefaultVelocityMaxKeys
	}
	return &VelocityCounter{window: window, maxKeys: maxKeys, keys: map[string]map[string]time.Time{}}
}

// Observe records order (its id; "" counts as a new order each time) for key
// at time at and returns the number of distinct orders of key within the
// window ending at at, this one included.
func (v *VelocityCounter) Observe(key, order string, at time.Time) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	orders := v.keys[key]
	if orders == nil {
		if len(v.keys) >= v.maxKeys {
			v.evict(at)
		}
		orders = map[string]time.Time{}
		v.keys[key] = orders
	}
	for id, seen := range orders {
		if at.Sub(seen) >= v.window {
			delete(orders, id)
		}
	}
	if order == "" {
		v.unnamed++
		order = "\x00" + strconv.Itoa(v.unnamed)
	}
	if _, ok := orders[order]; !ok && len(orders) < maxVelocityOrders {
		orders[order] = at
	}
	return len(orders)
}

// evict makes room for a key: first every key whose orders are all outside
// the window, then, if none was, one arbitrary key.
func (v *VelocityCounter) evict(at time.Time) {
	for key, orders := range v.keys {
		recent := false
		for _, seen := range orders {
			if at.Sub(seen) < v.window {
				recent = true
				break
			}
		}
		if !recent {
			delete(v.keys, key)
		}
	}
	if len(v.keys) < v.maxKeys {
		return
	}
	for key := range v.keys {
		delete(v.keys, key)
		return
	}
}

// Keys is the number of keys held.
func (v *VelocityCounter) Keys() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.keys)
}
