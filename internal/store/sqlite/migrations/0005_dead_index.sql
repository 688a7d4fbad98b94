-- The queue metrics count dead letters per destination, and the dead-letter
-- list filters by destination: with the destination in the partial index
-- both are answered from the index alone (as in the PostgreSQL store).
DROP INDEX deliveries_dead;
CREATE INDEX deliveries_dead ON deliveries (id, destination) WHERE state = 'dead';
