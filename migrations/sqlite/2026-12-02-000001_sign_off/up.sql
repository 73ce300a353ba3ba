-- Sign-off: after the decision, the line manager and the training provider each record that they
-- agree with the agreed scores or their dissent. One row a seat; a new sign-off replaces it.
CREATE TABLE sign_offs (
    assessment_id TEXT NOT NULL REFERENCES assessments(id),
    seat TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    agree BOOLEAN NOT NULL,
    dissent TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (assessment_id, seat)
);
