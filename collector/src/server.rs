//! The HTTPS listener: mutual TLS, `POST /api/v1/summaries`, `GET /api/v1/health`;
//! the writer, scorer and CEF forwarder threads it runs.
//!
//! Handshakes run in their own tasks (a slow or refused client holds up no
//! other); verification runs on the blocking pool; one writer thread commits
//! whatever summaries are waiting in one SQLite transaction, so concurrent
//! sensors share an fsync while each answer still waits for its commit.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::api::error;
use crate::forward;
use crate::ingest::{self, Decision, Outcome, Prepared};
use crate::store::Store;

/// The largest summary accepted; larger bodies get 413.
pub const BODY_LIMIT: usize = 16 << 20;
/// Summaries committed together at most.
const MAX_BATCH: usize = 256;
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the sites new summaries touched are scored again.
const RESCORE_PERIOD: Duration = Duration::from_secs(2);
/// Handshakes in progress at most (the rest wait in the kernel's backlog).
const MAX_HANDSHAKES: usize = 256;

type Reply = oneshot::Sender<Result<Decision, String>>;

#[derive(Clone)]
struct App {
    store: Arc<Store>,
    writer: std_mpsc::SyncSender<(Prepared, Reply)>,
    cef: Option<forward::Watch>,
}

/// Serves `store` on `tcp` with `tls` until `shutdown` completes, then lets
/// requests in flight finish; forwards findings as CEF meanwhile if `cef`
/// names a receiver.
pub async fn serve(
    store: Arc<Store>,
    tcp: TcpListener,
    tls: Arc<ServerConfig>,
    cef: Option<forward::Settings>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let local = tcp.local_addr()?;
    let forwarder = cef
        .map(|settings| {
            tracing::info!(
                receiver = settings.receiver.url(),
                "forwarding findings as CEF"
            );
            forward::Forwarder::spawn(store.clone(), settings)
        })
        .transpose()?;
    let (writer, jobs) = std_mpsc::sync_channel::<(Prepared, Reply)>(4 * MAX_BATCH);
    let writer_store = store.clone();
    let writer_thread = std::thread::Builder::new()
        .name("faro-writer".to_owned())
        .spawn(move || write_loop(&writer_store, &jobs))?;

    let scoring_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scorer = {
        let (store, stop) = (store.clone(), scoring_stop.clone());
        std::thread::Builder::new()
            .name("faro-scorer".to_owned())
            .spawn(move || crate::rescore::run(&store, RESCORE_PERIOD, &stop))?
    };

    let (conns_tx, conns_rx) = mpsc::channel(64);
    let acceptor = tokio::spawn(accept_loop(tcp, TlsAcceptor::from(tls), conns_tx));
    let app = App {
        store,
        writer,
        cef: forwarder.as_ref().map(forward::Forwarder::watch),
    };
    let api = crate::api::router(app.store.clone());
    let router = Router::new()
        .route("/api/v1/summaries", post(post_summary))
        .route("/api/v1/health", get(health))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
        .merge(api);
    tracing::info!(%local, "listening (HTTPS: sensors with client certificates, the API with tokens)");
    let result = axum::serve(
        TlsListener {
            conns: conns_rx,
            local,
        },
        router.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    acceptor.abort();
    // The router (and with it the last writer sender) is gone: the writer drains and ends.
    let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
    scoring_stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = tokio::task::spawn_blocking(move || scorer.join()).await;
    if let Some(forwarder) = forwarder {
        let n = tokio::task::spawn_blocking(move || forwarder.stop())
            .await
            .unwrap_or(0);
        tracing::info!("{n} findings forwarded as CEF since start");
    }
    tracing::info!("stopped");
    Ok(result?)
}

/// A collector serving in the background of this process, on an address of
/// loopback chosen by the system: for tests and benchmarks.
pub struct Background {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its store.
    pub store: Arc<Store>,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<Result<()>>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "collector on {}", self.addr)
    }
}

impl Background {
    /// Serves the store at `store` with the collector certificate, key and
    /// CA that `certs::generate` wrote into `pki`.
    pub async fn start(pki: &std::path::Path, store: &crate::store::Location) -> Result<Self> {
        let tls = crate::tls::server_config(
            &pki.join("collector.pem"),
            &pki.join("collector.key"),
            &pki.join("ca.pem"),
        )?;
        let store = Arc::new(Store::open_at(store)?);
        let tcp = TcpListener::bind("127.0.0.1:0").await?;
        let addr = tcp.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(serve(store.clone(), tcp, tls, None, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            store,
            stop,
            done,
        })
    }

