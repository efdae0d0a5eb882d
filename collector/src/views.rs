//! What the API reads: sites, zones, assets, edges, findings with their
//! triage and history, sensors; filtered, in a stable order, a page at a time
//! (keyset cursors: a page never repeats or skips a row because rows were
//! added meanwhile).

use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use faro_protocols::uplink::{AssetDelta, EdgeDelta, FindingDelta};
use serde::{Deserialize, Serialize};

use crate::store::sql::{Backend, Db, Row, ToValue, Value, params};
use crate::store::{Store, from_sql_int};
use crate::triage;

/// The most rows one page returns.
pub const MAX_LIMIT: usize = 1000;
/// Rows per page unless asked otherwise.
pub const DEFAULT_LIMIT: usize = 100;

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Why a list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The request is wrong (bad cursor, bad filter value).
    #[error("{0}")]
    BadRequest(String),
    /// The store failed.
    #[error("store: {0:#}")]
    Store(#[from] anyhow::Error),
}

fn encode_cursor(key: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(key.to_string())
}

fn decode_cursor<T: serde::de::DeserializeOwned>(cursor: &str) -> Result<T, ViewError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ViewError::BadRequest("cursor: not one this API gave".into()))
}

fn limit(asked: Option<usize>) -> Result<usize, ViewError> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ViewError::BadRequest(format!(
            "limit {n}: from 1 to {MAX_LIMIT}"
        ))),
    }
}

/// A WHERE clause built one condition at a time, with its parameters.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    params: Vec<Value>,
}

impl Conditions {
    /// Adds a condition whose `?` marks take `values` in order.
    fn add(&mut self, sql: &str, values: impl IntoIterator<Item = Value>) {
        let mut values = values.into_iter();
        let mut numbered = String::with_capacity(sql.len() + 8);
        for c in sql.chars() {
            if c == '?' {
                // Each mark becomes the next numbered parameter of the whole clause.
                if let Some(v) = values.next() {
                    self.params.push(v);
                }
                numbered.push_str(&format!("?{}", self.params.len()));
            } else {
                numbered.push(c);
            }
        }
        self.sql.push(numbered);
    }

    fn equal(&mut self, column: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.add(&format!("{column} = ?"), [Value::Text(v.to_owned())]);
        }
    }

    /// `column` is one of the comma-separated `values`.
    /// `column` is one of the comma-separated `values`, each of which must
    /// be `allowed`: a misspelt filter is refused rather than answered with
    /// an empty list.
    fn one_of(
        &mut self,
        column: &str,
        values: Option<&str>,
        allowed: &[&str],
    ) -> Result<(), ViewError> {
        let Some(values) = values else { return Ok(()) };
        let mut list = Vec::new();
        for value in values.split(',').map(str::trim) {
            if !allowed.contains(&value) {
                return Err(ViewError::BadRequest(format!(
                    "{column} {value:?}: expected one of {}",
                    allowed.join(", ")
                )));
            }
            list.push(Value::Text(value.to_owned()));
        }
        let marks = vec!["?"; list.len()].join(", ");
        self.add(&format!("{column} IN ({marks})"), list);
        Ok(())
    }

    fn clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }
}

/// A site at a glance.
#[derive(Debug, Serialize)]
pub struct SiteRow {
    /// The site's name.
    pub site: String,
    /// Assets seen there.
    pub assets: u64,
    /// Findings not resolved.
    pub open_findings: u64,
    /// Enrolled sensors whose summaries name it (or enrolled for it).
    pub sensors: u64,
    /// Its exposure score, once computed.
    pub score: Option<u64>,
}

