//! Helpers shared by the end-to-end tests: where the real binaries and the
//! shared captures are, running the sensor, and reading tshark's ground truth.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod plant;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// `../shared/<part>` beside the workspace (the public captures, the
/// intelligence), or a failure that says what is missing and where.
pub fn shared(part: &str) -> PathBuf {
    let dir = workspace_root().parent().unwrap().join("shared").join(part);
    assert!(
        dir.is_dir(),
        "{} is missing: these tests read the project's shared data from ../shared/{part} \
         beside the workspace (public captures in pcaps/, CISA advisories and KEV in intel/; \
         see ../shared/DESIGN.md)",
        dir.display()
    );
    dir
}

/// `../shared/pcaps` beside the workspace.
pub fn shared_pcaps() -> PathBuf {
    shared("pcaps")
}

/// A binary of this workspace, built by the same `cargo test` run, or named by
/// `FARO_<NAME>_BIN`: e.g. `FARO_SENSOR_BIN=target/cross/aarch64-unknown-linux-gnu/qemu/faro-sensor`,
/// the wrapper scripts/cross-build makes to run a cross-built binary under
/// qemu-user, so that every test spawning it runs the ARM binary.
pub fn binary(name: &str) -> PathBuf {
    let var = format!(
        "FARO_{}_BIN",
        name.trim_start_matches("faro-").to_uppercase()
    );
    if let Ok(path) = std::env::var(&var) {
        return PathBuf::from(path);
    }
    // The test executable lives in target/<profile>/deps/; binaries one level up.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not built; run the tests with `cargo test --workspace` (or set {var})",
        path.display()
    );
    path
}

/// Runs `faro-sensor` with `args`.
pub fn sensor(args: &[&str]) -> Output {
    Command::new(binary("faro-sensor"))
        .args(args)
        .output()
        .unwrap()
}

/// `faro-sensor analyze --format json FILE...`, parsed; panics with stderr on
/// failure, or when an identity attribute has no source (every report checked).
pub fn analyze_json(files: &[&Path], extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["analyze", "--format", "json", "--no-progress"];
    args.extend_from_slice(extra);
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = sensor(&args);
    assert!(
        out.status.success(),
        "faro-sensor {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for asset in report["assets"].as_array().into_iter().flatten() {
        let keys = |member: &str| -> Vec<String> {
            asset[member]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(
            keys("identity"),
            keys("identity_sources"),
            "every identity attribute names its source: {asset}"
        );
    }
    report
}

/// (client, server, server port) → function (as keyed in the report: a decimal
/// code or `ud-<group>-<subfunction>`) → request count.
pub type EdgeCounts = BTreeMap<(String, String, u16), BTreeMap<String, u64>>;

/// The request counts per edge that a report gives for `protocol`.
pub fn report_counts(report: &serde_json::Value, protocol: &str) -> EdgeCounts {
    let mut out = EdgeCounts::new();
    for edge in report["edges"].as_array().unwrap() {
        if edge["protocol"] != protocol {
            continue;
        }
        let key = (
            edge["client"].as_str().unwrap().to_owned(),
            edge["server"].as_str().unwrap().to_owned(),
            u16::try_from(edge["server_port"].as_u64().unwrap()).unwrap(),
        );
        let functions = out.entry(key).or_default();
        for (code, count) in edge["functions"].as_object().unwrap() {
            *functions.entry(code.clone()).or_default() += count.as_u64().unwrap();
        }
    }
    out
}

/// One capture's row in `truth/SUMMARY.tsv`.
#[derive(Debug, Clone)]
pub struct TruthSummary {
    /// Capture file name.
    pub file: String,
    /// Protocol (modbus, s7comm, …).
    pub protocol: String,
    /// tshark's decode-as rules, e.g. `tcp.port==503,mbtcp`.
    pub decode_as: Vec<String>,
}

/// Every row of `truth/SUMMARY.tsv`.
pub fn truth_summary() -> Vec<TruthSummary> {
    let text = std::fs::read_to_string(shared_pcaps().join("truth/SUMMARY.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file, protocol, decode_as) = (col("file"), col("protocol"), col("decode_as"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            TruthSummary {
                file: f[file].to_owned(),
                protocol: f[protocol].to_owned(),
                decode_as: f
                    .get(decode_as)
                    .unwrap_or(&"")
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }
        })
        .collect()
}

/// One frame of a truth TSV: column name → value.
pub type TruthRow = BTreeMap<String, String>;

/// The rows of `truth/<file>.tsv`.
pub fn truth_rows(file: &str) -> Vec<TruthRow> {
    let text =
        std::fs::read_to_string(shared_pcaps().join("truth").join(format!("{file}.tsv"))).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split('\t')
        .map(str::to_owned)
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_owned))
                .collect()
        })
        .collect()
}

