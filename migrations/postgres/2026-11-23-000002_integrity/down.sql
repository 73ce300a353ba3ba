DROP TABLE idempotency_keys;
DROP TABLE audit_head;
ALTER TABLE audit_entries DROP COLUMN hash;
ALTER TABLE audit_entries DROP COLUMN prev_hash;
