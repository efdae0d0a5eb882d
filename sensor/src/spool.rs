//! The spool: the durable on-disk queue of summaries between the pipeline and
//! the collector, and the home of the summary sequence number.
//!
//! Stored with redb (stable file format, crash-safe commits; sled is beta and
//! says its format will change). Every mutation is one write transaction
//! committed with redb's default durability (fsync before `commit` returns),
//! so what [`Spool::push`] accepted survives a crash or power cut.
//!
//! A summary is pushed as built: unsigned and without a sequence ("waiting"),
//! under a local id that only grows. It gets its sequence, and is signed, only
//! when first offered to the collector ([`Spool::offer`]): one write
//! transaction moves it to "sent" with its sequence and the exact envelope and
//! advances the persisted next sequence. A retry offers those same bytes (the
//! collector answers 200 duplicate if it had stored them). So the collector
//! sees sequences 1, 2, 3 … without a gap, across restarts, SIGKILL and power
//! loss, whatever the spool merged or shed: only summaries that never had a
//! sequence are ever merged or shed.
//!
//! The spool is bounded by the bytes it holds (`max_bytes`: summaries waiting
//! as JSON, sent ones as envelopes; not the file size, which includes redb's
//! pages and free space). A push that goes over merges the two oldest waiting
//! summaries into one ([`Summary::merge`]: every item is a whole view with
//! cumulative counts, so nothing of the inventory is lost), again until it
//! fits. Only when merging cannot make room does it shed, the oldest waiting
//! summary first, and a summary that could never fit is shed on arrival. Both
//! are counted for good and reported in the counters of the next summary
//! signed. Signing grows the one summary offered by base64's third; the next
//! push takes that back.

use std::path::Path;

use faro_protocols::uplink::Summary;
use redb::{Database, ReadableTable as _, Table, TableDefinition};
use serde::Serialize;

/// Local id → a summary's JSON, not yet offered (its sequence is a placeholder).
const WAITING: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("waiting");
/// Local id → (sequence, JWS compact envelope): offered, not yet acknowledged.
const SENT: TableDefinition<'_, u64, (u64, &str)> = TableDefinition::new("sent");
/// Counters that must outlive the summaries they describe.
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
/// The last sequence ever issued + 1.
const NEXT_SEQUENCE: &str = "next_sequence";
/// Summaries shed to stay within the bound, ever.
const SHED: &str = "shed";
/// Pairs of waiting summaries merged into one to stay within the bound, ever.
const MERGED: &str = "merged";

/// Why the spool failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The database file could not be opened, read or written (boxed: redb's
    /// error is large and the spool's results are on the sensor's hot path).
    #[error("spool storage: {0}")]
    Storage(Box<redb::Error>),
    /// A summary could not be written as JSON.
    #[error("spool encoding: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// redb has one error type per operation; the spool reports them as one.
macro_rules! storage_error {
    ($($ty:ident),*) => {$(
        impl From<redb::$ty> for SpoolError {
            fn from(e: redb::$ty) -> Self {
                Self::Storage(Box::new(e.into()))
            }
        }
    )*};
}
storage_error!(
    DatabaseError,
    TransactionError,
    TableError,
    StorageError,
    CommitError
);

/// What a push did besides storing the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    /// Pairs of waiting summaries merged into one to stay within the bound.
    pub merged: u64,
    /// Waiting summaries removed to stay within the bound (the pushed one
    /// included, when it could never fit).
    pub shed: u64,
}

/// The spool as the collector is told of it: `counters.spool` of every
/// summary, as it stood when that summary was signed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpoolCounters {
    /// Pairs of summaries merged to stay within the bound, since the spool was created.
    pub merged: u64,
    /// Summaries shed to stay within the bound, since the spool was created
    /// (one may be the merge of several).
    pub shed: u64,
    /// Bytes held besides this summary.
    pub bytes: u64,
    /// Summaries waiting behind this one.
    pub pending: u64,
}

/// A summary offered to the collector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Its local id, to [`Spool::acknowledge`] or [`Spool::refuse`] it by.
    pub id: u64,
    /// Its sequence.
    pub sequence: u64,
    /// The signed envelope, the same bytes at every offer.
    pub jws: String,
    /// Whether it was signed by this offer (`false`: a retry).
    pub first: bool,
}

/// The spool's contents and counters as on disk. A transaction works on a
/// copy that replaces the [`Spool`]'s only once committed, so a failed one
/// leaves it as on disk.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    next_id: u64,
    next_sequence: u64,
    merged: u64,
    shed: u64,
    waiting: u64,
    waiting_bytes: u64,
    sent: u64,
    sent_bytes: u64,
}

impl Tally {
    fn bytes(&self) -> u64 {
        self.waiting_bytes.saturating_add(self.sent_bytes)
    }

    fn remove_waiting(&mut self, size: usize) {
        self.waiting = self.waiting.saturating_sub(1);
        self.waiting_bytes = self.waiting_bytes.saturating_sub(size as u64);
    }

