-- Finding an event by its provider id (the dedup key) without knowing its
-- source: the console's search box and GET /api/v1/events?dedup_key=.
-- The unique (source, dedup_key) index cannot serve it, so without this
-- index that search reads every event.
CREATE INDEX events_dedup_key ON events (dedup_key);
