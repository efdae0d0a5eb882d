//! The REST API over HTTPS on loopback, fed by signed summaries posted the
//! way sensors post them: tokens and scopes on every documented route,
//! pagination, filters, triage with history, exports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use faro_collector::client::Client;
use faro_collector::server::Background;
use faro_collector::tokens::{self, Scope};
use faro_collector::{api, certs, sample, tls};
use faro_protocols::uplink::{fingerprint, generate_key, sign, verifying_key_to_pem};
use serde_json::Value;

async fn start(dir: &Path) -> Background {
    Background::start(dir, &common::location(&dir.join("data")))
        .await
        .unwrap()
}

/// Two sensors at two sites post 3 summaries each over mutual TLS.
async fn feed(run: &Background, dir: &Path) {
    for (sensor, site, assets) in [("s1", "plant-a", 30), ("s2", "plant-b", 12)] {
        let key = generate_key();
        run.store
            .enroll(
                sensor,
                &verifying_key_to_pem(&key.verifying_key()).unwrap(),
                None,
                false,
            )
            .unwrap();
        let config = tls::client_config(
            &dir.join("ca.pem"),
            Some((
                &dir.join(format!("{sensor}.pem")),
                &dir.join(format!("{sensor}.key")),
            )),
        )
        .unwrap();
        let mut client = Client::connect(run.addr, config).await.unwrap();
        for seq in 1..=3 {
            let s = sample::summary(sensor, site, seq, assets, 2 * assets, assets);
            let jws = sign(
                &serde_json::to_vec(&s).unwrap(),
                &key,
                &fingerprint(&key.verifying_key()),
            );
            let (status, json) = client.post_summary(jws.as_bytes()).await.unwrap();
            assert_eq!(status, 201, "{json}");
        }
        client.wait_merged(Duration::from_secs(10)).await.unwrap();
    }
}

async fn client(run: &Background, dir: &Path, token: Option<&str>) -> Client {
    let config = tls::client_config(&dir.join("ca.pem"), None).unwrap();
    Client::connect(run.addr, config)
        .await
        .unwrap()
        .with_token(token)
}

