//! `faro-sensor run`: the sensor as it runs on the box, replaying a capture
//! (live interfaces come with the live-capture work). Every interval of
//! capture time a summary of what changed is written to the durable spool; a
//! delivery thread offers the oldest to the collector, the spool giving it
//! its sequence and signing it (JWS, EdDSA) at its first offer, and removes
//! it once the collector acknowledged it, retrying the same bytes with
//! backoff while the collector is away. Nothing is lost when the collector or
//! the sensor stops: the spool is on disk and the sequence numbers with it;
//! when it is full it merges the oldest summaries not yet sent.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use faro_firmware_config::Config;
use faro_protocols::uplink;

use crate::Pipeline;
use crate::capture::CaptureFile;
use crate::spool::{Spool, SpoolError};
use crate::summary::{SummaryBuilder, seal};
use crate::uplink::{Backoff, Delivery, UplinkClient};

/// How `run` replays its capture.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The capture to replay.
    pub pcap: PathBuf,
    /// Where the spool lives.
    pub state_dir: PathBuf,
    /// Replay at this multiple of the recorded pace (1.0: as recorded,
    /// sleeping between frames); `None`: as fast as possible.
    pub speed: Option<f64>,
    /// How long to keep delivering after the capture ended before giving up
    /// (what is left stays in the spool for the next start).
    pub drain: Duration,
    /// The spool's bound in bytes instead of `uplink.spool_max_mib`: tests
    /// need a spool smaller than the configuration's smallest, 1 MiB.
    pub spool_max_bytes: Option<u64>,
}