/// Every site.
pub fn sites(store: &Store) -> Result<Vec<SiteRow>, ViewError> {
    Ok(store.read(|db| {
        let sql = format!(
            "SELECT s.site,
                (SELECT count(*) FROM assets a WHERE a.site = s.site),
                (SELECT count(*) FROM findings f WHERE f.site = s.site AND f.status != 'resolved'),
                (SELECT count(DISTINCT sensor_id) FROM assets a WHERE a.site = s.site),
                (SELECT {} FROM site_exposure e WHERE e.site = s.site)
             FROM (SELECT DISTINCT site FROM assets UNION SELECT DISTINCT site FROM findings) s
             ORDER BY s.site",
            db.backend().json_int("e.value", "score")
        );
        db.query(&sql, params![])?
            .iter()
            .map(|r| {
                Ok(SiteRow {
                    site: r.get(0)?,
                    assets: from_sql_int(r.get(1)?),
                    open_findings: from_sql_int(r.get(2)?),
                    sensors: from_sql_int(r.get(3)?),
                    score: r.get::<Option<i64>>(4)?.map(from_sql_int),
                })
            })
            .collect()
    })?)
}

/// A text expression compared bytewise on both backends (PostgreSQL's
/// `#>>` gives text in the database's collation, which need not be "C").
fn bytewise(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => expr.to_owned(),
        Backend::Postgres => format!("({expr} COLLATE \"C\")"),
    }
}

/// The parameters of a built statement, as the store's methods take them.
fn refs(values: &[Value]) -> Vec<&dyn ToValue> {
    values.iter().map(|v| v as &dyn ToValue).collect()
}

/// A zone of a site.
#[derive(Debug, Serialize)]
pub struct ZoneRow {
    /// The zone's name (`null`: assets outside every configured zone).
    pub zone: Option<String>,
    /// Purdue level, as configured.
    pub purdue_level: Option<String>,
    /// Assets in it.
    pub assets: u64,
    /// The highest asset score in it.
    pub max_asset_score: u64,
}

/// The zones of `site`.
pub fn zones(store: &Store, site: &str) -> Result<Vec<ZoneRow>, ViewError> {
    Ok(store.read(|db| {
        // Assets outside every zone (NULL) first, as SQLite sorts them.
        let sql = format!(
            "SELECT zone, max({}), count(*), max(score)
             FROM assets WHERE site = ?1 GROUP BY zone ORDER BY zone NULLS FIRST",
            bytewise(
                db.backend(),
                &db.backend().json_text("value", "zone.purdue_level")
            )
        );
        db.query(&sql, params![site])?
            .iter()
            .map(|r| {
                Ok(ZoneRow {
                    zone: r.get(0)?,
                    purdue_level: r.get(1)?,
                    assets: from_sql_int(r.get(2)?),
                    max_asset_score: from_sql_int(r.get(3)?),
                })
            })
            .collect()
    })?)
}

/// Filters of the asset list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetFilter {
    /// Only this site.
    pub site: Option<String>,
    /// Only this zone.
    pub zone: Option<String>,
    /// Only assets speaking this protocol.
    pub protocol: Option<String>,
    /// Only assets with this role.
    pub role: Option<String>,
    /// Only assets scoring at least this.
    pub min_score: Option<u64>,
    /// Rows per page (1–1000, default 100).
    pub limit: Option<usize>,
    /// From where the previous page ended.
    pub cursor: Option<String>,
}

/// An asset as listed.
#[derive(Debug, Serialize)]
pub struct AssetRow {
    /// Its site.
    pub site: String,
    /// Its exposure score (0–100).
    pub score: u64,
    /// The sensor whose summary gave the values.
    pub sensor_id: String,
    /// Identity, protocols, roles, posture.
    #[serde(flatten)]
    pub asset: AssetDelta,
}

fn asset_row(r: &Row) -> Result<AssetRow> {
    Ok(AssetRow {
        site: r.get(0)?,
        score: from_sql_int(r.get(2)?),
        sensor_id: r.get(3)?,
        asset: serde_json::from_str(r.text(4)?).context("a stored asset")?,
    })
}

