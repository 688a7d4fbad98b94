-- Finding an event by its provider id (the dedup key) without knowing
-- its source: the unique (source, dedup_key) index cannot serve it, so
-- without this index the search read every event (the console's search
-- box, GET /api/v1/events?dedup_key=).
--
-- The migration runs in a transaction, so building the index blocks
-- ingest while it reads the events table (seconds per million events).
CREATE INDEX events_dedup_key ON events (dedup_key);
