//! Where the intelligence lives in the store: one row per advisory (its
//! flattened [`Advisory`] as JSON), per KEV entry and per EPSS score, what
//! each source holds, and a generation counter that every import changing
//! anything bumps (the matcher rematches when it moves).
//!
//! Functions take the store's connection or transaction
//! (`store.read(|conn| db::advisories(conn))`, `store.write(|txn| …)`);
//! the import does all its writes in one transaction.

use std::collections::HashMap;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::model::{Advisory, Epss, KevEntry, SourceStatus};
use crate::store::{from_sql_int, sql_int};

/// The tables, created if missing each time the store opens.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS intel_advisories (
    id          TEXT PRIMARY KEY,     -- document.tracking.id
    version     TEXT NOT NULL,        -- document.tracking.version
    released    TEXT NOT NULL,        -- document.tracking.current_release_date
    value       TEXT NOT NULL,        -- the flattened Advisory, JSON
    imported_at TEXT NOT NULL,
    source      TEXT NOT NULL         -- the file it was read from
);
CREATE TABLE IF NOT EXISTS intel_kev (
    cve   TEXT PRIMARY KEY,
    value TEXT NOT NULL               -- KevEntry, JSON
);
CREATE TABLE IF NOT EXISTS intel_epss (
    cve        TEXT PRIMARY KEY,
    score      REAL NOT NULL,
    percentile REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_sources (
    kind        TEXT PRIMARY KEY,     -- csaf, kev, epss
    count       INTEGER NOT NULL,
    version     TEXT,
    date        TEXT,
    imported_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 0),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO intel_generation (id, generation) VALUES (0, 0);
";

/// Every stored advisory, by id.
pub fn advisories(conn: &Connection) -> Result<Vec<Advisory>> {
    let mut stmt = conn.prepare("SELECT id, value FROM intel_advisories ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, value) = row?;
        out.push(
            serde_json::from_str(&value)
                .with_context(|| format!("stored advisory {id} does not read"))?,
        );
    }
    Ok(out)
}

/// One stored advisory.
pub fn advisory(conn: &Connection, id: &str) -> Result<Option<Advisory>> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM intel_advisories WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
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
pub fn revision(txn: &Transaction<'_>, id: &str) -> Result<Option<Revision>> {
    let mut stmt =
        txn.prepare_cached("SELECT version, released, value FROM intel_advisories WHERE id = ?1")?;
    Ok(stmt
        .query_row([id], |r| {
            Ok(Revision {
                version: r.get(0)?,
                released: r.get(1)?,
                value: r.get(2)?,
            })
        })
        .optional()?)
}

/// Stores (or replaces) an advisory; `value` is its JSON.
pub fn put_advisory(
    txn: &Transaction<'_>,
    advisory: &Advisory,
    value: &str,
    source: &str,
    now: &str,
) -> Result<()> {
    let mut stmt = txn.prepare_cached(
        "INSERT INTO intel_advisories (id, version, released, value, imported_at, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, released = excluded.released,
             value = excluded.value, imported_at = excluded.imported_at, source = excluded.source",
    )?;
    stmt.execute(params![
        advisory.id,
        advisory.version,
        advisory.released,
        value,
        now,
        source
    ])?;
    Ok(())
}

/// The KEV catalog's entries, by CVE.
pub fn kev(conn: &Connection) -> Result<HashMap<String, KevEntry>> {
    let mut stmt = conn.prepare("SELECT cve, value FROM intel_kev")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (cve, value) = row?;
        let entry = serde_json::from_str(&value)
            .with_context(|| format!("stored KEV entry {cve} does not read"))?;
        out.insert(cve, entry);
    }
    Ok(out)
}

/// Replaces the whole KEV catalog (a catalog is a snapshot: an entry it no
/// longer lists is gone).
pub fn replace_kev<'a>(
    txn: &Transaction<'_>,
    entries: impl IntoIterator<Item = &'a KevEntry>,
) -> Result<()> {
    txn.execute("DELETE FROM intel_kev", [])?;
    let mut stmt =
        txn.prepare_cached("INSERT OR REPLACE INTO intel_kev (cve, value) VALUES (?1, ?2)")?;
    for e in entries {
        stmt.execute(params![e.cve, serde_json::to_string(e)?])?;
    }
    Ok(())
}

/// EPSS scores, by CVE.
pub fn epss(conn: &Connection) -> Result<HashMap<String, Epss>> {
    let mut stmt = conn.prepare("SELECT cve, score, percentile FROM intel_epss")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Epss {
                score: r.get(1)?,
                percentile: r.get(2)?,
            },
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (cve, e) = row?;
        out.insert(cve, e);
    }
    Ok(out)
}

/// Replaces all EPSS scores (a day's file is a snapshot of every scored CVE).
pub fn replace_epss<'a>(
    txn: &Transaction<'_>,
    scores: impl IntoIterator<Item = (&'a String, &'a Epss)>,
) -> Result<()> {
    txn.execute("DELETE FROM intel_epss", [])?;
    let mut stmt = txn.prepare_cached(
        "INSERT OR REPLACE INTO intel_epss (cve, score, percentile) VALUES (?1, ?2, ?3)",
    )?;
    for (cve, e) in scores {
        stmt.execute(params![cve, e.score, e.percentile])?;
    }
    Ok(())
}

/// What each source holds, by kind (`csaf`, `epss`, `kev`).
pub fn status(conn: &Connection) -> Result<Vec<SourceStatus>> {
    let mut stmt = conn.prepare(
        "SELECT kind, count, version, date, imported_at FROM intel_sources ORDER BY kind",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SourceStatus {
            kind: r.get(0)?,
            count: from_sql_int(r.get(1)?),
            version: r.get(2)?,
            date: r.get(3)?,
            imported_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The status of one source kind, if it was ever imported.
pub fn source(conn: &Connection, kind: &str) -> Result<Option<SourceStatus>> {
    Ok(status(conn)?.into_iter().find(|s| s.kind == kind))
}

/// Records what a source now holds.
pub fn set_source(txn: &Transaction<'_>, s: &SourceStatus) -> Result<()> {
    txn.execute(
        "INSERT OR REPLACE INTO intel_sources (kind, count, version, date, imported_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.kind, sql_int(s.count), s.version, s.date, s.imported_at],
    )?;
    Ok(())
}

/// The CSAF source's status as the table now holds it: the advisory count
/// and the newest release date.
pub fn csaf_source(txn: &Transaction<'_>, now: &str) -> Result<SourceStatus> {
    let (count, date): (i64, Option<String>) = txn.query_row(
        "SELECT count(*), max(released) FROM intel_advisories",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(SourceStatus {
        kind: "csaf".to_owned(),
        count: from_sql_int(count),
        version: None,
        date,
        imported_at: now.to_owned(),
    })
}

/// The intelligence generation: moves whenever an import changed anything.
pub fn generation(conn: &Connection) -> Result<u64> {
    let g: Option<i64> = conn
        .query_row(
            "SELECT generation FROM intel_generation WHERE id = 0",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(g.map(from_sql_int).unwrap_or(0))
}

/// Moves the generation on; returns the new one.
pub fn bump_generation(txn: &Transaction<'_>) -> Result<u64> {
    txn.execute(
        "INSERT INTO intel_generation (id, generation) VALUES (0, 1)
         ON CONFLICT (id) DO UPDATE SET generation = generation + 1",
        [],
    )?;
    generation(txn)
}
