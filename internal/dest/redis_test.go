package dest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/outcome"
)

func TestRedis(t *testing.T) {
	url := testURL(t, "HOOKYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0", "redis")
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	ctx := t.Context()
	suffix := randomHex(t)
	stream := "hookyard:test:" + suffix

	r, err := NewRedis(config.Destination{Name: "rs", Type: "redis", URL: url, Stream: stream,
		IdempotencyTTL: config.Duration(time.Hour)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	m := message([]byte(`{"id":1}`), "")
	m.Delivery.ID = "dlv_" + suffix
	m2 := message([]byte(`{"id":2}`), "")
	m2.Delivery.ID = "dlv_2_" + suffix
	m2.Payload = []byte(`{"slim":2}`)
	defer rc.Del(context.Background(), stream, r.IdempotencyKey(m.Delivery.IdempotencyKey()), r.IdempotencyKey(m2.Delivery.IdempotencyKey()))

	// Concurrent attempts and later redeliveries add one entry.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { wantOK(t, r.Send(ctx, m)) })
	}
	wg.Wait()
	wantOK(t, r.Send(ctx, m))
	tctx, traceparent, tracestate := traced(t, m2) // tracing on
	wantOK(t, r.Send(tctx, m2))

	entries, err := rc.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("stream holds %d entries after 9 attempts of one delivery and 1 of another, want 2", len(entries))
	}
	want := map[string]any{"idempotency_key": "hy_" + m.Delivery.ID, "event_id": "evt_1", "source": "shop", "topic": "orders/create", "body": `{"id":1}`}
	for k, v := range want {
		if entries[0].Values[k] != v {
			t.Errorf("entry field %s = %v, want %v", k, entries[0].Values[k], v)
		}
	}
	if v, ok := entries[0].Values["traceparent"]; ok {
		t.Errorf("untraced entry has traceparent %v", v)
	}
	if v := entries[1].Values; v["body"] != `{"slim":2}` || v["traceparent"] != traceparent || v["tracestate"] != tracestate {
		t.Errorf("second entry %v, want the payload, traceparent %s and tracestate %s", v, traceparent, tracestate)
	}

	// The marker holds the entry id and expires after the TTL.
	key := r.IdempotencyKey(m.Delivery.IdempotencyKey())
	if id, err := rc.Get(ctx, key).Result(); err != nil || id != entries[0].ID {
		t.Errorf("%s = %q, %v; want the entry id %s", key, id, err, entries[0].ID)
	}
	if ttl := rc.PTTL(ctx, key).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("%s TTL = %v, want about 1h", key, ttl)
	}
}

func TestRedisMaxLen(t *testing.T) {
	url := testURL(t, "HOOKYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0", "redis")
	opts, _ := redis.ParseURL(url)
	rc := redis.NewClient(opts)
	defer rc.Close()
	suffix := randomHex(t)
	stream := "hookyard:test:" + suffix
	r, err := NewRedis(config.Destination{Name: "rs", Type: "redis", URL: url, Stream: stream, MaxLen: 10}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	keys := []string{stream}
	for i := range 300 {
		m := message([]byte(`{}`), "")
		m.Delivery.ID = fmt.Sprintf("dlv_%s_%d", suffix, i)
		keys = append(keys, r.IdempotencyKey(m.Delivery.IdempotencyKey()))
		wantOK(t, r.Send(t.Context(), m))
	}
	defer rc.Del(context.Background(), keys...)
	// MAXLEN ~ trims whole macro nodes (100 entries by default), so the
	// stream stays near, not at, the bound.
	if n := rc.XLen(t.Context(), stream).Val(); n >= 300 || n < 10 {
		t.Errorf("stream length %d; want it trimmed towards 10", n)
	}
	if ttl := rc.PTTL(t.Context(), keys[1]).Val(); ttl < DefaultIdempotencyTTL-time.Minute {
		t.Errorf("default TTL = %v, want %v", ttl, DefaultIdempotencyTTL)
	}
}

// TestRedisWrongType: a failed XADD leaves no marker behind, so once the
// key is fixed the delivery goes through.
func TestRedisWrongType(t *testing.T) {
	url := testURL(t, "HOOKYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0", "redis")
	opts, _ := redis.ParseURL(url)
	rc := redis.NewClient(opts)
	defer rc.Close()
	suffix := randomHex(t)
	stream := "hookyard:test:" + suffix
	r, err := NewRedis(config.Destination{Name: "rs", Type: "redis", URL: url, Stream: stream}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := message([]byte(`{}`), "")
	m.Delivery.ID = "dlv_" + suffix
	key := r.IdempotencyKey(m.Delivery.IdempotencyKey())
	defer rc.Del(context.Background(), stream, key)

	rc.Set(t.Context(), stream, "not a stream", 0)
	if res := r.Send(t.Context(), m); res.OK() || outcome.IsPermanent(res.Err) {
		t.Fatalf("Send to a string key = %v, want a retryable error", res.Err)
	}
	if n := rc.Exists(t.Context(), key).Val(); n != 0 {
		t.Fatal("a failed XADD left the idempotency marker")
	}
	rc.Del(t.Context(), stream)
	wantOK(t, r.Send(t.Context(), m))
	if n := rc.XLen(t.Context(), stream).Val(); n != 1 {
		t.Fatalf("stream length %d, want 1", n)
	}
}

func TestRedisDown(t *testing.T) {
	r, err := NewRedis(config.Destination{Name: "rs", Type: "redis", URL: "redis://:s3cret@127.0.0.1:1/0", Stream: "s", Timeout: config.Duration(time.Second)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := r.Send(t.Context(), message([]byte(`{}`), ""))
	if res.OK() || outcome.IsPermanent(res.Err) || strings.Contains(res.Err.Error(), "s3cret") {
		t.Fatalf("Send = %v, want a retryable error without the password", res.Err)
	}
}
