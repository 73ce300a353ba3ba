//! The consensus: the agreed score and rationale for each item the panel disagreed on.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::{now, DbConnection};
use crate::domain::guide::ItemKey;
use crate::domain::permissions::Action;
use crate::domain::scoring::{self, Consensus, ConsensusItem};
use crate::domain::workflow::Step;
use crate::error::AppResult;
use crate::services::change::{change, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_length, Actor, Input};

use super::{as_panel, guide_of, kept_now, panel_sheets, to_json, NOTE_MAX};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsensusInput {
    pub items: Vec<ConsensusItemInput>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsensusItemInput {
    pub component: String,
    pub criterion: String,
    pub agreed_score: Option<i32>,
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredConsensus {
    #[serde(flatten)]
    pub consensus: Consensus,
    pub by: String,
    pub at: String,
}

/// Read as stored, the consensus's fields beside who recorded it, each read once: serde's
/// `flatten` would buffer the whole object first (every list entry parses one).
impl<'de> Deserialize<'de> for StoredConsensus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            items: Vec<ConsensusItem>,
            #[serde(default)]
            notes: String,
            by: String,
            at: String,
        }
        let f = Fields::deserialize(d)?;
        Ok(StoredConsensus { consensus: Consensus { items: f.items, notes: f.notes }, by: f.by, at: f.at })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsensusOutcome {
    pub items: Vec<scoring::AgreedItem>,
    pub disagreements: Vec<ItemKey>,
}

pub fn record_consensus(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<ConsensusInput>,
) -> AppResult<ConsensusOutcome> {
    change(conn, actor, id, Action::RecordConsensus, input, |Change { conn, row, status, body: input, .. }| {
        check_length("notes", &input.notes, NOTE_MAX)?;
        for (i, item) in input.items.iter().enumerate() {
            check_length(&format!("items[{i}].rationale"), &item.rationale, 4000)?;
        }
        let consensus = Consensus {
            items: input
                .items
                .into_iter()
                .map(|i| ConsensusItem {
                    component: i.component,
                    criterion: i.criterion,
                    agreed_score: i.agreed_score,
                    rationale: i.rationale.trim().to_string(),
                })
                .collect(),
            notes: input.notes.trim().to_string(),
        };
        let guide = guide_of(conn, guides, row)?;
        scoring::check_consensus_items(&guide, &consensus)?;
        let kept = kept_now(conn, row)?;
        scoring::check_consensus_open(&consensus, &kept)?;
        status.allows(Step::RecordConsensus)?;
        let sheets = panel_sheets(conn, row)?;
        let items = scoring::resolve_with(&guide, &as_panel(&sheets), &consensus, &kept)?;
        let mut disagreements = scoring::disagreements(&guide, &as_panel(&sheets));
        disagreements.retain(|k| !kept.contains_key(k));
        let detail = json!({"items": consensus.items, "notes": consensus.notes});
        row.consensus_json = Some(to_json(&StoredConsensus { consensus, by: actor.id.clone(), at: now() }));
        Ok(Done::saved(ConsensusOutcome { items, disagreements }, "consensus.recorded", detail))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_consensus_reads_back_to_the_same_json_byte_for_byte() {
        let stored = r#"{"items":[{"component":"viva","criterion":"K1","agreed_score":2,"rationale":"why"},{"component":"viva","criterion":"K2","agreed_score":null,"rationale":""}],"notes":"n","by":"u1","at":"2026-01-01T00:00:00Z"}"#;
        let read: StoredConsensus = serde_json::from_str(stored).unwrap();
        assert_eq!(serde_json::to_string(&read).unwrap(), stored);
        // The notes may be missing (as `Consensus` allows); who recorded it may not.
        let bare: StoredConsensus = serde_json::from_str(r#"{"items":[],"by":"u","at":"t"}"#).unwrap();
        assert_eq!(bare.consensus.notes, "");
        assert!(serde_json::from_str::<StoredConsensus>(r#"{"items":[],"at":"t"}"#).is_err());
    }
}