/// A page of assets, by (site, ip).
pub fn assets(store: &Store, filter: &AssetFilter) -> Result<Page<AssetRow>, ViewError> {
    let backend = store.backend();
    let mut c = Conditions::default();
    c.equal("site", filter.site.as_deref());
    c.equal("zone", filter.zone.as_deref());
    if let Some(p) = &filter.protocol {
        c.add(
            &backend.json_array_has("assets.value", "protocols", "?"),
            [Value::Text(p.clone())],
        );
    }
    if let Some(role) = &filter.role {
        c.add(
            &backend.json_array_has("assets.value", "roles", "?"),
            [Value::Text(role.clone())],
        );
    }
    if let Some(min) = filter.min_score {
        c.add("score >= ?", [Value::Int(crate::store::sql_int(min))]);
    }
    // An empty cursor is no cursor: the first page.
    if let Some(cursor) = filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        let (site, ip): (String, String) = decode_cursor(cursor)?;
        c.add("(site, ip) > (?, ?)", [Value::Text(site), Value::Text(ip)]);
    }
    let limit = limit(filter.limit)?;
    let sql = format!(
        "SELECT site, zone, score, sensor_id, value FROM assets {} ORDER BY site, ip LIMIT {}",
        c.clause(),
        limit + 1
    );
    let mut items = store.read(|db| {
        let mut out = Vec::new();
        db.for_each(&sql, &refs(&c.params), |r| {
            out.push(asset_row(&r)?);
            Ok(())
        })?;
        Ok(out)
    })?;
    let next_cursor = page_end(&mut items, limit)
        .map(|last| encode_cursor(&serde_json::json!([last.site, last.asset.ip])));
    Ok(Page { items, next_cursor })
}

/// Keeps `limit` rows; the last kept one when more followed.
fn page_end<T>(items: &mut Vec<T>, limit: usize) -> Option<&T> {
    if items.len() > limit {
        items.truncate(limit);
        items.last()
    } else {
        None
    }
}

/// One asset with its edges and findings.
#[derive(Debug, Serialize)]
pub struct AssetDetail {
    /// The asset.
    #[serde(flatten)]
    pub asset: AssetRow,
    /// Edges it initiates or answers.
    pub edges: Vec<EdgeDelta>,
    /// Findings about it (or about edges to it).
    pub findings: Vec<FindingRow>,
    /// Advisories matched to its identity, highest priority first.
    pub vulnerabilities: Vec<VulnerabilityRow>,
}

/// Asset `ip` of `site`.
pub fn asset(store: &Store, site: &str, ip: &str) -> Result<Option<AssetDetail>, ViewError> {
    Ok(store.read(|db| {
        let asset = db
            .query_opt(
                "SELECT site, zone, score, sensor_id, value FROM assets WHERE site = ?1 AND ip = ?2",
                params![site, ip],
            )?
            .map(|r| asset_row(&r))
            .transpose()?;
        let Some(asset) = asset else { return Ok(None) };
        let mut edges = Vec::new();
        db.for_each(
            "SELECT value FROM edges WHERE site = ?1 AND (client = ?2 OR server = ?2)
             ORDER BY client, server, server_port, protocol",
            params![site, ip],
            |r| {
                edges.push(serde_json::from_str(r.text(0)?).context("a stored edge")?);
                Ok(())
            },
        )?;
        let findings = finding_rows(
            db,
            &format!("SELECT {FINDING_FIELDS} FROM findings WHERE site = ?1 AND asset = ?2 ORDER BY priority DESC, id"),
            &[Value::Text(site.to_owned()), Value::Text(ip.to_owned())],
        )?;
        let vulnerabilities = asset_vulnerabilities(db, site, ip)?;
        Ok(Some(AssetDetail {
            asset,
            edges,
            findings,
            vulnerabilities,
        }))
    })?)
}

