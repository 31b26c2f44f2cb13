-- The click log: each row is a batch of clicks on one link, appended by a
-- web process's click flush and folded into links.clicks by the worker,
-- which deletes what it folded in the same transaction.
CREATE TABLE click_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id    INTEGER   NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    clicks     INTEGER   NOT NULL CHECK (clicks > 0),
    clicked_at TIMESTAMP NOT NULL
);

CREATE INDEX click_events_link_id_idx ON click_events (link_id);
