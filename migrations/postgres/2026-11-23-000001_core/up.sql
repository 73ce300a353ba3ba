-- The core of epa-panel. Times are UTC RFC 3339 text of fixed width (sorts as time); ids are text.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations(id),
    token_hash TEXT UNIQUE,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE apprentices (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    employer_id TEXT NOT NULL REFERENCES organisations(id),
    training_provider_id TEXT NOT NULL REFERENCES organisations(id),
    created_at TEXT NOT NULL
);

CREATE TABLE standards (
    id TEXT NOT NULL,
    version TEXT NOT NULL,
    revision BIGINT NOT NULL,
    title TEXT NOT NULL,
    level INTEGER NOT NULL,
    guide_json TEXT NOT NULL,
    source_toml TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY NOT NULL,
    apprentice_id TEXT NOT NULL REFERENCES apprentices(id),
    standard_id TEXT NOT NULL,
    standard_version TEXT NOT NULL,
    status TEXT NOT NULL,
    line_manager_id TEXT NOT NULL REFERENCES users(id),
    training_provider_user_id TEXT NOT NULL REFERENCES users(id),
    independent_assessor_id TEXT REFERENCES users(id),
    viva_at TEXT,
    viva_mode TEXT,
    gateway_json TEXT,
    declaration_json TEXT,
    viva_record_json TEXT,
    consensus_json TEXT,
    decision_json TEXT,
    grade TEXT,
    weighted_score DOUBLE PRECISION,
    decided_at TEXT,
    released_at TEXT,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    FOREIGN KEY (standard_id, standard_version) REFERENCES standards(id, version)
);
CREATE INDEX assessments_decided ON assessments (decided_at, id);
CREATE INDEX assessments_line_manager ON assessments (line_manager_id);
CREATE INDEX assessments_training_provider ON assessments (training_provider_user_id);
CREATE INDEX assessments_independent_assessor ON assessments (independent_assessor_id);

CREATE TABLE score_sheets (
    assessment_id TEXT NOT NULL REFERENCES assessments(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    seat TEXT NOT NULL,
    scores_json TEXT NOT NULL,
    submitted_at TEXT,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (assessment_id, user_id)
);

CREATE TABLE moderations (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id),
    moderator_id TEXT NOT NULL REFERENCES users(id),
    action TEXT NOT NULL,
    rationale TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX moderations_assessment ON moderations (assessment_id, at);

CREATE TABLE audit_entries (
    seq BIGSERIAL PRIMARY KEY,
    assessment_id TEXT,
    at TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_entries_assessment ON audit_entries (assessment_id, seq);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id),
    recipient TEXT NOT NULL,
    recipient_role TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_assessment ON outbox (assessment_id);
