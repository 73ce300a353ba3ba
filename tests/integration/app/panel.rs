//! `Panel`: one apprentice's EPA and everyone on it, with the steps of the day as methods.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;

/// Gateway answers where every check holds.
pub fn gateway_met() -> Value {
    json!({"portfolio_complete": true, "knowledge_route": "qualification",
           "knowledge_reference": "CIH Level 4 Certificate in Managing Housing Maintenance 603/1433/3",
           "english_level2": true, "maths_level2": true, "employer_ready": true, "provider_ready": true})
}

/// One apprentice's EPA and everyone on it.
#[derive(Clone)]
pub struct Panel {
    pub id: String,
    pub standard: Standard,
    pub people: People,
}

impl std::ops::Deref for Panel {
    type Target = People;

    fn deref(&self) -> &People {
        &self.people
    }
}

impl Panel {
    /// `/api/v1/assessments/{id}` + `sub`.
    pub fn path(&self, sub: &str) -> String {
        format!("/api/v1/assessments/{}{}", self.id, sub)
    }

    pub fn items(&self) -> &[Item] {
        &self.standard.items
    }

    /// `GET /assessments/{id}` as admin.
    pub async fn view(&self) -> Value {
        self.admin.get(&self.path("")).await
    }

    pub async fn status(&self) -> String {
        self.view().await["status"].as_str().unwrap_or_default().to_string()
    }

    pub async fn pass_gateway(&self) {
        let g = self.lm.expect(200, "PUT", &self.path("/gateway"), gateway_met()).await;
        assert_eq!(g["status"], "gateway_passed", "{g}");
        assert_eq!(g["unmet"], json!([]), "{g}");
    }

    /// The gateway passed as the assessment's guide asks: the v1 fields for a guide with the v1
    /// checks, else every one of the guide's own checks answered by id, with its evidence.
    pub async fn pass_the_guides_gateway(&self) {
        let standard_id = self.view().await["standard_id"].as_str().unwrap().to_string();
        let standard = self.admin.get(&format!("/api/v1/standards/{standard_id}")).await;
        let ids: Vec<String> =
            standard["gateway"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
        if ids == ["portfolio_complete", "knowledge", "english_maths", "ready"] {
            return self.pass_gateway().await;
        }
        let checks: serde_json::Map<String, Value> =
            ids.iter().map(|id| (id.clone(), json!({"holds": true, "evidence": format!("Seen: {id}")}))).collect();
        let g = self.lm.expect(200, "PUT", &self.path("/gateway"), json!({"checks": checks})).await;
        assert_eq!(g["status"], "gateway_passed", "{g}");
        assert_eq!(g["checks"].as_array().map(Vec::len), Some(ids.len()), "{g}");
    }

    /// The body of `PUT /panel` for `assessor`.
    pub fn panel_body(&self, assessor: &Member) -> Value {
        json!({"independent_assessor_id": assessor.id, "viva_at": "2026-12-01T10:00:00Z", "mode": "in_person"})
    }

    pub async fn appoint(&self) {
        let p = self.admin.expect(200, "PUT", &self.path("/panel"), self.panel_body(&self.ia)).await;
        assert_eq!(p["status"], "scheduled", "{p}");
    }

    pub async fn declare(&self) {
        self.ia
            .expect(200, "PUT", &self.path("/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"}))
            .await;
    }

    /// Saves (and maybe submits) `who`'s sheet: 200 expected.
    pub async fn save(&self, who: &Member, sheet: &Sheet, submit: bool) -> Value {
        let r = who.expect(200, "PUT", &self.path("/scores"), scores_body(sheet, submit)).await;
        assert_eq!(r["submitted"], submit, "{r}");
        r
    }

    /// All three sheets submitted: the assessment moves to `consensus`.
    pub async fn submit_all(&self, lm: &Sheet, tp: &Sheet, ia: &Sheet) {
        self.save(&self.lm, lm, true).await;
        self.save(&self.tp, tp, true).await;
        self.save(&self.ia, ia, true).await;
        assert_eq!(self.status().await, "consensus");
    }

    pub async fn record_viva(&self) {
        self.ia
            .expect(
                200,
                "PUT",
                &self.path("/viva-record"),
                json!({"questions": [{"question": "How did you involve tenants in the change?",
                                      "response": "Two resident panels and a survey of 140 households."}]}),
            )
            .await;
    }

    /// The independent assessor records the consensus: 200 expected.
    pub async fn agree(&self, items: Vec<Value>, notes: &str) -> Value {
        self.ia.expect(200, "PUT", &self.path("/consensus"), json!({"items": items, "notes": notes})).await
    }

    /// The independent assessor records the decision: 200 expected.
    pub async fn decide(&self) -> Value {
        self.ia.expect(200, "POST", &self.path("/decision"), json!({"notes": "Decided on the day."})).await
    }

    pub async fn moderate(&self, action: &str, rationale: &str) -> Value {
        self.moderator
            .expect(200, "POST", &self.path("/moderation"), json!({"action": action, "rationale": rationale}))
            .await
    }

    /// The agreed scores of a decision's `items`.
    pub fn agreed_of(decision: &Value) -> BTreeMap<Item, (i64, String)> {
        decision["items"]
            .as_array()
            .unwrap_or_else(|| panic!("decision items: {decision}"))
            .iter()
            .map(|i| {
                (
                    Item::new(i["component"].as_str().expect("component"), i["criterion"].as_str().expect("criterion")),
                    (
                        i["agreed_score"].as_i64().expect("agreed_score"),
                        i["decided_by"].as_str().expect("decided_by").to_string(),
                    ),
                )
            })
            .collect()
    }

    /// Polls `GET /assessments/{id}` (up to 10 s) until every email has `status`; returns them.
    pub async fn wait_for_email_status(&self, status: &str) -> Vec<Value> {
        self.wait_for_email_status_within(status, Duration::from_secs(10)).await
    }

    pub async fn wait_for_email_status_within(&self, status: &str, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let emails = self.view().await["emails"].as_array().cloned().unwrap_or_default();
            let done = !emails.is_empty() && emails.iter().all(|e| e["status"] == status);
            if done || Instant::now() > deadline {
                return emails;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Scores and decides with everyone scoring `score` on every item (no consensus call is
    /// needed): `decided`, not yet moderated. Returns the decision.
    pub async fn decide_unanimous(&self, score: i64) -> Value {
        let s = sheet(self.items(), score);
        self.submit_all(&s, &s, &s).await;
        self.record_viva().await;
        let d = self.decide().await;
        assert_eq!(self.status().await, "decided");
        d
    }

    /// Scores, decides and releases with everyone scoring `score` on every item.
    pub async fn release_unanimous(&self, score: i64) -> Value {
        let d = self.decide_unanimous(score).await;
        self.moderate("confirm", "Due process followed.").await;
        d
    }
}
