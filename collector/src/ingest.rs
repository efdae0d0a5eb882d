//! Ingestion of one signed summary, in the contract's order: kid → pinned key
//! → signature (before the payload is parsed) → summary → sensor id →
//! sequence → stored (and answered) → merged into the inventory.
//!
//! Storing and merging are two transactions. A summary is answered once its
//! exact bytes are durable; its merge follows, and under load several
//! summaries are merged at once, so that the inventory is written once per
//! key rather than once per summary (a sensor catching up on its spool, many
//! sensors reporting the same edges). A summary's `merge_id` is the number
//! of the merge that took it: whatever is stored with none (a collector
//! stopped between the two, a replica that does not hold the merge lease)
//! is merged from the stored bytes by [`merge_stored`]. Merges run on one
//! replica at a time (the `merge` lease) and are numbered in commit order
//! (`merge_state.merged_through`), which rescoring and matching follow.

use std::time::SystemTime;

use anyhow::Result;
use faro_protocols::uplink::{EnvelopeError, SCHEMA, Summary, kid_of, payload_of_verified, verify};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde::Serialize;

use crate::store::{Db, SensorKey, Store, from_sql_int, pack, params, sql_int, supersedes, unpack};
use crate::triage;

/// The answer to one summary (the contract's statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 201: new, verified, in order.
    Stored,
    /// 200: the same bytes were stored before under this sequence.
    Duplicate,
    /// 401: the kid names no enrolled key.
    UnknownSensor,
    /// 401: the signature does not verify with the pinned key.
    BadSignature,
    /// 400: not a JWS, or its payload not a summary.
    Malformed,
    /// 403: the payload names another sensor than the key's.
    SensorMismatch,
    /// 409: a sequence at or below the last stored, with other bytes.
    Replay,
    /// 409: a sequence past last + 1.
    OutOfOrder,
}

impl Outcome {
    /// The HTTP status.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Stored => 201,
            Self::Duplicate => 200,
            Self::UnknownSensor | Self::BadSignature => 401,
            Self::Malformed => 400,
            Self::SensorMismatch => 403,
            Self::Replay | Self::OutOfOrder => 409,
        }
    }

    /// The `status` word of the answer.
    pub fn word(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Duplicate => "duplicate",
            Self::UnknownSensor => "unknown_sensor",
            Self::BadSignature => "bad_signature",
            Self::Malformed => "malformed",
            Self::SensorMismatch => "sensor_mismatch",
            Self::Replay => "replay",
            Self::OutOfOrder => "out_of_order",
        }
    }

    /// Whether the sensor may drop the summary from its spool.
    pub fn accepted(self) -> bool {
        matches!(self, Self::Stored | Self::Duplicate)
    }
}

/// The decision on one summary, as answered and logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The outcome.
    #[serde(skip)]
    pub outcome: Outcome,
    /// `outcome` as the contract's word.
    pub status: &'static str,
    /// The summary's sequence, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Why, for people.
    pub reason: String,
    /// The enrolled sensor id, or the kid when no sensor is known.
    #[serde(skip)]
    pub who: String,
}

impl Decision {
    /// A refusal decided outside ingestion's own checks (the transport's).
    pub fn refused(
        outcome: Outcome,
        who: &str,
        sequence: Option<u64>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(outcome, who, sequence, reason)
    }

    fn new(outcome: Outcome, who: &str, sequence: Option<u64>, reason: impl Into<String>) -> Self {
        Self {
            outcome,
            status: outcome.word(),
            sequence,
            reason: reason.into(),
            who: who.to_owned(),
        }
    }

    /// Logs the decision: rejections as warnings, with sensor, sequence and reason.
    pub fn log(&self) {
        let seq = self
            .sequence
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        if self.outcome.accepted() {
            tracing::info!(sensor = %self.who, sequence = %seq, status = self.status, "{}", self.reason);
        } else {
            tracing::warn!(sensor = %self.who, sequence = %seq, status = self.status, "rejected: {}", self.reason);
        }
    }
}

/// A summary that passed every check that needs no write transaction.
#[derive(Debug)]
pub struct Prepared {
    jws: Vec<u8>,
    sensor: SensorKey,
    kid: String,
    summary: Summary,
}

impl Prepared {
    /// The sensor the summary is from (its key's and its payload's).
    pub fn sensor_id(&self) -> &str {
        &self.sensor.id
    }

    /// The summary's sequence.
    pub fn sequence(&self) -> u64 {
        self.summary.sequence
    }
}

