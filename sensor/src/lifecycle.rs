//! The running sensor's life beside its packets: signals (stop, reload),
//! configuration reloads, and the status it publishes for
//! `faro-sensor status`.
//!
//! # What a reload (SIGHUP) changes
//! The file the sensor was started with is read and validated again. A file
//! with problems is refused: every problem is logged and the running
//! configuration is kept. A valid one takes effect at once for
//! - zones, known assets, policy and silenced rules (`[[zones]]`,
//!   `[[assets]]`, `[[policy]]`, `[[silence]]`): the next summary's
//!   findings and inventory use them;
//! - `[findings] learning_period_secs`;
//! - `[uplink] interval_secs`: from the next summary on.
//!
//! Everything else needs a restart and is kept as it was, with a warning
//! naming it: `[sensor]` (id, site), `[[interfaces]]` (the captures are
//! opened before the privileges are given up, so they cannot be reopened),
//! the rest of `[uplink]` (collector, certificates, keys, spool size),
//! `[limits]` and `[findings] max_findings` (the tables are sized at start).

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use faro_firmware_config::Config;

use crate::Pipeline;
use crate::findings::rules;
use crate::signals::{Signal, Signals};
use crate::spool::Spool;
use crate::stats::InterfaceCounters;
use crate::status::{self, ReloadStatus, RunState, SpoolStatus, Status};

/// The parts of a running sensor that outlive single packets.
pub struct Lifecycle<'a> {
    signals: Signals,
    config: Config,
    state_dir: PathBuf,
    user: String,
    source: String,
    started: Instant,
    started_at: String,
    next_status: Instant,
    reloads: ReloadStatus,
    spool: &'a Mutex<Spool>,
    delivered: &'a AtomicU64,
    rejected: &'a AtomicU64,
    delivered_seen: u64,
    last_delivery: Option<String>,
    status_error_logged: bool,
}

/// Where the running sensor's deliveries are counted.
pub struct Deliveries<'a> {
    /// The spool of summaries.
    pub spool: &'a Mutex<Spool>,
    /// Summaries the collector acknowledged.
    pub delivered: &'a AtomicU64,
    /// Summaries the collector refused for good.
    pub rejected: &'a AtomicU64,
}

impl<'a> Lifecycle<'a> {
    /// The lifecycle of a sensor started with `config`, reading `source`
    /// (`live: eth1` or `replay: FILE`) as `user`.
    pub fn new(
        signals: Signals,
        config: Config,
        state_dir: PathBuf,
        user: String,
        source: String,
        deliveries: Deliveries<'a>,
    ) -> Self {
        Lifecycle {
            signals,
            config,
            state_dir,
            user,
            source,
            started: Instant::now(),
            started_at: status::now_rfc3339(),
            next_status: Instant::now(),
            reloads: ReloadStatus::default(),
            spool: deliveries.spool,
            delivered: deliveries.delivered,
            rejected: deliveries.rejected,
            delivered_seen: 0,
            last_delivery: None,
            status_error_logged: false,
        }
    }

    /// The configuration in force (after reloads).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The signals' descriptor, to wait on beside the captures.
    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    /// The interval between summaries in force, in nanoseconds.
    pub fn interval_nanos(&self) -> u64 {
        self.config
            .uplink
            .as_ref()
            .map_or(60, |u| u.interval_secs)
            .saturating_mul(1_000_000_000)
    }

