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

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use faro_e2e::plant::{Plant, finish, stop};
use faro_e2e::{binary, workspace_root};

/// Starts the collector of `plant` on loopback.
fn serve(plant: &Plant) -> Child {
    Command::new(binary("faro-collector"))
        .args(plant.serve_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run_sensor(plant: &Plant, capture: &Path, drain: &str) -> Child {
    run_sensor_with(plant, capture, drain, &[])
}

fn run_sensor_with(plant: &Plant, capture: &Path, drain: &str, extra: &[&str]) -> Child {
    Command::new(binary("faro-sensor"))
        .args([
            "run",
            "--config",
            &plant.path("faro.toml"),
            "--pcap",
            capture.to_str().unwrap(),
            "--state",
            &plant.path("state"),
            "--drain",
            drain,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
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

fn sample() -> PathBuf {
    workspace_root().join("samples/plant-modbus.pcap")
}

#[test]
fn a_replayed_capture_reaches_the_collector_as_analyze_sees_it() {
    let plant = Plant::new("uplink-replay", 10, "");
    let server = serve(&plant);
    let (status, stderr) = finish(run_sensor(&plant, &sample(), "20"), Duration::from_secs(60));
    stop(server);
    assert_eq!(status, Some(0), "{stderr}");
    let n = spooled(&stderr);
    assert!(n >= 5, "{stderr}");
    assert_eq!(plant.stored(), (1..=n).collect::<Vec<_>>());
    plant.assert_inventory_matches(&[&sample()]);
}

#[test]
fn summaries_wait_for_the_collector_and_survive_a_killed_sensor() {
    let plant = Plant::new("uplink-faults", 10, "");
    // The collector is away: the sensor spools and keeps retrying.
    let mut first = run_sensor(&plant, &sample(), "60");
    std::thread::sleep(Duration::from_millis(1500));
    // Killed with every summary still in its spool.
    first.kill().unwrap();
    first.wait().unwrap();
    // The collector comes up; the sensor starts again on the same capture and state.
    let server = serve(&plant);
    let (status, stderr) = finish(run_sensor(&plant, &sample(), "60"), Duration::from_secs(90));
    stop(server);
    assert_eq!(status, Some(0), "{stderr}");
    // The first run's summaries, then the second's: each once, in order, none lost.
    let second = spooled(&stderr);
    let stored = plant.stored();
    assert!(stored.len() as u64 > second, "{stored:?} {stderr}");
    assert_eq!(stored, (1..=stored.len() as u64).collect::<Vec<_>>());
    plant.assert_inventory_matches(&[&sample()]);
}

#[test]
fn summaries_survive_the_collector_killed_and_restarted_mid_stream() {
    // Summaries every 2 s of capture time, the 59 s plant replayed ten times
    // faster: about 30 summaries over 6 s, during which the collector dies.
    let plant = Plant::new("uplink-collector-restart", 2, "");
    let mut server = serve(&plant);
    let run = run_sensor_with(&plant, &sample(), "60", &["--speed", "10"]);
    std::thread::sleep(Duration::from_millis(2000));
    server.kill().unwrap();
    server.wait().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let server = serve(&plant);
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
    plant.assert_inventory_matches(&[&sample()]);
}
