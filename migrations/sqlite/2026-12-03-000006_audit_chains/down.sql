DROP TABLE audit_sealed;
DELETE FROM audit_head WHERE id = 2;
DROP INDEX audit_entries_chain;
ALTER TABLE audit_entries DROP COLUMN chain;
