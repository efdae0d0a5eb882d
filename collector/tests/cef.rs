//! Findings forwarded as CEF over syslog to a real receiver on loopback (TCP
//! and TLS): the frames, the RFC 5424 header, the CEF fields and their
//! escaping; a receiver down at start, one that drops the connection, a
//! forwarder restarted, a triage change, a rescore that changes priorities.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use faro_collector::forward::{self, Forwarder, Receiver, Settings};
use faro_collector::store::{Store, params};
use faro_collector::triage::{self, TriageChange};
use faro_collector::{certs, ingest, rescore, sample, tls};
use faro_protocols::uplink::{fingerprint, generate_key, sign, verifying_key_to_pem};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const FINDINGS: usize = 20;
const TITLE: &str = "Write | to \\ PLC = bad\nreally";

/// A store holding `FINDINGS` findings of sensor s1 at plant-a, the first
/// with pipes, backslashes, equals signs and a line break in its text.
fn store(dir: &Path) -> Arc<Store> {
    let store = common::open(&dir.join("data"));
    let key = generate_key();
    store
        .enroll(
            "s1",
            &verifying_key_to_pem(&key.verifying_key()).unwrap(),
            Some("plant-a"),
            false,
        )
        .unwrap();
    let mut summary = sample::summary("s1", "plant-a", 1, 10, 20, FINDINGS);
    let odd = &mut summary.findings[0];
    odd.title = TITLE.to_owned();
    odd.values = vec!["a=b".to_owned(), "c\\d".to_owned()];
    odd.sample_flow = Some("x|y".to_owned());
    let jws = sign(
        &serde_json::to_vec(&summary).unwrap(),
        &key,
        &fingerprint(&key.verifying_key()),
    );
    let decision = ingest::ingest(&store, jws.into_bytes()).unwrap();
    assert_eq!(decision.outcome, ingest::Outcome::Stored);
    Arc::new(store)
}

fn settings(receiver: Receiver) -> Settings {
    let mut s = Settings::new(receiver, 20);
    s.batch = 7;
    s.poll = Duration::from_millis(100);
    s.backoff_min = Duration::from_millis(50);
    s.backoff_max = Duration::from_millis(400);
    s
}

/// One octet-counted frame (`LEN SP MSG`), or `None` at the end of the stream.
fn read_frame(r: &mut impl BufRead) -> Option<String> {
    let mut len = Vec::new();
    if r.read_until(b' ', &mut len).ok()? == 0 {
        return None;
    }
    assert_eq!(len.pop(), Some(b' '), "a frame must start with LEN SP");
    let len = String::from_utf8(len).unwrap();
    assert!(
        !len.is_empty() && !len.starts_with('0') && len.bytes().all(|b| b.is_ascii_digit()),
        "LEN {len:?}"
    );
    let mut msg = vec![0; len.parse().unwrap()];
    r.read_exact(&mut msg).ok()?;
    Some(String::from_utf8(msg).unwrap())
}

/// A syslog receiver on `listener`: every message it takes goes to the
/// channel; each connection is dropped after `close_after` messages when given.
fn receive(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    close_after: Option<usize>,
) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (tx, tls) = (tx.clone(), tls.clone());
            std::thread::spawn(move || {
                let stream: Box<dyn Read + Send> = match tls {
                    Some(config) => Box::new(StreamOwned::new(
                        ServerConnection::new(config).unwrap(),
                        stream,
                    )),
                    None => Box::new(stream),
                };
                let mut reader = BufReader::new(stream);
                let mut n = 0;
                while let Some(msg) = read_frame(&mut reader) {
                    if tx.send(msg).is_err() {
                        return;
                    }
                    n += 1;
                    if Some(n) == close_after {
                        return;
                    }
                }
            });
        }
    });
    rx
}

/// A receiver on a free loopback port.
fn listen(
    tls: Option<Arc<ServerConfig>>,
    close_after: Option<usize>,
) -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        listener.local_addr().unwrap(),
        receive(listener, tls, close_after),
    )
}

/// `n` messages, failing after 30 s.
fn take(rx: &mpsc::Receiver<String>, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut out = Vec::new();
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(m) => out.push(m),
            Err(_) => panic!("{} of {n} messages arrived", out.len()),
        }
    }
    out
}

