//! Where the intelligence lives in the store: one row per advisory (its
//! flattened [`Advisory`] as JSON), per KEV entry and per EPSS score, what
//! each source holds, and a generation counter that every import changing
//! anything bumps (the matcher rematches when it moves).
//!
//! Functions take the store's connection or transaction
//! (`store.read(|db| intel::advisories(db))`, `store.write(|db| …)`);
//! the import does all its writes in one transaction. The tables are in
//! [`super::schema`].

use std::collections::HashMap;

use super::{Db, from_sql_int, params, sql_int};
use crate::intel::model::{Advisory, Epss, KevEntry, SourceStatus};
use anyhow::{Context, Result};

/// Every stored advisory, by id.
pub fn advisories(db: &Db<'_>) -> Result<Vec<Advisory>> {
    let mut out = Vec::new();
    db.for_each(
        "SELECT id, value FROM intel_advisories ORDER BY id",
        params![],
        |r| {
            let id = r.text(0)?;
            out.push(
                serde_json::from_str(r.text(1)?)
                    .with_context(|| format!("stored advisory {id} does not read"))?,
            );
            Ok(())
        },
    )?;
    Ok(out)
}

/// One stored advisory.
pub fn advisory(db: &Db<'_>, id: &str) -> Result<Option<Advisory>> {
    let value: Option<String> = db
        .query_opt(
            "SELECT value FROM intel_advisories WHERE id = ?1",
            params![id],
        )?
        .map(|r| r.get(0))
        .transpose()?;
    value
        .map(|v| {
            serde_json::from_str(&v).with_context(|| format!("stored advisory {id} does not read"))
        })
        .transpose()
}

/// What is stored of one advisory's revision: enough to decide whether a
/// document replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// `tracking.version` as written.
    pub version: String,
    /// `tracking.current_release_date` as written.
    pub released: String,
    /// The stored JSON of the flattened advisory.
    pub value: String,
}

/// The stored revision of advisory `id`, if any.
pub fn revision(db: &Db<'_>, id: &str) -> Result<Option<Revision>> {
    db.query_opt(
        "SELECT version, released, value FROM intel_advisories WHERE id = ?1",
        params![id],
    )?
    .map(|r| {
        Ok(Revision {
            version: r.get(0)?,
            released: r.get(1)?,
            value: r.get(2)?,
        })
    })
    .transpose()
}

/// Stores (or replaces) an advisory; `value` is its JSON.
pub fn put_advisory(
    db: &Db<'_>,
    advisory: &Advisory,
    value: &str,
    source: &str,
    now: &str,
) -> Result<()> {
    db.execute(
        "INSERT INTO intel_advisories (id, version, released, value, imported_at, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, released = excluded.released,
             value = excluded.value, imported_at = excluded.imported_at, source = excluded.source",
        params![
            advisory.id,
            advisory.version,
            advisory.released,
            value,
            now,
            source
        ],
    )?;
    Ok(())
}

/// The KEV catalog's entries, by CVE.
pub fn kev(db: &Db<'_>) -> Result<HashMap<String, KevEntry>> {
    let mut out = HashMap::new();
    db.for_each("SELECT cve, value FROM intel_kev", params![], |r| {
        let cve: String = r.get(0)?;
        let entry = serde_json::from_str(r.text(1)?)
            .with_context(|| format!("stored KEV entry {cve} does not read"))?;
        out.insert(cve, entry);
        Ok(())
    })?;
    Ok(out)
}

/// Replaces the whole KEV catalog (a catalog is a snapshot: an entry it no
/// longer lists is gone).
pub fn replace_kev<'a>(db: &Db<'_>, entries: impl IntoIterator<Item = &'a KevEntry>) -> Result<()> {
    db.execute("DELETE FROM intel_kev", params![])?;
    for e in entries {
        db.execute(
            "INSERT INTO intel_kev (cve, value) VALUES (?1, ?2)
             ON CONFLICT (cve) DO UPDATE SET value = excluded.value",
            params![e.cve, serde_json::to_string(e)?],
        )?;
    }
    Ok(())
}

