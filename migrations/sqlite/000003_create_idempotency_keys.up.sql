-- Idempotency keys: a key is scoped to the token that sent it; the request
-- hash tells a replay from a different request under the same key, and the
-- stored response is replayed until the key expires.
CREATE TABLE idempotency_keys (
    scope           TEXT      NOT NULL,
    key             TEXT      NOT NULL,
    request_hash    BLOB      NOT NULL,
    response_status INTEGER,
    response_body   BLOB,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
