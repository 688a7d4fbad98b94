-- Events: the raw webhook, byte for byte. (source, dedup_key) is unique: the
-- durable dedup promise is this constraint, not a cache.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    topic       TEXT NOT NULL DEFAULT '',
    dedup_key   TEXT NOT NULL,
    received_at INTEGER NOT NULL, -- unix microseconds
    headers     BLOB NOT NULL,    -- JSON object of string arrays
    body        BLOB NOT NULL,
    UNIQUE (source, dedup_key)
);

-- Deliveries: the queue is a table. due_at is the next attempt time while
-- pending and the lease expiry while in flight, so one index answers "what
-- is claimable now", including work whose worker crashed.
-- A delivery's id extends its event's id (dlv_<event>.<n>), so the primary
-- key also finds an event's deliveries.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    destination      TEXT NOT NULL,
    route            TEXT NOT NULL,
    state            TEXT NOT NULL,
    priority         INTEGER NOT NULL,
    ordering_key     TEXT NOT NULL DEFAULT '',
    order_block      INTEGER NOT NULL DEFAULT 0, -- a dead delivery blocks its ordering key (on_dead: block)
    version          TEXT NOT NULL DEFAULT '',   -- hash of the route + transform that produced it
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    due_at           INTEGER NOT NULL,
    ready_at         INTEGER NOT NULL, -- when the current attempt became due (kept through a claim)
    lease_owner      TEXT NOT NULL DEFAULT '',
    lease_token      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    last_error_class TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    completed_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_claim ON deliveries (destination, priority, due_at)
    WHERE state IN ('pending', 'inflight');
-- Per-key ordering: the live (and blocking dead) deliveries of each
-- ordering key, so "is there an earlier one?" is one short index probe.
CREATE INDEX deliveries_order ON deliveries (destination, ordering_key, id)
    WHERE ordering_key != '' AND (state IN ('pending', 'inflight') OR (state = 'dead' AND order_block = 1));
-- The dead-letter queue is listed often and is small: a partial index keeps
-- it fast without taxing every state change of live work.
CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';

-- Attempts: one row per try, with at most 4 KiB of the response.
CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    delivery_id   TEXT NOT NULL,
    number        INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_us   INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,
    error_class   TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    response_body BLOB
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);

-- kv: small node state (readiness probe writes here).
CREATE TABLE kv (
    k TEXT PRIMARY KEY,
    v TEXT NOT NULL
);