/// EPSS scores, by CVE.
pub fn epss(db: &Db<'_>) -> Result<HashMap<String, Epss>> {
    let mut out = HashMap::new();
    db.for_each(
        "SELECT cve, score, percentile FROM intel_epss",
        params![],
        |r| {
            out.insert(
                r.get(0)?,
                Epss {
                    score: r.get(1)?,
                    percentile: r.get(2)?,
                },
            );
            Ok(())
        },
    )?;
    Ok(out)
}

/// Replaces all EPSS scores (a day's file is a snapshot of every scored CVE).
pub fn replace_epss<'a>(
    db: &Db<'_>,
    scores: impl IntoIterator<Item = (&'a String, &'a Epss)>,
) -> Result<()> {
    db.execute("DELETE FROM intel_epss", params![])?;
    for (cve, e) in scores {
        db.execute(
            "INSERT INTO intel_epss (cve, score, percentile) VALUES (?1, ?2, ?3)
             ON CONFLICT (cve) DO UPDATE SET score = excluded.score,
                 percentile = excluded.percentile",
            params![cve, e.score, e.percentile],
        )?;
    }
    Ok(())
}

/// What each source holds, by kind (`csaf`, `epss`, `kev`).
pub fn status(db: &Db<'_>) -> Result<Vec<SourceStatus>> {
    db.query(
        "SELECT kind, count, version, date, imported_at FROM intel_sources ORDER BY kind",
        params![],
    )?
    .into_iter()
    .map(|r| {
        Ok(SourceStatus {
            kind: r.get(0)?,
            count: from_sql_int(r.get(1)?),
            version: r.get(2)?,
            date: r.get(3)?,
            imported_at: r.get(4)?,
        })
    })
    .collect()
}

/// The status of one source kind, if it was ever imported.
pub fn source(db: &Db<'_>, kind: &str) -> Result<Option<SourceStatus>> {
    Ok(status(db)?.into_iter().find(|s| s.kind == kind))
}

/// Records what a source now holds.
pub fn set_source(db: &Db<'_>, s: &SourceStatus) -> Result<()> {
    db.execute(
        "INSERT INTO intel_sources (kind, count, version, date, imported_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind) DO UPDATE SET count = excluded.count, version = excluded.version,
             date = excluded.date, imported_at = excluded.imported_at",
        params![s.kind, sql_int(s.count), s.version, s.date, s.imported_at],
    )?;
    Ok(())
}

/// The CSAF source's status as the table now holds it: the advisory count
/// and the newest release date.
pub fn csaf_source(db: &Db<'_>, now: &str) -> Result<SourceStatus> {
    let row = db.query_one(
        "SELECT count(*), max(released) FROM intel_advisories",
        params![],
    )?;
    let (count, date): (i64, Option<String>) = (row.get(0)?, row.get(1)?);
    Ok(SourceStatus {
        kind: "csaf".to_owned(),
        count: from_sql_int(count),
        version: None,
        date,
        imported_at: now.to_owned(),
    })
}

/// The intelligence generation: moves whenever an import changed anything.
pub fn generation(db: &Db<'_>) -> Result<u64> {
    let g: Option<i64> = db
        .query_opt(
            "SELECT generation FROM intel_generation WHERE id = 0",
            params![],
        )?
        .map(|r| r.get(0))
        .transpose()?;
    Ok(g.map(from_sql_int).unwrap_or(0))
}

/// Moves the generation on; returns the new one.
pub fn bump_generation(db: &Db<'_>) -> Result<u64> {
    db.execute(
        "INSERT INTO intel_generation (id, generation) VALUES (0, 1)
         ON CONFLICT (id) DO UPDATE SET generation = intel_generation.generation + 1",
        params![],
    )?;
    generation(db)
}
