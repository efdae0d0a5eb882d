//! The ingestion rules on the store, without TLS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use faro_collector::ingest::{self, Outcome};
use faro_collector::sample;
use faro_collector::store::Store;
use faro_protocols::uplink::{SigningKey, fingerprint, generate_key, sign, verifying_key_to_pem};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    key: SigningKey,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open(dir.path());
    let key = generate_key();
    let pem = verifying_key_to_pem(&key.verifying_key()).unwrap();
    store.enroll("s1", &pem, Some("plant-a"), false).unwrap();
    Fixture {
        _dir: dir,
        store,
        key,
    }
}

fn jws(key: &SigningKey, sensor: &str, seq: u64) -> Vec<u8> {
    let summary = sample::summary(sensor, "plant-a", seq, 20, 40, 20);
    let kid = fingerprint(&key.verifying_key());
    sign(&serde_json::to_vec(&summary).unwrap(), key, &kid).into_bytes()
}

fn outcome(f: &Fixture, body: Vec<u8>) -> Outcome {
    ingest::ingest(&f.store, body).unwrap().outcome
}

#[test]
fn stored_once_then_duplicate() {
    let f = fixture();
    let body = jws(&f.key, "s1", 1);
    assert_eq!(outcome(&f, body.clone()), Outcome::Stored);
    assert_eq!(outcome(&f, body.clone()), Outcome::Duplicate);
    let stored = f.store.summaries("s1").unwrap();
    assert_eq!(stored, vec![(1, body)]);
    assert_eq!(
        f.store.sensor("s1").unwrap().unwrap().last_sequence,
        Some(1)
    );
}

#[test]
fn unknown_key_tampered_and_mismatch_store_nothing() {
    let f = fixture();
    assert_eq!(
        outcome(&f, jws(&generate_key(), "s1", 1)),
        Outcome::UnknownSensor
    );
    // Another payload under the original header and signature.
    let good = String::from_utf8(jws(&f.key, "s1", 1)).unwrap();
    let other = String::from_utf8(jws(&f.key, "s1", 2)).unwrap();
    let g: Vec<&str> = good.split('.').collect();
    let o: Vec<&str> = other.split('.').collect();
    let tampered = format!("{}.{}.{}", g[0], o[1], g[2]);
    assert_eq!(outcome(&f, tampered.into_bytes()), Outcome::BadSignature);
    assert_eq!(outcome(&f, jws(&f.key, "s2", 1)), Outcome::SensorMismatch);
    assert_eq!(outcome(&f, b"not a jws".to_vec()), Outcome::Malformed);
    let kid = fingerprint(&f.key.verifying_key());
    assert_eq!(
        outcome(&f, sign(b"{\"x\":1}", &f.key, &kid).into_bytes()),
        Outcome::Malformed
    );
    assert!(f.store.summaries("s1").unwrap().is_empty());
    assert_eq!(f.store.summary_count().unwrap(), 0);
    assert!(f.store.inventory(None).unwrap().assets.is_empty());
}

#[test]
fn replay_and_gap_are_refused() {
    let f = fixture();
    for seq in 1..=3 {
        assert_eq!(outcome(&f, jws(&f.key, "s1", seq)), Outcome::Stored);
    }
    // Same sequence, other bytes (a re-signed different summary).
    let mut s = sample::summary("s1", "plant-a", 2, 1, 0, 0);
    s.window_end = "2030-01-01T00:00:00Z".to_owned();
    let kid = fingerprint(&f.key.verifying_key());
    let replay = sign(&serde_json::to_vec(&s).unwrap(), &f.key, &kid).into_bytes();
    assert_eq!(outcome(&f, replay), Outcome::Replay);
    assert_eq!(outcome(&f, jws(&f.key, "s1", 5)), Outcome::OutOfOrder);
    let seqs: Vec<u64> = f
        .store
        .summaries("s1")
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(outcome(&f, jws(&f.key, "s1", 4)), Outcome::Stored);
}

#[test]
fn inventory_keeps_the_highest_sequence() {
    let f = fixture();
    for seq in 1..=2 {
        assert_eq!(outcome(&f, jws(&f.key, "s1", seq)), Outcome::Stored);
    }
    let inv = f.store.inventory(Some("plant-a")).unwrap();
    assert_eq!(
        (inv.assets.len(), inv.edges.len(), inv.findings.len()),
        (20, 40, 20)
    );
    assert!(
        inv.edges
            .iter()
            .all(|e| e.sequence == 2 && e.value.functions["16"] == 20)
    );
    assert!(inv.findings.iter().all(|x| x.value.count == 6));
    assert!(
        f.store
            .inventory(Some("elsewhere"))
            .unwrap()
            .assets
            .is_empty()
    );
}

#[test]
fn enrollment_pins_one_key_per_id() {
    let f = fixture();
    let pem = verifying_key_to_pem(&f.key.verifying_key()).unwrap();
    let other = verifying_key_to_pem(&generate_key().verifying_key()).unwrap();
    assert!(f.store.enroll("s1", &other, None, false).is_err());
    assert!(
        f.store.enroll("s2", &pem, None, false).is_err(),
        "one key names one sensor"
    );
    f.store.enroll("s1", &other, None, true).unwrap();
    assert_eq!(outcome(&f, jws(&f.key, "s1", 1)), Outcome::UnknownSensor);
    assert!(f.store.enroll("s1", "not a key", None, true).is_err());
}

