//! The integrator's API end to end, real binaries on loopback: a sensor
//! replays a plant speaking all four protocols to a collector; the API lists
//! what the sensor's own `analyze` saw, scored and ranked, page by page; the
//! filters agree with each other; triage needs its scope and is recorded;
//! nothing answers without a token. `/health` shows the CEF forwarder
//! waiting for its receiver, then caught up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use faro_collector::client::Client;
use faro_collector::tls;
use faro_e2e::plant::{Plant, free_port, stop};
use faro_e2e::{analyze_json, capgen, collector_command, workspace_root};
use serde_json::Value;

/// Every item of a paged list, following `next_cursor`; asserts that each
/// page is at most `limit` long.
async fn all_pages(client: &mut Client, path: &str, limit: usize) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let first = format!("{path}{sep}limit={limit}");
    let mut next = first.clone();
    let mut items = Vec::new();
    for _ in 0..10_000 {
        let (status, page) = client.get_json(&next).await.unwrap();
        assert_eq!(status, 200, "{next}: {page}");
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit, "{next}: {} items", got.len());
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{first}&cursor={cursor}"),
            None => return items,
        }
    }
    panic!("{path}: pagination does not end");
}

/// A finding's identity as both `analyze` and the API write it.
fn finding_key(f: &Value) -> String {
    format!("{} {} {}", f["rule"], f["asset"], f["edge"])
}

/// A client of the plant's collector API, with `token` if given.
async fn api_client(plant: &Plant, token: Option<&str>) -> Client {
    let tls = tls::client_config(Path::new(&plant.path("certs/ca.pem")), None).unwrap();
    let addr = format!("127.0.0.1:{}", plant.port).parse().unwrap();
    Client::connect(addr, tls).await.unwrap().with_token(token)
}

