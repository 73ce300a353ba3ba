-- Lists are read newest first, a keyset page at a time (created_at, then id): an index in that
-- order lets each page start at its cursor instead of sorting every visible assessment again.
CREATE INDEX assessments_list_order ON assessments (created_at, id);