    /// Handles the signals received since the last call: reloads the
    /// configuration on SIGHUP; returns the name of a stop signal.
    pub fn stop_requested(&mut self) -> Option<&'static str> {
        while let Some(signal) = self.signals.next() {
            match signal {
                Signal::Stop(name) => return Some(name),
                Signal::Reload => self.reload(),
            }
        }
        None
    }

    /// Reads the configuration file again and applies what can change live.
    fn reload(&mut self) {
        self.reloads.last = Some(status::now_rfc3339());
        let Some(path) = self.config.path.clone() else {
            return;
        };
        tracing::info!(config = %path.display(), "SIGHUP: reloading the configuration");
        match faro_firmware_config::load(&path, &rules::ids()) {
            Err(errors) => {
                for problem in &errors.problems {
                    tracing::error!(%problem, "configuration refused");
                }
                tracing::error!(
                    problems = errors.problems.len(),
                    "the new configuration has problems; keeping the running one"
                );
                self.reloads.refused += 1;
                self.reloads.last_error = Some(match errors.problems.first() {
                    Some(first) if errors.problems.len() > 1 => {
                        format!("{first} (and {} more)", errors.problems.len() - 1)
                    }
                    Some(first) => first.to_string(),
                    None => "invalid".into(),
                });
            }
            Ok(new) => {
                let (merged, kept) = merge_reload(&self.config, new);
                for section in &kept {
                    tracing::warn!(
                        setting = %section,
                        "changed in the file, but needs a restart: keeping the running value"
                    );
                }
                self.config = merged;
                self.reloads.applied += 1;
                self.reloads.last_error = None;
                tracing::info!(
                    zones = self.config.zones.len(),
                    assets = self.config.assets.len(),
                    policy_rules = self.config.policy.len(),
                    silences = self.config.silence.len(),
                    "configuration reloaded"
                );
            }
        }
        self.next_status = Instant::now();
    }

    /// Notes a delivery since the last call (for the status's last delivery).
    pub fn observe_deliveries(&mut self) {
        let delivered = self.delivered.load(Ordering::Relaxed);
        if delivered != self.delivered_seen {
            self.delivered_seen = delivered;
            self.last_delivery = Some(status::now_rfc3339());
        }
    }

    /// True when the status is due to be written again.
    pub fn status_due(&self) -> bool {
        Instant::now() >= self.next_status
    }

    /// When the status is next due.
    pub fn next_status(&self) -> Instant {
        self.next_status
    }

    /// Writes the status with `pipeline`'s counters and the capture's.
    pub fn write_status(
        &mut self,
        state: RunState,
        pipeline: &Pipeline,
        interfaces: &[InterfaceCounters],
    ) {
        self.observe_deliveries();
        self.next_status = Instant::now() + status::INTERVAL;
        let stats = pipeline.stats();
        let shed = match serde_json::to_value(&stats.shed) {
            Ok(serde_json::Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_u64().unwrap_or(0)))
                .collect(),
            _ => Default::default(),
        };
        let spool = self
            .spool
            .lock()
            .map(|s| SpoolStatus {
                summaries: s.len(),
                bytes: s.bytes(),
                shed: s.shed_count(),
            })
            .unwrap_or_default();
        let now = status::now_rfc3339();
        let snapshot = Status {
            schema: status::SCHEMA.to_owned(),
            state,
            pid: std::process::id(),
            user: self.user.clone(),
            source: self.source.clone(),
            started_at: self.started_at.clone(),
            updated_at: now,
            uptime_secs: self.started.elapsed().as_secs(),
            packets: stats.packets,
            bytes: stats.bytes,
            interfaces: interfaces.to_vec(),
            shed,
            spool,
            delivered: self.delivered.load(Ordering::Relaxed),
            refused: self.rejected.load(Ordering::Relaxed),
            last_delivery: self.last_delivery.clone(),
            reloads: self.reloads.clone(),
        };
        match status::write(&self.state_dir, &snapshot) {
            Ok(()) => self.status_error_logged = false,
            Err(e) if !self.status_error_logged => {
                self.status_error_logged = true;
                tracing::error!(state_dir = %self.state_dir.display(), error = %e, "cannot write the status");
            }
            Err(_) => {}
        }
    }

    /// Waits for the delivery thread to end (it gives up after `--drain`);
    /// a second stop signal ends the wait at once, leaving what is left in
    /// the spool for the next start.
    pub fn wait_for_delivery(&mut self, sender: &std::thread::JoinHandle<()>) {
        while !sender.is_finished() {
            if let Some(name) = self.stop_requested() {
                tracing::warn!(
                    signal = name,
                    "stopping without waiting for the collector; what is left stays spooled"
                );
                return;
            }
            self.observe_deliveries();
            std::thread::sleep(Duration::from_millis(50));
        }
        self.observe_deliveries();
    }
}

/// The configuration a reload leads to: `new` for what can change live,
/// `old` for the rest; and the settings that changed but need a restart.
pub fn merge_reload(old: &Config, new: Config) -> (Config, Vec<&'static str>) {
    let mut kept = Vec::new();
    let mut merged = new;
    if merged.sensor != old.sensor {
        kept.push("[sensor]");
        merged.sensor = old.sensor.clone();
    }
    if merged.interfaces != old.interfaces {
        kept.push("[[interfaces]]");
        merged.interfaces = old.interfaces.clone();
    }
    if merged.limits != old.limits {
        kept.push("[limits]");
        merged.limits = old.limits.clone();
    }
    if merged.findings.max_findings != old.findings.max_findings {
        kept.push("[findings] max_findings");
        merged.findings.max_findings = old.findings.max_findings;
    }
    match (&old.uplink, &mut merged.uplink) {
        (Some(old), Some(new)) => {
            let interval = new.interval_secs;
            let mut comparable = old.clone();
            comparable.interval_secs = interval;
            if comparable != *new {
                kept.push("[uplink] (all but interval_secs)");
                *new = comparable;
            }
        }
        (None, None) => {}
        (old_uplink, new_uplink) => {
            kept.push("[uplink]");
            *new_uplink = old_uplink.clone();
        }
    }
    (merged, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        faro_firmware_config::parse(text, std::path::Path::new("faro.toml"), &[]).unwrap()
    }

    const BASE: &str = r#"
[sensor]
id = "edge-01"
site = "plant"

[[interfaces]]
name = "eth1"

[[zones]]
name = "control"
cidrs = ["10.10.1.0/24"]
purdue_level = 1

[limits]
max_flows = 1000
"#;

    #[test]
    fn zones_policy_and_silences_change_live() {
        let old = parse(BASE);
        let new = parse(&format!(
            "{BASE}\n[[zones]]\nname = \"scada\"\ncidrs = [\"10.10.2.0/24\"]\npurdue_level = 2\n\n[[policy]]\nfrom = \"scada\"\nto = \"control\"\nprotocol = \"modbus\"\naccess = [\"read\"]\n"
        ));
        let (merged, kept) = merge_reload(&old, new.clone());
        assert!(kept.is_empty(), "{kept:?}");
        assert_eq!(merged, new);
    }

    #[test]
    fn interfaces_identity_and_limits_need_a_restart() {
        let old = parse(BASE);
        let new = parse(
            &BASE
                .replace("edge-01", "edge-02")
                .replace("eth1", "eth2")
                .replace("1000", "2000"),
        );
        let (merged, kept) = merge_reload(&old, new);
        assert_eq!(kept, ["[sensor]", "[[interfaces]]", "[limits]"]);
        assert_eq!(merged, old);
    }
}
