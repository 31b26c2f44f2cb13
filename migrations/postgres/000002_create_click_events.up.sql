-- Click events are appended on the hot read path and folded into
-- links.clicks by the worker, then deleted.
CREATE TABLE click_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    link_id    bigint      NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    clicked_at timestamptz NOT NULL
);

CREATE INDEX click_events_link_id_idx ON click_events (link_id);
