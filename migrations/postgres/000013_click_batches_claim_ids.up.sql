-- The click batches written, by id, so that a batch written again (its
-- first commit's reply was lost) is skipped: each click counts once. A
-- web process gives up on a batch long before the purge deletes its id.
CREATE TABLE click_batches (
    id         text        PRIMARY KEY,
    created_at timestamptz NOT NULL
);

CREATE INDEX click_batches_created_at_idx ON click_batches (created_at);

-- The request that holds an unfinished claim on an idempotency key: it
-- alone may complete or release the claim, so a request that cannot tell
-- whether its claim committed can free it without freeing another's.
ALTER TABLE idempotency_keys ADD COLUMN claim_id text;
