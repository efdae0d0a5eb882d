//! `faro-sensor run`: the sensor as it runs on the box, capturing live on the
//! configured interfaces (see [`crate::live`]) or replaying a capture. Every
//! interval (wall-clock time live, capture time in a replay) a summary of
//! what changed is written to the durable spool; a delivery thread offers the
//! oldest to the collector, the spool giving it its sequence and signing it
//! (JWS, EdDSA) at its first offer, and removes it once the collector
//! acknowledged it, retrying the same bytes with backoff while the collector
//! is away; when full, the spool merges the oldest summaries not yet sent. Nothing is lost when the collector or the sensor stops:
//! the spool is on disk and the sequence numbers with it.
//!
//! Start-up order matters: the signals are taken over before any thread
//! starts ([`crate::signals`]), then the captures are opened and the
//! privileges given up ([`crate::privileges`]), and only then are the keys
//! read, the spool opened and the delivery thread started, all as the
//! unprivileged user. SIGTERM or SIGINT spools a last summary and stops;
//! SIGHUP reloads the configuration ([`crate::lifecycle`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use faro_firmware_config::Config;
use faro_protocols::uplink;

use crate::Pipeline;
use crate::capture::CaptureFile;
use crate::lifecycle::{Deliveries, Lifecycle};
use crate::live::{LiveCaptures, READ_TIMEOUT};
use crate::privileges::{self, Plan};
use crate::signals::Signals;
use crate::spool::{Spool, SpoolError};
use crate::stats::InterfaceCounters;
use crate::status::{self, RunState};
use crate::summary::{SummaryBuilder, seal};
use crate::uplink::{Backoff, Delivery, UplinkClient};

/// What `run` reads and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The capture to replay; `None`: capture live on the configuration's
    /// interfaces.
    pub pcap: Option<PathBuf>,
    /// The user to become after opening the live captures when started as
    /// root (default [`privileges::DEFAULT_USER`]).
    pub user: Option<String>,
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
    /// Live capture was asked for, but the configuration names no interface.
    #[error(
        "the configuration has no [[interfaces]]: nothing to capture live (add one, or replay a capture with --pcap FILE)"
    )]
    NoInterfaces,
    /// An unsafe set-up the sensor refuses to run in.
    #[error("refusing to run: {0}")]
    Refused(String),
    /// The privileges could not be given up.
    #[error("giving up privileges: {0}")]
    Privileges(String),
    /// The signals could not be taken over.
    #[error("signals: {0}")]
    Signals(String),
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
    /// The signal that stopped the run (`None`: the capture ended).
    pub stopped_by: Option<&'static str>,
}

