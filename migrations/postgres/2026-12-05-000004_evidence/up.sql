-- Evidence linked to criteria: a record a panel member keeps of a piece of evidence (one of the
-- guide's evidence kinds), with the score items it supports (a JSON array of
-- {component, criterion}). Records are added, never changed: the decision is made on them.
CREATE TABLE evidence (
    id TEXT PRIMARY KEY,
    assessment_id TEXT NOT NULL REFERENCES assessments(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    criteria_json TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX evidence_by_assessment ON evidence (assessment_id, recorded_at);
