-- The request that holds an unfinished claim on an idempotency key: it
-- alone may complete or release the claim, so a request that cannot tell
-- whether its claim committed can free it without freeing another's.
ALTER TABLE idempotency_keys ADD COLUMN claim_id TEXT;