    fn shed_waiting(&mut self, size: usize) {
        self.remove_waiting(size);
        self.shed = self.shed.saturating_add(1);
    }
}

/// The durable queue of summaries, oldest first.
pub struct Spool {
    db: Database,
    max_bytes: u64,
    tally: Tally,
}

/// A stored summary read back; `None` if it no longer reads as one (then it
/// can never be sent, and is shed).
fn decode(json: &[u8]) -> Option<Summary> {
    serde_json::from_slice(json).ok()
}

/// The two oldest waiting summaries, as (id, JSON).
type OldestPair = (Option<(u64, Vec<u8>)>, Option<(u64, Vec<u8>)>);

fn oldest_two(waiting: &Table<'_, u64, &[u8]>) -> Result<OldestPair, SpoolError> {
    let mut entries = waiting.iter()?;
    let mut next = || -> Result<Option<(u64, Vec<u8>)>, SpoolError> {
        Ok(entries
            .next()
            .transpose()?
            .map(|(id, json)| (id.value(), json.value().to_vec())))
    };
    let first = next()?;
    let second = next()?;
    Ok((first, second))
}

/// Adds `spool` to a summary's counters as `spool`.
fn stamp(counters: &mut serde_json::Value, spool: SpoolCounters) -> Result<(), SpoolError> {
    let spool = serde_json::to_value(spool)?;
    match counters {
        serde_json::Value::Object(map) => {
            map.insert("spool".to_owned(), spool);
        }
        other => *other = serde_json::json!({ "spool": spool }),
    }
    Ok(())
}

impl Spool {
    /// Opens (or creates) the spool at `path`, holding at most `max_bytes`.
    /// Fails if another process has it open.
    pub fn open(path: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        let tally = {
            // Opening the tables creates them, so readers never miss them.
            let meta = txn.open_table(META)?;
            let waiting = txn.open_table(WAITING)?;
            let sent = txn.open_table(SENT)?;
            let counter = |name: &str| -> Result<u64, SpoolError> {
                Ok(meta.get(name)?.map_or(0, |v| v.value()))
            };
            let mut tally = Tally {
                next_sequence: counter(NEXT_SEQUENCE)?.max(1),
                merged: counter(MERGED)?,
                shed: counter(SHED)?,
                ..Tally::default()
            };
            for entry in waiting.iter()? {
                let (_, json) = entry?;
                tally.waiting += 1;
                tally.waiting_bytes = tally
                    .waiting_bytes
                    .saturating_add(json.value().len() as u64);
            }
            for entry in sent.iter()? {
                let (_, sealed) = entry?;
                tally.sent += 1;
                tally.sent_bytes = tally
                    .sent_bytes
                    .saturating_add(sealed.value().1.len() as u64);
            }
            // Ids only have to order what is stored: go on after the newest.
            let last = |id: Option<u64>| id.unwrap_or(0);
            let newest_waiting = last(waiting.last()?.map(|(id, _)| id.value()));
            let newest_sent = last(sent.last()?.map(|(id, _)| id.value()));
            tally.next_id = newest_waiting.max(newest_sent).saturating_add(1);
            tally
        };
        txn.commit()?;
        Ok(Spool {
            db,
            max_bytes,
            tally,
        })
    }

    /// The sequence the next summary offered for the first time will get:
    /// the last one ever issued + 1 (1 for a new spool), across restarts and
    /// whatever was removed, merged or shed.
    pub fn next_sequence(&self) -> u64 {
        self.tally.next_sequence
    }

    /// Stores a summary as built (its `sequence` is ignored: the spool gives
    /// one when it is first offered); durable when this returns. Merges, or
    /// as a last resort sheds, the oldest waiting summaries to stay within
    /// the bound; never one already sent.
    pub fn push(&mut self, summary: &Summary) -> Result<Pushed, SpoolError> {
        let json = serde_json::to_vec(summary)?;
        let size = json.len() as u64;
        let mut tally = self.tally;
        let mut pushed = Pushed::default();
        let txn = self.db.begin_write()?;
        {
            let mut waiting = txn.open_table(WAITING)?;
            if tally.sent_bytes.saturating_add(size) > self.max_bytes {
                // It would not fit even alone: keep the summaries waiting
                // rather than merging them all into it to shed the lot.
                tally.shed = tally.shed.saturating_add(1);
            } else {
                waiting.insert(tally.next_id, json.as_slice())?;
                tally.next_id = tally.next_id.saturating_add(1);
                tally.waiting = tally.waiting.saturating_add(1);
                tally.waiting_bytes = tally.waiting_bytes.saturating_add(size);
                self.make_room(&mut waiting, &mut tally)?;
            }
            pushed.merged = tally.merged.saturating_sub(self.tally.merged);
            pushed.shed = tally.shed.saturating_sub(self.tally.shed);
            let mut meta = txn.open_table(META)?;
            meta.insert(MERGED, tally.merged)?;
            meta.insert(SHED, tally.shed)?;
        }
        txn.commit()?;
        // Only once committed: a failed push leaves the counters as on disk.
        self.tally = tally;
        Ok(pushed)
    }

