//! Ingestion rate in process (no TLS): verify + store + merge of summaries
//! shaped like a sensor's, the way the server's writer commits them.
//! `bench/collector.sh` runs it on one core.
//!
//!     ingest_bench SUMMARIES BATCH
//!
//! Scenarios: one commit per summary; batches from one sensor catching up on
//! its spool; batches from many sensors interleaved (each batch holds at most
//! one summary per sensor, so nothing coalesces: the worst case).
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
    let realistic = (20, 40, 20);
    let small = (5, 10, 5);
    let scenarios = [
        Scenario {
            label: "one commit each",
            sensors: 1,
            batch: 1,
            shape: realistic,
        },
        Scenario {
            label: "1 sensor catching up",
            sensors: 1,
            batch,
            shape: realistic,
        },
        Scenario {
            label: "many sensors interleaved",
            sensors: batch,
            batch,
            shape: realistic,
        },
        Scenario {
            label: "many sensors, small",
            sensors: batch,
            batch,
            shape: small,
        },
    ];
    println!(
        "{:<26} {:>5} {:>7} {:>8} {:>12} {:>10} {:>10}",
        "scenario", "batch", "sensors", "bytes", "summaries/s", "verify µs", "store µs"
    );
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
    let mut verifying = Duration::ZERO;
    let mut stored = 0usize;
    for chunk in bodies.chunks(s.batch) {
        let t = Instant::now();
        let prepared: Vec<_> = chunk
            .iter()
            .map(|j| ingest::prepare(&store, j.clone()).unwrap().unwrap())
            .collect();
        verifying += t.elapsed();
        stored += ingest::commit_batch(&store, prepared)
            .unwrap()
            .iter()
            .filter(|d| d.outcome == Outcome::Stored)
            .count();
    }
    let total = start.elapsed();
    assert_eq!(stored, n);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{:<26} {:>5} {:>7} {:>8} {:>12.0} {:>10.0} {:>10.0}",
        s.label,
        s.batch,
        s.sensors,
        avg,
        n as f64 / total.as_secs_f64(),
        per(verifying),
        per(total.saturating_sub(verifying)),
    );
}
