-- The PostgreSQL schema is the SQLite schema (internal/store/sqlite/migrations)
-- in Postgres types: the same tables, columns, states and indexes, so the two
-- stores answer the conformance suite identically.
--
-- Times are bigint unix microseconds, as in SQLite: one representation in
-- both dialects, exact round trips, and 0 for "unset" (completed_at).
-- Ids use the "C" collation whatever the database's locale, because keyset
-- pagination, time bounds on ids and the delivery-id range of an event all
-- rely on byte order. Headers are bytea (a JSON object of string arrays),
-- not jsonb: jsonb rejects \u0000 and would fail an ingest over a header.

-- Events: the raw webhook, byte for byte. (source, dedup_key) is unique: the
-- durable dedup promise is this constraint, not a cache.
CREATE TABLE events (
    id          text COLLATE "C" PRIMARY KEY,
    source      text NOT NULL,
    provider    text NOT NULL,
    topic       text NOT NULL DEFAULT '',
    dedup_key   text NOT NULL,
    received_at bigint NOT NULL,
    headers     bytea NOT NULL,
    body        bytea NOT NULL,
    UNIQUE (source, dedup_key)
);

-- Deliveries: the queue is a table. due_at is the next attempt time while
-- pending and the lease expiry while in flight, so one index answers "what
-- is claimable now", including work whose worker crashed. A delivery's id
-- extends its event's id (dlv_<event>.<n>), so the primary key also finds an
-- event's deliveries. Rows are updated several times in a short life, so
-- autovacuum (and analyze, which keeps the claim plan honest after a burst)
-- runs after 2% of the table changes instead of the default 20%.
CREATE TABLE deliveries (
    id               text COLLATE "C" PRIMARY KEY,
    event_id         text COLLATE "C" NOT NULL,
    destination      text NOT NULL,
    route            text NOT NULL,
    state            text NOT NULL,
    priority         integer NOT NULL,
    ordering_key     text NOT NULL DEFAULT '',
    order_block      boolean NOT NULL DEFAULT false, -- a dead delivery blocks its ordering key (on_dead: block)
    version          text NOT NULL DEFAULT '',       -- hash of the route + transform that produced it
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    due_at           bigint NOT NULL,
    ready_at         bigint NOT NULL, -- when the current attempt became due (kept through a claim)
    lease_owner      text NOT NULL DEFAULT '',
    lease_token      bigint NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    last_error_class text NOT NULL DEFAULT '',
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL,
    completed_at     bigint NOT NULL DEFAULT 0
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
-- The claim index holds live rows only, so it stays small however many
-- finished deliveries the table keeps, and serves ORDER BY priority, due_at
-- for one destination without a sort.
CREATE INDEX deliveries_claim ON deliveries (destination, priority, due_at)
    WHERE state IN ('pending', 'inflight');
-- Per-key ordering: the live (and blocking dead) deliveries of each
-- ordering key, so "is there an earlier one?" is one short index probe.
CREATE INDEX deliveries_order ON deliveries (destination, ordering_key, id)
    WHERE ordering_key <> '' AND (state IN ('pending', 'inflight') OR (state = 'dead' AND order_block));
-- The dead-letter queue is listed often and is small: a partial index keeps
-- it fast without taxing every state change of live work.
CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';

-- Attempts: one row per try, with at most 4 KiB of the response.
CREATE TABLE attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   text COLLATE "C" NOT NULL,
    number        integer NOT NULL,
    started_at    bigint NOT NULL,
    duration_us   bigint NOT NULL,
    status_code   integer NOT NULL,
    error_class   text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    response_body bytea
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);

-- kv: small node state (the readiness probe writes here).
CREATE TABLE kv (
    k text PRIMARY KEY,
    v text NOT NULL
);

-- Quarantine: authentic requests that failed validation, kept for inspection.
CREATE TABLE quarantine (
    id          text COLLATE "C" PRIMARY KEY,
    source      text NOT NULL,
    provider    text NOT NULL,
    topic       text NOT NULL DEFAULT '',
    dedup_key   text NOT NULL,
    received_at bigint NOT NULL,
    headers     bytea NOT NULL,
    body        bytea NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX quarantine_source_id ON quarantine (source, id);
