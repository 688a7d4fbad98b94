package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/store"
)

// RunKV runs the conformance tests of store.KV. open must return a store
// that implements it.
func RunKV(t *testing.T, open Opener) {
	t.Run("GetPutReplace", func(t *testing.T) {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		kv, ok := s.(store.KV)
		if !ok {
			t.Fatalf("%T does not implement store.KV", s)
		}
		ctx := context.Background()
		if v, ok, err := kv.KVGet(ctx, "alert.incidents"); err != nil || ok || v != "" {
			t.Fatalf("missing key: %q %v %v", v, ok, err)
		}
		big := `{"open":[` + strings.Repeat(`{"key":"queue-growing/oms"},`, 4000) + `{}]}`
		for _, v := range []string{`{"open":[]}`, big, ""} {
			if err := kv.KVPut(ctx, "alert.incidents", v); err != nil {
				t.Fatal(err)
			}
			got, ok, err := kv.KVGet(ctx, "alert.incidents")
			if err != nil || !ok || got != v {
				t.Fatalf("after put of %d bytes: %d bytes, ok %v, %v", len(v), len(got), ok, err)
			}
		}
		// Keys are independent of each other.
		if err := kv.KVPut(ctx, "other", "x"); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := kv.KVGet(ctx, "alert.incidents"); got != "" {
			t.Errorf("another key's put changed this one: %q", got)
		}
		if got, ok, err := kv.KVGet(ctx, "other"); err != nil || !ok || got != "x" {
			t.Errorf("other: %q %v %v", got, ok, err)
		}
	})
}
