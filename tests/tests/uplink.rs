//! The sensor and the collector together, real binaries on loopback: a
//! replayed capture reaches the collector as `analyze` sees it; summaries
//! survive the collector being away and the sensor being killed, and each is
//! stored exactly once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faro_e2e::{analyze_json, binary, collector, scratch_dir, sensor, workspace_root};

/// Certificates, the sensor's key, its enrollment and configuration in `dir`.
struct Plant {
    dir: PathBuf,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ok(output: std::process::Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl Plant {
    fn new(name: &str) -> Self {
        Self::with_interval(name, 10)
    }

    fn with_interval(name: &str, interval: u64) -> Self {
        let dir = scratch_dir(name);
        let path = |p: &str| dir.join(p).to_str().unwrap().to_owned();
        ok(
            collector(&["certs", "--out", &path("certs"), "--sensor", "edge-01"]),
            "certs",
        );
        ok(sensor(&["keygen", "--out", &path("keys")]), "keygen");
        ok(
            collector(&[
                "enroll",
                "--data",
                &path("data"),
                "--sensor-id",
                "edge-01",
                "--public-key",
                &path("keys/sensor.pub"),
                "--site",
                "sample",
            ]),
            "enroll",
        );
        let port = free_port();
        std::fs::write(
            dir.join("faro.toml"),
            format!(
                r#"[sensor]
id = "edge-01"
site = "sample"

[uplink]
collector_url = "https://localhost:{port}"
ca = "certs/ca.pem"
client_certificate = "certs/edge-01.pem"
client_key = "certs/edge-01.key"
signing_key = "keys/sensor.key"
interval_secs = {interval}
spool_max_mib = 64
"#
            ),
        )
        .unwrap();
        Plant { dir, port }
    }

    fn path(&self, p: &str) -> String {
        self.dir.join(p).to_str().unwrap().to_owned()
    }

    fn serve(&self) -> Child {
        Command::new(binary("faro-collector"))
            .args([
                "serve",
                "--data",
                &self.path("data"),
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--cert",
                &self.path("certs/collector.pem"),
                "--key",
                &self.path("certs/collector.key"),
                "--client-ca",
                &self.path("certs/ca.pem"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn run_sensor(&self, capture: &Path, drain: &str) -> Child {
        self.run_sensor_with(capture, drain, &[])
    }

    fn run_sensor_with(&self, capture: &Path, drain: &str, extra: &[&str]) -> Child {
        Command::new(binary("faro-sensor"))
            .args([
                "run",
                "--config",
                &self.path("faro.toml"),
                "--pcap",
                capture.to_str().unwrap(),
                "--state",
                &self.path("state"),
                "--drain",
                drain,
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The sequences the collector stored for the sensor.
    fn stored(&self) -> Vec<u64> {
        let out = ok(
            collector(&[
                "summaries",
                "--data",
                &self.path("data"),
                "--sensor-id",
                "edge-01",
            ]),
            "summaries",
        );
        // One line per summary: its sequence, then its size.
        out.lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(|sequence| sequence.parse().unwrap())
            .collect()
    }
}

/// Stops a collector gracefully (SIGTERM), bounded in time.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for a sensor run to end by itself, bounded in time; its exit status and stderr.
fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            return (status.code(), stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the sensor did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spooled(stderr: &str) -> u64 {
    stderr
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("faro-sensor: ")?
                .split(" summaries spooled")
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no run summary in: {stderr}"))
}

/// The collector's inventory equals the sensor's own analysis of the capture.
fn assert_inventory_matches(plant: &Plant, capture: &Path) {
    let merged: serde_json::Value = serde_json::from_str(&ok(
        collector(&["assets", "--data", &plant.path("data"), "--format", "json"]),
        "assets",
    ))
    .unwrap();
    let analysis = analyze_json(&[capture], &[]);
    let values = |list: &serde_json::Value| -> Vec<serde_json::Value> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|item| item["value"].clone())
            .collect()
    };
    let assets = |list: Vec<serde_json::Value>| -> BTreeSet<String> {
        list.iter()
            .map(|a| {
                format!(
                    "{} {} {} {}",
                    a["ip"], a["roles"], a["protocols"], a["identity"]
                )
            })
            .collect()
    };
    assert_eq!(
        assets(values(&merged["assets"])),
        assets(analysis["assets"].as_array().unwrap().clone())
    );
    let edges = |list: Vec<serde_json::Value>| -> BTreeSet<String> {
        list.iter()
            .map(|e| {
                format!(
                    "{} {} {} {} {}",
                    e["client"], e["server"], e["server_port"], e["protocol"], e["functions"]
                )
            })
            .collect()
    };
    assert_eq!(
        edges(values(&merged["edges"])),
        edges(analysis["edges"].as_array().unwrap().clone())
    );
    let findings = |list: Vec<serde_json::Value>| -> BTreeSet<String> {
        list.iter()
            .map(|f| {
                let count = f["count"].clone();
                let count = if count.is_null() {
                    f["evidence"]["count"].clone()
                } else {
                    count
                };
                format!("{} {} {} {count}", f["rule"], f["asset"], f["edge"])
            })
            .collect()
    };
    assert_eq!(
        findings(values(&merged["findings"])),
        findings(analysis["findings"].as_array().unwrap().clone())
    );
}

fn sample() -> PathBuf {
    workspace_root().join("samples/plant-modbus.pcap")
}

#[test]
fn a_replayed_capture_reaches_the_collector_as_analyze_sees_it() {
    let plant = Plant::new("uplink-replay");
    let server = plant.serve();
    let (status, stderr) = finish(plant.run_sensor(&sample(), "20"), Duration::from_secs(60));
    stop(server);
    assert_eq!(status, Some(0), "{stderr}");
    let n = spooled(&stderr);
    assert!(n >= 5, "{stderr}");
    assert_eq!(plant.stored(), (1..=n).collect::<Vec<_>>());
    assert_inventory_matches(&plant, &sample());
}

#[test]
fn summaries_wait_for_the_collector_and_survive_a_killed_sensor() {
    let plant = Plant::new("uplink-faults");
    // The collector is away: the sensor spools and keeps retrying.
    let mut first = plant.run_sensor(&sample(), "60");
    std::thread::sleep(Duration::from_millis(1500));
    // Killed with every summary still in its spool.
    first.kill().unwrap();
    first.wait().unwrap();
    // The collector comes up; the sensor starts again on the same capture and state.
    let server = plant.serve();
    let (status, stderr) = finish(plant.run_sensor(&sample(), "60"), Duration::from_secs(90));
    stop(server);
    assert_eq!(status, Some(0), "{stderr}");
    // The first run's summaries, then the second's: each once, in order, none lost.
    let second = spooled(&stderr);
    let stored = plant.stored();
    assert!(stored.len() as u64 > second, "{stored:?} {stderr}");
    assert_eq!(stored, (1..=stored.len() as u64).collect::<Vec<_>>());
    assert_inventory_matches(&plant, &sample());
}

#[test]
fn summaries_survive_the_collector_killed_and_restarted_mid_stream() {
    // Summaries every 2 s of capture time, the 59 s plant replayed ten times
    // faster: about 30 summaries over 6 s, during which the collector dies.
    let plant = Plant::with_interval("uplink-collector-restart", 2);
    let mut server = plant.serve();
    let run = plant.run_sensor_with(&sample(), "60", &["--speed", "10"]);
    std::thread::sleep(Duration::from_millis(2000));
    server.kill().unwrap();
    server.wait().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let server = plant.serve();
    let (status, stderr) = finish(run, Duration::from_secs(90));
    stop(server);
    assert_eq!(status, Some(0), "{stderr}");
    let n = spooled(&stderr);
    assert!(n >= 20, "{stderr}");
    assert!(
        stderr.contains("collector unreachable"),
        "the collector was never away: {stderr}"
    );
    assert_eq!(plant.stored(), (1..=n).collect::<Vec<_>>());
    assert_inventory_matches(&plant, &sample());
}
