//! The sensor and the collector together, real binaries on loopback: a
//! replayed capture reaches the collector as `analyze` sees it; summaries
//! survive the collector being away and the sensor being killed, and each is
//! stored exactly once; a full spool merges what it has not sent yet and the
//! collector still gets sequences 1..N and the whole inventory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faro_e2e::plant::{Plant, stop};
use faro_e2e::{binary, collector_command, workspace_root};
use faro_protocols::uplink::{Summary, verify, verifying_key_from_pem};

/// The collector of `plant`, serving on loopback.
fn serve(plant: &Plant) -> Child {
    collector_command(plant.serve_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The sensor of `plant` replaying `capture`, delivering for `drain` seconds after it.
fn run_sensor(plant: &Plant, capture: &Path, drain: &str, extra: &[&str]) -> Child {
    Command::new(binary("faro-sensor"))
        .args(["run", "--config", &plant.path("faro.toml"), "--pcap"])
        .arg(capture)
        .args(["--state", &plant.path("state"), "--drain", drain])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a sensor run to end by itself, bounded in time; its exit
/// status and stderr (read as it comes: a full pipe would stall the sensor).
fn finish(child: Child, limit: Duration) -> (Option<i32>, String) {
    Following::new(child).finish(limit)
}

fn spooled(stderr: &str) -> u64 {
    run_counts(stderr)["spooled"]
}

fn sample() -> PathBuf {
    workspace_root().join("samples/plant-modbus.pcap")
}

#[test]
fn a_replayed_capture_reaches_the_collector_as_analyze_sees_it() {
    let plant = Plant::new("uplink-replay", 10, "");
    let server = serve(&plant);
    let (status, stderr) = finish(
        run_sensor(&plant, &sample(), "20", &[]),
        Duration::from_secs(60),
    );
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
    let mut first = run_sensor(&plant, &sample(), "60", &[]);
    std::thread::sleep(Duration::from_millis(1500));
    // Killed with every summary still in its spool.
    first.kill().unwrap();
    first.wait().unwrap();
    // The collector comes up; the sensor starts again on the same capture and state.
    let server = serve(&plant);
    let (status, stderr) = finish(
        run_sensor(&plant, &sample(), "60", &[]),
        Duration::from_secs(90),
    );
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
    let run = run_sensor(&plant, &sample(), "60", &["--speed", "10"]);
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

/// A running sensor whose stderr is read as it comes.
struct Following {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Following {
    fn new(mut child: Child) -> Self {
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let reader = {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut text = stderr.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            })
        };
        Following {
            child,
            stderr,
            reader,
        }
    }

    /// Waits until the sensor wrote `needle`; panics after `limit` or if it ended first.
    fn wait_for(&mut self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.stderr.lock().unwrap().contains(needle) {
            let ended = self.child.try_wait().unwrap().is_some();
            if ended || Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "no {needle:?} from the sensor in {limit:?}:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the sensor to end by itself; its exit status and stderr.
    fn finish(mut self, limit: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the sensor did not finish within {limit:?}:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        self.reader.join().unwrap();
        let stderr = self.stderr.lock().unwrap().clone();
        (status.code(), stderr)
    }
}

/// The run's closing line, `N summaries spooled, N delivered, …`, as word → N.
fn run_counts(stderr: &str) -> BTreeMap<String, u64> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains(" summaries spooled, "))
        .unwrap_or_else(|| panic!("no run summary in: {stderr}"));
    line.trim_start_matches("faro-sensor: ")
        .split(", ")
        .map(|part| {
            let mut words = part.split(' ');
            let count = words.next().unwrap().parse().unwrap();
            let word = words.next().unwrap();
            // "summaries spooled" → spooled; "left in the spool" → left.
            let word = if word == "summaries" {
                words.next().unwrap()
            } else {
                word
            };
            (word.to_owned(), count)
        })
        .collect()
}

/// The summaries the collector stored, opened with the sensor's key.
fn stored_summaries(plant: &Plant) -> Vec<(u64, Summary)> {
    let pem = std::fs::read_to_string(plant.path("keys/sensor.pub")).unwrap();
    let key = verifying_key_from_pem(&pem).unwrap();
    let data = plant.path("data");
    let data = Path::new(&data);
    let location =
        faro_collector::store::Location::resolve(data, faro_testkit::database_for(data).as_deref())
            .unwrap();
    let store = faro_collector::store::Store::open_at(&location).unwrap();
    store
        .summaries("edge-01")
        .unwrap()
        .into_iter()
        .map(|(sequence, jws)| {
            let payload = verify(std::str::from_utf8(&jws).unwrap(), &key).unwrap();
            (sequence, serde_json::from_slice(&payload).unwrap())
        })
        .collect()
}

#[test]
fn a_full_spool_merges_while_the_collector_is_away_and_the_collector_gets_1_to_n() {
    // A summary every second of capture time: 59 from the 59 s plant,
    // replayed as fast as possible while the collector is away. They are
    // about 5 KiB each and the plant's whole inventory about 8 KiB, so 24 KiB
    // holds the summary in flight and a merged backlog, not 59: the spool
    // must merge, and never needs to shed.
    let plant = Plant::new("uplink-full-spool", 1, "");
    let mut run = Following::new(run_sensor(
        &plant,
        &sample(),
        "60",
        &["--spool-max-bytes", "24576"],
    ));
    run.wait_for("spool full: merged", Duration::from_secs(60));
    let server = serve(&plant);
    let (status, stderr) = run.finish(Duration::from_secs(90));
    stop(server);
    assert_eq!(status, Some(0), "{stderr}");
    let counts = run_counts(&stderr);
    println!("{counts:?}");
    let (spooled, delivered, merged) = (counts["spooled"], counts["delivered"], counts["merged"]);
    assert!(spooled >= 50, "{stderr}");
    assert!(merged >= 10, "{stderr}");
    assert_eq!(
        (counts["refused"], counts["shed"], counts["left"]),
        (0, 0, 0),
        "{stderr}"
    );
    // Each merge made two summaries one.
    assert_eq!(delivered, spooled - merged, "{stderr}");
    // No sequence skipped, none refused or sent twice under other bytes.
    assert!(!stderr.contains("not taken yet"), "{stderr}");
    assert_eq!(plant.stored(), (1..=delivered).collect::<Vec<_>>());
    // Merging lost nothing of the inventory.
    plant.assert_inventory_matches(&[&sample()]);
    // Each summary carries its own sequence and the spool's counters as they
    // stood when it was signed; the last signed saw every merge.
    let summaries = stored_summaries(&plant);
    for (sequence, summary) in &summaries {
        assert_eq!(summary.sequence, *sequence);
        assert!(
            summary.counters["spool"].is_object(),
            "{:?}",
            summary.counters
        );
    }
    let (_, last) = summaries.last().unwrap();
    assert_eq!(
        (
            &last.counters["spool"]["merged"],
            &last.counters["spool"]["shed"],
            &last.counters["spool"]["pending"]
        ),
        (
            &serde_json::json!(merged),
            &serde_json::json!(0),
            &serde_json::json!(0)
        )
    );
    // The windows cover the capture back to back.
    for pair in summaries.windows(2) {
        assert_eq!(pair[0].1.window_end, pair[1].1.window_start);
    }
}

/// A capture with no frames: a pcap header only (little-endian, v2.4, Ethernet).
fn empty_capture(dir: &Path) -> PathBuf {
    let mut header = Vec::new();
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&[0; 8]); // thiszone, sigfigs
    header.extend_from_slice(&65_535u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    let path = dir.join("empty.pcap");
    std::fs::write(&path, header).unwrap();
    path
}

#[test]
fn a_full_spool_killed_before_the_collector_came_back_delivers_everything_on_restart() {
    let plant = Plant::new("uplink-full-spool-killed", 1, "");
    // The collector is away: the whole capture is summarised into a 24 KiB
    // spool, which merges, and the oldest summary is signed as sequence 1.
    let mut first = Following::new(run_sensor(
        &plant,
        &sample(),
        "60",
        &["--spool-max-bytes", "24576"],
    ));
    // The sample's last frame is at 08:00:59: its summary is the last.
    first.wait_for("summary of 2026-01-05T08:00:59", Duration::from_secs(60));
    first.wait_for("summary 1 signed", Duration::from_secs(10));
    first.child.kill().unwrap();
    let (_, stderr) = first.finish(Duration::from_secs(10));
    assert!(stderr.contains("spool full: merged"), "{stderr}");
    // Back with the collector, on a capture with nothing new: only the spool
    // is delivered, sequence 1 as signed before the kill.
    let server = serve(&plant);
    let nothing = empty_capture(&plant.dir);
    let (status, stderr) = Following::new(run_sensor(
        &plant,
        &nothing,
        "60",
        &["--spool-max-bytes", "24576"],
    ))
    .finish(Duration::from_secs(90));
    stop(server);
    assert_eq!(status, Some(0), "{stderr}");
    let counts = run_counts(&stderr);
    assert_eq!(
        (counts["spooled"], counts["refused"], counts["left"]),
        (0, 0, 0),
        "{stderr}"
    );
    assert!(!stderr.contains("summary 1 signed"), "{stderr}");
    let delivered = counts["delivered"];
    assert!(delivered >= 2, "{stderr}");
    assert_eq!(plant.stored(), (1..=delivered).collect::<Vec<_>>());
    plant.assert_inventory_matches(&[&sample()]);
}