/// Whatever else arrives within `wait`.
fn more(rx: &mpsc::Receiver<String>, wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    while let Ok(m) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        out.push(m);
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(c @ ('\\' | '=' | '|')) => out.push(c),
            other => panic!("bad escape \\{other:?} in {s:?}"),
        }
    }
    out
}

/// The CEF header fields (unescaped) and extension pairs of a message.
struct Cef {
    header: Vec<String>,
    ext: BTreeMap<String, String>,
}

/// An RFC 5424 message's header fields and its CEF event.
struct Message {
    pri: u16,
    timestamp: String,
    hostname: String,
    app: String,
    procid: String,
    msgid: String,
    cef: Cef,
}

fn parse(msg: &str) -> Message {
    let parts: Vec<&str> = msg.splitn(8, ' ').collect();
    assert_eq!(parts.len(), 8, "{msg}");
    let pri_version = parts[0];
    assert!(
        pri_version.starts_with('<') && pri_version.ends_with(">1"),
        "{msg}"
    );
    let pri = pri_version[1..pri_version.len() - 2].parse().unwrap();
    assert_eq!(parts[6], "-", "no structured data: {msg}");
    for field in &parts[1..6] {
        assert!(
            !field.is_empty() && field.bytes().all(|b| b.is_ascii_graphic()),
            "{field:?}"
        );
    }
    Message {
        pri,
        timestamp: parts[1].to_owned(),
        hostname: parts[2].to_owned(),
        app: parts[3].to_owned(),
        procid: parts[4].to_owned(),
        msgid: parts[5].to_owned(),
        cef: parse_cef(parts[7]),
    }
}

fn parse_cef(event: &str) -> Cef {
    // Seven unescaped pipes end the header; the extension may hold more.
    let mut header = Vec::new();
    let mut field = String::new();
    let mut rest = "";
    let mut chars = event.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                field.push(c);
                field.push(chars.next().unwrap().1);
            }
            '|' => {
                header.push(unescape(&field));
                field.clear();
                if header.len() == 7 {
                    rest = &event[i + 1..];
                    break;
                }
            }
            c => {
                assert!(c != '\n' && c != '\r', "line break in the header: {event}");
                field.push(c);
            }
        }
    }
    assert_eq!(header.len(), 7, "{event}");
    assert_eq!(header[0], "CEF:0");
    // Each unescaped '=' ends a key: the word before it.
    let bytes = rest.as_bytes();
    let mut equals = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' => {
                equals.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    let mut ext = BTreeMap::new();
    for (k, &eq) in equals.iter().enumerate() {
        let key = &rest[rest[..eq].rfind(' ').map_or(0, |p| p + 1)..eq];
        assert!(
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric()),
            "key {key:?} in {rest}"
        );
        let end = equals
            .get(k + 1)
            .map_or(rest.len(), |&next| rest[..next].rfind(' ').unwrap());
        let value = &rest[eq + 1..end];
        assert!(!value.contains(['\n', '\r']), "raw line break in {rest}");
        assert!(
            ext.insert(key.to_owned(), unescape(value)).is_none(),
            "{key} twice"
        );
    }
    Cef { header, ext }
}

