//! Rebuild when a migration or an embedded template changes: `embed_migrations!` and
//! `include_str!` alone do not notice new files.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
}
