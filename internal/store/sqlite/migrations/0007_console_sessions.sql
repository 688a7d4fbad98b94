-- Console logins, shared by every node. A row is found by the digest of the
-- cookie's random id; the API token in it is sealed under a key derived
-- from that id, so the table alone gives no access.
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
