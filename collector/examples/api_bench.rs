//! Latency of the API's lists at scale: fills a store through ingestion with
//! SITES sites of ASSETS assets and FINDINGS findings each (default 100 ×
//! 500 × 2000: 50,000 assets and 200,000 findings), serves it over HTTPS on
//! loopback, and times each list query from a client on one connection.
//! `bench/api.sh` runs it.
//!
//!     api_bench [SITES] [ASSETS] [FINDINGS] [REQUESTS]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use faro_collector::client::Client;
use faro_collector::store::Store;
use faro_collector::tokens::{self, Scope};
use faro_collector::{certs, ingest, sample, server, tls};
use faro_protocols::uplink::{fingerprint, generate_key, sign, verifying_key_to_pem};

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (sites, assets, findings, requests) = (arg(1, 100), arg(2, 500), arg(3, 2000), arg(4, 500));
    let dir =
        tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into())).unwrap();
    let d = dir.path();
    certs::generate(d, &[]).unwrap();
    let store = Arc::new(Store::open_dir(&d.join("data")).unwrap());

    let t = Instant::now();
    for i in 0..sites {
        let id = format!("s{i}");
        let key = generate_key();
        let pem = verifying_key_to_pem(&key.verifying_key()).unwrap();
        store.enroll(&id, &pem, None, false).unwrap();
        let s = sample::summary(
            &id,
            &format!("site-{i:03}"),
            1,
            assets,
            2 * assets,
            findings,
        );
        let jws = sign(
            &serde_json::to_vec(&s).unwrap(),
            &key,
            &fingerprint(&key.verifying_key()),
        );
        let prepared = ingest::prepare(&store, jws.into_bytes()).unwrap().unwrap();
        ingest::commit_batch(&store, vec![prepared]).unwrap();
    }
    faro_collector::rescore::rescore_all(&store).unwrap();
    let inv = store.counts().unwrap();
    println!(
        "store: {} assets, {} edges, {} findings over {sites} sites, filled and scored in {:.1} s",
        inv.0,
        inv.1,
        inv.2,
        t.elapsed().as_secs_f64()
    );

    let serving = server::Background::start(
        d,
        &faro_collector::store::Location::Sqlite(
            d.join("data").join(faro_collector::store::FILE_NAME),
        ),
    )
    .await
    .unwrap();
    let addr = serving.addr;
    let (token, _) = tokens::create(&store, "bench", Scope::Read).unwrap();
    let client_config = tls::client_config(&d.join("ca.pem"), None).unwrap();
    let mut client = Client::connect(addr, client_config)
        .await
        .unwrap()
        .with_token(Some(&token));

    // A cursor deep into each list, to time later pages too.
    let deep_assets = cursor_after(&mut client, "/api/v1/assets?limit=1000", 25).await;
    let deep_findings = cursor_after(&mut client, "/api/v1/findings?limit=1000", 100).await;
    let queries = [
        // The reference: a request that reads nothing (HTTPS round trip, token check).
        ("reference: health".to_owned(), "/api/v1/health".to_owned()),
        ("assets, first page".to_owned(), "/api/v1/assets".to_owned()),
        (
            "assets, page 25,001+".to_owned(),
            format!("/api/v1/assets?cursor={deep_assets}"),
        ),
        (
            "assets of a site and zone".to_owned(),
            "/api/v1/assets?site=site-042&zone=supervisory".to_owned(),
        ),
        (
            "assets by protocol".to_owned(),
            "/api/v1/assets?protocol=s7comm&site=site-077".to_owned(),
        ),
        (
            "worklist, first page".to_owned(),
            "/api/v1/findings".to_owned(),
        ),
        (
            "worklist, page 100,001+".to_owned(),
            format!("/api/v1/findings?cursor={deep_findings}"),
        ),
        (
            "findings open, high and critical".to_owned(),
            "/api/v1/findings?severity=high,critical&status=open".to_owned(),
        ),
        (
            "findings of a site and zone".to_owned(),
            "/api/v1/findings?site=site-042&zone=supervisory".to_owned(),
        ),
        (
            "findings of a rule".to_owned(),
            "/api/v1/findings?rule=modbus.write.3".to_owned(),
        ),
        (
            "findings of an asset".to_owned(),
            "/api/v1/findings?site=site-042&asset=10.10.1.60".to_owned(),
        ),
    ];
    println!(
        "{:<36} {:>6} {:>9} {:>9} {:>9} {:>10}",
        "query (100 rows a page)", "rows", "p50 ms", "p99 ms", "max ms", "p99 ÷ ref"
    );
    let mut reference_p99 = None;
    for (label, path) in &queries {
        let mut times = Vec::with_capacity(requests);
        let mut rows = 0;
        for _ in 0..requests {
            let t = Instant::now();
            let (status, json) = client.get_json(path).await.unwrap();
            times.push(t.elapsed());
            assert_eq!(status, 200, "{path}: {json}");
            rows = json["items"].as_array().map_or(0, Vec::len);
        }
        times.sort();
        let at = |p: f64| ms(times[((times.len() - 1) as f64 * p) as usize]);
        let p99 = at(0.99);
        let reference = *reference_p99.get_or_insert(p99);
        println!(
            "{label:<36} {rows:>6} {:>9.2} {p99:>9.2} {:>9.2} {:>10.1}",
            at(0.5),
            at(1.0),
            p99 / reference
        );
    }
    serving.stop().await.unwrap();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn cursor_after(client: &mut Client, first: &str, pages: usize) -> String {
    let mut path = first.to_owned();
    let mut cursor = String::new();
    for _ in 0..pages {
        let (_, json) = client.get_json(&path).await.unwrap();
        match json["next_cursor"].as_str() {
            Some(c) => {
                cursor = c.to_owned();
                path = format!("{first}&cursor={c}");
            }
            None => break,
        }
    }
    cursor
}
