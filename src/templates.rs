//! The Tera templates, embedded in the binary (it runs from any directory) and parsed once at
//! start. Names keep their `.html` suffix so Tera's autoescaping stays on for HTML.

use tera::Tera;

/// (name, source) of every template.
const TEMPLATES: &[(&str, &str)] = &[
    ("email/outcome/subject.txt", include_str!("../templates/email/outcome/subject.txt")),
    ("email/outcome/body.txt", include_str!("../templates/email/outcome/body.txt")),
    ("email/outcome/body.html", include_str!("../templates/email/outcome/body.html")),
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
