-- Quarantine: authentic requests that failed validation, kept for inspection.
CREATE TABLE quarantine (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    topic       TEXT NOT NULL DEFAULT '',
    dedup_key   TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    headers     BLOB NOT NULL,
    body        BLOB NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX quarantine_source_id ON quarantine (source, id);
