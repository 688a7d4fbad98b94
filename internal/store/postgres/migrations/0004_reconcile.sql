-- Reconciliation runs: one row per comparison of a source's events with its
-- provider's API. cursor is the checkpoint a crashed run resumes from.
CREATE TABLE reconcile_runs (
    id          text PRIMARY KEY,
    source      text NOT NULL,
    trigger_kind text NOT NULL,
    state       text NOT NULL,
    window_from bigint NOT NULL,
    window_to   bigint NOT NULL,
    listed      bigint NOT NULL DEFAULT 0,
    matched     bigint NOT NULL DEFAULT 0,
    missing     bigint NOT NULL DEFAULT 0,
    backfilled  bigint NOT NULL DEFAULT 0,
    errors      bigint NOT NULL DEFAULT 0,
    cursor      text NOT NULL DEFAULT '',
    last_error  text NOT NULL DEFAULT '',
    started_at  bigint NOT NULL,
    finished_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX reconcile_runs_source ON reconcile_runs (source, id);
