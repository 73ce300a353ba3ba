//! Refer-back that names what it queries (`POST …/moderation` with `items`): only the named items
//! are open in the next consensus, the others stay agreed and the next decision keeps them; a
//! consensus item naming a closed one is refused naming it; v1's refer-back (no items) reopens all.

use crate::app::*;
use crate::web::Web;
use serde_json::json;

fn key(item: &Item) -> serde_json::Value {
    json!({"component": item.component, "criterion": item.criterion})
}

both_backends!(only_the_named_items_reopen_and_the_rest_stay_agreed, |app| async move {
    let p = app.decided().await;
    let (queried, kept) = (p.items()[0].clone(), p.items()[1].clone());
    let body =
        json!({"action": "refer_back", "rationale": "Is the first criterion really a 3?", "items": [key(&queried)]});
    let out = p.moderator.expect(200, "POST", &p.path("/moderation"), body).await;
    assert_eq!(out["status"], "consensus", "{out}");

    let view = p.view().await;
    assert_eq!(view["referred_back"]["items"], json!([key(&queried)]), "{view}");

    // A consensus item naming an item that was not referred back: 400 naming it, nothing saved.
    let e =
        p.ia.refused(400, "PUT", &p.path("/consensus"), json!({"items": [agreed(&kept, Some(4), "no")], "notes": "x"}))
            .await;
    assert_eq!(e.code, "item_not_open", "{e:?}");
    assert!(e.message.contains(&kept.criterion), "{e:?}");

    // The panel sees why, and what: at the top of the consensus console and on the home row, the
    // items not queried shown as kept.
    let mut ia = Web::signed_in(app, &p.ia.email).await;
    let console = ia.get_ok(&format!("/assessments/{}/consensus", p.id)).await.body;
    assert!(console.contains("Is the first criterion really a 3?"), "the reason on the console");
    assert!(console.contains("Not referred back: agreed as before"), "the kept items on the console");
    let home = ia.get_ok("/assessments").await.body;
    assert!(home.contains("Referred back: Is the first criterion really a 3?"), "the home row");

    p.agree(vec![agreed(&queried, Some(4), "Reconsidered: strong evidence")], "second look").await;
    let decision = p.decide().await;
    let agreed = Panel::agreed_of(&decision);
    assert_eq!(agreed[&queried].0, 4, "{decision}");
    for item in &p.items()[1..] {
        assert_eq!(agreed[item].0, 3, "{item:?} kept as agreed before: {decision}");
    }
});

both_backends!(a_refer_back_naming_an_unknown_item_is_refused_and_v1_reopens_everything, |app| async move {
    let p = app.decided().await;
    let body = json!({"action": "refer_back", "rationale": "Look again",
                      "items": [{"component": "nonsense", "criterion": "nope"}]});
    let e = p.moderator.refused(400, "POST", &p.path("/moderation"), body).await;
    assert!(e.message.contains("items[0]") || e.message.contains("nope"), "{e:?}");
    assert_eq!(p.status().await, "decided", "nothing saved");

    // v1: no items, every item open again: a consensus on any item is accepted.
    p.moderate("refer_back", "Look at everything again").await;
    let last = p.items().last().expect("items").clone();
    p.agree(vec![agreed(&last, Some(2), "Reconsidered")], "all open").await;
});
