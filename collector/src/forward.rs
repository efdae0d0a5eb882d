//! Forwards findings to a SIEM as CEF over syslog (TCP, or TLS per RFC
//! 5425): a thread reads the findings changed since its cursor in change
//! order, a batch at a time, writes them octet-counted to the receiver, and
//! stores the cursor (`exporter_cursors`) only once the batch is flushed to
//! the socket. A restart resumes from the stored cursor; a receiver that is
//! down is retried with exponential backoff and jitter, and nothing is
//! skipped meanwhile. Delivery is at least once: a batch sent but whose
//! cursor was not stored yet is sent again.
//!
//! Why the cursor (`updated_at`, `id`) misses no change: every write of a
//! finding's `updated_at` reads the clock inside the store's write
//! transaction (ingestion, triage, expiry, rescoring), which one writer holds at a time,
//! so timestamps follow commit order. Each poll reads the clock under that
//! same lock first (the horizon) and takes only findings changed strictly
//! before that second: every one of those has committed, and every later
//! commit gets a time at or after the horizon, hence after the cursor. Only
//! the wall clock stepping back could hide a change; that is logged.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use rand_core::RngCore;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;
use serde::Serialize;

use crate::cef::{self, Origin};
use crate::store::{Store, params};
use crate::views::{self, ChangeCursor};

/// Findings sent per batch unless configured.
pub const DEFAULT_BATCH: usize = 500;
/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a receiver may take to finish the TLS handshake or to take a write.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// How often `stop` is looked at while waiting.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// How the receiver is reached.
#[derive(Clone)]
enum Transport {
    Tcp,
    Tls {
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    },
}

/// The syslog receiver: `tcp://host:port` or `tls://host:port`.
#[derive(Clone)]
pub struct Receiver {
    url: String,
    host: String,
    port: u16,
    transport: Transport,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl Receiver {
    /// Parses `url`; a `tls://` receiver is verified against the CA
    /// certificates in `ca` (required: there are no system roots offline),
    /// and `identity` (certificate, key) is presented to it when given.
    pub fn parse(url: &str, ca: Option<&Path>, identity: Option<(&Path, &Path)>) -> Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| anyhow!("{url}: not tcp://host:port or tls://host:port"))?;
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .ok_or_else(|| anyhow!("{url}: no port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| anyhow!("{url}: port {port:?} is not 1 to 65535"))?;
        if host.is_empty() {
            bail!("{url}: no host");
        }
        let transport = match (scheme, ca) {
            ("tcp", None) if identity.is_none() => Transport::Tcp,
            ("tcp", _) => bail!("{url}: a CA or client certificate is for tls:// receivers"),
            ("tls", Some(ca)) => Transport::Tls {
                config: Arc::new(crate::tls::plain_client_config(ca, identity)?),
                name: ServerName::try_from(host.to_owned())
                    .with_context(|| format!("{url}: {host} is not a DNS name or IP address"))?,
            },
            ("tls", None) => bail!("{url}: a tls:// receiver needs the CA to verify it"),
            (other, _) => bail!("{url}: scheme {other:?} is not tcp or tls"),
        };
        Ok(Self {
            url: url.to_owned(),
            host: host.to_owned(),
            port,
            transport,
        })
    }

    /// The receiver's URL, as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn connect(&self) -> Result<Connection> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .with_context(|| format!("resolving {}", self.host))?
            .collect();
        let mut last = anyhow!("{} resolves to no address", self.host);
        for addr in addrs {
            match self.connect_to(addr) {
                Ok(conn) => return Ok(conn),
                Err(e) => last = e.context(addr.to_string()),
            }
        }
        Err(last)
    }

    fn connect_to(&self, addr: SocketAddr) -> Result<Connection> {
        let mut tcp = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        tcp.set_write_timeout(Some(IO_TIMEOUT))?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))?;
        tcp.set_nodelay(true)?;
        match &self.transport {
            Transport::Tcp => Ok(Connection::Tcp(tcp)),
            Transport::Tls { config, name } => {
                let mut tls = ClientConnection::new(config.clone(), name.clone())?;
                // Handshake now, so that a receiver refusing us is a connection failure.
                while tls.is_handshaking() {
                    tls.complete_io(&mut tcp).context("TLS handshake")?;
                }
                Ok(Connection::Tls(Box::new(StreamOwned::new(tls, tcp))))
            }
        }
    }
}

/// An open connection to the receiver.
enum Connection {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Connection {
    fn tcp(&self) -> &TcpStream {
        match self {
            Connection::Tcp(s) => s,
            Connection::Tls(s) => s.get_ref(),
        }
    }

    /// Whether the receiver has closed its end. Syslog receivers send
    /// nothing, and a write to a closed connection still succeeds once (into
    /// the kernel's buffer) before the reset: without this look, the first
    /// batch after a receiver dropped an idle connection would be lost.
    fn closed(&mut self) -> bool {
        if self.tcp().set_nonblocking(true).is_err() {
            return true;
        }
        let mut buf = [0_u8; 512];
        let read = match self {
            Connection::Tcp(s) => s.read(&mut buf),
            // Also takes in what TLS sends unasked (session tickets, close_notify).
            Connection::Tls(s) => s.read(&mut buf),
        };
        if self.tcp().set_nonblocking(false).is_err() {
            return true;
        }
        match read {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        }
    }

