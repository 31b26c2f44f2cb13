-- Links of the example domain: a short code and the URL it redirects to.
CREATE TABLE links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code       TEXT      NOT NULL UNIQUE,
    url        TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    clicks     INTEGER   NOT NULL DEFAULT 0
);

CREATE INDEX links_expires_at_idx ON links (expires_at) WHERE expires_at IS NOT NULL;
