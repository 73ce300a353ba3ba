//! The people of a panel (organisations, users, an apprentice) made through the API by the admin.

use serde_json::{json, Value};

use super::*;

/// A user made by `admin` through the API, with a client for their token from `client_for`.
pub async fn member_through(
    admin: &Client,
    email: &str,
    name: &str,
    role: &str,
    organisation_id: &str,
    client_for: impl Fn(&str) -> Client,
) -> Member {
    let u = admin
        .expect(
            201,
            "POST",
            "/api/v1/users",
            json!({"email": email, "name": name, "role": role, "organisation_id": organisation_id}),
        )
        .await;
    assert_eq!(u["role"], role, "{u}");
    let token = u["token"].as_str().unwrap_or_else(|| panic!("a new user has a token: {u}"));
    Member { id: id_of(&u), name: name.to_string(), email: email.to_string(), client: client_for(token) }
}

/// Organisations, people and an apprentice for one panel (number `n`), made by `admin` through
/// the API on whatever server it talks to; `client_for` makes each person's client.
pub async fn people_through(admin: &Client, n: usize, names: &Names, client_for: impl Fn(&str) -> Client) -> People {
    let org = |name: String, kind: &'static str| async move {
        let o = admin.expect(201, "POST", "/api/v1/organisations", json!({"name": name, "kind": kind})).await;
        assert_eq!(o["kind"], kind, "organisation echoes its kind: {o}");
        id_of(&o)
    };
    let employer_id = org(format!("Northgate Homes {n}"), "employer").await;
    let provider_id = org(format!("Riverside Training {n}"), "training_provider").await;
    let body_id = org(format!("Fair EPA {n}"), "assessment_body").await;
    let f = &client_for;
    let lm =
        member_through(admin, &format!("lena{n}@northgate.test"), &names.line_manager, "line_manager", &employer_id, f)
            .await;
    let tp = member_through(
        admin,
        &format!("tom{n}@riverside.test"),
        &names.training_provider,
        "training_provider",
        &provider_id,
        f,
    )
    .await;
    let ia =
        member_through(admin, &format!("iris{n}@fairepa.test"), &names.assessor, "independent_assessor", &body_id, f)
            .await;
    let insider = member_through(
        admin,
        &format!("ivan{n}@northgate.test"),
        "Ivan Insider",
        "independent_assessor",
        &employer_id,
        f,
    )
    .await;
    let provider_insider = member_through(
        admin,
        &format!("paula{n}@riverside.test"),
        "Paula Provider",
        "independent_assessor",
        &provider_id,
        f,
    )
    .await;
    let moderator =
        member_through(admin, &format!("max{n}@fairepa.test"), "Max Moderator", "moderator", &body_id, f).await;
    let email = format!("amy{n}@northgate.test");
    let a = admin
        .expect(
            201,
            "POST",
            "/api/v1/apprentices",
            json!({"name": names.apprentice, "email": email, "employer_id": employer_id, "training_provider_id": provider_id}),
        )
        .await;
    let apprentice = Apprentice { id: id_of(&a), name: names.apprentice.clone(), email };
    People {
        admin: admin.clone(),
        employer_id,
        provider_id,
        body_id,
        lm,
        tp,
        ia,
        insider,
        provider_insider,
        moderator,
        apprentice,
    }
}

pub fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        Value::Null => panic!("no id in {v}"),
        other => other.to_string(),
    }
}

/// The names the people of a panel get (some scenarios need awkward ones).
#[derive(Debug, Clone)]
pub struct Names {
    pub apprentice: String,
    pub line_manager: String,
    pub training_provider: String,
    pub assessor: String,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            apprentice: "Amy Apprentice".into(),
            line_manager: "Lena Line".into(),
            training_provider: "Tom Tutor".into(),
            assessor: "Iris Independent".into(),
        }
    }
}

/// A user and their client.
#[derive(Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub email: String,
    pub client: Client,
}

impl std::ops::Deref for Member {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

#[derive(Debug, Clone)]
pub struct Apprentice {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// One apprentice's people: the employer's line manager, the provider's tutor, an independent
/// assessor from the assessment body, two insiders who may not be independent, a moderator.
#[derive(Clone)]
pub struct People {
    pub admin: Client,
    pub employer_id: String,
    pub provider_id: String,
    pub body_id: String,
    pub lm: Member,
    pub tp: Member,
    pub ia: Member,
    /// An independent assessor who works for the apprentice's employer.
    pub insider: Member,
    /// An independent assessor who works for the apprentice's training provider.
    pub provider_insider: Member,
    pub moderator: Member,
    pub apprentice: Apprentice,
}

impl People {
    /// Registers an assessment of `standard` for this apprentice.
    pub async fn register(self, app: &TestApp, standard: &str) -> Panel {
        let a = self
            .admin
            .expect(
                201,
                "POST",
                "/api/v1/assessments",
                json!({"apprentice_id": self.apprentice.id, "standard_id": standard,
                       "line_manager_id": self.lm.id, "training_provider_user_id": self.tp.id}),
            )
            .await;
        assert_eq!(a["status"], "registered", "{a}");
        let standard = app.standard(standard).await;
        Panel { id: id_of(&a), standard, people: self }
    }
}