    /// Writes `bytes` and flushes them to the socket.
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Connection::Tcp(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Connection::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
        }
    }
}

/// What the forwarder does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to.
    pub receiver: Receiver,
    /// The syslog facility, host name and process id.
    pub origin: Origin,
    /// Findings per batch (one write, one cursor update).
    pub batch: usize,
    /// How long to wait once every finding is forwarded.
    pub poll: Duration,
    /// The first wait after a failure; it doubles up to `backoff_max`.
    pub backoff_min: Duration,
    /// The longest wait after failures.
    pub backoff_max: Duration,
}

impl Settings {
    /// Forwarding to `receiver` with `facility` and the defaults: batches of
    /// 500, a poll every second, backoff from 1 s to 1 min.
    pub fn new(receiver: Receiver, facility: u8) -> Self {
        Self {
            receiver,
            origin: Origin::local(facility),
            batch: DEFAULT_BATCH,
            poll: Duration::from_secs(1),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }

    /// The name of this forwarder's cursor: one per receiver, so a new
    /// receiver gets every finding from the start.
    pub fn cursor_name(&self) -> String {
        format!("cef {}", self.receiver.url)
    }
}

/// The stored cursor named `name` (the start when there is none).
pub fn load_cursor(store: &Store, name: &str) -> Result<ChangeCursor> {
    store.read(|db| {
        Ok(db
            .query_opt(
                "SELECT updated_at, id FROM exporter_cursors WHERE name = ?1",
                params![name],
            )?
            .map(|r| {
                Ok::<_, anyhow::Error>(ChangeCursor {
                    updated_at: r.get(0)?,
                    id: r.get(1)?,
                })
            })
            .transpose()?
            .unwrap_or_default())
    })
}

/// Stores `cursor` as `name`.
pub fn save_cursor(store: &Store, name: &str, cursor: &ChangeCursor) -> Result<()> {
    store.write(|db| {
        db.execute(
            "INSERT INTO exporter_cursors (name, updated_at, id) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at, id = excluded.id",
            params![name, cursor.updated_at, cursor.id],
        )?;
        Ok(())
    })
}

/// The collector's clock read under the store's write lock: every finding
/// changed before this second has committed (see the module's comment).
fn horizon(store: &Store) -> Result<String> {
    store.write(|_| Ok(humantime::format_rfc3339_seconds(SystemTime::now()).to_string()))
}

/// Exponential backoff with jitter: each wait is drawn between half and all
/// of a ceiling that doubles from `min` to `max`, so collectors restarted
/// together do not retry together.
struct Backoff {
    min: Duration,
    max: Duration,
    ceiling: Duration,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            ceiling: min,
        }
    }

    fn next(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = ceiling.saturating_mul(2).min(self.max);
        let half = ceiling / 2;
        let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        let jitter = rand_core::OsRng.next_u64().checked_rem(spread).unwrap_or(0);
        half + Duration::from_micros(jitter)
    }

    fn reset(&mut self) {
        self.ceiling = self.min;
    }
}

/// Sleeps `wait`, or less if `stop` is set meanwhile.
fn pause(wait: Duration, stop: &AtomicBool) {
    let until = Instant::now() + wait;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(STOP_CHECK));
    }
}

/// The forwarder's state between batches.
struct Forwarding<'a> {
    store: &'a Store,
    settings: &'a Settings,
    name: String,
    /// Loaded from the store on the first batch.
    cursor: Option<ChangeCursor>,
    connection: Option<Connection>,
    clock_behind: bool,
    progress: &'a Mutex<Progress>,
}

impl Forwarding<'_> {
    /// Sends the next batch; returns how many findings it held.
    fn batch(&mut self) -> Result<usize> {
        if self.cursor.is_none() {
            self.cursor = Some(load_cursor(self.store, &self.name).context("reading the cursor")?);
        }
        let cursor = self.cursor.get_or_insert_with(ChangeCursor::default);
        let horizon = horizon(self.store)?;
        let behind = horizon < cursor.updated_at;
        if behind && !self.clock_behind {
            tracing::warn!(
                cursor = cursor.updated_at,
                now = horizon,
                "the collector clock is behind the findings already forwarded: changes made until it catches up are not forwarded"
            );
        }
        self.clock_behind = behind;
        let changed =
            views::findings_changed(self.store, cursor, &horizon, self.settings.batch.max(1))?;
        let Some(last) = changed.last() else {
            return Ok(0);
        };
        let mut bytes = Vec::new();
        for finding in &changed {
            cef::frame(
                &cef::syslog_message(&self.settings.origin, finding),
                &mut bytes,
            );
        }
        if self.connection.as_mut().is_some_and(Connection::closed) {
            tracing::info!(
                receiver = self.settings.receiver.url,
                "receiver closed the connection"
            );
            self.connection = None;
            lock(self.progress).connected = false;
        }
        let connection = match &mut self.connection {
            Some(c) => c,
            None => {
                let c = self
                    .settings
                    .receiver
                    .connect()
                    .with_context(|| format!("connecting to {}", self.settings.receiver.url))?;
                tracing::info!(receiver = self.settings.receiver.url, "connected");
                lock(self.progress).connected = true;
                self.connection.insert(c)
            }
        };
        if let Err(e) = connection.send(&bytes) {
            self.connection = None;
            lock(self.progress).connected = false;
            return Err(anyhow!(e).context(format!("sending to {}", self.settings.receiver.url)));
        }
        *cursor = last.cursor();
        // Sent: the cursor moves on in memory even if storing it fails (it is
        // stored with the next batch; a restart meanwhile sends this one again).
        if let Err(e) = save_cursor(self.store, &self.name, cursor) {
            tracing::error!("storing the forwarding cursor: {e:#}");
        }
        let mut progress = lock(self.progress);
        progress.forwarded = progress
            .forwarded
            .saturating_add(u64::try_from(changed.len()).unwrap_or(u64::MAX));
        progress.last_error = None;
        Ok(changed.len())
    }
}

