-- A backfill that fails ingest validation is quarantined: counted apart
-- from errors.
ALTER TABLE reconcile_runs ADD COLUMN quarantined BIGINT NOT NULL DEFAULT 0;
