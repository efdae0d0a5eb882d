//! The running sensor's status: what `faro-sensor status` shows.
//!
//! Every [`INTERVAL`] the running sensor replaces `status.json` in its state
//! directory (written to a temporary file, then renamed over it, so a reader
//! never sees half of one) with its counters: packets, capture drops, what
//! its tables shed, the spool's depth, deliveries, reloads, uptime and pid.
//! When it stops it writes it a last time with the state `stopped`.
//! `status` reads the file and says whether that sensor still runs: its pid
//! alive and a `faro-sensor`, and the file fresh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::SensorError;
use crate::report::format_time;
use crate::stats::InterfaceCounters;

/// How often the running sensor rewrites its status.
pub const INTERVAL: Duration = Duration::from_secs(2);

/// A status older than this, from a process that still exists, is stale:
/// the sensor is stuck.
pub const STALE: Duration = Duration::from_secs(15);

/// The file name in the state directory.
pub const FILE: &str = "status.json";

/// The layout identifier.
pub const SCHEMA: &str = "faro-status/1";

/// Whether the sensor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Capturing.
    Running,
    /// Stopping: the last summary spooled, delivering what it can.
    Stopping,
    /// Stopped cleanly.
    Stopped,
}

/// The spool's depth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolStatus {
    /// Summaries waiting for the collector.
    pub summaries: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Summaries shed because the spool was full, since the spool was made.
    pub shed: u64,
}

/// Configuration reloads (SIGHUP).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadStatus {
    /// Reloads applied.
    pub applied: u64,
    /// Reloads refused because the new configuration had problems.
    pub refused: u64,
    /// When the last reload was asked for, RFC 3339.
    pub last: Option<String>,
    /// Why the last reload was refused (`None` when it was applied).
    pub last_error: Option<String>,
}

/// What the running sensor says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Running, stopping or stopped.
    pub state: RunState,
    /// The sensor's process id.
    pub pid: u32,
    /// The user it runs as.
    pub user: String,
    /// What it reads: `live` and the interfaces, or `replay` and the file.
    pub source: String,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// When this status was written, RFC 3339.
    pub updated_at: String,
    /// Seconds since it started.
    pub uptime_secs: u64,
    /// Frames processed.
    pub packets: u64,
    /// Wire bytes of those frames.
    pub bytes: u64,
    /// libpcap's counters per live interface.
    pub interfaces: Vec<InterfaceCounters>,
    /// What the sensor's bounded tables and buffers shed, by table.
    pub shed: BTreeMap<String, u64>,
    /// The spool of summaries.
    pub spool: SpoolStatus,
    /// Summaries the collector acknowledged since the start.
    pub delivered: u64,
    /// Summaries the collector refused for good since the start.
    pub refused: u64,
    /// When the collector last acknowledged a summary, RFC 3339 (to within
    /// a fraction of a second).
    pub last_delivery: Option<String>,
    /// Configuration reloads.
    pub reloads: ReloadStatus,
}

/// Now, as nanoseconds since the Unix epoch.
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// RFC 3339 of now.
pub fn now_rfc3339() -> String {
    format_time(now_nanos())
}

/// Where the status lives in `state_dir`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// Replaces the status file in `state_dir` with `status`, atomically.
pub fn write(state_dir: &Path, status: &Status) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(status).map_err(std::io::Error::other)?;
    let tmp = state_dir.join(format!(".{FILE}.tmp"));
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path(state_dir))
}

/// What `status` found in a state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No status file: no sensor ever ran with this state directory.
    Nothing,
    /// A sensor that runs.
    Running(Status),
    /// A sensor process that exists but has not written its status for
    /// longer than [`STALE`].
    Stale(Status),
    /// The last sensor stopped cleanly.
    Stopped(Status),
    /// The last sensor ended without saying so (killed, crashed).
    Died(Status),
}

impl Found {
    /// True when a sensor runs (even a stale one).
    pub fn running(&self) -> bool {
        matches!(self, Found::Running(_) | Found::Stale(_))
    }
}

/// Reads the status in `state_dir` and finds out whether its sensor runs.
pub fn read(state_dir: &Path) -> Result<Found, SensorError> {
    let file = path(state_dir);
    let error = |reason: String| SensorError::Status {
        path: file.clone(),
        reason,
    };
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if state_dir.is_dir() || !state_dir.exists() {
                return Ok(Found::Nothing);
            }
            return Err(error(e.to_string()));
        }
        Err(e) => return Err(error(e.to_string())),
    };
    let status: Status = serde_json::from_slice(&bytes).map_err(|e| error(e.to_string()))?;
    if status.schema != SCHEMA {
        return Err(error(format!("unknown layout `{}`", status.schema)));
    }
    if status.state == RunState::Stopped {
        return Ok(Found::Stopped(status));
    }
    if !is_sensor_process(status.pid) {
        return Ok(Found::Died(status));
    }
    let age = age(&status.updated_at);
    if age.is_some_and(|age| age > STALE) {
        return Ok(Found::Stale(status));
    }
    Ok(Found::Running(status))
}

/// True when `pid` is a live process running `faro-sensor`.
fn is_sensor_process(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    let alive = match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    };
    // A reused pid is another program.
    alive
        && std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|comm| comm.trim() == "faro-sensor")
            .unwrap_or(true)
}

/// How long ago an RFC 3339 time was.
fn age(time: &str) -> Option<Duration> {
    let then = humantime::parse_rfc3339(time).ok()?;
    SystemTime::now().duration_since(then).ok()
}

fn ago(time: &str) -> String {
    match age(time) {
        Some(age) => format!(
            "{time} ({} ago)",
            humantime::format_duration(Duration::from_secs(age.as_secs()))
        ),
        None => time.to_owned(),
    }
}