/// What a forwarder has done since it started, as `/health` shows it.
#[derive(Debug, Clone, Default)]
struct Progress {
    connected: bool,
    forwarded: u64,
    last_error: Option<String>,
}

/// The progress, even if a thread panicked holding it (plain counters stay valid).
fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Forwards findings per `settings` until `stop` is set, keeping `progress`;
/// returns how many were sent.
fn run(store: &Store, settings: &Settings, stop: &AtomicBool, progress: &Mutex<Progress>) -> u64 {
    let mut state = Forwarding {
        store,
        settings,
        name: settings.cursor_name(),
        cursor: None,
        connection: None,
        clock_behind: false,
        progress,
    };
    let mut backoff = Backoff::new(settings.backoff_min, settings.backoff_max);
    let (mut total, mut unlogged) = (0_u64, 0_u64);
    while !stop.load(Ordering::SeqCst) {
        match state.batch() {
            Ok(n) => {
                backoff.reset();
                let n = u64::try_from(n).unwrap_or(u64::MAX);
                total = total.saturating_add(n);
                unlogged = unlogged.saturating_add(n);
                if n < u64::try_from(settings.batch).unwrap_or(u64::MAX) {
                    // Caught up: one line per catch-up, not per batch.
                    if unlogged > 0 {
                        tracing::info!(
                            receiver = settings.receiver.url,
                            forwarded = unlogged,
                            total,
                            "findings forwarded as CEF"
                        );
                        unlogged = 0;
                    }
                    pause(settings.poll, stop);
                }
            }
            Err(e) => {
                lock(state.progress).last_error = Some(format!("{e:#}"));
                let wait = backoff.next();
                tracing::warn!(
                    receiver = settings.receiver.url,
                    retry_in = ?wait,
                    "forwarding findings: {e:#}"
                );
                pause(wait, stop);
            }
        }
    }
    total
}

/// A forwarder's state for `/health`: whether it holds a connection, what it
/// sent since it started, its last failure, and what it still has to send.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The receiver's URL.
    pub receiver: String,
    /// Whether it holds a connection to the receiver.
    pub connected: bool,
    /// Findings sent since the collector started.
    pub forwarded: u64,
    /// Findings changed past the stored cursor: not yet taken by the receiver.
    pub behind: u64,
    /// Why the last attempt failed; cleared by the next batch sent.
    pub last_error: Option<String>,
}

/// Reads a running forwarder's [`Status`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Watch {
    receiver: String,
    cursor: String,
    progress: Arc<Mutex<Progress>>,
}

impl Watch {
    /// The forwarder's status now; `behind` is counted from the stored cursor.
    pub fn status(&self, store: &Store) -> Result<Status> {
        let behind = views::findings_changed_count(store, &load_cursor(store, &self.cursor)?)?;
        let progress = lock(&self.progress).clone();
        Ok(Status {
            receiver: self.receiver.clone(),
            connected: progress.connected,
            forwarded: progress.forwarded,
            behind,
            last_error: progress.last_error,
        })
    }
}

/// The forwarder's thread.
pub struct Forwarder {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
    watch: Watch,
}

impl Forwarder {
    /// Starts forwarding the findings of `store` per `settings`.
    pub fn spawn(store: Arc<Store>, settings: Settings) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let watch = Watch {
            receiver: settings.receiver.url.clone(),
            cursor: settings.cursor_name(),
            progress: Arc::default(),
        };
        let thread = {
            let (stop, progress) = (stop.clone(), watch.progress.clone());
            std::thread::Builder::new()
                .name("faro-cef".to_owned())
                .spawn(move || run(&store, &settings, &stop, &progress))?
        };
        Ok(Self {
            stop,
            thread,
            watch,
        })
    }

    /// Reads its status while it runs.
    pub fn watch(&self) -> Watch {
        self.watch.clone()
    }

    /// Stops after the batch in flight; returns how many findings were sent.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or(0)
    }
}
