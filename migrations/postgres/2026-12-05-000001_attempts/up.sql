-- Later attempts of one EPA (resits and retakes). `attempt` counts from 1; `previous_id` names the
-- attempt before (unique: an attempt has at most one later attempt, whoever asks at once);
-- `attempt_json` holds what the later attempt was opened with (kind, the components assessed
-- again, the agreed scores carried over, exceptional circumstances, who and when).
ALTER TABLE assessments ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE assessments ADD COLUMN previous_id TEXT REFERENCES assessments(id);
ALTER TABLE assessments ADD COLUMN attempt_json TEXT;
CREATE UNIQUE INDEX assessments_previous_id ON assessments(previous_id);
