package dest

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/propagation"

	"github.com/hookyard/hookyard/internal/config"
)

// DefaultIdempotencyTTL is how long a redis destination remembers a
// delivered idempotency key when idempotency_ttl is unset: longer than the
// default retry window (three days and more), with room for replays.
const DefaultIdempotencyTTL = 7 * 24 * time.Hour

// Redis appends deliveries to a Redis stream with XADD, as entries with the
// fields idempotency_key, event_id, source, topic and body, and, when
// tracing is on, traceparent (and tracestate when there is one).
//
// A Lua script makes a redelivery a no-op: it looks for the key
// hookyard:idem:<idempotency key>, and only when it is absent adds the
// entry and then sets the key (to the entry id, with the TTL). Redis runs
// a script without interleaving other commands, so two concurrent attempts
// cannot both add; and because the XADD comes before the only other write,
// a failed XADD leaves nothing behind that would hide the entry from the
// next attempt. The two keys are separate, so Redis Cluster (which needs
// a script's keys in one slot) is not supported.
type Redis struct {
	name    string
	stream  string
	maxLen  int64
	ttl     time.Duration
	timeout time.Duration
	client  *redis.Client
}

// redisAdd is the idempotent XADD. KEYS: idempotency key, stream. ARGV:
// TTL in ms, MAXLEN (0 for none), then the fields' values (traceparent and
// tracestate last, empty for none). It returns the entry id and 1 if the
// entry was already there, 0 if it added it.
var redisAdd = redis.NewScript(`
local id = redis.call('GET', KEYS[1])
if id then return {id, 1} end
local fields = {'idempotency_key', ARGV[3], 'event_id', ARGV[4], 'source', ARGV[5], 'topic', ARGV[6], 'body', ARGV[7]}
if ARGV[8] ~= '' then table.insert(fields, 'traceparent'); table.insert(fields, ARGV[8]) end
if ARGV[9] ~= '' then table.insert(fields, 'tracestate'); table.insert(fields, ARGV[9]) end
if tonumber(ARGV[2]) > 0 then
	id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
else
	id = redis.call('XADD', KEYS[2], '*', unpack(fields))
end
redis.call('SET', KEYS[1], id, 'PX', ARGV[1])
return {id, 0}
`)

// NewRedis returns the sender for a redis destination. The client connects
// on first use.
func NewRedis(d config.Destination, o Options) (*Redis, error) {
	if d.URL == "" || d.Stream == "" {
		return nil, fmt.Errorf("destination %q: url and stream are required for type redis", d.Name)
	}
	opts, err := redis.ParseURL(d.URL)
	if err != nil {
		// ParseURL errors may quote the URL, which holds the password.
		return nil, fmt.Errorf("destination %q: url: not a redis://, rediss:// or unix:// URL", d.Name)
	}
	opts.ClientName = cmp.Or(opts.ClientName, "hookyard")
	opts.PoolSize = cmp.Or(max(d.Concurrency, 0), DefaultConcurrency)
	opts.ContextTimeoutEnabled = true // the attempt's deadline bounds every command
	opts.DisableIdentity = true       // no CLIENT SETINFO: servers before 7.2 reject it
	return &Redis{
		name:    d.Name,
		stream:  d.Stream,
		maxLen:  max(d.MaxLen, 0),
		ttl:     cmp.Or(max(d.IdempotencyTTL.D(), 0), DefaultIdempotencyTTL),
		timeout: cmp.Or(max(d.Timeout.D(), 0), DefaultTimeout),
		client:  redis.NewClient(opts),
	}, nil
}

// IdempotencyKey is the Redis key that marks a delivered idempotency key.
func (r *Redis) IdempotencyKey(key string) string { return "hookyard:idem:" + key }

// Send adds m to the stream unless an earlier attempt already did.
func (r *Redis) Send(ctx context.Context, m *Message) Response {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	key := m.Delivery.IdempotencyKey()
	trace := propagation.MapCarrier{} // traceparent, tracestate: when tracing is on
	propagation.TraceContext{}.Inject(ctx, trace)
	err := redisAdd.Run(ctx, r.client, []string{r.IdempotencyKey(key), r.stream},
		r.ttl.Milliseconds(), r.maxLen, key, m.Event.ID, m.Event.Source, m.Event.Topic, m.Body(), trace["traceparent"], trace["tracestate"]).Err()
	if err != nil {
		return Response{Err: fmt.Errorf("redis: add to stream %s: %w", r.stream, err)}
	}
	return Response{}
}

// Close closes the client's connections. Call it after the last Send.
func (r *Redis) Close() error { return r.client.Close() }

var _ Sender = (*Redis)(nil)