/// A field of a truth row; empty when tshark left it blank.
pub fn truth_field<'a>(row: &'a TruthRow, name: &str) -> &'a str {
    row.get(name).map(String::as_str).unwrap_or("")
}

/// The values of a field of a truth row (several PDUs in one frame are joined with `,`).
pub fn truth_values<'a>(row: &'a TruthRow, name: &str) -> Vec<&'a str> {
    truth_field(row, name)
        .split(',')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Field `a` of a truth row, or `b` when `a` is blank (IPv4 or IPv6 addresses, TCP or UDP ports).
pub fn truth_either<'a>(row: &'a TruthRow, a: &str, b: &str) -> &'a str {
    let v = truth_field(row, a);
    if v.is_empty() { truth_field(row, b) } else { v }
}

/// Server ports tshark used for `dissector` in a capture: the default plus decode-as rules.
pub fn server_ports(summary: &TruthSummary, default: u16, dissector: &str) -> Vec<u16> {
    let mut ports = vec![default];
    for rule in &summary.decode_as {
        if let Some((lhs, proto)) = rule.split_once(',') {
            if proto == dissector {
                if let Some(port) = lhs.rsplit("==").next().and_then(|p| p.parse().ok()) {
                    ports.push(port);
                }
            }
        }
    }
    ports
}

/// Runs `faro-capgen` with `args`; panics with its stderr on failure.
pub fn capgen(args: &[&str]) {
    let out = Command::new(binary("faro-capgen"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "faro-capgen {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faro-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The request counts per edge of a capgen truth file.
pub fn truth_file_counts(path: &Path) -> EdgeCounts {
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    report_counts(&truth, "modbus")
}

/// Runs `faro-sensor` under GNU time; returns its output and peak resident set size in KiB.
pub fn sensor_with_peak_rss(args: &[&str]) -> (Output, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "GNU time is needed (apt-get install time; scripts/setup installs it)"
    );
    let mut cmd = Command::new(time);
    cmd.args(["-f", "peak_rss_kib=%M"])
        .arg(binary("faro-sensor"))
        .args(args);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in: {stderr}"));
    (out, peak)
}

/// An explained difference from tshark: (file, (client, server, server port), function) → (faro, tshark).
pub type Explained = BTreeMap<
    (
        &'static str,
        (&'static str, &'static str, u16),
        &'static str,
    ),
    (u64, u64),
>;

/// Fails with every difference listed, one per line, unless there are none.
pub fn assert_no_differences(differences: &[String]) {
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Every difference between tshark's and Faro's request counts of one capture
/// that `explained` does not account for, one line each.
pub fn count_differences(
    file: &str,
    truth: &EdgeCounts,
    faro: &EdgeCounts,
    explained: &Explained,
) -> Vec<String> {
    let mut out = Vec::new();
    let empty = BTreeMap::new();
    let edges: std::collections::BTreeSet<_> = truth.keys().chain(faro.keys()).collect();
    for edge in edges {
        let t = truth.get(edge).unwrap_or(&empty);
        let f = faro.get(edge).unwrap_or(&empty);
        let functions: std::collections::BTreeSet<&String> = t.keys().chain(f.keys()).collect();
        for function in functions {
            let counts = (
                f.get(function).copied().unwrap_or(0),
                t.get(function).copied().unwrap_or(0),
            );
            if counts.0 == counts.1 {
                continue;
            }
            let key = (
                file,
                (edge.0.as_str(), edge.1.as_str(), edge.2),
                function.as_str(),
            );
            let known = explained
                .iter()
                .any(|(k, v)| (k.0, k.1, k.2) == key && *v == counts);
            if !known {
                out.push(format!(
                    "{file}: {} -> {}:{} function {function}: faro {}, tshark {}",
                    edge.0, edge.1, edge.2, counts.0, counts.1
                ));
            }
        }
    }
    out
}

/// Runs `faro-collector` with `args`.
pub fn collector(args: &[&str]) -> Output {
    collector_command(args).output().unwrap()
}

/// `faro-collector` with `args`, to run. Beside `scripts/with-postgres`, the
/// store of the `--data` directory among them is a PostgreSQL database of
/// its own (through `FARO_DATABASE`), the same for every command on it.
pub fn collector_command<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Command {
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut cmd = Command::new(binary("faro-collector"));
    cmd.args(&args);
    let data = args
        .iter()
        .position(|a| a == "--data")
        .and_then(|i| args.get(i + 1));
    if let Some(url) = data.and_then(|d| faro_testkit::database_for(Path::new(d))) {
        cmd.env("FARO_DATABASE", url);
    }
    cmd
}
