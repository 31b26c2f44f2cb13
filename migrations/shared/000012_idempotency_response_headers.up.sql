-- The headers a replayed response must carry besides its status and body.
ALTER TABLE idempotency_keys ADD COLUMN response_content_type TEXT;
ALTER TABLE idempotency_keys ADD COLUMN response_location TEXT;
