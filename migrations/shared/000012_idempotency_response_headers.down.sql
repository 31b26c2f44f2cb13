ALTER TABLE idempotency_keys DROP COLUMN response_location;
ALTER TABLE idempotency_keys DROP COLUMN response_content_type;
