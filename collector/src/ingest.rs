//! Ingestion of one signed summary, in the contract's order: kid → pinned key
//! → signature (before the payload is parsed) → summary → sensor id →
//! sequence → store and merge in one write transaction.

use std::time::SystemTime;

use anyhow::Result;
use faro_protocols::uplink::{
    EnvelopeError, SCHEMA, Summary, kid_of, verify, verifying_key_from_pem,
};
use redb::ReadableTable;
use serde::Serialize;

use crate::store::{ASSETS, EDGES, FINDINGS, Merged, SENSORS, SUMMARIES, SensorRecord, Store};

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
    sensor: SensorRecord,
    summary: Summary,
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
    let key = verifying_key_from_pem(&sensor.public_key_pem)?;
    let payload = match verify(text.trim_end(), &key) {
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
        summary,
    }))
}

/// Decides on each prepared summary in order and stores the accepted ones with
/// their inventory merge, all in ONE write transaction (one fsync for the batch).
/// A storage error fails the whole batch: nothing of it is stored.
pub fn commit_batch(store: &Store, items: Vec<Prepared>) -> Result<Vec<Decision>> {
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let txn = store.db.begin_write()?;
    let mut decisions = Vec::with_capacity(items.len());
    {
        let mut sensors = txn.open_table(SENSORS)?;
        let mut summaries = txn.open_table(SUMMARIES)?;
        let mut assets = txn.open_table(ASSETS)?;
        let mut edges = txn.open_table(EDGES)?;
        let mut findings = txn.open_table(FINDINGS)?;
        for item in items {
            let id = item.sensor.id.as_str();
            let seq = item.summary.sequence;
            // Re-read inside the transaction: an earlier item of the batch may have moved it.
            let mut record: SensorRecord = match sensors.get(id)? {
                Some(v) => serde_json::from_slice(v.value())?,
                None => item.sensor.clone(),
            };
            let stored = summaries
                .get((id, seq))?
                .map(|v| v.value() == item.jws.as_slice());
            let last = record.last_sequence;
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
                    summaries.insert((id, seq), item.jws.as_slice())?;
                    let site = record
                        .site
                        .clone()
                        .unwrap_or_else(|| item.summary.site.clone());
                    merge(
                        &mut assets,
                        &mut edges,
                        &mut findings,
                        &site,
                        id,
                        &item.summary,
                    )?;
                    record.last_sequence = Some(seq);
                    record.last_seen = Some(now.clone());
                    sensors.insert(id, serde_json::to_vec(&record)?.as_slice())?;
                    Decision::new(Outcome::Stored, id, Some(seq), "stored")
                }
            };
            decisions.push(decision);
        }
    }
    txn.commit()?;
    Ok(decisions)
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

type Table<'t, K> = redb::Table<'t, K, &'static [u8]>;

/// Whether an entry from (`sensor`, `sequence`) replaces `old`: the same
/// sensor's higher sequence does (its counts are cumulative); another sensor's
/// report of the same key does too (the latest accepted view wins).
fn newer(old: Option<&[u8]>, sensor: &str, sequence: u64) -> Result<bool> {
    let Some(old) = old else { return Ok(true) };
    #[derive(serde::Deserialize)]
    struct Origin {
        sensor_id: String,
        sequence: u64,
    }
    let old: Origin = serde_json::from_slice(old)?;
    Ok(old.sensor_id != sensor || old.sequence < sequence)
}

fn merge(
    assets: &mut Table<'_, (&'static str, &'static str)>,
    edges: &mut Table<'_, (&'static str, &'static str, &'static str, u16, &'static str)>,
    findings: &mut Table<'_, (&'static str, &'static str, &'static str)>,
    site: &str,
    sensor: &str,
    summary: &Summary,
) -> Result<()> {
    let seq = summary.sequence;
    let wrap = |value| Merged {
        site: site.to_owned(),
        sensor_id: sensor.to_owned(),
        sequence: seq,
        value,
    };
    for a in &summary.assets {
        let key = (site, a.ip.as_str());
        if newer(assets.get(key)?.as_ref().map(|v| v.value()), sensor, seq)? {
            assets.insert(key, serde_json::to_vec(&wrap(a.clone()))?.as_slice())?;
        }
    }
    let wrap_e = |value| Merged {
        site: site.to_owned(),
        sensor_id: sensor.to_owned(),
        sequence: seq,
        value,
    };
    for e in &summary.edges {
        let key = (
            site,
            e.client.as_str(),
            e.server.as_str(),
            e.server_port,
            e.protocol.as_str(),
        );
        if newer(edges.get(key)?.as_ref().map(|v| v.value()), sensor, seq)? {
            edges.insert(key, serde_json::to_vec(&wrap_e(e.clone()))?.as_slice())?;
        }
    }
    let wrap_f = |value| Merged {
        site: site.to_owned(),
        sensor_id: sensor.to_owned(),
        sequence: seq,
        value,
    };
    for f in &summary.findings {
        let subject = finding_subject(f);
        let key = (site, f.rule.as_str(), subject.as_str());
        if newer(findings.get(key)?.as_ref().map(|v| v.value()), sensor, seq)? {
            findings.insert(key, serde_json::to_vec(&wrap_f(f.clone()))?.as_slice())?;
        }
    }
    Ok(())
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