/// What `status` prints for people.
pub fn render(found: &Found, state_dir: &Path) -> String {
    let status = match found {
        Found::Nothing => {
            return format!(
                "no sensor is running: {} has no status (no sensor ran with this state directory)\n",
                state_dir.display()
            );
        }
        Found::Running(status) | Found::Stale(status) => status,
        Found::Stopped(status) | Found::Died(status) => status,
    };
    let mut out = match found {
        Found::Running(s) => format!(
            "faro-sensor is running: pid {}, user {}, up {}\n",
            s.pid,
            s.user,
            humantime::format_duration(Duration::from_secs(
                age(&s.started_at).map_or(s.uptime_secs, |up| up.as_secs())
            ))
        ),
        Found::Stale(s) => format!(
            "faro-sensor pid {} exists but has not written its status since {}: it may be stuck\n",
            s.pid,
            ago(&s.updated_at)
        ),
        Found::Stopped(s) => format!(
            "no sensor is running: the last one (pid {}) stopped cleanly at {}\n",
            s.pid,
            ago(&s.updated_at)
        ),
        Found::Died(s) => format!(
            "no sensor is running: the last one (pid {}) ended without stopping cleanly; its last status is from {}\n",
            s.pid,
            ago(&s.updated_at)
        ),
        Found::Nothing => String::new(),
    };
    let dropped: u64 = status.interfaces.iter().map(|i| i.dropped).sum();
    let if_dropped: u64 = status.interfaces.iter().map(|i| i.if_dropped).sum();
    let shed_total: u64 = status.shed.values().sum();
    let shed_detail: Vec<String> = status
        .shed
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    let mut line = |label: &str, value: String| {
        out.push_str(&format!("  {label:<15}{value}\n"));
    };
    line("source", status.source.clone());
    line("started", status.started_at.clone());
    line("status written", ago(&status.updated_at));
    line(
        "packets",
        format!("{} ({} bytes)", status.packets, status.bytes),
    );
    line(
        "drops",
        format!("{dropped} by the kernel (ring buffer full), {if_dropped} by the interfaces"),
    );
    for i in &status.interfaces {
        line(
            &format!("  {}", i.interface),
            format!(
                "{} received, {} dropped, {} dropped by the interface",
                i.received, i.dropped, i.if_dropped
            ),
        );
    }
    line(
        "shed",
        if shed_detail.is_empty() {
            format!("{shed_total}")
        } else {
            format!("{shed_total} ({})", shed_detail.join(", "))
        },
    );
    line(
        "spool",
        format!(
            "{} summaries waiting ({} bytes), {} shed",
            status.spool.summaries, status.spool.bytes, status.spool.shed
        ),
    );
    line(
        "delivered",
        format!(
            "{} summaries ({} refused)",
            status.delivered, status.refused
        ),
    );
    line(
        "last delivery",
        status
            .last_delivery
            .as_deref()
            .map_or_else(|| "none yet".to_owned(), ago),
    );
    let reloads = &status.reloads;
    line(
        "reloads",
        match (&reloads.last, &reloads.last_error) {
            (None, _) => "none".to_owned(),
            (Some(last), None) => format!(
                "{} applied, {} refused; the last, at {last}, applied",
                reloads.applied, reloads.refused
            ),
            (Some(last), Some(error)) => format!(
                "{} applied, {} refused; the last, at {last}, refused: {error}",
                reloads.applied, reloads.refused
            ),
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(state: RunState, pid: u32) -> Status {
        Status {
            schema: SCHEMA.into(),
            state,
            pid,
            user: "faro".into(),
            source: "live: eth1".into(),
            started_at: now_rfc3339(),
            updated_at: now_rfc3339(),
            uptime_secs: 3723,
            packets: 10,
            bytes: 1000,
            interfaces: vec![InterfaceCounters {
                interface: "eth1".into(),
                received: 10,
                dropped: 2,
                if_dropped: 1,
            }],
            shed: [("flows".to_owned(), 3), ("assets".to_owned(), 0)].into(),
            spool: SpoolStatus {
                summaries: 2,
                bytes: 300,
                shed: 0,
            },
            delivered: 5,
            refused: 0,
            last_delivery: None,
            reloads: ReloadStatus::default(),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("faro-status-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn no_file_means_no_sensor() {
        let dir = scratch("nothing");
        let found = read(&dir).unwrap();
        assert_eq!(found, Found::Nothing);
        assert!(render(&found, &dir).starts_with("no sensor is running"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_written_status_of_this_process_reads_back() {
        let dir = scratch("round-trip");
        // The test binary is not named faro-sensor: its pid reads as another program.
        let status = sample(RunState::Running, std::process::id());
        write(&dir, &status).unwrap();
        assert_eq!(read(&dir).unwrap(), Found::Died(status.clone()));
        let stopped = Status {
            state: RunState::Stopped,
            ..status
        };
        write(&dir, &stopped).unwrap();
        let found = read(&dir).unwrap();
        assert_eq!(found, Found::Stopped(stopped));
        let text = render(&found, &dir);
        assert!(text.contains("stopped cleanly"), "{text}");
        assert!(text.contains("2 by the kernel"), "{text}");
        assert!(text.contains("3 (flows 3)"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dead_pid_is_reported() {
        let dir = scratch("dead");
        // pid_max is at most 2^22: this pid never exists.
        write(&dir, &sample(RunState::Running, 0x7fff_fff0)).unwrap();
        let found = read(&dir).unwrap();
        assert!(matches!(found, Found::Died(_)));
        assert!(!found.running());
        assert!(render(&found, &dir).contains("ended without stopping cleanly"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