/// Checks every message against the store's findings; returns them by finding id.
fn check(messages: &[String]) -> BTreeMap<i64, Message> {
    let mut by_id = BTreeMap::new();
    for raw in messages {
        let m = parse(raw);
        // local4 × 8 + error: the sample's findings are all high.
        assert_eq!(m.pri, 20 * 8 + 3);
        assert_eq!(m.app, "faro-collector");
        assert_eq!(m.msgid, "finding");
        assert_eq!(m.procid, std::process::id().to_string());
        assert!(!m.hostname.is_empty());
        let c = &m.cef;
        assert_eq!(
            c.header[1..4],
            ["Faro", "faro-collector", env!("CARGO_PKG_VERSION")]
        );
        assert!(c.header[4].starts_with("modbus.write."), "{raw}");
        assert_eq!(c.header[6], "8");
        let e = &c.ext;
        let rt: u64 = e["rt"].parse().unwrap();
        assert_eq!(faro_collector::cef::epoch_ms(&m.timestamp), Some(rt));
        assert_eq!(e["deviceExternalId"], "s1");
        assert_eq!(e["cs1"], "plant-a");
        assert_eq!(e["cs1Label"], "site");
        assert_eq!(e["cs3"], "unauthenticated_control");
        assert!(e["cs4"] == "modbus" || e["cs4"] == "s7comm", "{raw}");
        assert_eq!(e["cs5"], "T0836 T0855");
        assert_eq!(e["cnt"], "3");
        assert_eq!(e["start"], "1768032000000");
        assert!(e.contains_key("end") && e.contains_key("dst") && e.contains_key("cn1"));
        if e.contains_key("src") {
            let port = if e["cs4"] == "modbus" { "502" } else { "102" };
            assert_eq!(e["dpt"], port, "{raw}");
        }
        let id: i64 = e["externalId"].parse().unwrap();
        by_id.insert(id, m);
    }
    by_id
}

fn start_forwarder(store: &Arc<Store>, receiver: Receiver) -> Forwarder {
    Forwarder::spawn(store.clone(), settings(receiver)).unwrap()
}

fn tcp(addr: SocketAddr) -> Receiver {
    Receiver::parse(&format!("tcp://{addr}"), None, None).unwrap()
}

#[test]
fn every_finding_arrives_as_rfc5424_cef_with_its_text_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let (addr, rx) = listen(None, None);
    let forwarder = start_forwarder(&store, tcp(addr));
    let messages = take(&rx, FINDINGS);
    let by_id = check(&messages);
    assert_eq!(by_id.len(), FINDINGS, "each finding once");

    let odd: Vec<&Message> = by_id
        .values()
        .filter(|m| m.cef.header[5].starts_with("Write |"))
        .collect();
    assert_eq!(odd.len(), 1);
    let odd = &odd[0].cef;
    // The header may not hold a line break: it became a space.
    assert_eq!(odd.header[5], TITLE.replace('\n', " "));
    assert_eq!(odd.ext["msg"], "flow x|y; values a=b, c\\d");
    let others = by_id
        .values()
        .find(|m| m.cef.header[5] != odd.header[5])
        .unwrap();
    assert_eq!(others.cef.header[5], "Modbus write to a controller");

    assert!(more(&rx, Duration::from_millis(1500)).is_empty());
    assert_eq!(forwarder.stop(), FINDINGS as u64);
}

#[test]
fn a_tls_receiver_is_verified_against_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    certs::generate(&d.join("certs"), &["siem-client".to_owned()]).unwrap();
    certs::generate(&d.join("other"), &[]).unwrap();
    let c = |n: &str| d.join("certs").join(n);
    let server =
        tls::server_config(&c("collector.pem"), &c("collector.key"), &c("ca.pem")).unwrap();
    let store = store(d);
    let (addr, rx) = listen(Some(server), None);
    let url = format!("tls://localhost:{}", addr.port());

    // A receiver whose certificate does not chain to --cef-ca gets nothing.
    let wrong_ca = d.join("other").join("ca.pem");
    let wrong = Receiver::parse(&url, Some(&wrong_ca), None).unwrap();
    let name = settings(wrong.clone()).cursor_name();
    let refused = start_forwarder(&store, wrong);
    assert!(more(&rx, Duration::from_millis(1500)).is_empty());
    assert_eq!(refused.stop(), 0);
    assert_eq!(
        forward::load_cursor(&store, &name).unwrap(),
        Default::default()
    );

    let identity = (c("siem-client.pem"), c("siem-client.key"));
    let good = Receiver::parse(
        &url,
        Some(&c("ca.pem")),
        Some((identity.0.as_path(), identity.1.as_path())),
    )
    .unwrap();
    let forwarder = start_forwarder(&store, good);
    let by_id = check(&take(&rx, FINDINGS));
    assert_eq!(by_id.len(), FINDINGS);
    assert_eq!(forwarder.stop(), FINDINGS as u64);
}

