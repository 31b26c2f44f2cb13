-- Links of the example domain: a short code and the URL it redirects to.
CREATE TABLE links (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text        NOT NULL UNIQUE,
    url        text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    clicks     bigint      NOT NULL DEFAULT 0
);

CREATE INDEX links_expires_at_idx ON links (expires_at) WHERE expires_at IS NOT NULL;
