//! The one diesel schema, shared by both backends (it uses only types both have).
// @generated-style table definitions, kept by hand in step with migrations/{sqlite,postgres}.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        organisation_id -> Nullable<Text>,
        token_hash -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
        created_at -> Text,
        disabled_at -> Nullable<Text>,
    }
}

diesel::table! {
    apprentices (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        employer_id -> Text,
        training_provider_id -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    standards (id, version) {
        id -> Text,
        version -> Text,
        revision -> BigInt,
        title -> Text,
        level -> Integer,
        guide_json -> Text,
        source_toml -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        apprentice_id -> Text,
        standard_id -> Text,
        standard_version -> Text,
        status -> Text,
        line_manager_id -> Text,
        training_provider_user_id -> Text,
        independent_assessor_id -> Nullable<Text>,
        viva_at -> Nullable<Text>,
        viva_mode -> Nullable<Text>,
        gateway_json -> Nullable<Text>,
        declaration_json -> Nullable<Text>,
        viva_record_json -> Nullable<Text>,
        consensus_json -> Nullable<Text>,
        decision_json -> Nullable<Text>,
        grade -> Nullable<Text>,
        weighted_score -> Nullable<Double>,
        decided_at -> Nullable<Text>,
        released_at -> Nullable<Text>,
        version -> BigInt,
        created_at -> Text,
        updated_at -> Text,
        adjustments_json -> Nullable<Text>,
        attempt -> Integer,
        previous_id -> Nullable<Text>,
        attempt_json -> Nullable<Text>,
        seating_json -> Nullable<Text>,
    }
}

diesel::table! {
    score_sheets (assessment_id, user_id) {
        assessment_id -> Text,
        user_id -> Text,
        seat -> Text,
        scores_json -> Text,
        submitted_at -> Nullable<Text>,
        version -> BigInt,
        updated_at -> Text,
    }
}

diesel::table! {
    moderations (id) {
        id -> Text,
        assessment_id -> Text,
        moderator_id -> Text,
        action -> Text,
        rationale -> Text,
        decision_json -> Text,
        at -> Text,
        items_json -> Nullable<Text>,
    }
}

diesel::table! {
    audit_entries (seq) {
        seq -> BigInt,
        assessment_id -> Nullable<Text>,
        at -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
        chain -> Nullable<Text>,
    }
}

diesel::table! {
    audit_sealed (chain) {
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> Text,
        idem_key -> Text,
        request -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        assessment_id -> Text,
        recipient -> Text,
        recipient_role -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Text,
        locked_until -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Text,
        sent_at -> Nullable<Text>,
    }
}

diesel::table! {
    sign_offs (assessment_id, seat) {
        assessment_id -> Text,
        seat -> Text,
        user_id -> Text,
        agree -> Bool,
        dissent -> Nullable<Text>,
        at -> Text,
    }
}

diesel::table! {
    assessor_records (user_id) {
        user_id -> Text,
        experience_years -> Integer,
        standards_json -> Text,
        trained_on -> Nullable<Text>,
        standardised_on -> Nullable<Text>,
        updated_by -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    appeals (id) {
        id -> Text,
        assessment_id -> Text,
        status -> Text,
        grounds -> Text,
        items_json -> Text,
        requested_by -> Text,
        lodged_by -> Text,
        lodged_at -> Text,
        reviewer_id -> Nullable<Text>,
        reviewer_appointed_at -> Nullable<Text>,
        rationale -> Nullable<Text>,
        changes_json -> Nullable<Text>,
        related_json -> Nullable<Text>,
        decided_at -> Nullable<Text>,
        grade_before -> Nullable<Text>,
        weighted_score_before -> Nullable<Double>,
        grade_after -> Nullable<Text>,
        weighted_score_after -> Nullable<Double>,
    }
}

diesel::table! {
    evidence (id) {
        id -> Text,
        assessment_id -> Text,
        kind -> Text,
        title -> Text,
        description -> Text,
        criteria_json -> Text,
        recorded_by -> Text,
        recorded_at -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    apprentices,
    standards,
    assessments,
    score_sheets,
    moderations,
    sign_offs,
    assessor_records,
    appeals,
    evidence,
    audit_entries,
    audit_head,
    audit_sealed,
    idempotency_keys,
    outbox,
);

diesel::table! {
    credentials (user_id) {
        user_id -> Text,
        password_hash -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        created_at -> Text,
        expires_at -> Text,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        email -> Text,
        at -> Text,
        client -> Text,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
        created_at -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(credentials, web_sessions, users);
