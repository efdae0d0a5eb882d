//! The HTTPS listener in process on loopback: mutual TLS and the contract's statuses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::time::Duration;

use faro_collector::client::Client;
use faro_collector::server::Background;
use faro_collector::{certs, sample, server, tls};
use faro_protocols::uplink::{SigningKey, fingerprint, generate_key, sign, verifying_key_to_pem};

async fn start(dir: &Path) -> Background {
    Background::start(dir, &common::location(&dir.join("data")))
        .await
        .unwrap()
}

fn jws(key: &SigningKey, sensor: &str, seq: u64) -> Vec<u8> {
    let summary = sample::summary(sensor, "plant-a", seq, 20, 40, 20);
    sign(
        &serde_json::to_vec(&summary).unwrap(),
        key,
        &fingerprint(&key.verifying_key()),
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_and_statuses() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        certs::generate(d, &["s1".to_owned()]).unwrap();
        let other = d.join("other");
        certs::generate(&other, &["s1".to_owned()]).unwrap();
        let key = generate_key();
        {
            let store = common::open(&d.join("data"));
            store
                .enroll(
                    "s1",
                    &verifying_key_to_pem(&key.verifying_key()).unwrap(),
                    None,
                    false,
                )
                .unwrap();
        }
        let run = start(d).await;
        let ok = tls::client_config(
            &d.join("ca.pem"),
            Some((&d.join("s1.pem"), &d.join("s1.key"))),
        )
        .unwrap();
        let mut client = Client::connect(run.addr, ok.clone()).await.unwrap();

        let (status, body) = client
            .request("GET", "/api/v1/health", Vec::new())
            .await
            .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

        let first = jws(&key, "s1", 1);
        let (status, json) = client.post_summary(&first).await.unwrap();
        assert_eq!(
            (status, json["status"].as_str()),
            (201, Some("stored")),
            "{json}"
        );
        assert_eq!(json["sequence"], 1);
        let (status, json) = client.post_summary(&first).await.unwrap();
        assert_eq!(
            (status, json["status"].as_str()),
            (200, Some("duplicate")),
            "{json}"
        );
        let (status, json) = client
            .post_summary(&jws(&generate_key(), "s1", 2))
            .await
            .unwrap();
        assert_eq!(
            (status, json["status"].as_str()),
            (401, Some("unknown_sensor")),
            "{json}"
        );
        let (status, json) = client.post_summary(&jws(&key, "s2", 2)).await.unwrap();
        assert_eq!(
            (status, json["status"].as_str()),
            (403, Some("sensor_mismatch")),
            "{json}"
        );
        let (status, json) = client.post_summary(&jws(&key, "s1", 3)).await.unwrap();
        assert_eq!(
            (status, json["status"].as_str()),
            (409, Some("out_of_order")),
            "{json}"
        );
        let (status, json) = client.post_summary(b"x.y.z").await.unwrap();
        assert_eq!(
            (status, json["status"].as_str()),
            (400, Some("malformed")),
            "{json}"
        );
        let big = vec![b'a'; server::BODY_LIMIT + 1];
        let (status, _) = client.post_summary(&big).await.unwrap();
        assert_eq!(status, 413);

        // No client certificate: 401; one from another CA: refused at the
        // handshake (with TLS 1.3 the client learns it on its first read).
        let anonymous = tls::client_config(&d.join("ca.pem"), None).unwrap();
        let (status, json) = Client::connect(run.addr, anonymous)
            .await
            .unwrap()
            .post_summary(&jws(&key, "s1", 2))
            .await
            .unwrap();
        assert_eq!(
            (status, json["status"].as_str()),
            (401, Some("client_certificate_required"))
        );
        let foreign = tls::client_config(
            &d.join("ca.pem"),
            Some((&other.join("s1.pem"), &other.join("s1.key"))),
        )
        .unwrap();
        let refused = match Client::connect(run.addr, foreign).await {
            Err(_) => true,
            Ok(mut c) => c.post_summary(&jws(&key, "s1", 2)).await.is_err(),
        };
        assert!(refused);
        assert_eq!(run.store.summaries("s1").unwrap().len(), 1);

        run.stop().await.unwrap();
    })
    .await
    .expect("test timed out");
}
