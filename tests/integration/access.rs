//! Access: every route of the v1 API × every role × its own panel's assessment or another
//! panel's, plus no token, a bad token and a revoked token. The expected status of each call is
//! computed from the one permission table (`domain::permissions::{may, can_see}`): 404 when the
//! caller may not know the assessment exists, 403 when they may see it but not do this, and
//! otherwise anything but 401/403/404 (the body or the state may still refuse it: 400, 409).

use crate::app::*;
use epa_panel::domain::permissions::{can_see, may, Action, Role, Seat, Seating};
use serde_json::json;

/// One route of the route table (src/web/mod.rs). `{id}` is an assessment, `{standard}` a
/// standard. `action: None` means any signed-in user.
struct Route {
    method: &'static str,
    path: &'static str,
    action: Option<Action>,
}

const fn route(method: &'static str, path: &'static str, action: Option<Action>) -> Route {
    Route { method, path, action }
}

/// Every route of `/api/v1`, with the action the permission table knows it by.
const ROUTES: &[Route] = &[
    route("POST", "/api/v1/organisations", Some(Action::Administer)),
    route("POST", "/api/v1/users", Some(Action::Administer)),
    route("GET", "/api/v1/users/{user}", Some(Action::Administer)),
    route("PUT", "/api/v1/users/{user}/assessor-record", Some(Action::Administer)),
    route("POST", "/api/v1/apprentices", Some(Action::Administer)),
    route("GET", "/api/v1/standards", None),
    route("POST", "/api/v1/standards", Some(Action::Administer)),
    route("GET", "/api/v1/standards/{standard}", None),
    route("GET", "/api/v1/assessments", None),
    route("POST", "/api/v1/assessments", Some(Action::Administer)),
    route("GET", "/api/v1/assessments/{id}", Some(Action::ViewAssessment)),
    route("PUT", "/api/v1/assessments/{id}/gateway", Some(Action::RecordGateway)),
    route("PUT", "/api/v1/assessments/{id}/panel", Some(Action::AppointPanel)),
    route("PUT", "/api/v1/assessments/{id}/declaration", Some(Action::Declare)),
    route("PUT", "/api/v1/assessments/{id}/viva-record", Some(Action::RecordViva)),
    route("POST", "/api/v1/assessments/{id}/evidence", Some(Action::RecordEvidence)),
    route("GET", "/api/v1/assessments/{id}/evidence", Some(Action::ViewAssessment)),
    route("PUT", "/api/v1/assessments/{id}/scores", Some(Action::Score)),
    route("GET", "/api/v1/assessments/{id}/scores", Some(Action::ViewAssessment)),
    route("PUT", "/api/v1/assessments/{id}/consensus", Some(Action::RecordConsensus)),
    route("POST", "/api/v1/assessments/{id}/decision", Some(Action::Decide)),
    route("POST", "/api/v1/assessments/{id}/moderation", Some(Action::Moderate)),
    route("PUT", "/api/v1/assessments/{id}/sign-off", Some(Action::SignOff)),
    route("PUT", "/api/v1/assessments/{id}/adjustments", Some(Action::RecordAdjustments)),
    route("POST", "/api/v1/assessments/{id}/appeals", Some(Action::Administer)),
    route("POST", "/api/v1/assessments/{id}/resits", Some(Action::Administer)),
    route("GET", "/api/v1/assessments/{id}/audit", Some(Action::ViewAudit)),
    route("POST", "/api/v1/assessments/{id}/emails/resend", Some(Action::Administer)),
    route("GET", "/api/v1/reports/scores.csv", Some(Action::ViewReports)),
    route("GET", "/api/v1/reports/outcomes.csv", Some(Action::ViewReports)),
    route("GET", "/api/v1/reports/assessors.csv", Some(Action::ViewReports)),
    route("GET", "/api/v1/reports/agreement.csv", Some(Action::ViewReports)),
    route("GET", "/api/v1/reports/independence.csv", Some(Action::ViewReports)),
    route("GET", "/api/v1/reports/trends.csv", Some(Action::ViewReports)),
    route("GET", "/api/v1/reports/verification-sample.csv", Some(Action::ViewReports)),
];

impl Route {
    fn on_assessment(&self) -> bool {
        self.path.contains("{id}")
    }

    /// The path on `assessment`, naming `user` where it names a user.
    fn path_for(&self, assessment: &str, user: &str) -> String {
        self.path.replace("{id}", assessment).replace("{standard}", STANDARD).replace("{user}", user)
    }

