//! Ingestion rate in process (no TLS): verify, store (answered) and merge of
//! summaries shaped like a sensor's, the way the server's writer does it
//! under load: batches stored in one transaction each, merged once
//! `MERGE_BACKLOG` summaries wait (and at the end). `bench/collector.sh`
//! runs it on one core.
//!
//!     ingest_bench SUMMARIES BATCH
//!
//! Scenarios: one commit per summary; batches from one sensor catching up on
//! its spool; batches from many sensors interleaved (each batch holds at most
//! one summary per sensor: the worst case for coalescing). Sizes: 9–10 KB is
//! what the sensor sends every 10 s for a 40-session plant speaking all four
//! protocols (tests/tests/api.rs's); 34 KB is a plant three times larger.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant};

use faro_collector::ingest::{self, Outcome};
use faro_collector::sample;
use faro_collector::store::Store;
use faro_protocols::uplink::{SigningKey, fingerprint, generate_key, sign, verifying_key_to_pem};

struct Scenario {
    label: &'static str,
    sensors: usize,
    batch: usize,
    /// (assets, edges, findings) per summary.
    shape: (usize, usize, usize),
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let batch: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let plant = (5, 10, 5);
    let large = (20, 40, 20);
    let scenario = |label, sensors, batch, shape| Scenario {
        label,
        sensors,
        batch,
        shape,
    };
    let scenarios = [
        scenario("one commit each", 1, 1, plant),
        scenario("1 sensor catching up", 1, batch, plant),
        scenario("many sensors interleaved", batch, batch, plant),
        scenario("1 sensor catching up", 1, batch, large),
        scenario("many sensors interleaved", batch, batch, large),
    ];
    println!(
        "{:<26} {:>5} {:>7} {:>8} {:>12} {:>10} {:>9} {:>9} {:>8}",
        "scenario",
        "batch",
        "sensors",
        "bytes",
        "summaries/s",
        "verify µs",
        "store µs",
        "merge µs",
        "÷verify"
    );
    // ÷verify: the rate against verification alone (signature and parse),
    // the ceiling no store can beat: the share of time the store leaves.
    for s in &scenarios {
        run(s, n);
    }
}

fn run(s: &Scenario, n: usize) {
    let dir =
        tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into())).unwrap();
    let store = Store::open_dir(dir.path()).unwrap();
    let keys: Vec<SigningKey> = (0..s.sensors).map(|_| generate_key()).collect();
    for (i, key) in keys.iter().enumerate() {
        let pem = verifying_key_to_pem(&key.verifying_key()).unwrap();
        store.enroll(&format!("s{i}"), &pem, None, false).unwrap();
    }
    // Round robin over the sensors: summary k is sensor k % S's (k / S + 1)th.
    let (assets, edges, findings) = s.shape;
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|k| {
            let i = k % s.sensors;
            let seq = (k / s.sensors + 1) as u64;
            // Each sensor its own site: sensors' keys never collide.
            let summary = sample::summary(
                &format!("s{i}"),
                &format!("site-{i}"),
                seq,
                assets,
                edges,
                findings,
            );
            let key = &keys[i];
            sign(
                &serde_json::to_vec(&summary).unwrap(),
                key,
                &fingerprint(&key.verifying_key()),
            )
            .into_bytes()
        })
        .collect();
    let avg = bodies.iter().map(Vec::len).sum::<usize>() / n.max(1);
    let start = Instant::now();
    let (mut verifying, mut storing) = (Duration::ZERO, Duration::ZERO);
    let mut stored = 0usize;
    let mut unmerged = Vec::new();
    for chunk in bodies.chunks(s.batch) {
        let t = Instant::now();
        let prepared: Vec<_> = chunk
            .iter()
            .map(|j| ingest::prepare(&store, j.clone()).unwrap().unwrap())
            .collect();
        verifying += t.elapsed();
        let t = Instant::now();
        let batch = ingest::store_batch(&store, prepared).unwrap();
        storing += t.elapsed();
        stored += batch
            .decisions
            .iter()
            .filter(|d| d.outcome == Outcome::Stored)
            .count();
        unmerged.extend(batch.accepted);
        // A lone summary finds the writer idle: it is merged at once.
        if s.batch == 1 || unmerged.len() >= ingest::MERGE_BACKLOG {
            ingest::merge_stored(&store, std::mem::take(&mut unmerged)).unwrap();
        }
    }
    ingest::merge_stored(&store, unmerged).unwrap();
    let total = start.elapsed();
    assert_eq!(stored, n);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{:<26} {:>5} {:>7} {:>8} {:>12.0} {:>10.0} {:>9.0} {:>9.0} {:>8.2}",
        s.label,
        s.batch,
        s.sensors,
        avg,
        n as f64 / total.as_secs_f64(),
        per(verifying),
        per(storing),
        per(total.saturating_sub(verifying + storing)),
        verifying.as_secs_f64() / total.as_secs_f64(),
    );
}
