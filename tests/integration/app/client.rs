//! The HTTP client a test talks to the server with: one caller (a bearer token or none), the
//! contract's error shape checked on every 4xx.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{json, Value};

use super::Csv;

// ---------------------------------------------------------------- HTTP clients

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

/// The contract's error body `{"error": {"code", "message"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// One caller of the API: a bearer token (or none) against the running server. Clones share the
/// server address, which a restart updates.
#[derive(Clone)]
pub struct Client {
    pub(super) http: reqwest::Client,
    pub(super) base: Arc<RwLock<String>>,
    pub(super) token: Option<String>,
}

impl Client {
    /// Sends one request; `body` is (content type, bytes).
    pub async fn send(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Response {
        let url = format!("{}{}", self.base.read().unwrap_or_else(|p| p.into_inner()), path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("Content-Type", content_type).body(bytes);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let text = response.text().await.unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        Response { status, content_type, text }
    }

    /// Sends JSON (`Value::Null`: no body), checks the status, and returns the JSON answer. On a
    /// 4xx it also checks the contract's error shape.
    pub async fn expect(&self, status: u16, method: &str, path: &str, body: Value) -> Value {
        let payload = (!body.is_null()).then(|| ("application/json", serde_json::to_vec(&body).expect("JSON")));
        let response = self.send(method, path, payload).await;
        assert_eq!(
            response.status, status,
            "{method} {path} with {body}: expected {status}, got {} {}",
            response.status, response.text
        );
        if (400..500).contains(&status) {
            let e = error_of(method, path, &response);
            return json!({"error": {"code": e.code, "message": e.message}});
        }
        if response.text.is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&response.text)
            .unwrap_or_else(|e| panic!("{method} {path}: the answer is not JSON ({e}): {}", response.text))
    }

    /// Expects a refusal with `status` and returns its code and message.
    pub async fn refused(&self, status: u16, method: &str, path: &str, body: Value) -> ApiError {
        assert!((400..500).contains(&status), "refused() is for 4xx answers");
        let v = self.expect(status, method, path, body).await;
        ApiError {
            code: v["error"]["code"].as_str().unwrap_or_default().to_string(),
            message: v["error"]["message"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// Sends a raw body (e.g. a TOML guide) and returns the raw answer; 4xx answers are checked
    /// for the error shape.
    pub async fn expect_raw(&self, status: u16, method: &str, path: &str, content_type: &str, body: &str) -> Response {
        let response = self.send(method, path, Some((content_type, body.as_bytes().to_vec()))).await;
        assert_eq!(
            response.status, status,
            "{method} {path}: expected {status}, got {} {}",
            response.status, response.text
        );
        if (400..500).contains(&status) {
            error_of(method, path, &response);
        }
        response
    }

    pub async fn get(&self, path: &str) -> Value {
        self.expect(200, "GET", path, Value::Null).await
    }

    /// GET of a CSV report: 200, `text/csv`, parsed into a header and rows.
    pub async fn csv(&self, path: &str) -> Csv {
        let response = self.send("GET", path, None).await;
        assert_eq!(response.status, 200, "GET {path}: {}", response.text);
        assert!(response.content_type.starts_with("text/csv"), "GET {path}: Content-Type {:?}", response.content_type);
        Csv::parse(&response.text)
    }
}

/// Checks the contract's error shape and returns it.
fn error_of(method: &str, path: &str, response: &Response) -> ApiError {
    let v: Value = serde_json::from_str(&response.text).unwrap_or_else(|e| {
        panic!("{method} {path}: a {} must carry a JSON error body ({e}): {:?}", response.status, response.text)
    });
    let code = v["error"]["code"].as_str().unwrap_or_default();
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "{method} {path}: error.code must be snake_case: {v}"
    );
    assert!(!message.trim().is_empty(), "{method} {path}: error.message must say something: {v}");
    ApiError { code: code.to_string(), message: message.to_string() }
}

impl Client {
    /// A caller with `token` against the server at `base` (e.g. `http://127.0.0.1:40123`).
    pub fn at(base: &str, token: Option<&str>) -> Client {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        Client { http, base: Arc::new(RwLock::new(base.to_string())), token: token.map(str::to_string) }
    }

    /// The same caller (same token) against another server at `base`.
    pub fn on(&self, base: &str) -> Client {
        Client { http: self.http.clone(), base: Arc::new(RwLock::new(base.to_string())), token: self.token.clone() }
    }

    /// The bearer token this caller sends.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}