/// One commit of many summaries (the writer's batch, written once per key)
/// gives the same inventory, sequences and decisions as one commit each.
#[test]
fn a_batch_merges_as_one_commit_each_would() {
    let one_by_one = fixture();
    let batched = fixture();
    let s2 = generate_key();
    let s2_pem = verifying_key_to_pem(&s2.verifying_key()).unwrap();
    // Two sensors report overlapping keys (s2's 10 assets are s1's first
    // 10), interleaved, with a duplicate and a gap among them.
    let bodies = |s1: &SigningKey| {
        let mut bodies = Vec::new();
        for seq in 1..=6 {
            bodies.push(jws(s1, "s1", seq));
            let s = sample::summary("s2", "plant-a", seq, 10, 10, 4);
            let kid = fingerprint(&s2.verifying_key());
            bodies.push(sign(&serde_json::to_vec(&s).unwrap(), &s2, &kid).into_bytes());
        }
        bodies.insert(5, bodies[2].clone());
        bodies.push(jws(s1, "s1", 9));
        bodies
    };
    one_by_one
        .store
        .enroll("s2", &s2_pem, Some("plant-a"), false)
        .unwrap();
    batched
        .store
        .enroll("s2", &s2_pem, Some("plant-a"), false)
        .unwrap();
    let singles: Vec<Outcome> = bodies(&one_by_one.key)
        .into_iter()
        .map(|b| outcome(&one_by_one, b))
        .collect();
    let prepared: Vec<_> = bodies(&batched.key)
        .into_iter()
        .map(|b| ingest::prepare(&batched.store, b).unwrap().unwrap())
        .collect();
    let batch: Vec<Outcome> = ingest::commit_batch(&batched.store, prepared)
        .unwrap()
        .into_iter()
        .map(|d| d.outcome)
        .collect();
    assert_eq!(singles, batch);
    assert_eq!(
        batch.iter().filter(|o| **o == Outcome::Stored).count(),
        12,
        "{batch:?}"
    );
    assert!(batch.contains(&Outcome::Duplicate) && batch.contains(&Outcome::OutOfOrder));
    let a = serde_json::to_value(one_by_one.store.inventory(None).unwrap()).unwrap();
    let b = serde_json::to_value(batched.store.inventory(None).unwrap()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a["assets"].as_array().unwrap().len(), 20);
}

/// The CLI (enroll, assets, summaries) opens the store while `serve` has it open.
#[test]
fn a_second_process_can_enroll_and_read_while_the_store_is_open() {
    let f = fixture();
    assert_eq!(outcome(&f, jws(&f.key, "s1", 1)), Outcome::Stored);
    let dir = f._dir.path();
    let cli = common::open(dir);
    let key = generate_key();
    let pem = verifying_key_to_pem(&key.verifying_key()).unwrap();
    cli.enroll("s9", &pem, None, false).unwrap();
    assert_eq!(cli.summaries("s1").unwrap().len(), 1);
    // The serving store sees the new sensor at once.
    let kid = fingerprint(&key.verifying_key());
    let body = sign(
        &serde_json::to_vec(&sample::summary("s9", "plant-b", 1, 2, 2, 2)).unwrap(),
        &key,
        &kid,
    )
    .into_bytes();
    assert_eq!(outcome(&f, body), Outcome::Stored);
}

/// A key replaced between the signature check and the commit is not trusted.
#[test]
fn a_key_replaced_before_the_commit_is_refused() {
    let f = fixture();
    let prepared = ingest::prepare(&f.store, jws(&f.key, "s1", 1))
        .unwrap()
        .unwrap();
    let other = verifying_key_to_pem(&generate_key().verifying_key()).unwrap();
    f.store.enroll("s1", &other, None, true).unwrap();
    let decisions = ingest::commit_batch(&f.store, vec![prepared]).unwrap();
    assert_eq!(decisions[0].outcome, Outcome::UnknownSensor);
    assert_eq!(f.store.summary_count().unwrap(), 0);
}

/// Summaries stored but not merged (the collector stopped between the two)
/// are merged from their stored bytes by the next process, in order, even
/// when the sensor's key was replaced since; the inventory equals that of
/// summaries merged at once, and merging again changes nothing.
#[test]
fn stored_but_unmerged_summaries_are_merged_from_the_store_later() {
    let merged_at_once = fixture();
    let deferred = fixture();
    for seq in 1..=5 {
        assert_eq!(
            outcome(&merged_at_once, jws(&merged_at_once.key, "s1", seq)),
            Outcome::Stored
        );
        let prepared = ingest::prepare(&deferred.store, jws(&deferred.key, "s1", seq))
            .unwrap()
            .unwrap();
        let stored = ingest::store_batch(&deferred.store, vec![prepared]).unwrap();
        assert_eq!(stored.decisions[0].outcome, Outcome::Stored);
        // Dropped: as if the process ended before merging.
        drop(stored.accepted);
    }
    assert_eq!(deferred.store.counts().unwrap(), (0, 0, 0));
    assert_eq!(deferred.store.unmerged().unwrap(), 5);
    let other = verifying_key_to_pem(&generate_key().verifying_key()).unwrap();
    deferred.store.enroll("s1", &other, None, true).unwrap();

    let next = common::open(deferred._dir.path());
    assert_eq!(ingest::merge_stored(&next, Vec::new()).unwrap(), 5);
    let a = serde_json::to_value(merged_at_once.store.inventory(None).unwrap()).unwrap();
    let b = serde_json::to_value(next.inventory(None).unwrap()).unwrap();
    assert_eq!(a, b);
    assert_eq!(ingest::merge_stored(&next, Vec::new()).unwrap(), 0);
    assert_eq!(next.unmerged().unwrap(), 0);
}