/// Why `run` stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration has no `[uplink]` section.
    #[error("the configuration has no [uplink] section: `run` needs the collector and the keys")]
    NoUplink,
    /// The signing key could not be read.
    #[error("signing key {path}: {reason}")]
    SigningKey {
        /// The key file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The state directory could not be made.
    #[error("state directory {0}")]
    StateDir(String),
    /// The spool could not be opened or written.
    #[error("spool: {0}")]
    Spool(#[from] SpoolError),
    /// The uplink could not be set up.
    #[error("uplink: {0}")]
    Uplink(#[from] crate::uplink::UplinkError),
    /// The capture could not be read.
    #[error("{0}")]
    Capture(#[from] crate::SensorError),
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    /// Summaries written to the spool.
    pub spooled: u64,
    /// Summaries the collector acknowledged.
    pub delivered: u64,
    /// Summaries the collector refused for good (malformed, wrong sensor).
    pub rejected: u64,
    /// Summaries still in the spool when the run ended.
    pub left: u64,
    /// Pairs of summaries not yet sent that the spool merged into one because it was full.
    pub merged: u64,
    /// Summaries shed from the spool because it was full (merging could not make room).
    pub shed: u64,
}

fn read_signing_key(path: &std::path::Path) -> Result<SigningKey, RunError> {
    let error = |reason: String| RunError::SigningKey {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    uplink::signing_key_from_pem(&pem).map_err(|e| error(e.to_string()))
}

/// Replays `options.pcap` as the sensor `config` describes, sending summaries
/// every `config.uplink.interval_secs` of capture time.
pub fn run(config: &Config, options: &RunOptions) -> Result<RunSummary, RunError> {
    let settings = config.uplink.as_ref().ok_or(RunError::NoUplink)?;
    let key = read_signing_key(&settings.signing_key)?;
    let kid = uplink::fingerprint(&key.verifying_key());
    std::fs::create_dir_all(&options.state_dir)
        .map_err(|e| RunError::StateDir(format!("{}: {e}", options.state_dir.display())))?;
    let max_bytes = options
        .spool_max_bytes
        .unwrap_or_else(|| settings.spool_max_mib.saturating_mul(1024 * 1024));
    let spool = Spool::open(&options.state_dir.join("spool.redb"), max_bytes)?;
    // This run's merges and sheds: the spool counts them since it was created.
    let (merged_before, shed_before) = (spool.merged_count(), spool.shed_count());
    let spool = Arc::new(Mutex::new(spool));
    let client = UplinkClient::new(settings)?;
    let done = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let sender = {
        let (spool, done, delivered, rejected) = (
            spool.clone(),
            done.clone(),
            delivered.clone(),
            rejected.clone(),
        );
        let drain = options.drain;
        std::thread::spawn(move || {
            let sign = |summary: &uplink::Summary| seal(summary, &key, &kid);
            deliver_loop(&client, &spool, &sign, &done, drain, &delivered, &rejected)
        })
    };

    let interval = settings.interval_secs.saturating_mul(1_000_000_000);
    let mut capture = CaptureFile::open(&options.pcap)?;
    let link = capture.link_type();
    let mut pipeline =
        Pipeline::new(config.limits.clone()).with_max_findings(config.findings.max_findings);
    let mut builder = SummaryBuilder::new();
    let mut spooled = 0;
    let mut next_summary: Option<u64> = None;
    let started = Instant::now();
    let mut first_ts: Option<u64> = None;
    let mut emit = |pipeline: &mut Pipeline, window_end: u64| -> Result<(), RunError> {
        let report = pipeline.report(config);
        let summary = builder.build(&config.sensor.id, &config.sensor.site, &report, window_end);
        let mut spool = spool
            .lock()
            .map_err(|_| RunError::StateDir("the spool's lock was poisoned".into()))?;
        let pushed = spool.push(&summary)?;
        spooled += 1;
        eprintln!(
            "faro-sensor: summary of {}: {} assets, {} edges, {} findings spooled ({} held, {} bytes)",
            summary.window_end,
            summary.assets.len(),
            summary.edges.len(),
            summary.findings.len(),
            spool.len(),
            spool.bytes()
        );
        if pushed.merged > 0 || pushed.shed > 0 {
            eprintln!(
                "faro-sensor: spool full: merged {} pairs of the oldest summaries not yet sent, shed {}",
                pushed.merged, pushed.shed
            );
        }
        Ok(())
    };
    while let Some(frame) = capture.next_frame()? {
        let ts = frame.ts_nanos;
        let first = *first_ts.get_or_insert(ts);
        if let Some(speed) = options.speed.filter(|s| *s > 0.0) {
            let due = Duration::from_nanos(ts.saturating_sub(first)).div_f64(speed);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let boundary = *next_summary.get_or_insert(first.saturating_add(interval));
        if ts >= boundary {
            emit(&mut pipeline, boundary)?;
            // Skip empty intervals: the next boundary after this frame.
            let mut next = boundary.saturating_add(interval.max(1));
            while next <= ts {
                next = next.saturating_add(interval.max(1));
            }
            next_summary = Some(next);
        }
        pipeline.process(link, &frame);
    }
    if let Some((_, last)) = pipeline.observed() {
        emit(&mut pipeline, last)?;
    }
    done.store(true, Ordering::SeqCst);
    let _ = sender.join();
    let (left, merged, shed) = spool
        .lock()
        .map(|s| {
            (
                s.len(),
                s.merged_count().saturating_sub(merged_before),
                s.shed_count().saturating_sub(shed_before),
            )
        })
        .unwrap_or_default();
    Ok(RunSummary {
        spooled,
        delivered: delivered.load(Ordering::SeqCst),
        rejected: rejected.load(Ordering::SeqCst),
        left,
        merged,
        shed,
    })
}

/// What becomes of an offered summary once the collector answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Stored (or stored before with the same bytes): removed from the spool.
    Acknowledge,
    /// Refused for good, nothing stored: removed, and its sequence goes to
    /// the next summary, so the collector never waits for a sequence that
    /// will not come.
    Refuse,
    /// Not taken yet: kept, offered again (the same bytes) after a backoff.
    Keep,
}

/// Offers the oldest spooled summary (signed by `sign` at its first offer)
/// until the spool is empty after the capture ended, or `drain` has passed
/// since.
fn deliver_loop(
    client: &UplinkClient,
    spool: &Mutex<Spool>,
    sign: &dyn Fn(&uplink::Summary) -> String,
    done: &AtomicBool,
    drain: Duration,
    delivered: &AtomicU64,
    rejected: &AtomicU64,
) {
    let mut backoff = Backoff::default();
    let mut ended_at: Option<Instant> = None;
    loop {
        if done.load(Ordering::SeqCst) {
            let ended = *ended_at.get_or_insert_with(Instant::now);
            if ended.elapsed() > drain {
                return;
            }
        }
        let offer = match spool.lock().map(|mut spool| spool.offer(sign)) {
            Ok(Ok(offer)) => offer,
            Ok(Err(e)) => {
                eprintln!("faro-sensor: spool: {e}");
                None
            }
            Err(_) => return,
        };
        let Some(offer) = offer else {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let sequence = offer.sequence;
        if offer.first {
            eprintln!(
                "faro-sensor: summary {sequence} signed ({} bytes)",
                offer.jws.len()
            );
        }
        let outcome = client.deliver(&offer.jws);
        let settle = match &outcome {
            Ok(Delivery::Accepted { .. }) => {
                delivered.fetch_add(1, Ordering::SeqCst);
                backoff.reset();
                Settle::Acknowledge
            }
            Ok(Delivery::Rejected { status, reason }) => {
                eprintln!(
                    "faro-sensor: summary {sequence} refused for good ({status} {reason}); dropped, its sequence goes to the next"
                );
                rejected.fetch_add(1, Ordering::SeqCst);
                Settle::Refuse
            }
            Ok(Delivery::Retry { status, reason }) => {
                eprintln!(
                    "faro-sensor: summary {sequence} not taken yet ({status} {reason}); retrying"
                );
                Settle::Keep
            }
            Err(e) => {
                eprintln!(
                    "faro-sensor: collector unreachable: {e}; summary {sequence} stays spooled"
                );
                Settle::Keep
            }
        };
        let removed = match settle {
            Settle::Acknowledge => spool.lock().map(|mut spool| spool.acknowledge(offer.id)),
            Settle::Refuse => spool.lock().map(|mut spool| spool.refuse(offer.id)),
            Settle::Keep => Ok(Ok(false)),
        };
        match removed {
            Ok(Err(e)) => eprintln!("faro-sensor: spool: {e}"),
            Err(_) => return,
            Ok(Ok(_)) => {}
        }
        if settle == Settle::Keep {
            let wait = backoff.next_wait();
            // Sleep in short steps so the drain deadline is honoured.
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if done.load(Ordering::SeqCst) && ended_at.is_some_and(|t| t.elapsed() > drain) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50).min(wait));
            }
        }
    }
}