/// Every path of the OpenAPI document with its methods, parameters filled
/// in, but for the sensors' own (`security: []`: mutual TLS, not tokens).
fn documented_routes() -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(api::OPENAPI).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let path = path
            .replace("{site}", "plant-a")
            .replace("{ip}", "10.10.0.10")
            .replace("{id}", "1");
        for (method, operation) in item.as_object().unwrap() {
            if operation["security"] == serde_json::json!([]) {
                continue;
            }
            out.push((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_a_token_with_the_right_scope_everywhere() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        certs::generate(d, &["s1".to_owned(), "s2".to_owned()]).unwrap();
        let run = start(d).await;
        feed(&run, d).await;
        let (read, _) = tokens::create(&run.store, "dashboard", Scope::Read).unwrap();
        let (triage, _) = tokens::create(&run.store, "analyst", Scope::Triage).unwrap();
        let (admin, _) = tokens::create(&run.store, "ops", Scope::Admin).unwrap();
        let (revoked, revoked_id) = tokens::create(&run.store, "old", Scope::Admin).unwrap();
        assert!(tokens::revoke(&run.store, &revoked_id).unwrap());
        let forged = format!("{}x", &read[..read.len() - 1]);

        let routes = documented_routes();
        assert!(routes.len() >= 14, "{routes:?}");
        for token in [
            None,
            Some(revoked.as_str()),
            Some(forged.as_str()),
            Some("faro_nope"),
        ] {
            let mut c = client(&run, d, token).await;
            for (method, path) in &routes {
                let (status, body) = c.request(method, path, b"{}".to_vec()).await.unwrap();
                assert_eq!(status, 401, "{method} {path} with {token:?}");
                let json: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(json["status"], "unauthorized");
            }
        }
        // Health: a sensor certificate or a token.
        let (status, _) = client(&run, d, None)
            .await
            .get_json("/api/v1/health")
            .await
            .unwrap();
        assert_eq!(status, 401);

        // Every documented route exists and answers a read token with JSON
        // (or CSV), or refuses the read scope where more is needed.
        let mut r = client(&run, d, Some(&read)).await;
        for (method, path) in &routes {
            let body = if method == "PATCH" {
                br#"{"owner":"x"}"#.to_vec()
            } else {
                Vec::new()
            };
            let (status, body) = r.request(method, path, body).await.unwrap();
            let needs_more = method == "PATCH" || path.starts_with("/api/v1/tokens");
            if needs_more {
                assert_eq!(status, 403, "{method} {path}");
            } else {
                assert!(
                    status == 200 || status == 404,
                    "{method} {path}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
                if path.ends_with(".csv") {
                    assert!(body.starts_with(b"id,") || body.starts_with(b"site,"));
                } else {
                    let _: Value = serde_json::from_slice(&body)
                        .unwrap_or_else(|_| panic!("{method} {path}: not JSON"));
                }
            }
        }
        let mut t = client(&run, d, Some(&triage)).await;
        let (status, _) = t.get_json("/api/v1/tokens").await.unwrap();
        assert_eq!(status, 403, "triage may not manage tokens");
        let mut a = client(&run, d, Some(&admin)).await;
        let (status, json) = a.get_json("/api/v1/tokens").await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(json.as_array().unwrap().len(), 4);
        assert!(
            !json.to_string().contains(&read[10..]),
            "a secret was listed"
        );

        run.stop().await.unwrap();
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_filter_and_triage_with_history() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        certs::generate(d, &["s1".to_owned(), "s2".to_owned()]).unwrap();
        let run = start(d).await;
        feed(&run, d).await;
        let (read, _) = tokens::create(&run.store, "dashboard", Scope::Read).unwrap();
        let (triage, _) = tokens::create(&run.store, "analyst", Scope::Triage).unwrap();
        let mut r = client(&run, d, Some(&read)).await;

        let (_, sites) = r.get_json("/api/v1/sites").await.unwrap();
        let names: Vec<&str> = sites
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["site"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["plant-a", "plant-b"]);
        assert_eq!(sites[0]["assets"], 30);

        // Pages of 7: every asset once, in order, whatever the page size.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/assets?limit=7&cursor={c}"),
                None => "/api/v1/assets?limit=7".to_owned(),
            };
            let (status, page) = r.get_json(&path).await.unwrap();
            assert_eq!(status, 200, "{page}");
            for a in page["items"].as_array().unwrap() {
                seen.push(format!("{} {}", a["site"], a["ip"]));
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 42);
        assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 42);
        let (status, _) = r.get_json("/api/v1/assets?cursor=garbage").await.unwrap();
        assert_eq!(status, 400);
        let (status, _) = r.get_json("/api/v1/assets?colour=red").await.unwrap();
        assert_eq!(status, 400);

        let (_, zoned) = r
            .get_json("/api/v1/assets?site=plant-a&zone=supervisory")
            .await
            .unwrap();
        let zoned = zoned["items"].as_array().unwrap();
        assert_eq!(zoned.len(), 6, "every 5th asset is an HMI in supervisory");
        assert!(zoned.iter().all(|a| a["zone"]["name"] == "supervisory"));

        let (_, all) = r
            .get_json("/api/v1/findings?site=plant-a&limit=1000")
            .await
            .unwrap();
        let all = all["items"].as_array().unwrap();
        assert_eq!(all.len(), 30);
        let (_, high) = r
            .get_json("/api/v1/findings?site=plant-a&severity=high,critical&status=open&protocol=modbus")
            .await
            .unwrap();
        assert!(!high["items"].as_array().unwrap().is_empty());
        let target = all[0]["target"].as_str().unwrap().to_owned();
        let (_, about) = r
            .get_json(&format!("/api/v1/findings?asset={target}"))
            .await
            .unwrap();
        assert!(
            about["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["target"] == target.as_str())
        );
        let (status, detail) = r
            .get_json(&format!("/api/v1/assets/plant-a/{target}"))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert!(!detail["edges"].as_array().unwrap().is_empty());

        // Triage: a risk is accepted only with a reason and an expiry; each change is in the history.
        let id = all[0]["id"].as_i64().unwrap();
        let due = all[0]["due"].as_str().unwrap().to_owned();
        assert!(due.starts_with("2026-02-09"), "high: 30 days after first seen: {due}");
        let mut t = client(&run, d, Some(&triage)).await;
        let path = format!("/api/v1/findings/{id}");
        let (status, body) = t
            .request("PATCH", &path, br#"{"status":"accepted_risk"}"#.to_vec())
            .await
            .unwrap();
        assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
        let (status, _) = t
            .request("PATCH", &path, br#"{"status":"closed"}"#.to_vec())
            .await
            .unwrap();
        assert_eq!(status, 422);
        let change = br#"{"status":"accepted_risk","owner":"J. Doe","reason":"air-gapped cell, compensating control","expires":"2099-01-01T00:00:00Z"}"#;
        let (status, body) = t.request("PATCH", &path, change.to_vec()).await.unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let (status, body) = t
            .request("PATCH", &path, br#"{"status":"resolved"}"#.to_vec())
            .await
            .unwrap();
        assert_eq!(status, 200);
        let finding: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(finding["status"], "resolved");
        assert_eq!(finding["reason"], Value::Null, "leaving an acceptance clears its terms");
        let history: Vec<(String, String)> = finding["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["field"].as_str().unwrap().to_owned(),
                    h["new"].as_str().unwrap_or("-").to_owned(),
                )
            })
            .collect();
        for want in [
            ("status", "accepted_risk"),
            ("owner", "J. Doe"),
            ("expires", "2099-01-01T00:00:00Z"),
            ("status", "resolved"),
            ("reason", "-"),
        ] {
            assert!(
                history.contains(&(want.0.to_owned(), want.1.to_owned())),
                "{want:?} not in {history:?}"
            );
        }
        assert!(
            finding["history"][0]["actor"]
                .as_str()
                .unwrap()
                .contains("analyst")
        );
        let (_, open) = r
            .get_json("/api/v1/findings?site=plant-a&status=open&limit=1000")
            .await
            .unwrap();
        assert_eq!(open["items"].as_array().unwrap().len(), 29);

        let (status, body) = r
            .request("GET", "/api/v1/export/findings.csv?site=plant-b", Vec::new())
            .await
            .unwrap();
        assert_eq!(status, 200);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(text.lines().count(), 1 + 12);
        assert!(text.starts_with("id,site,target,rule,severity,priority"));
        let (_, sensors) = r.get_json("/api/v1/sensors").await.unwrap();
        assert_eq!(sensors[0]["last_sequence"], 3);
        assert!(sensors[0]["counters"]["packets"].as_u64().unwrap() > 0);

        run.stop().await.unwrap();
    })
    .await
    .expect("test timed out");
}
