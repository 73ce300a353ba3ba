//! `next_steps` on an assessment's JSON (a v1 addition): what the caller may do now, from
//! `domain::workflow`, the same answer the pages show their buttons by.

use serde_json::Value;

fn steps(view: &Value) -> Vec<String> {
    view["next_steps"]
        .as_array()
        .unwrap_or_else(|| panic!("next_steps: {view}"))
        .iter()
        .map(|s| s.as_str().expect("a step").to_string())
        .collect()
}

both_backends!(each_viewer_gets_their_own_next_steps, |app| async move {
    let panel = app.registered().await;
    assert_eq!(steps(&panel.lm.get(&panel.path("")).await), ["record_gateway"]);
    panel.pass_gateway().await;
    assert_eq!(steps(&panel.admin.get(&panel.path("")).await), ["record_gateway", "appoint_panel"]);
    panel.appoint().await;
    assert_eq!(steps(&panel.ia.get(&panel.path("")).await), ["declare", "record_viva"]);
    assert_eq!(steps(&panel.lm.get(&panel.path("")).await), ["record_viva"]);
    panel.declare().await;
    assert_eq!(steps(&panel.lm.get(&panel.path("")).await), ["record_viva", "score_sheet"]);
    // The list carries the same answer for each entry.
    let listed = panel.lm.get("/api/v1/assessments").await;
    assert_eq!(steps(&listed[0]), ["record_viva", "score_sheet"]);
});