    /// Shuts it down as SIGTERM would and waits for it.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.done.await?
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("SIGINT handler: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("SIGTERM handler: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}

/// Commits waiting summaries in batches and answers them once stored; merges
/// what it stored when no summary waits, or when the backlog is large, so
/// that under load one merge covers many summaries.
fn write_loop(store: &Store, jobs: &std_mpsc::Receiver<(Prepared, Reply)>) {
    let mut unmerged: Vec<ingest::Accepted> = Vec::new();
    let mut unmerged_bytes = 0usize;
    let merge = |unmerged: &mut Vec<ingest::Accepted>, bytes: &mut usize| {
        *bytes = 0;
        // On failure the summaries stay stored past the merge mark, and the
        // next merge reads them back from the store.
        if let Err(e) = ingest::merge_stored(store, std::mem::take(unmerged)) {
            tracing::error!("merging into the inventory: {e:#}");
        }
    };
    // Whatever an earlier run stored but did not merge.
    merge(&mut unmerged, &mut unmerged_bytes);
    loop {
        let first = match jobs.try_recv() {
            Ok(job) => job,
            Err(std_mpsc::TryRecvError::Empty) => {
                if !unmerged.is_empty() {
                    merge(&mut unmerged, &mut unmerged_bytes);
                    continue;
                }
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            }
            Err(std_mpsc::TryRecvError::Disconnected) => break,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match ingest::store_batch(store, items) {
            Ok(stored) => {
                for (reply, decision) in replies.into_iter().zip(stored.decisions) {
                    let _ = reply.send(Ok(decision));
                }
                unmerged_bytes += stored
                    .accepted
                    .iter()
                    .map(ingest::Accepted::bytes)
                    .sum::<usize>();
                unmerged.extend(stored.accepted);
            }
            Err(e) => {
                tracing::error!("store: {e:#}");
                for reply in replies {
                    let _ = reply.send(Err(format!("{e:#}")));
                }
            }
        }
        if unmerged.len() >= ingest::MERGE_BACKLOG || unmerged_bytes >= ingest::MERGE_BACKLOG_BYTES
        {
            merge(&mut unmerged, &mut unmerged_bytes);
        }
    }
    merge(&mut unmerged, &mut unmerged_bytes);
}

fn answer(decision: &Decision) -> Response {
    decision.log();
    let status = StatusCode::from_u16(decision.outcome.http_status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(decision)).into_response()
}

async fn post_summary(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(certified) = peer.certified else {
        tracing::warn!(peer = %peer.addr, "rejected: summary without a client certificate");
        return error(
            StatusCode::UNAUTHORIZED,
            "client_certificate_required",
            "summaries are taken only over mutual TLS with a sensor certificate",
        );
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            tracing::warn!(sensor = "-", sequence = "-", %status, "rejected: {}", rejection.body_text());
            let word = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "too_large"
            } else {
                "malformed"
            };
            return error(status, word, &rejection.body_text());
        }
    };
    let store = app.store.clone();
    let prepared =
        match tokio::task::spawn_blocking(move || ingest::prepare(&store, body.to_vec())).await {
            Ok(Ok(Ok(prepared))) if prepared.sensor_id() == certified => prepared,
            Ok(Ok(Ok(prepared))) => {
                // A stolen signing key is not enough, nor a stolen certificate.
                let reason = format!(
                    "the client certificate is {certified:?}'s, the summary {:?}'s",
                    prepared.sensor_id()
                );
                let decision = Decision::refused(
                    Outcome::SensorMismatch,
                    prepared.sensor_id(),
                    Some(prepared.sequence()),
                    reason,
                );
                return answer(&decision);
            }
            Ok(Ok(Err(decision))) => return answer(&decision),
            Ok(Err(e)) => return crate::api::server_error(Some(&e)),
            Err(e) => {
                tracing::error!("verifier task: {e}");
                return crate::api::server_error(None);
            }
        };
    let (reply, answered) = oneshot::channel();
    let writer = app.writer.clone();
    // A full queue blocks the sender: do that off the async workers.
    let queued = tokio::task::spawn_blocking(move || writer.send((prepared, reply)).is_ok()).await;
    if !matches!(queued, Ok(true)) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "error", "shutting down");
    }
    match answered.await {
        Ok(Ok(decision)) => answer(&decision),
        Ok(Err(_)) | Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error",
            "store write failed",
        ),
    }
}

/// What `/api/v1/health` answers.
#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    /// Summaries stored but not merged yet.
    unmerged: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cef: Option<forward::Status>,
}

/// Answers a sensor (client certificate) or an API client (token) only.
async fn health(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: axum::http::HeaderMap,
) -> Response {
    if peer.certified.is_none() {
        let known = match crate::api::caller(&app.store, &headers).await {
            Ok(caller) => caller.is_some(),
            Err(refused) => return *refused,
        };
        if !known {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a sensor certificate or an API token is required",
            );
        }
    }
    let (store, cef) = (app.store.clone(), app.cef.clone());
    let report = move || -> Result<Health> {
        Ok(Health {
            status: "ok",
            unmerged: store.unmerged()?,
            cef: cef.map(|cef| cef.status(&store)).transpose()?,
        })
    };
    match tokio::task::spawn_blocking(report).await {
        Ok(Ok(report)) => (StatusCode::OK, axum::Json(report)).into_response(),
        Ok(Err(e)) => crate::api::server_error(Some(&e)),
        Err(_) => crate::api::server_error(None),
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    conns: mpsc::Sender<(TlsStream<TcpStream>, Peer)>,
) {
    let permits = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(x) => x,
            Err(e) => {
                // e.g. out of file descriptors: wait rather than spin.
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let conns = conns.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let certified = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(crate::tls::common_name);
                    let peer = Peer {
                        addr: peer,
                        certified,
                    };
                    let _ = conns.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::warn!(%peer, "TLS handshake refused: {e}"),
                Err(_) => tracing::warn!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// Who is on the other end of a connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The client's address.
    pub addr: SocketAddr,
    /// The common name of its verified client certificate (a sensor id), if it presented one.
    pub certified: Option<String>,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Completed TLS connections, in the shape `axum::serve` takes.
pub struct TlsListener {
    conns: mpsc::Receiver<(TlsStream<TcpStream>, Peer)>,
    local: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.conns.recv().await {
            Some(conn) => conn,
            // The accept loop is gone: accept nothing more (shutdown ends serve).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(Peer {
            addr: self.local,
            certified: None,
        })
    }
}
