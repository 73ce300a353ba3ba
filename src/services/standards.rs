//! Standards: panel guides imported from files or the API, stored by (id, version), and cached
//! parsed. An assessment keeps the version it was registered with; a stored version never changes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use serde_json::json;

use super::{audit, transaction, Actor};
use crate::db::standards::{self as repo, StandardRow};
use crate::db::{now, DbConnection};
use crate::domain::guide::Guide;
use crate::error::{AppError, AppResult, ErrorCode};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// A new (id, version) was stored.
    Created,
    /// The same id and version with the same content was already there.
    Unchanged,
}

/// Parsed guides by (id, version). Stored versions never change, so the cache never goes stale;
/// a miss reads the database (another instance may have imported it).
#[derive(Default)]
pub struct Guides {
    cache: RwLock<HashMap<(String, String), Arc<Guide>>>,
}

impl Guides {
    pub fn new() -> Self {
        Self::default()
    }

    fn cached(&self, id: &str, version: &str) -> Option<Arc<Guide>> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        cache.get(&(id.to_string(), version.to_string())).cloned()
    }

    fn remember(&self, guide: Guide) -> Arc<Guide> {
        let guide = Arc::new(guide);
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        cache.insert((guide.id.clone(), guide.version.clone()), guide.clone());
        guide
    }

    fn parsed(&self, row: &StandardRow) -> AppResult<Arc<Guide>> {
        if let Some(g) = self.cached(&row.id, &row.version) {
            return Ok(g);
        }
        let guide = Guide::from_json(&row.guide_json)
            .map_err(|e| anyhow::anyhow!("stored guide {} {} is unreadable: {e}", row.id, row.version))?;
        Ok(self.remember(guide))
    }

    /// One version of a standard.
    pub fn get(&self, conn: &mut DbConnection, id: &str, version: &str) -> AppResult<Option<Arc<Guide>>> {
        if let Some(g) = self.cached(id, version) {
            return Ok(Some(g));
        }
        repo::find_standard(conn, id, version)?.map(|r| self.parsed(&r)).transpose()
    }

    /// The latest imported version of a standard.
    pub fn latest(&self, conn: &mut DbConnection, id: &str) -> AppResult<Option<Arc<Guide>>> {
        repo::latest_standard(conn, id)?.map(|r| self.parsed(&r)).transpose()
    }

    /// The latest version of every standard, by id.
    pub fn list_latest(&self, conn: &mut DbConnection) -> AppResult<Vec<Arc<Guide>>> {
        let rows = repo::all_standards(conn)?;
        let mut out: Vec<Arc<Guide>> = Vec::new();
        for row in rows {
            if out.last().is_none_or(|g| g.id != row.id) {
                out.push(self.parsed(&row)?);
            }
        }
        Ok(out)
    }

    /// Validates and stores a guide. The same id and version with other content is refused
    /// (409): a version an assessment may use never changes under it.
    pub fn import(
        &self,
        conn: &mut DbConnection,
        actor: Option<&Actor>,
        source: &str,
    ) -> AppResult<(Arc<Guide>, Imported)> {
        let guide = Guide::from_toml(source)?;
        let json = guide.to_json();
        transaction(conn, |conn| {
            if let Some(existing) = repo::find_standard(conn, &guide.id, &guide.version)? {
                if existing.guide_json == json {
                    return Ok((self.parsed(&existing)?, Imported::Unchanged));
                }
                return Err(AppError::conflict(
                    ErrorCode::GuideVersionExists,
                    format!(
                        "{} version {} is already stored with different content; give the changed guide a new version",
                        guide.id, guide.version
                    ),
                )
                .at("version"));
            }
            let revision = repo::last_revision(conn, &guide.id)?;
            let row = StandardRow {
                id: guide.id.clone(),
                version: guide.version.clone(),
                revision: revision.unwrap_or(0) + 1,
                title: guide.title.clone(),
                // The column is informative only (the guide JSON is the record): 0 when the guide has no level.
                level: guide.level.map_or(0, |l| l as i32),
                guide_json: json.clone(),
                source_toml: source.to_string(),
                created_at: now(),
            };
            repo::insert_standard(conn, &row)?;
            audit(conn, None, actor, "standard.imported", json!({"standard_id": guide.id, "version": guide.version}))?;
            Ok((self.remember(guide.clone()), Imported::Created))
        })
    }

    /// Imports every `*.toml` in `dir` (sorted by name). Any invalid or conflicting guide stops
    /// the start, naming the file, line and field.
    pub fn import_dir(&self, conn: &mut DbConnection, dir: &Path) -> anyhow::Result<Vec<(String, String, Imported)>> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("EPA_GUIDES_DIR {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut done = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let (guide, how) =
                self.import(conn, None, &text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            done.push((guide.id.clone(), guide.version.clone(), how));
        }
        Ok(done)
    }
}
