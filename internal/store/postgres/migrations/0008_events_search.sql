-- Event searches the console and GET /api/v1/events run on big tables.
--
-- By provider id (the dedup key) without knowing the source: the unique
-- (source, dedup_key) index cannot serve it, so without this index the
-- search read every event.
CREATE INDEX events_dedup_key ON events (dedup_key);
-- By source, newest first, a page at a time: one range read in id order
-- instead of reading and sorting every event of the source.
--
-- The migration runs in a transaction, so building these indexes blocks
-- ingest while it reads the events table (seconds per million events).
CREATE INDEX events_source_id ON events (source, id);
