-- Destination state shared by every process on the database: status
-- (paused, disabled) with reason and time, the failure clock for
-- auto-disable, an open breaker, and the rate limit's token bucket.
CREATE TABLE destination_state (
    destination        text PRIMARY KEY,
    status             text NOT NULL DEFAULT 'active',
    reason             text NOT NULL DEFAULT '',
    since              bigint NOT NULL DEFAULT 0,
    failing_since      bigint NOT NULL DEFAULT 0,
    breaker_open_until bigint NOT NULL DEFAULT 0,
    tokens             double precision NOT NULL DEFAULT 0,
    tokens_at          bigint NOT NULL DEFAULT 0
);