    /// Merges the two oldest waiting summaries until the spool is within its
    /// bound; sheds the oldest when merging cannot get it there.
    fn make_room(
        &self,
        waiting: &mut Table<'_, u64, &[u8]>,
        tally: &mut Tally,
    ) -> Result<(), SpoolError> {
        while tally.bytes() > self.max_bytes {
            match oldest_two(waiting)? {
                (Some((older_id, older_json)), Some((newer_id, newer_json))) => {
                    let (Some(mut merged), Some(newer)) =
                        (decode(&older_json), decode(&newer_json))
                    else {
                        let (id, size) = match decode(&older_json) {
                            None => (older_id, older_json.len()),
                            Some(_) => (newer_id, newer_json.len()),
                        };
                        waiting.remove(id)?;
                        tally.shed_waiting(size);
                        continue;
                    };
                    merged.merge(newer);
                    let merged_json = serde_json::to_vec(&merged)?;
                    let all_in_one = tally.waiting == 2;
                    let fits =
                        tally.sent_bytes.saturating_add(merged_json.len() as u64) <= self.max_bytes;
                    if all_in_one && !fits {
                        // Everything waiting would not fit even as one
                        // summary: the oldest goes, the newest has a chance.
                        waiting.remove(older_id)?;
                        tally.shed_waiting(older_json.len());
                    } else {
                        waiting.remove(newer_id)?;
                        waiting.insert(older_id, merged_json.as_slice())?;
                        // Two out, one in.
                        tally.remove_waiting(newer_json.len() + older_json.len());
                        tally.waiting_bytes =
                            tally.waiting_bytes.saturating_add(merged_json.len() as u64);
                        tally.merged = tally.merged.saturating_add(1);
                    }
                }
                (Some((id, json)), None) => {
                    waiting.remove(id)?;
                    tally.shed_waiting(json.len());
                }
                // Only sent summaries left: they are never dropped.
                (None, _) => break,
            }
        }
        Ok(())
    }

    /// The summary to offer the collector: the one already sent and not yet
    /// acknowledged, as the same bytes; otherwise the oldest waiting one,
    /// which gets the next sequence and the spool's counters and is signed by
    /// `seal` (its JSON → the envelope), durably, before it is returned.
    /// `None` when nothing waits.
    pub fn offer(
        &mut self,
        seal: impl FnOnce(&Summary) -> String,
    ) -> Result<Option<Offer>, SpoolError> {
        {
            // A retry changes nothing: no write transaction, no fsync.
            let txn = self.db.begin_read()?;
            let sent = txn.open_table(SENT)?;
            if let Some((id, sealed)) = sent.first()? {
                let (sequence, jws) = sealed.value();
                return Ok(Some(Offer {
                    id: id.value(),
                    sequence,
                    jws: jws.to_owned(),
                    first: false,
                }));
            }
            if txn.open_table(WAITING)?.first()?.is_none() {
                return Ok(None);
            }
        }
        let mut tally = self.tally;
        let txn = self.db.begin_write()?;
        let offer = {
            let mut waiting = txn.open_table(WAITING)?;
            let mut next = None;
            while let Some((id, json)) = waiting
                .pop_first()?
                .map(|(id, json)| (id.value(), json.value().to_vec()))
            {
                match decode(&json) {
                    Some(summary) => {
                        tally.remove_waiting(json.len());
                        next = Some((id, summary));
                        break;
                    }
                    None => tally.shed_waiting(json.len()),
                }
            }
            match next {
                Some((id, mut summary)) => {
                    let sequence = tally.next_sequence;
                    summary.sequence = sequence;
                    let counters = SpoolCounters {
                        merged: tally.merged,
                        shed: tally.shed,
                        bytes: tally.bytes(),
                        pending: tally.waiting,
                    };
                    stamp(&mut summary.counters, counters)?;
                    let jws = seal(&summary);
                    txn.open_table(SENT)?.insert(id, (sequence, jws.as_str()))?;
                    tally.next_sequence = sequence.saturating_add(1);
                    tally.sent = tally.sent.saturating_add(1);
                    tally.sent_bytes = tally.sent_bytes.saturating_add(jws.len() as u64);
                    Some(Offer {
                        id,
                        sequence,
                        jws,
                        first: true,
                    })
                }
                None => None,
            }
        };
        {
            let mut meta = txn.open_table(META)?;
            meta.insert(NEXT_SEQUENCE, tally.next_sequence)?;
            meta.insert(SHED, tally.shed)?;
        }
        txn.commit()?;
        self.tally = tally;
        Ok(offer)
    }

    /// Removes a sent summary the collector acknowledged; `false` if it was
    /// not there (already removed).
    pub fn acknowledge(&mut self, id: u64) -> Result<bool, SpoolError> {
        self.remove_sent(id, false)
    }

    /// Removes a sent summary the collector refused for good (it stored
    /// nothing), and gives its sequence back for the next one: otherwise the
    /// collector would wait for that sequence forever.
    pub fn refuse(&mut self, id: u64) -> Result<bool, SpoolError> {
        self.remove_sent(id, true)
    }