/// Waits until every stored summary is merged and the site `sample` scored
/// (the collector's scorer runs every 2 s); returns the site's exposure.
async fn merged_and_scored(c: &mut Client) -> Value {
    c.wait_merged(Duration::from_secs(10)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, json) = c.get_json("/api/v1/exposure/sample").await.unwrap();
        if status == 200 {
            return json;
        }
        assert!(Instant::now() < deadline, "no exposure score: {json}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[test]
fn the_api_serves_a_replayed_plant_scored_ranked_and_paged() {
    let plant = Plant::new("api", 10, "");
    let capture = plant.dir.join("plant.pcap");
    capgen(&[
        "polling",
        "--packets",
        "20000",
        "--flows",
        "40",
        "--s7-share",
        "20",
        "--dnp3-share",
        "20",
        "--opcua-share",
        "20",
        "-o",
        capture.to_str().unwrap(),
    ]);
    let serving = collector_command(plant.serve_args())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (code, log) = plant.replay(&capture);
    assert_eq!(code, Some(0), "{log}");
    let summaries = plant.stored().len();
    assert!(summaries >= 1);

    let read = plant.token("dashboard", "read");
    let triage = plant.token("analyst", "triage");
    let analysis = analyze_json(&[capture.as_path()], &[]);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connect = |token: Option<String>| {
            let plant = &plant;
            async move { api_client(plant, token.as_deref()).await }
        };

        // Without a token, or with a made-up one, nothing answers.
        for token in [None, Some("faro_x_y".to_owned())] {
            let mut c = connect(token).await;
            for path in ["/api/v1/sites", "/api/v1/assets", "/api/v1/findings"] {
                let (status, _) = c.get_json(path).await.unwrap();
                assert_eq!(status, 401, "{path}");
            }
        }

        let mut c = connect(Some(read.clone())).await;
        let exposure = merged_and_scored(&mut c).await;
        let score = exposure["score"].as_u64().unwrap();
        assert!(score > 0 && score <= 100, "{exposure}");
        assert!(
            !exposure["factors"].as_array().unwrap().is_empty(),
            "{exposure}"
        );

        // Assets: every one `analyze` saw, once, over pages of 7.
        let assets = all_pages(&mut c, "/api/v1/assets?site=sample", 7).await;
        let ips: Vec<&str> = assets.iter().map(|a| a["ip"].as_str().unwrap()).collect();
        let unique: BTreeSet<&str> = ips.iter().copied().collect();
        assert_eq!(ips.len(), unique.len(), "an asset listed twice");
        let analysed: BTreeSet<&str> = analysis["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["ip"].as_str().unwrap())
            .collect();
        assert_eq!(unique, analysed);
        for a in &assets {
            assert!(a["score"].as_u64().unwrap() <= 100, "{a}");
        }
        let protocols: BTreeSet<&str> = assets
            .iter()
            .flat_map(|a| a["protocols"].as_array().unwrap())
            .map(|p| p.as_str().unwrap())
            .collect();
        for p in ["modbus", "s7comm", "dnp3", "opcua"] {
            assert!(protocols.contains(p), "{p} missing from {protocols:?}");
        }

        // The most exposed asset, with its edges and findings.
        let top = assets
            .iter()
            .max_by_key(|a| a["score"].as_u64().unwrap())
            .unwrap();
        let (status, detail) = c
            .get_json(&format!(
                "/api/v1/assets/sample/{}",
                top["ip"].as_str().unwrap()
            ))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert!(!detail["edges"].as_array().unwrap().is_empty(), "{detail}");

        // The worklist: every finding `analyze` raised, once, highest
        // priority first, each with a due date from its severity.
        let findings = all_pages(&mut c, "/api/v1/findings?site=sample", 5).await;
        let listed: Vec<String> = findings.iter().map(finding_key).collect();
        let unique: BTreeSet<&String> = listed.iter().collect();
        assert_eq!(listed.len(), unique.len(), "a finding listed twice");
        let raised: BTreeSet<String> = analysis["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(finding_key)
            .collect();
        assert!(!raised.is_empty());
        assert_eq!(unique, raised.iter().collect());
        let priorities: Vec<u64> = findings
            .iter()
            .map(|f| f["priority"].as_u64().unwrap())
            .collect();
        assert!(
            priorities.windows(2).all(|w| w[0] >= w[1]),
            "not ranked: {priorities:?}"
        );
        for f in &findings {
            assert_eq!(f["status"], "open", "{f}");
            // RFC 3339 in UTC both: they compare as text.
            let due = f["due"].as_str().unwrap();
            assert!(due > f["first_seen"].as_str().unwrap(), "{f}");
        }

        // Filters partition the worklist.
        let mut by_protocol: BTreeMap<String, usize> = BTreeMap::new();
        for f in &findings {
            *by_protocol
                .entry(f["protocol"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        for (protocol, n) in &by_protocol {
            let some =
                all_pages(&mut c, &format!("/api/v1/findings?protocol={protocol}"), 50).await;
            assert_eq!(some.len(), *n, "protocol {protocol}");
            assert!(some.iter().all(|f| f["protocol"] == protocol.as_str()));
        }
        let severe = all_pages(&mut c, "/api/v1/findings?severity=high,critical", 50).await;
        assert_eq!(
            severe.len(),
            findings
                .iter()
                .filter(|f| f["severity"] == "high" || f["severity"] == "critical")
                .count()
        );
        let (status, _) = c.get_json("/api/v1/findings?severity=dire").await.unwrap();
        assert_eq!(status, 400, "an unknown severity is refused");

        // The sensor, as the collector last heard it.
        let (status, sensors) = c.get_json("/api/v1/sensors").await.unwrap();
        assert_eq!(status, 200);
        let edge01 = sensors
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "edge-01")
            .unwrap();
        assert_eq!(edge01["last_sequence"], summaries);
        assert!(edge01["counters"].is_object(), "{edge01}");

        // CSV: a header and one row per asset.
        let (status, csv) = c
            .request("GET", "/api/v1/export/assets.csv?site=sample", Vec::new())
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            csv.iter().filter(|b| **b == b'\n').count(),
            assets.len() + 1
        );

        // Triage: refused to a read token, taken from a triage token and
        // recorded in the finding's history.
        let first = findings[0]["id"].as_i64().unwrap();
        let path = format!("/api/v1/findings/{first}");
        let change = br#"{"status":"acknowledged","owner":"ot-team"}"#.to_vec();
        let (status, _) = c.request("PATCH", &path, change.clone()).await.unwrap();
        assert_eq!(status, 403);
        let mut t = connect(Some(triage.clone())).await;
        let (status, body) = t.request("PATCH", &path, change).await.unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let (_, detail) = c.get_json(&path).await.unwrap();
        assert_eq!(detail["status"], "acknowledged", "{detail}");
        assert_eq!(detail["owner"], "ot-team");
        assert!(
            detail["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["field"] == "status" && h["new"] == "acknowledged"),
            "{detail}"
        );
    });
    stop(serving);
}

/// Polls `/health` until `done` holds for its `cef` part; returns that part.
async fn cef_health(c: &mut Client, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    // The forwarder's backoff doubles up to a minute while the receiver is away.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, health) = c.get_json("/api/v1/health").await.unwrap();
        assert_eq!(status, 200, "{health}");
        if done(&health["cef"]) {
            return health["cef"].clone();
        }
        assert!(Instant::now() < deadline, "{what}: {health}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn health_shows_the_cef_forwarder_waiting_for_its_receiver_then_caught_up() {
    let plant = Plant::new("api-cef", 10, "");
    let syslog = format!("127.0.0.1:{}", free_port());
    let serving = collector_command(plant.serve_args())
        .args(["--cef-syslog", &format!("tcp://{syslog}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let capture = workspace_root().join("samples/plant-modbus.pcap");
    let (code, log) = plant.replay(&capture);
    assert_eq!(code, Some(0), "{log}");
    let read = plant.token("monitoring", "read");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut c = api_client(&plant, Some(&read)).await;
        // Scored first, so that no priority change comes after the catch-up.
        merged_and_scored(&mut c).await;
        let ids: BTreeSet<String> = all_pages(&mut c, "/api/v1/findings", 100)
            .await
            .iter()
            .map(|f| f["id"].to_string())
            .collect();
        let findings = ids.len();
        assert!(findings > 0, "the sample raises findings");

        // Nobody listens: every finding waits, and the health says why.
        let waiting = cef_health(&mut c, "the refused connection", |cef| {
            cef["last_error"].is_string()
        })
        .await;
        assert_eq!(waiting["receiver"], format!("tcp://{syslog}"));
        assert_eq!(waiting["connected"], false, "{waiting}");
        assert_eq!(waiting["forwarded"], 0, "{waiting}");
        assert_eq!(waiting["behind"], findings, "{waiting}");

        // The receiver comes up: everything goes, nothing is left behind.
        let listener = TcpListener::bind(&syslog).unwrap();
        let received = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut bytes = Vec::new();
            let mut chunk = [0_u8; 4096];
            while let Ok(n @ 1..) = conn.read(&mut chunk) {
                bytes.extend_from_slice(&chunk[..n]);
            }
            bytes
        });
        let caught_up = cef_health(&mut c, "catching up", |cef| {
            cef["behind"] == 0 && cef["connected"] == true
        })
        .await;
        assert!(caught_up["last_error"].is_null(), "{caught_up}");
        let forwarded = caught_up["forwarded"].as_u64().unwrap();
        // A late rescore may send a finding again with its new priority.
        assert!(forwarded >= findings as u64, "{caught_up}");
        stop(serving);
        let bytes = received.join().unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let sent: BTreeSet<String> = text
            .split(" externalId=")
            .skip(1)
            .map(|rest| rest.split(' ').next().unwrap().to_owned())
            .collect();
        assert_eq!(sent, ids, "every finding reached the receiver");
        assert!(text.matches("CEF:0|Faro|").count() as u64 >= forwarded);
    });
}
