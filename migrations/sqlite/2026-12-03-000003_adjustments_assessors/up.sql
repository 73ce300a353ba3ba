-- Reasonable adjustments and special consideration of an assessment (JSON: items, the special
-- consideration, who recorded them and when); each save replaces the record.
ALTER TABLE assessments ADD COLUMN adjustments_json TEXT;

-- The assessor register: one record an independent assessor, replaced by each save.
CREATE TABLE assessor_records (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
    experience_years INTEGER NOT NULL,
    standards_json TEXT NOT NULL,
    trained_on TEXT,
    standardised_on TEXT,
    updated_by TEXT NOT NULL REFERENCES users(id),
    updated_at TEXT NOT NULL
);
