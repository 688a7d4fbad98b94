-- Event searches the console and GET /api/v1/events run on big tables.
--
-- By provider id (the dedup key) without knowing the source: the unique
-- (source, dedup_key) index cannot serve it, so without this index the
-- search read every event.
CREATE INDEX events_dedup_key ON events (dedup_key);
-- By source, newest first, a page at a time: without it SQLite answered
-- "source = ? AND id < ? ORDER BY id DESC" through the (source,
-- dedup_key) index and sorted every event of the source (0.7 s a page
-- over a million events); with it, one range read in id order.
CREATE INDEX events_source_id ON events (source, id);