/// Checks kid, signature, payload and sensor id of `jws`.
pub fn prepare(store: &Store, jws: Vec<u8>) -> Result<Result<Prepared, Decision>> {
    let Ok(text) = std::str::from_utf8(&jws) else {
        return Ok(Err(Decision::new(
            Outcome::Malformed,
            "-",
            None,
            "body is not UTF-8",
        )));
    };
    let kid = match kid_of(text.trim_end()) {
        Ok(kid) => kid,
        Err(e) => {
            return Ok(Err(Decision::new(
                Outcome::Malformed,
                "-",
                None,
                format!("envelope: {e}"),
            )));
        }
    };
    let Some(sensor) = store.sensor_by_kid(&kid)? else {
        return Ok(Err(Decision::new(
            Outcome::UnknownSensor,
            &kid,
            None,
            format!("no sensor enrolled with key {kid}"),
        )));
    };
    let payload = match verify(text.trim_end(), &sensor.key) {
        Ok(payload) => payload,
        Err(e @ (EnvelopeError::BadSignature | EnvelopeError::UnsupportedAlgorithm(_))) => {
            return Ok(Err(Decision::new(
                Outcome::BadSignature,
                &sensor.id,
                None,
                e.to_string(),
            )));
        }
        Err(e) => {
            return Ok(Err(Decision::new(
                Outcome::Malformed,
                &sensor.id,
                None,
                e.to_string(),
            )));
        }
    };
    let summary: Summary = match serde_json::from_slice(&payload) {
        Ok(s) => s,
        Err(e) => {
            return Ok(Err(Decision::new(
                Outcome::Malformed,
                &sensor.id,
                None,
                format!("summary: {e}"),
            )));
        }
    };
    let seq = Some(summary.sequence);
    if summary.schema != SCHEMA {
        let reason = format!("schema {:?}, expected {SCHEMA:?}", summary.schema);
        return Ok(Err(Decision::new(
            Outcome::Malformed,
            &sensor.id,
            seq,
            reason,
        )));
    }
    if summary.sequence == 0 {
        return Ok(Err(Decision::new(
            Outcome::Malformed,
            &sensor.id,
            seq,
            "sequence 0 (they start at 1)",
        )));
    }
    if summary.sensor_id != sensor.id {
        let reason = format!(
            "payload names sensor {:?}, key {kid} is enrolled for {:?}",
            summary.sensor_id, sensor.id
        );
        return Ok(Err(Decision::new(
            Outcome::SensorMismatch,
            &sensor.id,
            seq,
            reason,
        )));
    }
    Ok(Ok(Prepared {
        jws,
        sensor,
        kid,
        summary,
    }))
}

/// A sensor's row as the batch moves it.
struct SensorState {
    fingerprint: String,
    site: Option<String>,
    last_sequence: Option<u64>,
    counters: Option<String>,
    moved: bool,
}

/// The newest value of each inventory key among the batch's accepted
/// summaries: the store is written once per key, not once per summary.
struct Coalesced<'a, K, V> {
    entries: HashMap<K, (&'a str, u64, &'a V)>,
}

impl<'a, K: std::hash::Hash + Eq, V> Coalesced<'a, K, V> {
    fn new() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }

    fn offer(&mut self, key: K, sensor: &'a str, sequence: u64, value: &'a V) {
        match self.entries.entry(key) {
            Entry::Occupied(mut old) => {
                let (old_sensor, old_sequence, _) = *old.get();
                if supersedes(old_sensor, old_sequence, sensor, sequence) {
                    old.insert((sensor, sequence, value));
                }
            }
            Entry::Vacant(slot) => {
                slot.insert((sensor, sequence, value));
            }
        }
    }
}

/// A stored summary, decoded, waiting for its merge.
#[derive(Debug)]
pub struct Accepted {
    /// Its id in `summaries`.
    id: i64,
    /// The site it is merged into (the enrollment's, else its own).
    site: String,
    /// The sensor it is from.
    sensor_id: String,
    /// What it says.
    summary: Summary,
    /// The size of its envelope, to bound what waits in memory.
    bytes: usize,
}

