//! The live sensor, real binaries: each test makes a network namespace of
//! its own holding a veth pair, runs `faro-sensor run --config` (as root,
//! switching to `nobody`) on one end, `mon0`, with its collector on the
//! namespace's loopback, and replays captures into the other end, `tap0`,
//! with tcpreplay at top speed. What the sensor reports must equal `analyze`
//! of the same capture, with no frame dropped; it must never transmit on
//! `mon0`, and must keep no privilege.
//!
//! Needs root, `ip netns` and tcpreplay: without them the tests say why and
//! pass, except in CI (`CI` set), where they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use faro_e2e::plant::{Plant, finish, signal, stop, terminate};
use faro_e2e::{analyze_json, binary, capgen, scratch_dir, sensor, workspace_root};

/// The interface the sensor captures on.
const MONITORED: &str = "mon0";
/// Its peer, where tcpreplay sends.
const TAP: &str = "tap0";

/// A network namespace with the veth pairs `mon0`–`tap0` (`mon1`–`tap1`, …),
/// up, no addresses, IPv6 off (so the kernel itself sends nothing on them),
/// and the processes started in it. Dropping it kills them and deletes the namespace, which
/// takes the veth pair with it, even when the test fails.
struct Lab {
    netns: String,
    children: Vec<Child>,
}

fn run_ok(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Lab {
    /// A new lab, or `None` (having said why) where the machine cannot host
    /// one; in CI that is a failure.
    fn new(tag: &str) -> Option<Lab> {
        Lab::with_pairs(tag, 1)
    }

    fn with_pairs(tag: &str, pairs: usize) -> Option<Lab> {
        match Lab::try_new(tag, pairs) {
            Ok(lab) => Some(lab),
            Err(reason) if std::env::var_os("CI").is_some() => {
                panic!("live tests must run in CI: {reason}")
            }
            Err(reason) => {
                eprintln!("skipped: {reason}");
                None
            }
        }
    }

    fn try_new(tag: &str, pairs: usize) -> Result<Lab, String> {
        let uid = run_ok(Command::new("id").arg("-u"))?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err("not root: network namespaces and live capture need root".into());
        }
        run_ok(Command::new("tcpreplay").arg("--version"))
            .map_err(|e| format!("no tcpreplay (apt-get install tcpreplay): {e}"))?;
        let netns = format!("faro-{}-{tag}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &netns]).output();
        run_ok(Command::new("ip").args(["netns", "add", &netns]))
            .map_err(|e| format!("no network namespace support: {e}"))?;
        // From here on, Drop cleans up.
        let lab = Lab {
            netns,
            children: Vec::new(),
        };
        let ns = lab.netns.as_str();
        for setting in [
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        ] {
            run_ok(lab.command("sysctl").args(["-qw", setting]))?;
        }
        run_ok(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]))?;
        for i in 0..pairs {
            let (monitored, tap) = (format!("mon{i}"), format!("tap{i}"));
            run_ok(Command::new("ip").args([
                "-n", ns, "link", "add", &monitored, "type", "veth", "peer", "name", &tap,
            ]))
            .map_err(|e| format!("no veth support: {e}"))?;
            for link in [&monitored, &tap] {
                run_ok(Command::new("ip").args(["-n", ns, "link", "set", link, "up"]))?;
            }
        }
        Ok(lab)
    }

    /// `program` run inside the namespace.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.netns]).arg(program);
        cmd
    }

    /// Starts `cmd`; the lab kills it when dropped if it still runs.
    /// (`ip netns exec` execs the program: the child's pid is the program's.)
    fn spawn(&mut self, cmd: &mut Command) -> usize {
        self.children.push(cmd.spawn().unwrap());
        self.children.len() - 1
    }

    fn take(&mut self, id: usize) -> Child {
        // Leave a finished stand-in so the other ids stay valid.
        let stand_in = Command::new("true").spawn().unwrap();
        std::mem::replace(&mut self.children[id], stand_in)
    }

    /// `mon0`'s TX counters (packets, bytes), as the kernel keeps them.
    fn tx_counters(&self) -> (u64, u64) {
        let path = |c: &str| format!("/sys/class/net/{MONITORED}/statistics/{c}");
        let out = run_ok(
            self.command("cat")
                .args([path("tx_packets"), path("tx_bytes")]),
        )
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut values = text.lines().map(|l| l.trim().parse::<u64>().unwrap());
        (values.next().unwrap(), values.next().unwrap())
    }

    /// Replays `capture` into `tap0` at top speed; the packets sent.
    fn replay(&self, capture: &Path) -> u64 {
        tcpreplay_sent(self.replay_command(TAP, capture).output().unwrap())
    }

    /// tcpreplay sending `capture` into `tap` at top speed, bounded in time.
    fn replay_command(&self, tap: &str, capture: &Path) -> Command {
        let mut cmd = self.command("timeout");
        cmd.args(["60", "tcpreplay", "--topspeed", "-i", tap])
            .arg(capture);
        cmd
    }

    /// Starts the collector of `plant` in the namespace.
    fn serve(&mut self, plant: &Plant) -> usize {
        let mut cmd = self.command(binary("faro-collector"));
        cmd.args(plant.serve_args())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.spawn(&mut cmd)
    }

    /// Starts the live sensor of `plant` in the namespace, as root switching
    /// to `nobody`; its log goes to `sensor.log` in the plant.
    fn run_sensor(&mut self, plant: &Plant) -> usize {
        let log = std::fs::File::create(plant.dir.join("sensor.log")).unwrap();
        let mut cmd = self.command(binary("faro-sensor"));
        cmd.args([
            "run",
            "--config",
            &plant.path("faro.toml"),
            "--state",
            &plant.path("state"),
            "--user",
            "nobody",
            "--drain",
            "30",
        ])
        .stdout(Stdio::null())
        .stderr(log);
        self.spawn(&mut cmd)
    }
}