/// Filters of the finding list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingFilter {
    /// Only this site.
    pub site: Option<String>,
    /// Only findings about assets in this zone.
    pub zone: Option<String>,
    /// Only these severities (comma-separated).
    pub severity: Option<String>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only these statuses (comma-separated).
    pub status: Option<String>,
    /// Only this protocol (the edge's, or the rule's family).
    pub protocol: Option<String>,
    /// Only findings about this asset (IP address).
    pub asset: Option<String>,
    /// Rows per page (1–1000, default 100).
    pub limit: Option<usize>,
    /// From where the previous page ended.
    pub cursor: Option<String>,
}

/// A finding as listed: evidence, priority and triage.
#[derive(Debug, Serialize)]
pub struct FindingRow {
    /// Stable id (for the finding's page and triage).
    pub id: i64,
    /// Its site.
    pub site: String,
    /// The asset it concerns: its own, or its edge's server.
    pub target: String,
    /// The protocol it concerns.
    pub protocol: String,
    /// The exposure factor it feeds.
    pub exposure: String,
    /// 0–100: its severity and its asset's exposure (see docs/exposure.md).
    pub priority: u64,
    /// open, acknowledged, accepted_risk or resolved.
    pub status: String,
    /// Who deals with it.
    pub owner: Option<String>,
    /// When it should be dealt with (RFC 3339).
    pub due: Option<String>,
    /// Why a risk was accepted.
    pub reason: Option<String>,
    /// When an accepted risk is looked at again (RFC 3339).
    pub expires: Option<String>,
    /// The sensor whose summary gave the evidence.
    pub sensor_id: String,
    /// Rule, severity, ATT&CK, title, subject, evidence.
    #[serde(flatten)]
    pub finding: FindingDelta,
}

/// The columns [`finding_row`] reads, in its order.
const FINDING_FIELDS: &str = "id, site, asset, protocol, exposure, priority, status, owner,
    due, reason, expires, sensor_id, value";
/// How many columns [`FINDING_FIELDS`] names: the index of any column selected after them.
const FINDING_FIELD_COUNT: usize = 13;

fn finding_row(r: &Row) -> Result<FindingRow> {
    Ok(FindingRow {
        id: r.get(0)?,
        site: r.get(1)?,
        target: r.get(2)?,
        protocol: r.get(3)?,
        exposure: r.get(4)?,
        priority: from_sql_int(r.get(5)?),
        status: r.get(6)?,
        owner: r.get(7)?,
        due: r.get(8)?,
        reason: r.get(9)?,
        expires: r.get(10)?,
        sensor_id: r.get(11)?,
        finding: serde_json::from_str(r.text(12)?).context("a stored finding")?,
    })
}

fn finding_rows(db: &Db<'_>, sql: &str, params: &[Value]) -> Result<Vec<FindingRow>> {
    let mut out = Vec::new();
    db.for_each(sql, &refs(params), |r| {
        out.push(finding_row(&r)?);
        Ok(())
    })?;
    Ok(out)
}

/// Where a reader of findings in change order stands: the (`updated_at`, `id`)
/// of the last finding it took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeCursor {
    /// The finding's `updated_at` (RFC 3339; empty: before every finding).
    pub updated_at: String,
    /// The finding's id.
    pub id: i64,
}

/// A finding as it last changed.
#[derive(Debug)]
pub struct ChangedFinding {
    /// Evidence, priority and triage.
    pub row: FindingRow,
    /// When its evidence, triage or priority last changed (collector clock, RFC 3339).
    pub updated_at: String,
    /// Who changed its triage last (a token's name, a sensor, `expiry`).
    pub updated_by: Option<String>,
}

impl ChangedFinding {
    /// The cursor just past this finding.
    pub fn cursor(&self) -> ChangeCursor {
        ChangeCursor {
            updated_at: self.updated_at.clone(),
            id: self.row.id,
        }
    }
}

