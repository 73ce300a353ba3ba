//! The Tera templates, embedded in the binary (it runs from any directory) and parsed once at
//! start. Names keep their `.html` suffix so Tera's autoescaping stays on for HTML.

use tera::Tera;

/// (name, source) of every template.
const TEMPLATES: &[(&str, &str)] = &[
    ("email/outcome/subject.txt", include_str!("../templates/email/outcome/subject.txt")),
    ("email/outcome/body.txt", include_str!("../templates/email/outcome/body.txt")),
    ("email/outcome/body.html", include_str!("../templates/email/outcome/body.html")),
    ("email/amended_outcome/subject.txt", include_str!("../templates/email/amended_outcome/subject.txt")),
    ("email/amended_outcome/body.txt", include_str!("../templates/email/amended_outcome/body.txt")),
    ("email/amended_outcome/body.html", include_str!("../templates/email/amended_outcome/body.html")),
    // The web pages (layout and pieces first: templates extend and include them), and the
    // static files, listed so they are checked too (served as bytes by `web::pages`).
    ("partials/base.html", include_str!("../templates/partials/base.html")),
    ("partials/context.html", include_str!("../templates/partials/context.html")),
    ("partials/status.html", include_str!("../templates/partials/status.html")),
    ("partials/messages.html", include_str!("../templates/partials/messages.html")),
    ("partials/emails.html", include_str!("../templates/partials/emails.html")),
    ("partials/adjustments.html", include_str!("../templates/partials/adjustments.html")),
    ("partials/attempt.html", include_str!("../templates/partials/attempt.html")),
    ("partials/guide_notes.html", include_str!("../templates/partials/guide_notes.html")),
    ("partials/report_filters.html", include_str!("../templates/partials/report_filters.html")),
    ("errors/404.html", include_str!("../templates/errors/404.html")),
    ("errors/403.html", include_str!("../templates/errors/403.html")),
    ("errors/error.html", include_str!("../templates/errors/error.html")),
    ("pages/signin.html", include_str!("../templates/pages/signin.html")),
    ("pages/home.html", include_str!("../templates/pages/home.html")),
    ("pages/appeals.html", include_str!("../templates/pages/appeals.html")),
    ("pages/appeal.html", include_str!("../templates/pages/appeal.html")),
    ("pages/assessment.html", include_str!("../templates/pages/assessment.html")),
    ("pages/gateway.html", include_str!("../templates/pages/gateway.html")),
    ("pages/panel.html", include_str!("../templates/pages/panel.html")),
    ("pages/declaration.html", include_str!("../templates/pages/declaration.html")),
    ("pages/viva.html", include_str!("../templates/pages/viva.html")),
    ("pages/evidence.html", include_str!("../templates/pages/evidence.html")),
    ("pages/scores.html", include_str!("../templates/pages/scores.html")),
    ("pages/review.html", include_str!("../templates/pages/review.html")),
    ("pages/consensus.html", include_str!("../templates/pages/consensus.html")),
    ("pages/decision.html", include_str!("../templates/pages/decision.html")),
    ("pages/moderation.html", include_str!("../templates/pages/moderation.html")),
    ("pages/moderate.html", include_str!("../templates/pages/moderate.html")),
    ("pages/reports.html", include_str!("../templates/pages/reports.html")),
    ("pages/verification_sample.html", include_str!("../templates/pages/verification_sample.html")),
    ("pages/standardisation.html", include_str!("../templates/pages/standardisation.html")),
    ("pages/audit.html", include_str!("../templates/pages/audit.html")),
    ("pages/admin_people.html", include_str!("../templates/pages/admin_people.html")),
    ("pages/admin_register.html", include_str!("../templates/pages/admin_register.html")),
    ("pages/admin_import.html", include_str!("../templates/pages/admin_import.html")),
    ("pages/admin_standardisation_due.html", include_str!("../templates/pages/admin_standardisation_due.html")),
    ("static/app.css", include_str!("../templates/static/app.css")),
    ("static/autosave.js", include_str!("../templates/static/autosave.js")),
    ("static/favicon.svg", include_str!("../templates/static/favicon.svg")),
];

/// Parses every template; a broken one stops the start.
pub fn load() -> anyhow::Result<Tera> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied()).map_err(|e| anyhow::anyhow!("templates: {e:#}"))?;
    tera.autoescape_on(vec![".html"]);
    Ok(tera)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_file_is_embedded_and_parses() {
        let tera = super::load().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let name = path.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/");
                    assert!(tera.get_template_names().any(|n| n == name), "{name} is not embedded in src/templates.rs");
                }
            }
        }
    }
}