    /// A request body that would be accepted from someone allowed to send it (so that a refusal
    /// can only come from the auth layer or the assessment's state).
    fn body(&self, panel: &Panel, n: usize) -> Option<(&'static str, Vec<u8>)> {
        let value = match (self.method, self.path.trim_start_matches("/api/v1/assessments/{id}")) {
            ("POST", "/api/v1/organisations") => json!({"name": format!("Walker Org {n}"), "kind": "employer"}),
            ("POST", "/api/v1/users") => json!({"email": format!("walker{n}@access.test"), "name": "Walt Walker",
                                               "role": "line_manager", "organisation_id": panel.employer_id}),
            ("POST", "/api/v1/apprentices") => json!({"name": "Wendy Walker", "email": format!("wendy{n}@access.test"),
                                                     "employer_id": panel.employer_id,
                                                     "training_provider_id": panel.provider_id}),
            ("POST", "/api/v1/standards") => {
                return Some(("application/toml", shipped_guide().into_bytes()));
            }
            ("POST", "/api/v1/assessments") => json!({"apprentice_id": panel.apprentice.id, "standard_id": STANDARD,
                                                     "line_manager_id": panel.lm.id,
                                                     "training_provider_user_id": panel.tp.id}),
            ("PUT", "/gateway") => gateway_met(),
            ("PUT", "/panel") => panel.panel_body(&panel.ia),
            ("PUT", "/declaration") => json!({"no_prior_involvement": true, "conflicts": "none"}),
            ("PUT", "/viva-record") => json!({"questions": [{"question": "Q?", "response": "A."}]}),
            ("POST", "/evidence") => json!({"kind": "observation_record", "title": "Walked",
                                           "criteria": [{"component": panel.items()[0].component,
                                                         "criterion": panel.items()[0].criterion}]}),
            ("PUT", "/scores") => scores_body(&with(Sheet::new(), &[(&panel.items()[0], 3)]), false),
            ("PUT", "/consensus") => json!({"items": [], "notes": "walked"}),
            ("POST", "/decision") => json!({"notes": "walked"}),
            ("POST", "/moderation") => json!({"action": "confirm", "rationale": "walked"}),
            ("PUT", "/sign-off") => json!({"agree": true}),
            ("PUT", "/adjustments") => {
                json!({"adjustments": [{"kind": "extra_time", "description": "25% more time."}]})
            }
            ("PUT", "/api/v1/users/{user}/assessor-record") => {
                json!({"experience_years": 6, "standards": [STANDARD], "trained_on": "2025-01-01", "standardised_on": "2026-06-01"})
            }
            _ => return None,
        };
        Some(("application/json", serde_json::to_vec(&value).expect("JSON")))
    }
}

/// One caller: who they are and which seat (if any) they hold on the assessment they call.
struct Caller<'a> {
    label: String,
    role: Role,
    seat: Option<Seat>,
    client: &'a Client,
}

/// What the permission table says this caller gets: `Some(status)` for a refusal, `None` for
/// "the auth layer lets it through".
fn expected(route: &Route, role: Role, seat: Option<Seat>) -> Option<u16> {
    let action = route.action?;
    if route.on_assessment() && !can_see(role, seat) {
        return Some(404);
    }
    if !may(role, seat, action, &Seating::default()) {
        return Some(403);
    }
    None
}