fn read_signing_key(path: &std::path::Path) -> Result<SigningKey, RunError> {
    let error = |reason: String| RunError::SigningKey {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    uplink::signing_key_from_pem(&pem).map_err(|e| error(e.to_string()))
}

/// What the sensor reads.
enum Source {
    /// A capture file, replayed.
    Replay(CaptureFile),
    /// The configured interfaces.
    Live(LiveCaptures),
}

/// Opens what the sensor reads and gives up the privileges that took:
/// refuses unsafe set-ups first. Must run before any thread is spawned.
fn open_source(config: &Config, options: &RunOptions) -> Result<(Source, String), RunError> {
    let Some(pcap) = &options.pcap else {
        if config.interfaces.is_empty() {
            return Err(RunError::NoInterfaces);
        }
        if let Some(path) = &config.path {
            privileges::check_config_file(path)?;
        }
        let plan = Plan::for_current_user(options.user.as_deref())?;
        privileges::check_state_dir(&options.state_dir, plan.account())?;
        let captures = LiveCaptures::open(&config.interfaces)?;
        plan.apply()?;
        let user = plan.account().name.clone();
        tracing::info!(
            interfaces = ?captures.names(),
            user = %user,
            switched_from_root = matches!(plan, Plan::Switch(_)),
            "capturing; no capability left"
        );
        return Ok((Source::Live(captures), user));
    };
    // A replay opens no interface and needs no privilege: it runs as whoever
    // started it.
    let account = privileges::Account::current();
    privileges::check_state_dir(&options.state_dir, &account)?;
    let capture = CaptureFile::open(pcap)?;
    Ok((Source::Replay(capture), account.name))
}

/// Runs the sensor `config` describes on `options`' source, sending
/// summaries every `config.uplink.interval_secs`, until the capture ends or
/// a stop signal.
pub fn run(config: &Config, options: &RunOptions) -> Result<RunSummary, RunError> {
    let settings = config.uplink.as_ref().ok_or(RunError::NoUplink)?;
    // Before any thread: the signals, then the captures and the privileges.
    let signals = Signals::take_over()?;
    let (mut source, user) = open_source(config, options)?;
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

    let mut pipeline =
        Pipeline::new(config.limits.clone()).with_max_findings(config.findings.max_findings);
    let mut builder = SummaryBuilder::new();
    let mut spooled = 0;
    let mut emit = |pipeline: &mut Pipeline,
                    config: &Config,
                    window_end: u64|
     -> Result<(), RunError> {
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
    let source_name = match &source {
        Source::Replay(_) => format!(
            "replay: {}",
            options.pcap.as_deref().unwrap_or(Path::new("")).display()
        ),
        Source::Live(captures) => format!("live: {}", captures.names().join(", ")),
    };
    let mut life = Lifecycle::new(
        signals,
        config.clone(),
        options.state_dir.clone(),
        user,
        source_name,
        Deliveries {
            spool: &spool,
            delivered: &delivered,
            rejected: &rejected,
        },
    );
    let ended = match &mut source {
        Source::Replay(capture) => replay(capture, options, &mut pipeline, &mut life, &mut emit),
        Source::Live(captures) => watch(captures, &mut pipeline, &mut life, &mut emit),
    };
    let interfaces = match &ended {
        Ok(ended) => ended.interfaces.clone(),
        Err(_) => Vec::new(),
    };
    life.write_status(RunState::Stopping, &pipeline, &interfaces);
    done.store(true, Ordering::SeqCst);
    let stopped_by = match ended {
        Ok(ended) => ended.signal,
        Err(e) => {
            life.wait_for_delivery(&sender);
            life.write_status(RunState::Stopped, &pipeline, &interfaces);
            return Err(e);
        }
    };
    life.wait_for_delivery(&sender);
    life.write_status(RunState::Stopped, &pipeline, &interfaces);
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
        stopped_by,
    })
}

/// How a main loop ended.
struct Ended {
    /// The stop signal, or `None` at the end of the capture.
    signal: Option<&'static str>,
    /// The live captures' last counters.
    interfaces: Vec<InterfaceCounters>,
}

/// Frames between two looks at the signals and the status while replaying.
const REPLAY_CHECK_EVERY: u64 = 4096;

/// Replays `capture` into `pipeline`, a summary every interval of capture
/// time, the last once the capture ends or a stop signal came.
fn replay(
    capture: &mut CaptureFile,
    options: &RunOptions,
    pipeline: &mut Pipeline,
    life: &mut Lifecycle<'_>,
    emit: &mut impl FnMut(&mut Pipeline, &Config, u64) -> Result<(), RunError>,
) -> Result<Ended, RunError> {
    let link = capture.link_type();
    let mut next_summary: Option<u64> = None;
    let started = Instant::now();
    let mut first_ts: Option<u64> = None;
    let mut signal = None;
    let mut frames: u64 = 0;
    life.write_status(RunState::Running, pipeline, &[]);
    'frames: while let Some(frame) = capture.next_frame()? {
        let ts = frame.ts_nanos;
        let first = *first_ts.get_or_insert(ts);
        if let Some(speed) = options.speed.filter(|s| *s > 0.0) {
            let due = Duration::from_nanos(ts.saturating_sub(first)).div_f64(speed);
            // Sleep in short steps so that signals are not kept waiting.
            while let Some(wait) = due.checked_sub(started.elapsed()) {
                if let Some(name) = life.stop_requested() {
                    signal = Some(name);
                    break 'frames;
                }
                std::thread::sleep(wait.min(Duration::from_millis(100)));
            }
        }
        let interval = life.interval_nanos();
        let boundary = *next_summary.get_or_insert(first.saturating_add(interval));
        if ts >= boundary {
            emit(pipeline, life.config(), boundary)?;
            // Skip empty intervals: the next boundary after this frame.
            let mut next = boundary.saturating_add(interval.max(1));
            while next <= ts {
                next = next.saturating_add(interval.max(1));
            }
            next_summary = Some(next);
        }
        pipeline.process(link, &frame);
        frames += 1;
        if frames % REPLAY_CHECK_EVERY == 0 {
            if let Some(name) = life.stop_requested() {
                signal = Some(name);
                break;
            }
            if life.status_due() {
                life.write_status(RunState::Running, pipeline, &[]);
            }
        }
    }
    if let Some(name) = signal {
        tracing::info!(signal = name, "stopping: spooling the last summary");
    }
    // The run is over: what reassembly still holds is delivered, as analyze does.
    pipeline.close_flows();
    if let Some((_, last)) = pipeline.observed() {
        emit(pipeline, life.config(), last)?;
    }
    Ok(Ended {
        signal,
        interfaces: Vec::new(),
    })
}

