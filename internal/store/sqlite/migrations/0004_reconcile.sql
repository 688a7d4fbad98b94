-- Reconciliation runs: one row per comparison of a source's events with its
-- provider's API. cursor is the checkpoint a crashed run resumes from.
CREATE TABLE reconcile_runs (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    state       TEXT NOT NULL,
    window_from INTEGER NOT NULL,
    window_to   INTEGER NOT NULL,
    listed      INTEGER NOT NULL DEFAULT 0,
    matched     INTEGER NOT NULL DEFAULT 0,
    missing     INTEGER NOT NULL DEFAULT 0,
    backfilled  INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    cursor      TEXT NOT NULL DEFAULT '',
    last_error  TEXT NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reconcile_runs_source ON reconcile_runs (source, id);
