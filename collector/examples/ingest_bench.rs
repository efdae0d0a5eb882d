//! Ingestion rate in process (no TLS): verify + store + merge of realistic
//! summaries (20 assets, 40 edges, 20 findings), one commit per summary and
//! in batches as the server's writer does. `bench/collector.sh` runs it on one core.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Instant;

use faro_collector::ingest::{self, Outcome};
use faro_collector::sample;
use faro_collector::store::Store;
use faro_protocols::uplink::{fingerprint, generate_key, sign, verifying_key_to_pem};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let batch: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let key = generate_key();
    let kid = fingerprint(&key.verifying_key());
    let signed = |sensor: &str| -> Vec<Vec<u8>> {
        (1..=n)
            .map(|seq| {
                let s = sample::summary(sensor, "plant-a", seq, 20, 40, 20);
                sign(&serde_json::to_vec(&s).unwrap(), &key, &kid).into_bytes()
            })
            .collect()
    };
    let jws = signed("s1");
    let avg = jws.iter().map(Vec::len).sum::<usize>() / jws.len().max(1);
    println!("{n} summaries of {avg} bytes (20 assets, 40 edges, 20 findings)");

    for (label, size) in [("one commit each", 1), ("batched", batch)] {
        let dir = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))
            .unwrap();
        let store = Store::open_dir(dir.path()).unwrap();
        store
            .enroll(
                "s1",
                &verifying_key_to_pem(&key.verifying_key()).unwrap(),
                None,
                false,
            )
            .unwrap();
        let start = Instant::now();
        let mut stored = 0usize;
        let mut verifying = std::time::Duration::ZERO;
        for chunk in jws.chunks(size) {
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
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(stored as u64, n);
        println!(
            "{label:>16} (batch {size:>3}): {:>6.0} summaries/s ({secs:.2} s, {:.2} s verifying and parsing)",
            n as f64 / secs,
            verifying.as_secs_f64()
        );
    }
}