impl Accepted {
    /// The size of its envelope.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The decisions on a batch, and the summaries it stored (to be merged).
#[derive(Debug)]
pub struct StoredBatch {
    /// One per item, in order.
    pub decisions: Vec<Decision>,
    /// The accepted summaries, for [`merge_stored`].
    pub accepted: Vec<Accepted>,
}

/// Decides on each prepared summary in order and stores the accepted ones,
/// all in ONE write transaction (one fsync for the batch), without merging
/// them. A storage error fails the whole batch: nothing of it is stored.
pub fn store_batch(store: &Store, items: Vec<Prepared>) -> Result<StoredBatch> {
    store.write(|db| {
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let mut decisions = Vec::with_capacity(items.len());
        let mut accepted: Vec<Accepted> = Vec::new();
        // Each sensor's row, read (and on PostgreSQL locked) in id order, so
        // that replicas storing batches of the same sensors take turns per
        // sensor and never deadlock.
        let ids: std::collections::BTreeSet<&str> =
            items.iter().map(|i| i.sensor.id.as_str()).collect();
        let lock = db.backend().for_update();
        let mut sensors: HashMap<String, SensorState> = HashMap::new();
        for id in ids {
            let row = db.query_opt(
                &format!("SELECT fingerprint, site, last_sequence FROM sensors WHERE id = ?1{lock}"),
                params![id],
            )?;
            if let Some(r) = row {
                sensors.insert(
                    id.to_owned(),
                    SensorState {
                        fingerprint: r.get(0)?,
                        site: r.get(1)?,
                        last_sequence: r.get::<Option<i64>>(2)?.map(from_sql_int),
                        counters: None,
                        moved: false,
                    },
                );
            }
        }
        for item in items {
            let sensor_id = item.sensor.id.clone();
            let id = sensor_id.as_str();
            let seq = item.summary.sequence;
            let Some(state) = sensors.get_mut(id).filter(|s| s.fingerprint == item.kid) else {
                // Re-enrolled with another key (or removed) since the signature was checked.
                decisions.push(Decision::new(
                    Outcome::UnknownSensor,
                    id,
                    Some(seq),
                    format!("key {} is no longer enrolled for {id}", item.kid),
                ));
                continue;
            };
            let last = state.last_sequence;
            // Only a sequence at or below the last can already be stored.
            let stored = if last.is_some_and(|last| seq <= last) {
                db.query_opt(
                    "SELECT jws_lz4 FROM summaries WHERE sensor_id = ?1 AND sequence = ?2",
                    params![id, sql_int(seq)],
                )?
                .map(|r| unpack(r.blob(0)?))
                .transpose()?
                .map(|stored| stored == item.jws)
            } else {
                None
            };
            let decision = match (stored, last) {
                (Some(true), _) => Decision::new(
                    Outcome::Duplicate,
                    id,
                    Some(seq),
                    "already stored with the same bytes",
                ),
                (Some(false), _) => Decision::new(
                    Outcome::Replay,
                    id,
                    Some(seq),
                    "sequence already stored with other bytes",
                ),
                (None, Some(last)) if seq <= last => Decision::new(
                    Outcome::Replay,
                    id,
                    Some(seq),
                    format!("sequence {seq} at or below the last stored {last}"),
                ),
                (None, Some(last)) if seq > last.saturating_add(1) => Decision::new(
                    Outcome::OutOfOrder,
                    id,
                    Some(seq),
                    format!(
                        "sequence {seq} after {last}: send {} first",
                        last.saturating_add(1)
                    ),
                ),
                _ => {
                    let site = state
                        .site
                        .clone()
                        .unwrap_or_else(|| item.summary.site.clone());
                    let row_id: i64 = db.query_value(
                        "INSERT INTO summaries (sensor_id, sequence, site, received_at, jws_lz4)
                         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                        params![id, sql_int(seq), site, now, pack(&item.jws)],
                    )?;
                    state.last_sequence = Some(seq);
                    state.counters = Some(item.summary.counters.to_string());
                    state.moved = true;
                    let decision = Decision::new(Outcome::Stored, id, Some(seq), "stored");
                    accepted.push(Accepted {
                        id: row_id,
                        site,
                        sensor_id: item.sensor.id,
                        summary: item.summary,
                        bytes: item.jws.len(),
                    });
                    decision
                }
            };
            decisions.push(decision);
        }
        for (id, state) in sensors.iter().filter(|(_, s)| s.moved) {
            db.execute(
                "UPDATE sensors SET last_sequence = ?2, last_seen = ?3, counters = ?4 WHERE id = ?1",
                params![id, state.last_sequence.map(sql_int), now, state.counters],
            )?;
        }
        Ok(StoredBatch {
            decisions,
            accepted,
        })
    })
}

/// Stores a batch and merges it at once: for callers that want the
/// inventory current when they return (tests, one-shot tools).
pub fn commit_batch(store: &Store, items: Vec<Prepared>) -> Result<Vec<Decision>> {
    let stored = store_batch(store, items)?;
    merge_stored(store, stored.accepted)?;
    Ok(stored.decisions)
}

/// Summaries merged per transaction when merging from the stored bytes.
const MERGE_CHUNK: i64 = 512;

/// Stored summaries a busy writer lets wait for their merge at most (held
/// decoded in memory): the larger, the more each merge coalesces.
pub const MERGE_BACKLOG: usize = 1024;

/// The same in envelope bytes.
pub const MERGE_BACKLOG_BYTES: usize = 64 << 20;

/// Merges every summary stored and not merged yet into the inventory, in
/// order of storing, each chunk as one numbered merge: `decoded` are
/// summaries the caller already holds (from [`store_batch`]); any others (a
/// collector stopped before merging them, a merge that failed, another
/// replica's) are decoded from their stored bytes. Runs only while this
/// process holds the `merge` lease (another replica merging returns 0).
/// Idempotent: merging a summary twice changes nothing. Returns how many
/// summaries were merged.
pub fn merge_stored(store: &Store, decoded: Vec<Accepted>) -> Result<usize> {
    let mut decoded: HashMap<i64, Accepted> = decoded.into_iter().map(|a| (a.id, a)).collect();
    let lease = store.lease("merge");
    let mut merged = 0;
    loop {
        let done = store.write(|db| {
            // First: the lease row stays locked until commit, fencing this merge.
            if !lease.take(db)? {
                return Ok(true);
            }
            // Read under the write lock, so findings' `updated_at` follows
            // commit order (the CEF forwarder's cursor relies on it).
            let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let rows = db.query(
                "SELECT id, sensor_id, site FROM summaries WHERE merge_id IS NULL
                 ORDER BY id LIMIT ?1",
                params![MERGE_CHUNK],
            )?;
            if rows.is_empty() {
                return Ok(true);
            }
            let merge_id: i64 = db.query_value(
                "UPDATE merge_state SET merged_through = merged_through + 1 WHERE id = 1
                 RETURNING merged_through",
                params![],
            )?;
            let mut batch = Vec::with_capacity(rows.len());
            for r in rows {
                let id: i64 = r.get(0)?;
                match decoded.remove(&id) {
                    Some(accepted) => batch.push(accepted),
                    None => batch.push(Accepted {
                        id,
                        site: r.get(2)?,
                        sensor_id: r.get(1)?,
                        summary: stored_summary(db, id)?,
                        bytes: 0,
                    }),
                }
            }
            merge(db, &batch, &now)?;
            for a in &batch {
                db.execute(
                    "UPDATE summaries SET merge_id = ?1 WHERE id = ?2",
                    params![merge_id, a.id],
                )?;
            }
            merged += batch.len();
            Ok(false)
        })?;
        if done {
            return Ok(merged);
        }
    }
}

/// Whether summaries wait for a merge (any replica's).
pub fn merge_pending(store: &Store) -> Result<bool> {
    store.read(|db| {
        Ok(db
            .query_opt(
                "SELECT 1 FROM summaries WHERE merge_id IS NULL LIMIT 1",
                params![],
            )?
            .is_some())
    })
}

/// A stored summary's payload (verified when it was stored).
fn stored_summary(db: &Db<'_>, id: i64) -> Result<Summary> {
    let row = db.query_one("SELECT jws_lz4 FROM summaries WHERE id = ?1", params![id])?;
    let jws = unpack(row.blob(0)?)?;
    let text = std::str::from_utf8(&jws)
        .map_err(|_| anyhow::anyhow!("stored summary {id} is not UTF-8"))?;
    let payload = payload_of_verified(text.trim_end())?;
    Ok(serde_json::from_slice(&payload)?)
}

/// Writes the newest value of every inventory key the accepted summaries
/// carry, keeping a stored value that supersedes it.
fn merge(db: &Db<'_>, accepted: &[Accepted], now: &str) -> Result<()> {
    let mut assets = Coalesced::new();
    let mut edges = Coalesced::new();
    let mut findings = Coalesced::new();
    for item in accepted {
        let (site, sensor, seq, s) = (
            &item.site,
            item.sensor_id.as_str(),
            item.summary.sequence,
            &item.summary,
        );
        for a in &s.assets {
            assets.offer((site.as_str(), a.ip.as_str()), sensor, seq, a);
        }
        for e in &s.edges {
            let key = (
                site.as_str(),
                e.client.as_str(),
                e.server.as_str(),
                e.server_port,
                e.protocol.as_str(),
            );
            edges.offer(key, sensor, seq, e);
        }
        for f in &s.findings {
            findings.offer(
                (site.as_str(), f.rule.as_str(), finding_subject(f)),
                sensor,
                seq,
                f,
            );
        }
    }
    // Written in key order: two writers on PostgreSQL then never wait on
    // each other's rows in a circle.
    let mut assets: Vec<_> = assets.entries.into_iter().collect();
    assets.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for ((site, ip), (sensor, seq, value)) in assets {
        let zone = value.zone.as_ref().map(|z| z.name.as_str());
        db.execute(
            "INSERT INTO assets (site, ip, zone, sensor_id, sequence, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (site, ip) DO UPDATE SET zone = excluded.zone,
                 sensor_id = excluded.sensor_id, sequence = excluded.sequence,
                 value = excluded.value
             WHERE faro_supersedes(assets.sensor_id, assets.sequence,
                 excluded.sensor_id, excluded.sequence)",
            params![
                site,
                ip,
                zone,
                sensor,
                sql_int(seq),
                serde_json::to_string(value)?
            ],
        )?;
    }
    let mut edges: Vec<_> = edges.entries.into_iter().collect();
    edges.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for ((site, client, server, port, protocol), (sensor, seq, value)) in edges {
        db.execute(
            "INSERT INTO edges (site, client, server, server_port, protocol, sensor_id,
                 sequence, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (site, client, server, server_port, protocol) DO UPDATE SET
                 sensor_id = excluded.sensor_id, sequence = excluded.sequence,
                 value = excluded.value
             WHERE faro_supersedes(edges.sensor_id, edges.sequence,
                 excluded.sensor_id, excluded.sequence)",
            params![
                site,
                client,
                server,
                port,
                protocol,
                sensor,
                sql_int(seq),
                serde_json::to_string(value)?
            ],
        )?;
    }
    // New evidence (a higher count) reopens a resolved finding; the triage
    // is otherwise the team's.
    let mut findings: Vec<_> = findings.entries.into_iter().collect();
    findings.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for ((site, rule, subject), (sensor, seq, value)) in findings {
        db.execute(
            "INSERT INTO findings (site, rule, subject, severity, severity_rank, protocol, asset,
                 exposure, count, first_seen, last_seen, sensor_id, sequence, value, due,
                 updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (site, rule, subject) DO UPDATE SET severity = excluded.severity,
                 severity_rank = excluded.severity_rank, protocol = excluded.protocol,
                 asset = excluded.asset, exposure = excluded.exposure,
                 status = CASE WHEN findings.status = 'resolved'
                     AND excluded.count > findings.count
                     THEN 'open' ELSE findings.status END,
                 updated_by = CASE WHEN findings.status = 'resolved'
                     AND excluded.count > findings.count
                     THEN 'sensor ' || excluded.sensor_id || ': new evidence'
                     ELSE findings.updated_by END,
                 count = excluded.count, first_seen = excluded.first_seen,
                 last_seen = excluded.last_seen, sensor_id = excluded.sensor_id,
                 sequence = excluded.sequence, value = excluded.value,
                 updated_at = excluded.updated_at
             WHERE faro_supersedes(findings.sensor_id, findings.sequence,
                 excluded.sensor_id, excluded.sequence)",
            params![
                site,
                rule,
                subject,
                value.severity,
                triage::severity_rank(&value.severity),
                triage::protocol_of(value),
                // The same asset the exposure model charges it to.
                crate::exposure::concerned_asset(value).unwrap_or_default(),
                value.exposure.as_deref().unwrap_or("activity"),
                sql_int(value.count),
                value.first_seen,
                value.last_seen,
                sensor,
                sql_int(seq),
                serde_json::to_string(value)?,
                triage::due_date(&value.severity, &value.first_seen),
                now,
            ],
        )?;
    }
    Ok(())
}

/// Prepares and commits one summary on its own.
pub fn ingest(store: &Store, jws: Vec<u8>) -> Result<Decision> {
    match prepare(store, jws)? {
        Err(decision) => Ok(decision),
        Ok(prepared) => Ok(commit_batch(store, vec![prepared])?
            .pop()
            .unwrap_or_else(|| Decision::new(Outcome::Malformed, "-", None, "no decision"))),
    }
}

/// What a finding is about: its asset, its edge, or `-`.
pub fn finding_subject(f: &faro_protocols::uplink::FindingDelta) -> String {
    match (&f.asset, &f.edge) {
        (_, Some(e)) => format!(
            "{} -> {}:{} {}",
            e.client, e.server, e.server_port, e.protocol
        ),
        (Some(ip), None) => ip.clone(),
        (None, None) => "-".to_owned(),
    }
}
