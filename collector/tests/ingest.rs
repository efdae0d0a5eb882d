//! The ingestion rules on the store, without TLS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

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
    let store = Store::open_dir(dir.path()).unwrap();
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