/// The packets tcpreplay sent, checking that it failed none.
fn tcpreplay_sent(out: Output) -> u64 {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tcpreplay: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |label: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{label}` in tcpreplay's output:\n{text}"))
    };
    assert_eq!(count("Failed packets:"), 0, "{text}");
    count("Successful packets:")
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
    }
}

/// A plant whose sensor captures `interfaces`, its files given to
/// `nobody`, the user the sensor switches to.
fn live_plant(name: &str, interval: u64, interfaces: &[&str]) -> Plant {
    let config: String = interfaces
        .iter()
        .map(|i| format!("\n[[interfaces]]\nname = \"{i}\"\n"))
        .collect();
    let plant = Plant::new(name, interval, &config);
    // The scratch directory's parents must let nobody through (/tmp does).
    let out = Command::new("chown")
        .args(["-R", "nobody:"])
        .arg(&plant.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    plant
}

/// The sensor's status file, once readable.
fn read_status(plant: &Plant) -> Option<serde_json::Value> {
    let bytes = std::fs::read(plant.dir.join("state/status.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Waits (bounded) for the sensor's status to satisfy `done`.
fn wait_status(
    plant: &Plant,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = read_status(plant) {
            if done(&status) {
                return status;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the sensor's status never showed {what}: {:?}\n{}",
            read_status(plant),
            std::fs::read_to_string(plant.dir.join("sensor.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn running(status: &serde_json::Value) -> bool {
    status["state"] == "running"
}

fn packets(status: &serde_json::Value) -> u64 {
    status["packets"].as_u64().unwrap()
}

/// Stops the sensor with SIGTERM; it must exit 0 within the time limit.
fn stop_sensor(lab: &mut Lab, id: usize, plant: &Plant) {
    let child = lab.take(id);
    terminate(&child);
    let (code, _) = finish(child, Duration::from_secs(60));
    let log = std::fs::read_to_string(plant.dir.join("sensor.log")).unwrap_or_default();
    assert_eq!(code, Some(0), "{log}");
}

/// The shipped sample and the captures faro-capgen makes of the other protocols.
fn captures(tag: &str) -> Vec<PathBuf> {
    let dir = scratch_dir(&format!("live-captures-{tag}"));
    let mut out = vec![workspace_root().join("samples/plant-modbus.pcap")];
    for kind in ["s7", "dnp3", "opcua"] {
        let path = dir.join(format!("{kind}.pcap"));
        capgen(&[kind, "-o", path.to_str().unwrap()]);
        out.push(path);
    }
    out
}

#[test]
fn live_capture_at_top_speed_reaches_the_collector_as_analyze_sees_it() {
    let Some(mut lab) = Lab::new("inventory") else {
        return;
    };
    for capture in captures("inventory") {
        let name = capture.file_stem().unwrap().to_string_lossy().into_owned();
        let expected = analyze_json(&[&capture], &[])["inputs"][0]["packets"]
            .as_u64()
            .unwrap();
        let plant = live_plant(&format!("live-{name}"), 2, &[MONITORED]);
        let collector = lab.serve(&plant);
        let sensor = lab.run_sensor(&plant);
        wait_status(&plant, "running", running);
        let sent = lab.replay(&capture);
        assert_eq!(sent, expected, "{name}");
        wait_status(&plant, &format!("{expected} packets"), |s| {
            packets(s) >= expected
        });
        stop_sensor(&mut lab, sensor, &plant);
        let status = read_status(&plant).unwrap();
        assert_eq!(status["state"], "stopped", "{status}");
        assert_eq!(packets(&status), expected, "{name}: {status}");
        let interface = &status["interfaces"][0];
        assert_eq!(interface["interface"], MONITORED, "{status}");
        assert_eq!(interface["received"], expected, "{name}: {status}");
        assert_eq!(interface["dropped"], 0, "{name}: kernel drops: {status}");
        assert_eq!(
            interface["if_dropped"], 0,
            "{name}: interface drops: {status}"
        );
        assert_eq!(status["spool"]["summaries"], 0, "{name}: {status}");
        stop(lab.take(collector));
        let stored = plant.stored();
        assert!(!stored.is_empty(), "{name}");
        assert_eq!(stored, (1..=stored.len() as u64).collect::<Vec<_>>());
        plant.assert_inventory_matches(&[&capture]);
    }
}

#[test]
fn two_interfaces_feed_one_inventory() {
    let Some(mut lab) = Lab::with_pairs("two", 2) else {
        return;
    };
    let captures = captures("two");
    let (modbus, s7) = (&captures[0], &captures[1]);
    let plant = live_plant("live-two", 3600, &["mon0", "mon1"]);
    let collector = lab.serve(&plant);
    let sensor = lab.run_sensor(&plant);
    wait_status(&plant, "running", running);
    // Both at once, one into each monitored interface.
    let first = lab
        .replay_command("tap0", modbus)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let second = lab
        .replay_command("tap1", s7)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let sent = [
        tcpreplay_sent(first.wait_with_output().unwrap()),
        tcpreplay_sent(second.wait_with_output().unwrap()),
    ];
    let total = sent[0] + sent[1];
    wait_status(&plant, &format!("{total} packets"), |s| packets(s) >= total);
    stop_sensor(&mut lab, sensor, &plant);
    let status = read_status(&plant).unwrap();
    assert_eq!(packets(&status), total, "{status}");
    for (i, sent) in sent.iter().enumerate() {
        let interface = &status["interfaces"][i];
        assert_eq!(interface["interface"], format!("mon{i}"), "{status}");
        assert_eq!(interface["received"], *sent, "{status}");
        assert_eq!(interface["dropped"], 0, "{status}");
        assert_eq!(interface["if_dropped"], 0, "{status}");
    }
    stop(lab.take(collector));
    plant.assert_inventory_matches(&[modbus, s7]);
}

#[test]
fn kernel_drops_are_counted_not_hidden() {
    let Some(mut lab) = Lab::new("drops") else {
        return;
    };
    // A 1 MiB ring and a sensor stopped (SIGSTOP) while 50,000 frames arrive.
    let plant = live_plant("live-drops", 3600, &[]);
    let config = plant.dir.join("faro.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[interfaces]]\nname = \"{MONITORED}\"\nbuffer_mib = 1\n"),
    )
    .unwrap();
    let capture = plant.dir.join("polling.pcap");
    capgen(&[
        "polling",
        "--packets",
        "50000",
        "-o",
        capture.to_str().unwrap(),
    ]);
    let collector = lab.serve(&plant);
    let running_sensor = lab.run_sensor(&plant);
    wait_status(&plant, "running", running);
    signal(&lab.children[running_sensor], "STOP");
    let sent = lab.replay(&capture);
    signal(&lab.children[running_sensor], "CONT");
    wait_status(&plant, "the drops", |s| {
        s["interfaces"][0]["dropped"].as_u64().unwrap() > 0
            && packets(s) + s["interfaces"][0]["dropped"].as_u64().unwrap() >= sent
    });
    stop_sensor(&mut lab, running_sensor, &plant);
    stop(lab.take(collector));
    let status = read_status(&plant).unwrap();
    let interface = &status["interfaces"][0];
    let dropped = interface["dropped"].as_u64().unwrap();
    assert_eq!(interface["received"], sent, "{status}");
    assert_eq!(packets(&status) + dropped, sent, "{status}");
    let log = std::fs::read_to_string(plant.dir.join("sensor.log")).unwrap();
    assert!(
        log.contains("frames lost before the sensor saw them"),
        "{log}"
    );
}

#[test]
fn the_sensor_never_transmits_keeps_no_privilege_and_reloads_on_sighup() {
    let Some(mut lab) = Lab::new("tx") else {
        return;
    };
    let plant = live_plant("live-tx", 3600, &[MONITORED]);
    let collector = lab.serve(&plant);
    let before = lab.tx_counters();
    let running_sensor = lab.run_sensor(&plant);
    wait_status(&plant, "running", running);
    let pid = lab.children[running_sensor].id();

    // No capability in any set, no way back to root, running as nobody.
    let proc_status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> String {
        proc_status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(field("Uid:"), "65534 65534 65534 65534", "{proc_status}");
    for set in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
        assert_eq!(field(set), "0000000000000000", "{set} {proc_status}");
    }
    assert_eq!(field("NoNewPrivs:"), "1", "{proc_status}");

    let sample = workspace_root().join("samples/plant-modbus.pcap");
    let sent = lab.replay(&sample);
    wait_status(&plant, "the replayed packets", |s| packets(s) >= sent);
    assert_eq!(
        lab.tx_counters(),
        before,
        "the sensor transmitted on {MONITORED}"
    );

    // SIGHUP: a configuration with a problem is refused and the old one kept…
    let config = plant.dir.join("faro.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{good}\nno_such_setting = 1\n")).unwrap();
    signal(&lab.children[running_sensor], "HUP");
    let status = wait_status(&plant, "the refused reload", |s| {
        s["reloads"]["refused"] == 1
    });
    assert!(
        status["reloads"]["last_error"]
            .as_str()
            .unwrap()
            .contains("no_such_setting"),
        "{status}"
    );
    // …a valid one is applied.
    std::fs::write(
        &config,
        format!(
            "{good}\n[[zones]]\nname = \"plant\"\ncidrs = [\"10.0.0.0/8\"]\npurdue_level = 1\n"
        ),
    )
    .unwrap();
    signal(&lab.children[running_sensor], "HUP");
    wait_status(&plant, "the applied reload", |s| {
        s["reloads"]["applied"] == 1
    });
    assert!(running(&read_status(&plant).unwrap()));

    stop_sensor(&mut lab, running_sensor, &plant);
    assert_eq!(
        lab.tx_counters(),
        before,
        "the sensor transmitted on {MONITORED}"
    );
    stop(lab.take(collector));

    // `status` says clearly that the sensor stopped.
    let out = sensor(&["status", "--state", &plant.path("state")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.starts_with("no sensor is running"), "{text}");
    assert!(text.contains("stopped cleanly"), "{text}");
    assert!(
        text.contains(&format!("{sent} received, 0 dropped")),
        "{text}"
    );
}

#[test]
fn unsafe_set_ups_are_refused_before_capturing() {
    let plant = Plant::new(
        "live-refusals",
        60,
        "\n[[interfaces]]\nname = \"faro-none0\"\n",
    );
    let config = plant.path("faro.toml");
    let state = plant.dir.join("state");
    let root = String::from_utf8_lossy(&Command::new("id").arg("-u").output().unwrap().stdout)
        .trim()
        == "0";
    let user: &[&str] = if root { &["--user", "nobody"] } else { &[] };
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--config",
            &config,
            "--state",
            state.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = sensor(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // A state directory others can write.
    std::fs::create_dir_all(&state).unwrap();
    let chmod = |mode: &str, path: &Path| {
        assert!(
            Command::new("chmod")
                .arg(mode)
                .arg(path)
                .status()
                .unwrap()
                .success()
        );
    };
    chmod("777", &state);
    let (code, stderr) = run(user);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("refusing to run: state directory") && stderr.contains("chmod 700"),
        "{stderr}"
    );
    chmod("700", &state);

    // A private key others can read: the configuration's own check.
    chmod("644", &plant.dir.join("keys/sensor.key"));
    let (code, stderr) = run(user);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("a private key must not be readable by group or others"),
        "{stderr}"
    );
    chmod("600", &plant.dir.join("keys/sensor.key"));

    // A user that does not exist, or that the sensor cannot become.
    let (code, stderr) = run(&["--user", "faro-no-such-user"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("refusing to run:"), "{stderr}");
    if root {
        let (code, stderr) = run(&["--user", "root"]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("does not capture as root"), "{stderr}");
    }

    // Past the checks, a missing interface is named (the state directory,
    // made anew, is given to nobody).
    if root {
        std::fs::remove_dir_all(&state).unwrap();
        let (code, stderr) = run(user);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("interface faro-none0: "), "{stderr}");
    }

    // Live capture without interfaces.
    let bare = Plant::new("live-no-interfaces", 60, "");
    let out = sensor(&[
        "run",
        "--config",
        &bare.path("faro.toml"),
        "--state",
        &bare.path("state"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has no [[interfaces]]"), "{stderr}");

    // No sensor ever ran here.
    let out = sensor(&["status", "--state", state.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("no sensor is running"),
        "{out:?}"
    );
}
