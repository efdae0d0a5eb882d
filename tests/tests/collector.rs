//! The real `faro-collector`: test certificates, enrollment, and the HTTPS
//! ingestion API over mutual TLS on loopback, stopped with SIGTERM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faro_collector::client::Client;
use faro_collector::{sample, tls};
use faro_e2e::{collector, collector_command, scratch_dir};
use faro_protocols::uplink::{SigningKey, fingerprint, generate_key, sign, verifying_key_to_pem};

fn ok(args: &[&str]) -> String {
    let out = collector(args);
    assert!(
        out.status.success(),
        "faro-collector {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn jws(key: &SigningKey, sensor: &str, seq: u64) -> Vec<u8> {
    let s = sample::summary(sensor, "plant-a", seq, 20, 40, 20);
    sign(
        &serde_json::to_vec(&s).unwrap(),
        key,
        &fingerprint(&key.verifying_key()),
    )
    .into_bytes()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops the server with SIGTERM and returns its stderr; fails if it does not exit cleanly within 10 s.
fn stop(mut child: Child) -> String {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert!(status.success(), "serve exited {status}: {err}");
            return err;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("faro-collector serve did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn certs_enroll_serve_and_every_status() {
    let dir = scratch_dir("collector");
    let d = |n: &str| dir.join(n).display().to_string();
    ok(&[
        "certs",
        "--out",
        &d("pki"),
        "--sensor",
        "s1",
        "--sensor",
        "s2",
    ]);
    ok(&["certs", "--out", &d("rogue"), "--sensor", "s1"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("pki/s1.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let key = generate_key();
    std::fs::write(
        dir.join("s1.pub"),
        verifying_key_to_pem(&key.verifying_key()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("other.pub"),
        verifying_key_to_pem(&generate_key().verifying_key()).unwrap(),
    )
    .unwrap();
    let data = d("data");
    let out = ok(&[
        "enroll",
        "--data",
        &data,
        "--sensor-id",
        "s1",
        "--public-key",
        &d("s1.pub"),
        "--site",
        "plant-a",
    ]);
    assert!(out.contains(&fingerprint(&key.verifying_key())), "{out}");
    let refused = collector(&[
        "enroll",
        "--data",
        &data,
        "--sensor-id",
        "s1",
        "--public-key",
        &d("other.pub"),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--replace"));

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = collector_command(["serve", "--data", &data, "--listen", &listen])
        .args([
            "--cert",
            &d("pki/collector.pem"),
            "--key",
            &d("pki/collector.key"),
            "--client-ca",
            &d("pki/ca.pem"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pki = dir.join("pki");
    let rogue = dir.join("rogue");
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), async {
            let addr = listen.parse().unwrap();
            let good = tls::client_config(
                &pki.join("ca.pem"),
                Some((&pki.join("s1.pem"), &pki.join("s1.key"))),
            )
            .unwrap();
            let mut client = loop {
                match Client::connect(addr, good.clone()).await {
                    Ok(c) => break c,
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            };
            let (status, _) = client
                .request("GET", "/api/v1/health", Vec::new())
                .await
                .unwrap();
            assert_eq!(status, 200);

            let expect = |(status, json): (u16, serde_json::Value), want: (u16, &str)| {
                assert_eq!(
                    (status, json["status"].as_str().unwrap_or("")),
                    want,
                    "{json}"
                );
            };
            let first = jws(&key, "s1", 1);
            expect(client.post_summary(&first).await.unwrap(), (201, "stored"));
            expect(
                client.post_summary(&first).await.unwrap(),
                (200, "duplicate"),
            );
            expect(
                client
                    .post_summary(&jws(&generate_key(), "s1", 2))
                    .await
                    .unwrap(),
                (401, "unknown_sensor"),
            );
            let good2 = String::from_utf8(jws(&key, "s1", 2)).unwrap();
            let other2 = String::from_utf8(jws(&key, "s1", 3)).unwrap();
            let (g, o): (Vec<&str>, Vec<&str>) =
                (good2.split('.').collect(), other2.split('.').collect());
            let tampered = format!("{}.{}.{}", g[0], o[1], g[2]);
            expect(
                client.post_summary(tampered.as_bytes()).await.unwrap(),
                (401, "bad_signature"),
            );
            expect(
                client.post_summary(&jws(&key, "s2", 2)).await.unwrap(),
                (403, "sensor_mismatch"),
            );
            expect(
                client.post_summary(&jws(&key, "s1", 4)).await.unwrap(),
                (409, "out_of_order"),
            );
            expect(
                client.post_summary(good2.as_bytes()).await.unwrap(),
                (201, "stored"),
            );
            // Sequence 1 again with other bytes.
            let mut s = sample::summary("s1", "plant-a", 1, 1, 0, 0);
            s.window_end = "2030-01-01T00:00:00Z".to_owned();
            let replay = sign(
                &serde_json::to_vec(&s).unwrap(),
                &key,
                &fingerprint(&key.verifying_key()),
            );
            expect(
                client.post_summary(replay.as_bytes()).await.unwrap(),
                (409, "replay"),
            );

            // A valid certificate of another sensor: the transport's identity must be the summary's.
            let s2_cert = tls::client_config(
                &pki.join("ca.pem"),
                Some((&pki.join("s2.pem"), &pki.join("s2.key"))),
            )
            .unwrap();
            let mut s2 = Client::connect(addr, s2_cert).await.unwrap();
            let (status, json) = s2.post_summary(&jws(&key, "s1", 3)).await.unwrap();
            assert_eq!(
                (status, json["status"].as_str()),
                (403, Some("sensor_mismatch"))
            );
            assert!(
                json["reason"]
                    .as_str()
                    .unwrap()
                    .contains("client certificate"),
                "{json}"
            );
            // No certificate: through TLS (the API takes tokens), but no summary.
            let anonymous = tls::client_config(&pki.join("ca.pem"), None).unwrap();
            let mut anonymous = Client::connect(addr, anonymous).await.unwrap();
            let (status, json) = anonymous.post_summary(&jws(&key, "s1", 3)).await.unwrap();
            assert_eq!(
                (status, json["status"].as_str()),
                (401, Some("client_certificate_required"))
            );
            // A certificate from another CA: refused at the handshake.
            let rogue = tls::client_config(
                &pki.join("ca.pem"),
                Some((&rogue.join("s1.pem"), &rogue.join("s1.key"))),
            )
            .unwrap();
            let refused = match Client::connect(addr, rogue).await {
                Err(_) => true,
                Ok(mut c) => c.post_summary(&jws(&key, "s1", 3)).await.is_err(),
            };
            assert!(refused, "a certificate from another CA got through");
        })
        .await
        .expect("timed out");
    });

    // The CLI works on the store while serve has it open.
    let out = ok(&[
        "enroll",
        "--data",
        &data,
        "--sensor-id",
        "s2",
        "--public-key",
        &d("other.pub"),
    ]);
    assert!(out.contains("s2: enrolled"), "{out}");
    assert!(ok(&["summaries", "--data", &data, "--sensor-id", "s1"]).starts_with("1\t"));

    let log = stop(child);
    for reason in [
        "unknown_sensor",
        "bad_signature",
        "sensor_mismatch",
        "out_of_order",
        "replay",
        "TLS handshake refused",
        "without a client certificate",
        "client certificate is",
    ] {
        assert!(log.contains(reason), "no {reason} in the log:\n{log}");
    }
    assert!(log.contains("sequence=4"), "{log}");

    let listed = ok(&["summaries", "--data", &data, "--sensor-id", "s1"]);
    let seqs: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(seqs, ["1", "2"]);
    let inv: serde_json::Value =
        serde_json::from_str(&ok(&["assets", "--data", &data, "--format", "json"])).unwrap();
    assert_eq!(inv["assets"].as_array().unwrap().len(), 20);
    assert_eq!(inv["edges"].as_array().unwrap().len(), 40);
    assert!(
        inv["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["sequence"] == 2 && e["site"] == "plant-a")
    );
    let table = ok(&["assets", "--data", &data, "--site", "plant-a"]);
    assert!(
        table.contains("Assets (20)") && table.contains("Findings (20)"),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