    fn remove_sent(&mut self, id: u64, release_sequence: bool) -> Result<bool, SpoolError> {
        let mut tally = self.tally;
        let txn = self.db.begin_write()?;
        let removed = {
            let mut sent = txn.open_table(SENT)?;
            let removed = sent.remove(id)?.map(|sealed| {
                let (sequence, jws) = sealed.value();
                (sequence, jws.len() as u64)
            });
            if let Some((sequence, size)) = removed {
                tally.sent = tally.sent.saturating_sub(1);
                tally.sent_bytes = tally.sent_bytes.saturating_sub(size);
                // Only the last sequence issued can be given back: an earlier
                // one would be issued twice.
                if release_sequence && sequence.saturating_add(1) == tally.next_sequence {
                    tally.next_sequence = sequence;
                    txn.open_table(META)?
                        .insert(NEXT_SEQUENCE, tally.next_sequence)?;
                }
            }
            removed.is_some()
        };
        txn.commit()?;
        self.tally = tally;
        Ok(removed)
    }

    /// Summaries held, waiting or sent.
    pub fn len(&self) -> u64 {
        self.tally.waiting.saturating_add(self.tally.sent)
    }

    /// Whether no summary is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held: waiting summaries' JSON and sent summaries' envelopes.
    pub fn bytes(&self) -> u64 {
        self.tally.bytes()
    }

    /// Summaries shed to stay within the bound since the spool was created.
    pub fn shed_count(&self) -> u64 {
        self.tally.shed
    }

