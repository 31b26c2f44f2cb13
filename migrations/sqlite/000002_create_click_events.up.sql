-- Click events are appended on the hot read path and folded into
-- links.clicks by the worker, then deleted.
CREATE TABLE click_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id    INTEGER   NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    clicked_at TIMESTAMP NOT NULL
);

CREATE INDEX click_events_link_id_idx ON click_events (link_id);