#[test]
fn a_receiver_down_at_start_gets_everything_once_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let forwarder = start_forwarder(&store, tcp(addr));
    std::thread::sleep(Duration::from_millis(1500));
    let name = settings(tcp(addr)).cursor_name();
    assert_eq!(
        forward::load_cursor(&store, &name).unwrap(),
        Default::default(),
        "nothing sent, nothing skipped"
    );
    let rx = receive(TcpListener::bind(addr).unwrap(), None, None);
    let by_id = check(&take(&rx, FINDINGS));
    assert_eq!(by_id.len(), FINDINGS);
    assert!(more(&rx, Duration::from_millis(1000)).is_empty());
    assert_eq!(forwarder.stop(), FINDINGS as u64);
}

#[test]
fn a_restarted_forwarder_resumes_and_sends_triage_changes_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let (addr, rx) = listen(None, None);
    let first = start_forwarder(&store, tcp(addr));
    let ids: BTreeSet<i64> = check(&take(&rx, FINDINGS)).into_keys().collect();
    assert_eq!(first.stop(), FINDINGS as u64);

    let second = start_forwarder(&store, tcp(addr));
    assert!(
        more(&rx, Duration::from_millis(1500)).is_empty(),
        "the stored cursor: nothing sent again"
    );
    let id = *ids.iter().nth(3).unwrap();
    let change = TriageChange {
        status: Some("acknowledged".to_owned()),
        owner: Some("night shift".to_owned()),
        ..TriageChange::default()
    };
    assert_eq!(triage::apply(&store, id, &change, "analyst").unwrap(), 2);
    let again = check(&take(&rx, 1));
    let e = &again[&id].cef.ext;
    assert_eq!(e["cs2"], "acknowledged");
    assert_eq!(e["cs6"], "night shift");
    assert_eq!(e["suser"], "analyst");
    assert!(more(&rx, Duration::from_millis(1000)).is_empty());
    assert_eq!(second.stop(), 1);
}

/// The stored priority of each finding, by id.
fn priorities(store: &Store) -> BTreeMap<i64, i64> {
    store
        .read(|db| {
            db.query("SELECT id, priority FROM findings", params![])?
                .into_iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect()
        })
        .unwrap()
}

#[test]
fn findings_sent_before_scoring_are_sent_again_with_their_priority() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let (addr, rx) = listen(None, None);
    let forwarder = start_forwarder(&store, tcp(addr));
    let unscored = check(&take(&rx, FINDINGS));
    assert!(unscored.values().all(|m| m.cef.ext["cn1"] == "0"));

    rescore::rescore_all(&store).unwrap();
    let scored: BTreeMap<i64, i64> = priorities(&store)
        .into_iter()
        .filter(|&(_, p)| p != 0)
        .collect();
    assert!(!scored.is_empty(), "the sample's writes carry exposure");
    let again = check(&take(&rx, scored.len()));
    let sent: BTreeMap<i64, i64> = again
        .iter()
        .map(|(&id, m)| (id, m.cef.ext["cn1"].parse().unwrap()))
        .collect();
    assert_eq!(sent, scored);

    rescore::rescore_all(&store).unwrap();
    assert!(
        more(&rx, Duration::from_millis(1500)).is_empty(),
        "an unchanged priority is not a change"
    );
    assert_eq!(forwarder.stop(), (FINDINGS + scored.len()) as u64);
}

#[test]
fn a_receiver_dropping_the_connection_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    // The receiver hangs up once it has every finding, as one closing idle
    // connections would. (A receiver hanging up in the middle of a stream can
    // lose what the kernel had already taken: syslog has no acknowledgement.)
    let (addr, rx) = listen(None, Some(FINDINGS));
    let forwarder = start_forwarder(&store, tcp(addr));
    let by_id = check(&take(&rx, FINDINGS));
    assert_eq!(by_id.len(), FINDINGS);

    // An idle connection dropped meanwhile is noticed before the next batch.
    let id = *by_id.keys().next().unwrap();
    let change = TriageChange {
        status: Some("resolved".to_owned()),
        ..TriageChange::default()
    };
    triage::apply(&store, id, &change, "analyst").unwrap();
    assert_eq!(check(&take(&rx, 1))[&id].cef.ext["cs2"], "resolved");
    assert_eq!(forwarder.stop(), FINDINGS as u64 + 1);
}