/// Findings changed after a cursor (`?1`, `?2`): one rule for the forwarder's
/// batches and its backlog. Of known vulnerabilities only the likely or
/// confirmed matches of KEV CVEs are forwarded: a SIEM wants what is being
/// exploited, not every advisory.
fn changed_after() -> String {
    format!(
        "(updated_at, id) > (?1, ?2) AND (rule != '{}' OR EXISTS (SELECT 1 FROM \
         vulnerability_matches m WHERE m.finding_id = findings.id AND m.kev = 1 \
         AND m.confidence_rank >= {}))",
        crate::vulnerabilities::RULE,
        crate::vulnerabilities::confidence_rank(crate::intel::model::Confidence::Likely),
    )
}

/// How many findings changed after `after`: what a forwarder at that
/// cursor still has to send.
pub fn findings_changed_count(store: &Store, after: &ChangeCursor) -> Result<u64> {
    let sql = format!("SELECT count(*) FROM findings WHERE {}", changed_after());
    store.read(|db| {
        let n: i64 = db.query_value(&sql, params![after.updated_at, after.id])?;
        Ok(u64::try_from(n).unwrap_or(0))
    })
}

/// Up to `limit` findings changed after `after` and strictly before `before`
/// (an RFC 3339 time), in change order (`updated_at`, then id: the
/// `findings_updated` index).
pub fn findings_changed(
    store: &Store,
    after: &ChangeCursor,
    before: &str,
    limit: usize,
) -> Result<Vec<ChangedFinding>> {
    let sql = format!(
        "SELECT {FINDING_FIELDS}, updated_at, updated_by FROM findings
         WHERE {} AND updated_at < ?3
         ORDER BY updated_at, id LIMIT ?4",
        changed_after()
    );
    store.read(|db| {
        let mut out = Vec::new();
        db.for_each(
            &sql,
            params![
                after.updated_at,
                after.id,
                before,
                i64::try_from(limit).unwrap_or(i64::MAX),
            ],
            |r| {
                out.push(ChangedFinding {
                    row: finding_row(&r)?,
                    updated_at: r.get(FINDING_FIELD_COUNT)?,
                    updated_by: r.get(FINDING_FIELD_COUNT + 1)?,
                });
                Ok(())
            },
        )?;
        Ok(out)
    })
}

/// A page of findings, highest priority first (the worklist).
pub fn findings(store: &Store, filter: &FindingFilter) -> Result<Page<FindingRow>, ViewError> {
    let mut c = Conditions::default();
    c.equal("site", filter.site.as_deref());
    c.one_of("severity", filter.severity.as_deref(), &triage::SEVERITIES)?;
    c.equal("rule", filter.rule.as_deref());
    c.one_of("status", filter.status.as_deref(), &triage::STATUSES)?;
    c.equal("protocol", filter.protocol.as_deref());
    c.equal("asset", filter.asset.as_deref());
    if let Some(zone) = &filter.zone {
        c.add(
            "EXISTS (SELECT 1 FROM assets a WHERE a.site = findings.site AND a.ip = findings.asset AND a.zone = ?)",
            [Value::Text(zone.clone())],
        );
    }
    // An empty cursor is no cursor: the first page.
    if let Some(cursor) = filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        let (priority, id): (i64, i64) = decode_cursor(cursor)?;
        c.add(
            "(priority < ? OR (priority = ? AND id > ?))",
            [Value::Int(priority), Value::Int(priority), Value::Int(id)],
        );
    }
    let limit = limit(filter.limit)?;
    let sql = format!(
        "SELECT {FINDING_FIELDS} FROM findings {} ORDER BY priority DESC, id LIMIT {}",
        c.clause(),
        limit + 1
    );
    let mut items = store.read(|db| finding_rows(db, &sql, &c.params))?;
    let next_cursor = page_end(&mut items, limit)
        .map(|last| encode_cursor(&serde_json::json!([last.priority, last.id])));
    Ok(Page { items, next_cursor })
}

/// One change in a finding's history.
#[derive(Debug, Serialize)]
pub struct HistoryRow {
    /// When (RFC 3339, collector clock).
    pub at: String,
    /// Who: an API token's name, a sensor's new evidence, or `expiry`.
    pub actor: Option<String>,
    /// The field changed.
    pub field: String,
    /// Its value before.
    pub old: Option<String>,
    /// Its value after.
    pub new: Option<String>,
}