/// How long after a stop signal frames already in the capture rings are
/// still read: libpcap hands them over within its read timeout.
const STOP_GRACE: Duration = READ_TIMEOUT.saturating_mul(3);

/// Most time spent reading after a stop signal, however busy the interfaces.
const STOP_LIMIT: Duration = Duration::from_secs(2);

/// Captures live into `pipeline` until a stop signal, a summary every
/// interval of wall-clock time and the last one on the way out.
fn watch(
    captures: &mut LiveCaptures,
    pipeline: &mut Pipeline,
    life: &mut Lifecycle<'_>,
    emit: &mut impl FnMut(&mut Pipeline, &Config, u64) -> Result<(), RunError>,
) -> Result<Ended, RunError> {
    let mut interfaces = captures.counters()?;
    let mut next_summary = Instant::now() + Duration::from_nanos(life.interval_nanos());
    let signal = loop {
        if let Some(name) = life.stop_requested() {
            break name;
        }
        let now = Instant::now();
        if now >= next_summary {
            interfaces = capture_counters(captures, &interfaces)?;
            pipeline.set_capture_counters(interfaces.clone());
            emit(pipeline, life.config(), status::now_nanos())?;
            next_summary = now + Duration::from_nanos(life.interval_nanos());
        }
        if life.status_due() {
            interfaces = capture_counters(captures, &interfaces)?;
            life.write_status(RunState::Running, pipeline, &interfaces);
        }
        let read = captures.read(|link, frame| pipeline.process(link, frame))?;
        if read == 0 {
            life.observe_deliveries();
            let until = next_summary.min(life.next_status());
            let timeout = until.saturating_duration_since(Instant::now());
            captures.wait(life.signals().fd(), timeout)?;
        }
    };
    tracing::info!(
        signal,
        "stopping: reading what the kernel holds, then spooling the last summary"
    );
    let stopped = Instant::now();
    loop {
        let read = captures.read(|link, frame| pipeline.process(link, frame))?;
        let waited = stopped.elapsed();
        if (read == 0 && waited >= STOP_GRACE) || waited >= STOP_LIMIT {
            break;
        }
        if read == 0 {
            captures.wait(life.signals().fd(), Duration::from_millis(10))?;
        }
    }
    interfaces = capture_counters(captures, &interfaces)?;
    pipeline.set_capture_counters(interfaces.clone());
    pipeline.close_flows();
    emit(pipeline, life.config(), status::now_nanos())?;
    for i in &interfaces {
        tracing::info!(
            interface = %i.interface,
            received = i.received,
            dropped = i.dropped,
            if_dropped = i.if_dropped,
            "capture counters at stop"
        );
    }
    Ok(Ended {
        signal: Some(signal),
        interfaces,
    })
}

/// The captures' counters now; logs what was dropped since `before`.
fn capture_counters(
    captures: &mut LiveCaptures,
    before: &[InterfaceCounters],
) -> Result<Vec<InterfaceCounters>, RunError> {
    let now = captures.counters()?;
    for (new, old) in now.iter().zip(before) {
        let dropped = new.dropped.saturating_sub(old.dropped);
        let if_dropped = new.if_dropped.saturating_sub(old.if_dropped);
        if dropped > 0 || if_dropped > 0 {
            tracing::warn!(
                interface = %new.interface,
                dropped,
                if_dropped,
                total_dropped = new.dropped,
                total_if_dropped = new.if_dropped,
                received = new.received,
                "frames lost before the sensor saw them"
            );
        }
    }
    Ok(now)
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
