-- The audit trail off the global hot row: each entry now chains to the previous entry of its own
-- chain (its assessment's id; "body" for changes to no assessment; "seal" for the seal entries
-- that chain every other chain's head). Entries written before this migration keep chain NULL:
-- they stay the one old chain, which the seal chain continues (audit_head row 1 is its head).
-- The global order comes from the entries' sequence (nextval, no locked row).
ALTER TABLE audit_entries ADD COLUMN chain TEXT;
CREATE INDEX audit_entries_chain ON audit_entries (chain, seq);
-- Row 2: the head of the "body" chain (row 1 stays the old chain's head, now the seal chain's).
INSERT INTO audit_head (id, last_seq, last_hash) VALUES (2, 0, '');
-- Each chain's head as the newest seal names it (written only by a seal).
CREATE TABLE audit_sealed (
    chain TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
-- Entries were written with explicit seqs: the sequence starts after the newest.
SELECT setval(pg_get_serial_sequence('audit_entries', 'seq'), COALESCE((SELECT MAX(seq) FROM audit_entries), 0) + 1, false);
