-- Schema drift tracking: per (source, topic), the events seen and, per JSON
-- (path, type), how many had it; baseline_seen is -1 until the baseline
-- freezes. Rows of type '' carry a path's missing count.
CREATE TABLE drift_streams (
    source          TEXT NOT NULL,
    topic           TEXT NOT NULL,
    events          BIGINT NOT NULL DEFAULT 0,
    baseline_events BIGINT NOT NULL DEFAULT 0,
    frozen_at       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source, topic)
);

CREATE TABLE drift_paths (
    source          TEXT NOT NULL,
    topic           TEXT NOT NULL,
    path            TEXT NOT NULL,
    type            TEXT NOT NULL,
    seen            BIGINT NOT NULL DEFAULT 0,
    example         TEXT NOT NULL DEFAULT '',
    baseline_seen   BIGINT NOT NULL DEFAULT -1,
    missing         BIGINT NOT NULL DEFAULT 0,
    missing_example TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, topic, path, type)
);
