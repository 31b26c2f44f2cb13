-- The click batches written, by id, so that a batch written again (its
-- first commit's reply was lost) is skipped: each click counts once. A
-- web process gives up on a batch long before the purge deletes its id.
CREATE TABLE click_batches (
    id         text        PRIMARY KEY,
    created_at timestamptz NOT NULL
);

CREATE INDEX click_batches_created_at_idx ON click_batches (created_at);
