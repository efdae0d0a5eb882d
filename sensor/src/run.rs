//! `faro-sensor run`: the sensor as it runs on the box, replaying a capture
//! (live interfaces come with the live-capture work). Every interval of
//! capture time a summary of what changed is signed (JWS, EdDSA), written to
//! the durable spool, and only then offered to the collector by a delivery
//! thread that removes it once the collector acknowledged it, retrying with
//! backoff while the collector is away. Nothing is lost when the collector or
//! the sensor stops: the spool is on disk and the sequence numbers with it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use faro_firmware_config::Config;
use faro_protocols::uplink;

use crate::Pipeline;
use crate::capture::CaptureFile;
use crate::spool::Spool;
use crate::summary::SummaryBuilder;
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
    Spool(#[from] crate::spool::SpoolError),
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
    /// Summaries shed from the spool because it was full.
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
    let spool = Spool::open(
        &options.state_dir.join("spool.redb"),
        settings.spool_max_mib.saturating_mul(1024 * 1024),
    )?;
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
            deliver_loop(&client, &spool, &done, drain, &delivered, &rejected)
        })
    };

    let interval = settings.interval_secs.saturating_mul(1_000_000_000);
    let mut capture = CaptureFile::open(&options.pcap)?;
    let link = capture.link_type();
    let mut pipeline =
        Pipeline::new(config.limits.clone()).with_max_findings(config.findings.max_findings);
    let mut builder = SummaryBuilder::new();
    let mut spooled = 0;
    let mut shed = 0;
    let mut next_summary: Option<u64> = None;
    let started = Instant::now();
    let mut first_ts: Option<u64> = None;
    let mut emit = |pipeline: &mut Pipeline, window_end: u64| -> Result<(), RunError> {
        let report = pipeline.report(config);
        let mut spool = spool
            .lock()
            .map_err(|_| RunError::StateDir("the spool's lock was poisoned".into()))?;
        let sequence = spool.next_sequence();
        let summary = builder.build(
            &config.sensor.id,
            &config.sensor.site,
            sequence,
            &report,
            window_end,
        );
        let json = serde_json::to_vec(&summary).unwrap_or_default();
        let jws = uplink::sign(&json, &key, &kid);
        let pushed = spool.push(sequence, &jws)?;
        spooled += 1;
        shed += pushed.shed;
        eprintln!(
            "faro-sensor: summary {sequence}: {} assets, {} edges, {} findings, {} bytes signed and spooled",
            summary.assets.len(),
            summary.edges.len(),
            summary.findings.len(),
            jws.len()
        );
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
    let left = spool.lock().map(|s| s.len()).unwrap_or(0);
    Ok(RunSummary {
        spooled,
        delivered: delivered.load(Ordering::SeqCst),
        rejected: rejected.load(Ordering::SeqCst),
        left,
        shed,
    })
}

/// Offers the oldest spooled summary until the spool is empty after the
/// capture ended, or `drain` has passed since.
fn deliver_loop(
    client: &UplinkClient,
    spool: &Mutex<Spool>,
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
        let oldest = match spool.lock().map(|spool| spool.oldest()) {
            Ok(Ok(oldest)) => oldest,
            Ok(Err(e)) => {
                eprintln!("faro-sensor: spool: {e}");
                None
            }
            Err(_) => return,
        };
        let Some((sequence, jws)) = oldest else {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let outcome = client.deliver(&jws);
        let remove = match &outcome {
            Ok(Delivery::Accepted { .. }) => {
                delivered.fetch_add(1, Ordering::SeqCst);
                backoff.reset();
                true
            }
            Ok(Delivery::Rejected { status, reason }) => {
                eprintln!(
                    "faro-sensor: summary {sequence} refused for good ({status} {reason}); dropped"
                );
                rejected.fetch_add(1, Ordering::SeqCst);
                true
            }
            Ok(Delivery::Retry { status, reason }) => {
                eprintln!(
                    "faro-sensor: summary {sequence} not taken yet ({status} {reason}); retrying"
                );
                false
            }
            Err(e) => {
                eprintln!(
                    "faro-sensor: collector unreachable: {e}; summary {sequence} stays spooled"
                );
                false
            }
        };
        if remove {
            if let Ok(mut spool) = spool.lock() {
                if let Err(e) = spool.remove(sequence) {
                    eprintln!("faro-sensor: spool: {e}");
                }
            }
        } else {
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
