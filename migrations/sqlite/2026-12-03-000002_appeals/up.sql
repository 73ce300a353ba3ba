-- Reviews and appeals: an appeal against a released outcome, lodged by the assessment body's
-- admin, reviewed by an independent assessor who had no part in it, decided once (upheld or
-- not upheld). An upheld decision that changes agreed scores keeps the grade before and after.
CREATE TABLE appeals (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id),
    status TEXT NOT NULL,
    grounds TEXT NOT NULL,
    items_json TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    lodged_by TEXT NOT NULL REFERENCES users(id),
    lodged_at TEXT NOT NULL,
    reviewer_id TEXT REFERENCES users(id),
    reviewer_appointed_at TEXT,
    rationale TEXT,
    changes_json TEXT,
    related_json TEXT,
    decided_at TEXT,
    grade_before TEXT,
    weighted_score_before DOUBLE PRECISION,
    grade_after TEXT,
    weighted_score_after DOUBLE PRECISION
);
CREATE INDEX appeals_assessment ON appeals (assessment_id);
