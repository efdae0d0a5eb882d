//! HTTPS load on a running `faro-collector serve`: S sensors, each on its own
//! mutual-TLS connection, post N signed summaries in sequence as a sensor
//! flushing its spool does. Enrolls the sensors in the serving store first
//! (the CLI may use the store while it serves). `bench/collector-https.sh`
//! runs the collector on one core and this on the other.
//!
//!     https_load ADDR PKI_DIR DATA_DIR SENSORS PER_SENSOR [ASSETS]
//!
//! Each summary carries ASSETS assets, twice as many edges and as many
//! findings (default 5: about 9 KB, the size of what a sensor sends every
//! 10 s for a 40-session plant; 20 makes 34 KB).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use faro_collector::client::Client;
use faro_collector::store::Store;
use faro_collector::{sample, tls};
use faro_protocols::uplink::{fingerprint, generate_key, sign, verifying_key_to_pem};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args[1].parse().unwrap();
    let pki = PathBuf::from(&args[2]);
    let data = PathBuf::from(&args[3]);
    let sensors: usize = args[4].parse().unwrap();
    let per_sensor: u64 = args[5].parse().unwrap();
    let assets: usize = args.get(6).map_or(5, |a| a.parse().unwrap());

    let store = Store::open_dir(&data).unwrap();
    let mut work = Vec::new();
    for i in 0..sensors {
        let id = format!("s{i}");
        let key = generate_key();
        let pem = verifying_key_to_pem(&key.verifying_key()).unwrap();
        store.enroll(&id, &pem, None, false).unwrap();
        let kid = fingerprint(&key.verifying_key());
        let bodies: Vec<Vec<u8>> = (1..=per_sensor)
            .map(|seq| {
                let s = sample::summary(&id, &format!("site-{i}"), seq, assets, 2 * assets, assets);
                sign(&serde_json::to_vec(&s).unwrap(), &key, &kid).into_bytes()
            })
            .collect();
        let config = tls::client_config(
            &pki.join("ca.pem"),
            Some((
                &pki.join(format!("{id}.pem")),
                &pki.join(format!("{id}.key")),
            )),
        )
        .unwrap();
        work.push((config, bodies));
    }
    drop(store);
    let bytes = work.iter().map(|(_, b)| b[0].len()).sum::<usize>() / sensors.max(1);

    let start = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(config, bodies)| {
            tokio::spawn(async move {
                let mut client = Client::connect(addr, config).await.unwrap();
                let mut latencies = Vec::with_capacity(bodies.len());
                for body in bodies {
                    let t = Instant::now();
                    let (status, json) = client.post_summary(&body).await.unwrap();
                    assert_eq!(status, 201, "{json}");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{} summaries of {bytes} bytes from {sensors} sensors over HTTPS: {:.0}/s, latency p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        latencies.len() as f64 / secs,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}
