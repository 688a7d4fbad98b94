-- A backfill that fails ingest validation is quarantined: counted apart
-- from errors.
ALTER TABLE reconcile_runs ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0;
