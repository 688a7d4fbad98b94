-- The queue metrics count dead letters per destination on every scrape, and
-- the dead-letter list filters by destination. With the destination in the
-- partial index both are index-only scans instead of one heap fetch per dead
-- letter (5,000 dead letters among a million deliveries: 18 ms -> 0.95 ms,
-- docs/SCALING.md). Building it scans the table under a write lock: on a
-- very large deliveries table, run `hookyard migrate` in a quiet moment.
DROP INDEX deliveries_dead;
CREATE INDEX deliveries_dead ON deliveries (id) INCLUDE (destination) WHERE state = 'dead';