/// A finding with its history.
#[derive(Debug, Serialize)]
pub struct FindingDetail {
    /// The finding.
    #[serde(flatten)]
    pub finding: FindingRow,
    /// Every change of its triage, oldest first.
    pub history: Vec<HistoryRow>,
}

/// Finding `id`.
pub fn finding(store: &Store, id: i64) -> Result<Option<FindingDetail>, ViewError> {
    Ok(store.read(|db| {
        let Some(finding) = finding_rows(
            db,
            &format!("SELECT {FINDING_FIELDS} FROM findings WHERE id = ?1"),
            &[Value::Int(id)],
        )?
        .pop() else {
            return Ok(None);
        };
        let history = db
            .query(
                "SELECT at, actor, field, old, new FROM finding_history WHERE finding_id = ?1 ORDER BY id",
                params![id],
            )?
            .iter()
            .map(|r| {
                Ok(HistoryRow {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    field: r.get(2)?,
                    old: r.get(3)?,
                    new: r.get(4)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(FindingDetail { finding, history }))
    })?)
}

/// A site's exposure as last computed (`rescore`), with its factors.
pub fn exposure(store: &Store, site: &str) -> Result<Option<serde_json::Value>, ViewError> {
    Ok(store.read(|db| {
        db.query_opt(
            "SELECT value FROM site_exposure WHERE site = ?1",
            params![site],
        )?
        .map(|r| serde_json::from_str(r.text(0)?).context("a stored exposure"))
        .transpose()
    })?)
}

/// A sensor as the central team sees it.
#[derive(Debug, Serialize)]
pub struct SensorRow {
    /// Its id.
    pub id: String,
    /// The site it was enrolled for, if any.
    pub site: Option<String>,
    /// Its key's fingerprint.
    pub fingerprint: String,
    /// The last sequence stored.
    pub last_sequence: Option<u64>,
    /// When its last summary was stored (RFC 3339).
    pub last_seen: Option<String>,
    /// Its counters as of its last summary: packets, malformed, shed, capture
    /// drops, spool merges and sheds.
    pub counters: Option<serde_json::Value>,
}

/// Every enrolled sensor.
pub fn sensors(store: &Store) -> Result<Vec<SensorRow>, ViewError> {
    Ok(store.read(|db| {
        let mut out = Vec::new();
        db.for_each(
            "SELECT id, site, fingerprint, last_sequence, last_seen, counters FROM sensors ORDER BY id",
            params![],
            |r| {
                let counters: Option<String> = r.get(5)?;
                out.push(SensorRow {
                    id: r.get(0)?,
                    site: r.get(1)?,
                    fingerprint: r.get(2)?,
                    last_sequence: r.get::<Option<i64>>(3)?.map(from_sql_int),
                    last_seen: r.get(4)?,
                    counters: counters.and_then(|c| serde_json::from_str(&c).ok()),
                });
                Ok(())
            },
        )?;
        Ok(out)
    })?)
}

/// Filters of the vulnerability list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilityFilter {
    /// Only this site.
    pub site: Option<String>,
    /// Only assets in this zone.
    pub zone: Option<String>,
    /// Only this asset (IP address).
    pub asset: Option<String>,
    /// `true`: only CVEs in CISA's KEV catalog; `false`: only those not in it.
    pub kev: Option<String>,
    /// Only CVEs whose EPSS score is at least this (0–1).
    pub min_epss: Option<f64>,
    /// Only CVSS v3 base scores of at least this (0–10).
    pub min_cvss: Option<f64>,
    /// Only these confidences (comma-separated: confirmed, likely, possible).
    pub confidence: Option<String>,
    /// Only products of this vendor (any spelling the alias table knows).
    pub vendor: Option<String>,
    /// Only this advisory (`ICSA-22-132-05`).
    pub advisory: Option<String>,
    /// Only this CVE.
    pub cve: Option<String>,
    /// Only these states (comma-separated: not_remediated,
    /// remediation_in_progress, remediation_done, accepted_risk).
    pub status: Option<String>,
    /// Rows per page (1–1000, default 100).
    pub limit: Option<usize>,
    /// From where the previous page ended.
    pub cursor: Option<String>,
}

/// A known vulnerability of an asset, with its finding's triage.
#[derive(Debug, Serialize)]
pub struct VulnerabilityRow {
    /// The finding it is in the worklist (`/findings/{id}` triages it).
    pub finding_id: i64,
    /// The asset's site.
    pub site: String,
    /// The asset's address.
    pub ip: String,
    /// The asset's zone.
    pub zone: Option<String>,
    /// CSAF's asset-matching state: not_remediated, remediation_in_progress,
    /// remediation_done or accepted_risk.
    pub state: String,
    /// Who deals with it.
    pub owner: Option<String>,
    /// When it should be dealt with (RFC 3339; KEV's due date for KEV CVEs).
    pub due: Option<String>,
    /// 0–100, as in the worklist.
    pub priority: u64,
    /// The advisory, the CVE, the product, confidence, evidence, KEV and EPSS.
    #[serde(flatten)]
    pub matched: crate::vulnerabilities::StoredMatch,
}

/// The columns [`vulnerability_row`] reads, in its order.
const VULNERABILITY_FIELDS: &str =
    "f.id, m.site, m.ip, a.zone, f.status, f.owner, f.due, f.priority, m.value, r.value";

/// The tables [`VULNERABILITY_FIELDS`] reads from.
const VULNERABILITY_FROM: &str = "vulnerability_matches m JOIN findings f ON f.id = m.finding_id
     LEFT JOIN assets a ON a.site = m.site AND a.ip = m.ip
     LEFT JOIN advisory_remediations r
         ON r.advisory = m.advisory AND r.product_id = m.product_id AND r.cve = m.cve";

fn vulnerability_row(r: &Row) -> Result<VulnerabilityRow> {
    let status = r.text(4)?;
    let remediations: Option<Vec<u8>> = r.get(9)?;
    Ok(VulnerabilityRow {
        finding_id: r.get(0)?,
        site: r.get(1)?,
        ip: r.get(2)?,
        zone: r.get(3)?,
        state: triage::ctem_status(status).to_owned(),
        owner: r.get(5)?,
        due: r.get(6)?,
        priority: from_sql_int(r.get(7)?),
        matched: crate::vulnerabilities::unpack_match(r.blob(8)?, remediations.as_deref())?,
    })
}

fn vulnerability_rows(db: &Db<'_>, sql: &str, params: &[Value]) -> Result<Vec<VulnerabilityRow>> {
    let mut out = Vec::new();
    db.for_each(sql, &refs(params), |r| {
        out.push(vulnerability_row(&r)?);
        Ok(())
    })?;
    Ok(out)
}

/// A number filter within `range`.
fn bounded_number(name: &str, value: Option<f64>, max: f64) -> Result<Option<f64>, ViewError> {
    match value {
        Some(v) if !(0.0..=max).contains(&v) => Err(ViewError::BadRequest(format!(
            "{name} {v}: from 0 to {max}"
        ))),
        other => Ok(other),
    }
}

/// A page of known vulnerabilities, highest priority first.
pub fn vulnerabilities(
    store: &Store,
    filter: &VulnerabilityFilter,
) -> Result<Page<VulnerabilityRow>, ViewError> {
    let mut c = Conditions::default();
    c.equal("m.site", filter.site.as_deref());
    c.equal("m.ip", filter.asset.as_deref());
    c.equal("a.zone", filter.zone.as_deref());
    c.equal("m.advisory", filter.advisory.as_deref());
    c.equal("m.cve", filter.cve.as_deref());
    match filter.kev.as_deref() {
        None => {}
        Some("true") => c.add("m.kev = 1", []),
        Some("false") => c.add("m.kev = 0", []),
        Some(other) => {
            return Err(ViewError::BadRequest(format!(
                "kev {other:?}: true or false"
            )));
        }
    }
    if let Some(min) = bounded_number("min_epss", filter.min_epss, 1.0)? {
        c.add("m.epss >= ?", [Value::Real(min)]);
    }
    if let Some(min) = bounded_number("min_cvss", filter.min_cvss, 10.0)? {
        c.add("m.cvss >= ?", [Value::Real(min)]);
    }
    let confidences = crate::intel::model::Confidence::ALL.map(|c| c.name());
    c.one_of("m.confidence", filter.confidence.as_deref(), &confidences)?;
    if let Some(vendor) = &filter.vendor {
        c.add(
            "m.vendor = ?",
            [Value::Text(
                crate::intel::vendor::canonical(vendor).into_owned(),
            )],
        );
    }
    if let Some(states) = &filter.status {
        let names: Vec<&str> = triage::CTEM_STATUSES.iter().map(|(n, _)| *n).collect();
        let mut statuses = Vec::new();
        for state in states.split(',').map(str::trim) {
            if !names.contains(&state) {
                return Err(ViewError::BadRequest(format!(
                    "status {state:?}: expected one of {}",
                    names.join(", ")
                )));
            }
            statuses.push(triage::status_of(state).to_owned());
        }
        let marks = vec!["?"; statuses.len()].join(", ");
        c.add(
            &format!("f.status IN ({marks})"),
            statuses.into_iter().map(Value::Text),
        );
    }
    if let Some(cursor) = filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        let (priority, id): (i64, i64) = decode_cursor(cursor)?;
        c.add(
            "(f.priority < ? OR (f.priority = ? AND f.id > ?))",
            [Value::Int(priority), Value::Int(priority), Value::Int(id)],
        );
    }
    let limit = limit(filter.limit)?;
    let sql = format!(
        "SELECT {VULNERABILITY_FIELDS} FROM {VULNERABILITY_FROM} {}
         ORDER BY f.priority DESC, f.id LIMIT {}",
        c.clause(),
        limit + 1
    );
    let mut items = store.read(|db| vulnerability_rows(db, &sql, &c.params))?;
    let next_cursor = page_end(&mut items, limit).map(|last| {
        encode_cursor(&serde_json::json!([
            i64::try_from(last.priority).unwrap_or(i64::MAX),
            last.finding_id
        ]))
    });
    Ok(Page { items, next_cursor })
}

/// The known vulnerabilities of one asset, highest priority first.
fn asset_vulnerabilities(db: &Db<'_>, site: &str, ip: &str) -> Result<Vec<VulnerabilityRow>> {
    vulnerability_rows(
        db,
        &format!(
            "SELECT {VULNERABILITY_FIELDS} FROM {VULNERABILITY_FROM}
             WHERE m.site = ?1 AND m.ip = ?2 ORDER BY f.priority DESC, f.id"
        ),
        &[Value::Text(site.to_owned()), Value::Text(ip.to_owned())],
    )
}

/// What vulnerability intelligence is loaded.
pub fn intel(store: &Store) -> Result<Vec<crate::intel::model::SourceStatus>, ViewError> {
    Ok(store.read(crate::store::intel::status)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    proptest::proptest! {
        /// A cursor comes from the client: any text is refused or read, never a panic.
        #[test]
        fn any_cursor_text_is_read_or_refused(text in "\\PC*") {
            let _ = decode_cursor::<(i64, i64)>(&text);
            let _ = decode_cursor::<(String, String)>(&text);
        }

        #[test]
        fn cursors_read_back_as_given(priority in proptest::num::i64::ANY, id in proptest::num::i64::ANY) {
            let cursor = encode_cursor(&serde_json::json!([priority, id]));
            let back: (i64, i64) = decode_cursor(&cursor).unwrap();
            proptest::prop_assert_eq!(back, (priority, id));
        }
    }
}
