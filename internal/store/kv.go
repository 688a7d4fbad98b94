package store

import "context"

// KV keeps small named documents of cluster-wide state in the kv table
// (the alert engine's open and recently resolved incidents, for one).
// Both stores implement it beside Store; the storetest suite RunKV
// proves them.
type KV interface {
	// KVGet returns the value stored under key, with ok false if none.
	KVGet(ctx context.Context, key string) (value string, ok bool, err error)
	// KVPut stores value under key, replacing any previous value.
	KVPut(ctx context.Context, key, value string) error
}