both_backends!(every_route_every_role_matches_the_permission_table, |app| async move {
    // Ours is scheduled (every seat filled); theirs is another panel's, with other people.
    let ours = app.panel().await;
    let theirs = app.panel().await;
    let mut callers = vec![
        Caller { label: "admin".into(), role: Role::Admin, seat: None, client: &app.admin },
        Caller { label: "moderator".into(), role: Role::Moderator, seat: None, client: &ours.moderator },
    ];
    for (seat, own, other) in [
        (Seat::LineManager, &ours.lm, &theirs.lm),
        (Seat::TrainingProvider, &ours.tp, &theirs.tp),
        (Seat::IndependentAssessor, &ours.ia, &theirs.ia),
    ] {
        callers.push(Caller {
            label: format!("{} on this panel", seat.role()),
            role: seat.role(),
            seat: Some(seat),
            client: own,
        });
        callers.push(Caller {
            label: format!("{} of another panel", seat.role()),
            role: seat.role(),
            seat: None,
            client: other,
        });
    }
    callers.push(Caller {
        label: "independent_assessor on no panel".into(),
        role: Role::IndependentAssessor,
        seat: None,
        client: &ours.insider,
    });

    let mut wrong = Vec::new();
    let mut n = 0;
    let mut calls = 0;
    for caller in &callers {
        for route in ROUTES {
            n += 1;
            let path = route.path_for(&ours.id, &ours.ia.id);
            let r = caller.client.send(route.method, &path, route.body(&ours, n)).await;
            calls += 1;
            let ok = match expected(route, caller.role, caller.seat) {
                Some(status) => r.status == status,
                None => ![401, 403, 404].contains(&r.status) && r.status < 500,
            };
            if !ok {
                wrong.push(format!(
                    "{} {path} as {}: the table says {}, got {} {}",
                    route.method,
                    caller.label,
                    expected(route, caller.role, caller.seat).map_or("not 401/403/404".into(), |s| s.to_string()),
                    r.status,
                    r.text
                ));
            }
            // Another panel's assessment is indistinguishable from one that does not exist.
            if route.on_assessment() && r.status == 404 {
                let unknown = caller
                    .client
                    .send(route.method, &route.path_for("no-such-assessment", &ours.ia.id), route.body(&ours, n))
                    .await;
                if (unknown.status, &unknown.text) != (r.status, &r.text) {
                    wrong.push(format!(
                        "{} {path} as {}: another panel's assessment answers {} {} but an unknown one {} {}",
                        route.method, caller.label, r.status, r.text, unknown.status, unknown.text
                    ));
                }
            }
        }
        // An assessment that does not exist is 404 for everyone signed in, on every route.
        for route in ROUTES.iter().filter(|r| r.on_assessment()) {
            n += 1;
            let path = route.path_for("no-such-assessment", &ours.ia.id);
            let r = caller.client.send(route.method, &path, route.body(&ours, n)).await;
            calls += 1;
            if r.status != 404 {
                wrong.push(format!(
                    "{} {path} as {}: expected 404, got {} {}",
                    route.method, caller.label, r.status, r.text
                ));
            }
        }
    }

    // No token, a bad token, and (below) a revoked one: 401 on every route, before anything else.
    let anon = app.client(None);
    let bad = app.client(Some("epa_not-a-real-token"));
    app.revoke(&ours.tp.email);
    let strangers = [("no token", anon), ("a bad token", bad), ("a revoked token", ours.tp.client.clone())];
    for (label, client) in &strangers {
        for route in ROUTES {
            n += 1;
            for id in [ours.id.as_str(), "no-such-assessment"] {
                let path = route.path_for(id, &ours.ia.id);
                let r = client.send(route.method, &path, route.body(&ours, n)).await;
                calls += 1;
                if r.status != 401 {
                    wrong.push(format!(
                        "{} {path} with {label}: expected 401, got {} {}",
                        route.method, r.status, r.text
                    ));
                }
            }
        }
    }
    // The list never names another panel's assessment.
    for other in [&theirs.lm, &theirs.tp, &theirs.ia] {
        let listed = other.get("/api/v1/assessments").await;
        let ids: Vec<String> = listed.as_array().expect("a list").iter().map(id_of).collect();
        assert!(!ids.contains(&ours.id), "another panel's member lists our assessment: {ids:?}");
    }
    assert!(
        wrong.is_empty(),
        "{} of {calls} calls disagree with the permission table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(calls > ROUTES.len() * callers.len(), "the walk made {calls} calls");
});

#[test]
fn the_walk_covers_every_route_of_the_route_table() {
    // Each `.route("…", web::method()…)` line of src/web/mod.rs under `/api/v1` that needs a token
    // is walked here; a route inside a nested `web::scope("…")` is under that scope's path.
    let source = include_str!("../../src/web/mod.rs");
    let mut scope = String::new();
    let mut table: Vec<(String, String)> = source
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            if let Some((_, rest)) = l.split_once("web::scope(\"") {
                let prefix = rest.split('"').next().unwrap_or_default();
                scope = if prefix == "/api/v1" { String::new() } else { prefix.to_string() };
                return None;
            }
            if l.starts_with(')') {
                scope.clear();
                return None;
            }
            let l = l.strip_prefix(".route(\"")?;
            let (path, rest) = l.split_once('"')?;
            let path = format!("{scope}{path}");
            let method = rest.split("web::").nth(1)?.split('(').next()?.to_uppercase();
            // The two public routes (health, the API's description) need no token: not walked. The
            // routes under `/appeals/…` name an appeal, not an assessment, and answer to the
            // appeal's own rules (`services::assessments::appeals`: staff, and its reviewer).
            (path != "/healthz" && path != "/openapi.json" && !path.starts_with("/appeals"))
                .then(|| (method, format!("/api/v1{path}")))
        })
        .collect();
    table.sort();
    let mut walked: Vec<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.replace("{standard}", "{id}").replace("{user}", "{id}")))
        .collect();
    walked.sort();
    assert_eq!(walked, table, "the access walk must cover exactly the route table");
}
