//! A sensor and its collector set up for a test: certificates, the sensor's
//! key, its enrollment and its configuration in a scratch directory; and the
//! comparison of the collector's merged inventory with `analyze`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use crate::{analyze_json, binary, collector, scratch_dir, sensor};

/// Certificates, the sensor's key, its enrollment (sensor `edge-01`, site
/// `sample`) and its configuration `faro.toml` in `dir`.
pub struct Plant {
    /// The scratch directory.
    pub dir: PathBuf,
    /// The collector's port on loopback.
    pub port: u16,
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The stdout of a command that must succeed.
pub fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl Plant {
    /// A plant whose sensor sends a summary every `interval` seconds; `extra`
    /// is appended to its configuration (e.g. `[[interfaces]]`).
    pub fn new(name: &str, interval: u64, extra: &str) -> Self {
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
{extra}"#
            ),
        )
        .unwrap();
        Plant { dir, port }
    }

    /// A path in the plant's directory.
    pub fn path(&self, p: &str) -> String {
        self.dir.join(p).to_str().unwrap().to_owned()
    }

    /// The arguments of `faro-collector` serving this plant on loopback.
    pub fn serve_args(&self) -> Vec<String> {
        [
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
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Replays `capture` with `faro-sensor run --pcap` into the plant's
    /// collector, its log in `sensor.log`; the exit code and the log.
    pub fn replay(&self, capture: &Path) -> (Option<i32>, String) {
        let sensor = Command::new(binary("faro-sensor"))
            .args(["run", "--config", &self.path("faro.toml"), "--pcap"])
            .arg(capture)
            .args(["--state", &self.path("state"), "--drain", "60"])
            .stdout(std::process::Stdio::null())
            // A file, not a pipe: nothing reads it while the sensor runs.
            .stderr(std::fs::File::create(self.dir.join("sensor.log")).unwrap())
            .spawn()
            .unwrap();
        let (code, _) = finish(sensor, Duration::from_secs(120));
        let log = std::fs::read_to_string(self.dir.join("sensor.log")).unwrap_or_default();
        (code, log)
    }

    /// An API token for `name` with `scope`, made by `faro-collector token create`.
    pub fn token(&self, name: &str, scope: &str) -> String {
        let out = ok(
            collector(&[
                "token",
                "create",
                "--data",
                &self.path("data"),
                "--name",
                name,
                "--scope",
                scope,
            ]),
            "token create",
        );
        out.split_whitespace()
            .find(|w| w.starts_with("faro_"))
            .unwrap()
            .to_owned()
    }

    /// The sequences the collector stored for the sensor.
    pub fn stored(&self) -> Vec<u64> {
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

    /// The collector's inventory equals the sensor's own analysis of `captures`.
    pub fn assert_inventory_matches(&self, captures: &[&Path]) {
        let merged: serde_json::Value = serde_json::from_str(&ok(
            collector(&["assets", "--data", &self.path("data"), "--format", "json"]),
            "assets",
        ))
        .unwrap();
        let analysis = analyze_json(captures, &[]);
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
        // IT service edges travel as edges whose functions count connections
        // by channel (zero counts left out).
        let mut analysed = analysis["edges"].as_array().unwrap().clone();
        for service in analysis["services"].as_array().unwrap() {
            let mut edge = service.clone();
            let channels: serde_json::Map<String, serde_json::Value> = service["channels"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, count)| count.as_u64() != Some(0))
                .map(|(name, count)| (name.clone(), count.clone()))
                .collect();
            edge["functions"] = serde_json::Value::Object(channels);
            analysed.push(edge);
        }
        assert_eq!(edges(values(&merged["edges"])), edges(analysed));
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
}

/// Sends SIGTERM to a child process.
pub fn terminate(child: &Child) {
    signal(child, "TERM");
}

/// Sends `SIG<name>` to a child process.
pub fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status();
}

/// Waits for a child to exit, bounded in time (killed past `limit`); its
/// exit status and stderr.
pub fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String) {
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
            panic!("{child:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops a child gracefully (SIGTERM), bounded in time.
pub fn stop(child: Child) {
    terminate(&child);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut child = child;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
