-- Destination state shared by every process on the database: status
-- (paused, disabled) with reason and time, the failure clock for
-- auto-disable, an open breaker, and the rate limit's token bucket.
CREATE TABLE destination_state (
    destination        TEXT PRIMARY KEY,
    status             TEXT NOT NULL DEFAULT 'active',
    reason             TEXT NOT NULL DEFAULT '',
    since              INTEGER NOT NULL DEFAULT 0,
    failing_since      INTEGER NOT NULL DEFAULT 0,
    breaker_open_until INTEGER NOT NULL DEFAULT 0,
    tokens             REAL NOT NULL DEFAULT 0,
    tokens_at          INTEGER NOT NULL DEFAULT 0
);
