//! Static files (the style sheet, the script, the icon): embedded in the binary, served under a
//! content hash with a long cache life, and `/favicon.ico`.

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

const STATIC_FILES: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../../../templates/static/app.css")),
    ("autosave.js", "text/javascript; charset=utf-8", include_str!("../../../templates/static/autosave.js")),
    ("favicon.svg", "image/svg+xml", include_str!("../../../templates/static/favicon.svg")),
];

fn hashed_names() -> &'static Vec<(String, usize)> {
    static NAMES: OnceLock<Vec<(String, usize)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        STATIC_FILES
            .iter()
            .enumerate()
            .map(|(i, (name, _, body))| {
                let hash = hex::encode(&Sha256::digest(body.as_bytes())[..6]);
                let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
                (format!("{stem}.{hash}.{ext}"), i)
            })
            .collect()
    })
}

/// The versioned URL of a static file (`/static/app.3f2a9c1b0d4e.css`).
pub fn static_url(name: &str) -> String {
    let i = STATIC_FILES.iter().position(|(n, _, _)| *n == name).unwrap_or(0);
    let hashed = hashed_names().iter().find(|(_, j)| *j == i).map(|(h, _)| h.clone()).unwrap_or_default();
    format!("/static/{hashed}")
}

pub(super) async fn static_file(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("name").unwrap_or_default();
    match hashed_names().iter().find(|(h, _)| h == name) {
        Some((_, i)) => {
            let (_, content_type, body) = STATIC_FILES[*i];
            HttpResponse::Ok()
                .content_type(content_type)
                .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
                .body(body)
        }
        None => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("no such file"),
    }
}

/// `/favicon.ico`, asked for by browsers whatever the page says: the same small SVG icon.
pub(super) async fn favicon() -> HttpResponse {
    let (_, content_type, body) = STATIC_FILES[2];
    HttpResponse::Ok().content_type(content_type).insert_header(("Cache-Control", "public, max-age=86400")).body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_urls_carry_a_content_hash() {
        let url = static_url("app.css");
        assert!(url.starts_with("/static/app.") && url.ends_with(".css") && url.len() > "/static/app..css".len());
        assert_ne!(static_url("autosave.js"), url);
    }
}