    /// Pairs of summaries merged to stay within the bound since the spool
    /// was created.
    pub fn merged_count(&self) -> u64 {
        self.tally.merged
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;
    use faro_protocols::uplink::{AssetDelta, SCHEMA, SigningKey, sign, verify};
    use std::collections::{BTreeMap, BTreeSet};
    use std::hash::{BuildHasher as _, RandomState};
    use std::io::{Read as _, Write as _};
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("faro-spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("spool.redb")
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    /// Signs as the sensor does.
    fn seal(summary: &Summary) -> String {
        sign(&serde_json::to_vec(summary).unwrap(), &key(), "test-kid")
    }

    /// The summary inside an envelope.
    fn opened(jws: &str) -> Summary {
        serde_json::from_slice(&verify(jws, &key().verifying_key()).unwrap()).unwrap()
    }

    /// An asset whose `identity` carries `note`, padded to `pad` bytes.
    fn asset(ip: &str, note: &str, pad: usize) -> AssetDelta {
        AssetDelta {
            ip: ip.to_owned(),
            mac: None,
            roles: Vec::new(),
            protocols: vec!["modbus".to_owned()],
            identity: BTreeMap::from([
                ("note".to_owned(), note.to_owned()),
                ("pad".to_owned(), "x".repeat(pad)),
            ]),
            identity_sources: BTreeMap::new(),
            posture: BTreeMap::new(),
            first_seen: "2024-01-01T00:00:00Z".to_owned(),
            last_seen: "2024-01-01T00:00:00Z".to_owned(),
            zone: None,
            known: None,
        }
    }

    /// Summary `n` of a window, with `assets` (ip, note), each asset padded
    /// to `pad` bytes.
    fn summary(n: u64, assets: &[(&str, &str)], pad: usize) -> Summary {
        Summary {
            schema: SCHEMA.to_owned(),
            sensor_id: "edge-01".to_owned(),
            site: "plant".to_owned(),
            sequence: 0,
            window_start: format!("window {}", n.saturating_sub(1)),
            window_end: format!("window {n}"),
            assets: assets
                .iter()
                .map(|(ip, note)| asset(ip, note, pad))
                .collect(),
            edges: Vec::new(),
            findings: Vec::new(),
            counters: serde_json::json!({ "packets": n }),
        }
    }

    /// The JSON size a pushed summary is counted at.
    fn size(summary: &Summary) -> u64 {
        serde_json::to_vec(summary).unwrap().len() as u64
    }

    /// How many pushed windows a summary covers.
    fn windows(summary: &Summary) -> u64 {
        let number = |w: &str| w.trim_start_matches("window ").parse::<u64>().unwrap();
        number(&summary.window_end) - number(&summary.window_start)
    }

    /// Offers, acknowledges and opens every summary the spool holds.
    fn drain(spool: &mut Spool) -> Vec<Summary> {
        let mut out = Vec::new();
        while let Some(offer) = spool.offer(seal).unwrap() {
            assert!(spool.acknowledge(offer.id).unwrap());
            out.push(opened(&offer.jws));
        }
        out
    }

    fn notes(summary: &Summary) -> BTreeMap<String, String> {
        summary
            .assets
            .iter()
            .map(|a| (a.ip.clone(), a.identity["note"].clone()))
            .collect()
    }

    #[test]
    fn a_new_spool_is_empty_and_starts_at_one() {
        let mut spool = Spool::open(&temp_path("new"), 1 << 20).unwrap();
        assert_eq!(spool.next_sequence(), 1);
        assert_eq!(spool.offer(|_| panic!("nothing to sign")).unwrap(), None);
        assert!(spool.is_empty());
        assert_eq!((spool.len(), spool.bytes(), spool.shed_count()), (0, 0, 0));
        assert_eq!(spool.merged_count(), 0);
    }

    #[test]
    fn the_sequence_is_given_and_the_summary_signed_at_the_first_offer() {
        let mut spool = Spool::open(&temp_path("first-offer"), 1 << 20).unwrap();
        for n in 1..=3 {
            assert_eq!(
                spool.push(&summary(n, &[("10.0.0.1", "a")], 10)).unwrap(),
                Pushed::default()
            );
        }
        // Pushing issues no sequence.
        assert_eq!((spool.next_sequence(), spool.len()), (1, 3));
        let offer = spool.offer(seal).unwrap().unwrap();
        assert_eq!((offer.sequence, offer.first), (1, true));
        assert_eq!(spool.next_sequence(), 2);
        let sent = opened(&offer.jws);
        assert_eq!(sent.sequence, 1);
        assert_eq!(sent.window_end, "window 1");
        assert_eq!(sent.counters["packets"], 1);
        // The spool as it stood: two waiting behind it, nothing merged or shed.
        let behind = size(&summary(2, &[("10.0.0.1", "a")], 10)) * 2;
        assert_eq!(
            sent.counters["spool"],
            serde_json::json!({ "merged": 0, "shed": 0, "bytes": behind, "pending": 2 })
        );
        assert!(spool.acknowledge(offer.id).unwrap());
        assert!(!spool.acknowledge(offer.id).unwrap());
        let rest: Vec<(u64, String)> = drain(&mut spool)
            .iter()
            .map(|s| (s.sequence, s.window_end.clone()))
            .collect();
        assert_eq!(
            rest,
            [(2, "window 2".to_owned()), (3, "window 3".to_owned())]
        );
        assert!(spool.is_empty());
        assert_eq!(spool.bytes(), 0);
        assert_eq!(spool.next_sequence(), 4);
    }

    #[test]
    fn a_retry_offers_the_same_bytes_and_signs_nothing() {
        let mut spool = Spool::open(&temp_path("retry"), 1 << 20).unwrap();
        spool.push(&summary(1, &[("10.0.0.1", "a")], 10)).unwrap();
        spool.push(&summary(2, &[("10.0.0.1", "b")], 10)).unwrap();
        let first = spool.offer(seal).unwrap().unwrap();
        for _ in 0..3 {
            let again = spool.offer(|_| panic!("signed twice")).unwrap().unwrap();
            assert_eq!(
                again,
                Offer {
                    first: false,
                    ..first.clone()
                }
            );
        }
        assert_eq!(spool.next_sequence(), 2);
        // The spool now counts the envelope, not the JSON.
        assert_eq!(
            spool.bytes(),
            first.jws.len() as u64 + size(&summary(2, &[("10.0.0.1", "b")], 10))
        );
    }

    #[test]
    fn the_next_sequence_and_the_sent_bytes_survive_reopening() {
        let path = temp_path("reopen");
        let sent = {
            let mut spool = Spool::open(&path, 1 << 20).unwrap();
            for n in 1..=4 {
                spool.push(&summary(n, &[("10.0.0.1", "a")], 10)).unwrap();
            }
            let first = spool.offer(seal).unwrap().unwrap();
            spool.acknowledge(first.id).unwrap();
            spool.offer(seal).unwrap().unwrap()
        };
        assert_eq!(sent.sequence, 2);
        let mut spool = Spool::open(&path, 1 << 20).unwrap();
        assert_eq!((spool.next_sequence(), spool.len()), (3, 3));
        // The one sent before is offered again as the same bytes.
        let again = spool.offer(|_| panic!("signed twice")).unwrap().unwrap();
        assert_eq!(
            again,
            Offer {
                first: false,
                ..sent
            }
        );
        spool.acknowledge(again.id).unwrap();
        let rest: Vec<u64> = drain(&mut spool).iter().map(|s| s.sequence).collect();
        assert_eq!(rest, [3, 4]);
        drop(spool);
        // Everything acknowledged: the sequence still goes on after a restart,
        // and new ids still come after the old ones.
        let mut spool = Spool::open(&path, 1 << 20).unwrap();
        assert_eq!(spool.next_sequence(), 5);
        assert!(spool.is_empty());
        spool.push(&summary(5, &[], 0)).unwrap();
        assert_eq!(spool.offer(seal).unwrap().unwrap().sequence, 5);
    }

    #[test]
    fn a_refused_summary_gives_its_sequence_back() {
        let mut spool = Spool::open(&temp_path("refused"), 1 << 20).unwrap();
        spool.push(&summary(1, &[], 0)).unwrap();
        spool.push(&summary(2, &[], 0)).unwrap();
        let refused = spool.offer(seal).unwrap().unwrap();
        assert!(spool.refuse(refused.id).unwrap());
        assert_eq!(spool.next_sequence(), 1);
        let next = spool.offer(seal).unwrap().unwrap();
        assert_eq!(next.sequence, 1);
        assert_eq!(opened(&next.jws).window_end, "window 2");
        // An acknowledged one keeps its sequence.
        assert!(spool.acknowledge(next.id).unwrap());
        assert!(!spool.refuse(next.id).unwrap());
        assert_eq!(spool.next_sequence(), 2);
    }

    #[test]
    fn when_full_the_oldest_waiting_are_merged_and_keep_every_item() {
        let path = temp_path("merge");
        let one = size(&summary(1, &[("10.0.0.1", "1")], 200));
        // Room for about three summaries of one asset.
        let max_bytes = one * 3 + one / 2;
        let mut spool = Spool::open(&path, max_bytes).unwrap();
        let pushes: [&[(&str, &str)]; 6] = [
            &[("10.0.0.1", "1")],
            &[("10.0.0.2", "2")],
            &[("10.0.0.1", "3")],
            &[("10.0.0.3", "4")],
            &[("10.0.0.2", "5")],
            &[("10.0.0.4", "6")],
        ];
        let mut merged = 0;
        for (n, assets) in (1..).zip(pushes) {
            let pushed = spool.push(&summary(n, assets, 200)).unwrap();
            assert_eq!(pushed.shed, 0);
            merged += pushed.merged;
            assert!(
                spool.bytes() <= max_bytes,
                "{} > {max_bytes}",
                spool.bytes()
            );
        }
        assert!(merged >= 2, "{merged}");
        assert_eq!((spool.merged_count(), spool.shed_count()), (merged, 0));
        assert_eq!(spool.len(), 6 - merged);
        let sent = drain(&mut spool);
        // Gap-free sequences, one per summary left after merging.
        let sequences: Vec<u64> = sent.iter().map(|s| s.sequence).collect();
        assert_eq!(sequences, (1..=6 - merged).collect::<Vec<_>>());
        // The windows still cover 0..6 back to back.
        assert_eq!(sent[0].window_start, "window 0");
        for pair in sent.windows(2) {
            assert_eq!(pair[0].window_end, pair[1].window_start);
        }
        assert_eq!(sent.last().unwrap().window_end, "window 6");
        // Read in order, the summaries give every asset its latest view.
        let mut latest = BTreeMap::new();
        for s in &sent {
            latest.extend(notes(s));
        }
        let expected: BTreeMap<String, String> = [
            ("10.0.0.1", "3"),
            ("10.0.0.2", "5"),
            ("10.0.0.3", "4"),
            ("10.0.0.4", "6"),
        ]
        .iter()
        .map(|(ip, note)| ((*ip).to_owned(), (*note).to_owned()))
        .collect();
        assert_eq!(latest, expected);
        // Some cover several windows: those were merged.
        assert!(sent.iter().any(|s| windows(s) > 1));
        // The counters say so from the first summary signed on.
        assert_eq!(sent[0].counters["spool"]["merged"], merged);
        assert_eq!(sent[0].counters["spool"]["shed"], 0);
    }

    #[test]
    fn a_sent_summary_is_never_merged_or_shed() {
        let path = temp_path("sent-kept");
        let one = size(&summary(1, &[("10.0.0.1", "1")], 300));
        let mut spool = Spool::open(&path, one * 5).unwrap();
        spool.push(&summary(1, &[("10.0.0.1", "1")], 300)).unwrap();
        let sent = spool.offer(seal).unwrap().unwrap();
        // Many more than fit, each of another asset: merged behind the sent
        // one while they fit, then the oldest shed.
        for n in 2..=20u64 {
            let ip = format!("10.0.1.{n}");
            spool.push(&summary(n, &[(&ip, "n")], 300)).unwrap();
            let again = spool.offer(|_| panic!("signed twice")).unwrap().unwrap();
            assert_eq!(
                again,
                Offer {
                    first: false,
                    ..sent.clone()
                }
            );
        }
        assert!(spool.merged_count() > 0);
        assert!(spool.shed_count() > 0);
        assert!(spool.bytes() <= one * 5);
        spool.acknowledge(sent.id).unwrap();
        let rest = drain(&mut spool);
        assert_eq!(rest[0].sequence, 2);
        // The newest survived.
        assert!(notes(rest.last().unwrap()).contains_key("10.0.1.20"));
    }

    #[test]
    fn when_merging_cannot_make_room_the_oldest_is_shed_and_counted() {
        let path = temp_path("shed");
        let big = size(&summary(1, &[("10.0.0.1", "1")], 600));
        let mut spool = Spool::open(&path, big + big / 2).unwrap();
        spool.push(&summary(1, &[("10.0.0.1", "1")], 600)).unwrap();
        // Two that together fit in no way: the older goes.
        assert_eq!(
            spool.push(&summary(2, &[("10.0.0.2", "2")], 600)).unwrap(),
            Pushed { merged: 0, shed: 1 }
        );
        assert_eq!(spool.len(), 1);
        // One larger than the whole bound: shed on arrival, the other kept.
        assert_eq!(
            spool.push(&summary(3, &[("10.0.0.3", "3")], 2000)).unwrap(),
            Pushed { merged: 0, shed: 1 }
        );
        assert_eq!((spool.len(), spool.shed_count()), (1, 2));
        drop(spool);
        let mut spool = Spool::open(&path, big + big / 2).unwrap();
        assert_eq!(
            (spool.len(), spool.shed_count(), spool.merged_count()),
            (1, 2, 0)
        );
        let sent = drain(&mut spool);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].sequence, notes(&sent[0])),
            (1, notes(&summary(2, &[("10.0.0.2", "2")], 0)))
        );
        assert_eq!(sent[0].counters["spool"]["shed"], 2);
    }

    #[test]
    fn an_entry_that_no_longer_reads_as_a_summary_is_shed() {
        let path = temp_path("undecodable");
        let mut spool = Spool::open(&path, 1 << 20).unwrap();
        spool.push(&summary(1, &[], 0)).unwrap();
        {
            let txn = spool.db.begin_write().unwrap();
            txn.open_table(WAITING)
                .unwrap()
                .insert(0, b"{not json".as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        drop(spool);
        let mut spool = Spool::open(&path, 1 << 20).unwrap();
        assert_eq!(spool.len(), 2);
        let offer = spool.offer(seal).unwrap().unwrap();
        assert_eq!(
            (offer.sequence, opened(&offer.jws).window_end.as_str()),
            (1, "window 1")
        );
        assert_eq!((spool.shed_count(), spool.len()), (1, 1));
    }

    #[test]
    fn a_spool_open_elsewhere_is_an_error() {
        let path = temp_path("locked");
        let _spool = Spool::open(&path, 1000).unwrap();
        let err = Spool::open(&path, 1000).err().unwrap();
        assert!(err.to_string().starts_with("spool storage:"), "{err}");
    }

    /// Set for the child process of the crash test: the spool to work on.
    const CRASH_CHILD_ENV: &str = "FARO_SPOOL_CRASH_CHILD";

    /// The crash test's child: pushes, offers and acknowledges until killed,
    /// printing each step once it returned. Does nothing in a normal test run.
    #[test]
    fn crash_child() {
        let Some(path) = std::env::var_os(CRASH_CHILD_ENV) else {
            return;
        };
        let mut spool = Spool::open(Path::new(&path), 1 << 30).unwrap();
        let mut stdout = std::io::stdout().lock();
        for n in 0u64.. {
            let note = format!("{}-{n}", std::process::id());
            spool
                .push(&summary(n, &[("10.0.0.1", &note)], 2000))
                .unwrap();
            writeln!(stdout, "pushed {note}").unwrap();
            // Every third time the collector is "away": the offer stays sent.
            let offer = spool.offer(seal).unwrap().unwrap();
            writeln!(stdout, "offered {} {}", offer.sequence, offer.jws).unwrap();
            if n % 3 != 0 {
                spool.acknowledge(offer.id).unwrap();
                writeln!(stdout, "acknowledged {}", offer.sequence).unwrap();
            }
            stdout.flush().unwrap();
        }
    }

    /// Kills a working process with SIGKILL at random moments: the spool
    /// always reopens and holds every push reported complete that was not
    /// acknowledged; the sequences offered, over all the kills, are 1, 2, 3 …
    /// without a gap, each always with the same bytes: what the collector
    /// needs to store every summary exactly once.
    #[test]
    fn every_completed_step_survives_sigkill() {
        let path = temp_path("crash");
        let random = RandomState::new();
        let mut offered: BTreeMap<u64, String> = BTreeMap::new();
        let mut acknowledged: BTreeSet<u64> = BTreeSet::new();
        let mut pushed: BTreeSet<String> = BTreeSet::new();
        for round in 0..20u64 {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "spool::tests::crash_child", "--nocapture"])
                .env(CRASH_CHILD_ENV, &path)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Between 20 and 150 ms: from before the first push to many in.
            let delay = 20 + random.hash_one(round) % 130;
            std::thread::sleep(Duration::from_millis(delay));
            child.kill().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            child.wait().unwrap();
            let mut printed = String::new();
            stdout.read_to_string(&mut printed).unwrap();
            // Whole lines only: the kill may cut the last one short.
            let whole = printed.rfind('\n').map_or("", |end| &printed[..end]);
            for line in whole.lines() {
                let mut words = line.split(' ');
                match (words.next(), words.next(), words.next()) {
                    (Some("pushed"), Some(note), None) => {
                        pushed.insert(note.to_owned());
                    }
                    (Some("offered"), Some(sequence), Some(jws)) => {
                        let sequence: u64 = sequence.parse().unwrap();
                        let before = offered.insert(sequence, jws.to_owned());
                        assert!(
                            before.is_none_or(|b| b == jws),
                            "sequence {sequence} offered with other bytes"
                        );
                    }
                    (Some("acknowledged"), Some(sequence), None) => {
                        acknowledged.insert(sequence.parse().unwrap());
                    }
                    // The test harness's own lines.
                    _ => {}
                }
            }
            // What is stored: every completed push not yet offered and
            // acknowledged, and the next sequence after every one offered.
            let spool = Spool::open(&path, 1 << 30).unwrap();
            assert!(spool.next_sequence() > offered.keys().last().copied().unwrap_or(0));
            let mut held = BTreeSet::new();
            {
                let txn = spool.db.begin_read().unwrap();
                for entry in txn.open_table(WAITING).unwrap().iter().unwrap() {
                    let summary = decode(entry.unwrap().1.value()).unwrap();
                    held.extend(notes(&summary).into_values());
                }
                for entry in txn.open_table(SENT).unwrap().iter().unwrap() {
                    let sealed = entry.unwrap().1;
                    let (sequence, jws) = sealed.value();
                    if let Some(before) = offered.get(&sequence) {
                        assert_eq!(before, jws, "sequence {sequence} changed on disk");
                    }
                    held.extend(notes(&opened(jws)).into_values());
                }
            }
            // Offered ones leave the spool only once acknowledged, and an
            // acknowledgement may have been cut off before it was printed.
            let offered_notes: BTreeSet<String> = offered
                .values()
                .flat_map(|jws| notes(&opened(jws)).into_values())
                .collect();
            for note in &pushed {
                assert!(
                    held.contains(note) || offered_notes.contains(note),
                    "push {note} lost"
                );
            }
            for sequence in &acknowledged {
                assert!(offered.contains_key(sequence));
            }
        }
        let sequences: Vec<u64> = offered.keys().copied().collect();
        assert!(!sequences.is_empty(), "the child never offered");
        assert_eq!(sequences, (1..=sequences.len() as u64).collect::<Vec<_>>());
        println!(
            "{} pushes and {} sequences checked over 20 kills",
            pushed.len(),
            sequences.len()
        );
    }

    /// A realistic summary of about 20 KiB: the same 60 assets every time,
    /// with a new view of each.
    fn realistic(n: u64) -> Summary {
        let ips: Vec<String> = (0..60).map(|i| format!("10.0.0.{i}")).collect();
        let note = n.to_string();
        let assets: Vec<(&str, &str)> = ips.iter().map(|ip| (ip.as_str(), note.as_str())).collect();
        summary(n, &assets, 200)
    }

    fn bench_count() -> u64 {
        std::env::var("FARO_SPOOL_BENCH_PUSHES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(500)
    }

    /// Pushes per second of realistic 20 KiB summaries, then offers (sign at
    /// send: sequence, JWS, durable move to sent) and acknowledgements per
    /// second (bench/spool.sh).
    #[test]
    #[ignore = "a measurement, run by bench/spool.sh"]
    fn push_and_offer_rate() {
        let path = temp_path("rate");
        let count = bench_count();
        let mut spool = Spool::open(&path, 1 << 30).unwrap();
        let summaries: Vec<Summary> = (1..=count).map(realistic).collect();
        let kib = size(&summaries[0]) / 1024;
        let start = Instant::now();
        for summary in &summaries {
            spool.push(summary).unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "spool: {count} pushes of {kib} KiB in {elapsed:.2} s = {:.0} pushes/s",
            count as f64 / elapsed
        );
        let key = key();
        let (mut offering, mut acknowledging) = (Duration::ZERO, Duration::ZERO);
        let mut offered = 0u64;
        loop {
            let start = Instant::now();
            let offer = spool
                .offer(|s| sign(&serde_json::to_vec(s).unwrap_or_default(), &key, "bench"))
                .unwrap();
            offering += start.elapsed();
            let Some(offer) = offer else { break };
            let start = Instant::now();
            spool.acknowledge(offer.id).unwrap();
            acknowledging += start.elapsed();
            offered += 1;
        }
        let per_second = |d: Duration| offered as f64 / d.as_secs_f64();
        println!(
            "spool: {offered} first offers (sequence, JWS signing, durable move to sent) in {:.2} s = {:.0} offers/s; acknowledgements {:.0}/s",
            offering.as_secs_f64(),
            per_second(offering),
            per_second(acknowledging)
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// Pushes per second into a full spool, each merging the two oldest.
    #[test]
    #[ignore = "a measurement, run by bench/spool.sh"]
    fn push_rate_when_full() {
        let path = temp_path("rate-full");
        let count = bench_count();
        let summaries: Vec<Summary> = (1..=count).map(realistic).collect();
        // Room for about 50 of them.
        let mut spool = Spool::open(&path, size(&summaries[0]) * 50).unwrap();
        let start = Instant::now();
        for summary in &summaries {
            spool.push(summary).unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "spool: {count} pushes into a full spool in {elapsed:.2} s = {:.0} pushes/s ({} merged, {} shed)",
            count as f64 / elapsed,
            spool.merged_count(),
            spool.shed_count()
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
