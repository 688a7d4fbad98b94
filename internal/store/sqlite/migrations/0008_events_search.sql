-- Finding an event by its provider id (the dedup key) without knowing
-- its source: the unique (source, dedup_key) index cannot serve it, so
-- without this index the search read every event (the console's search
-- box, GET /api/v1/events?dedup_key=).
CREATE INDEX events_dedup_key ON events (dedup_key);
