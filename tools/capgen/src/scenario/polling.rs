//! `polling`: polling for benchmarks. Many clients and servers, `flows` concurrent sessions
//! served round-robin (one time slot per session per poll period), each request and each
//! response one segment, a pure ACK from the client every few exchanges. Sessions are Modbus/TCP
//! (mostly FC 3 and 4), except `s7_share` percent of them, spread evenly, which are S7comm HMI
//! sessions to the same servers on TCP 102: COTP CR/CC, Setup communication, then Read Var Jobs
//! on data blocks answered by Ack_Data; and `dnp3_share` percent, spread evenly too, which are
//! DNP3 master-outstation sessions to the same servers on TCP 20000: event polls (classes 1-3)
//! and every tenth round an integrity poll (classes 1-3 and 0), each request and each response
//! one link frame in one segment; and `opcua_share` percent, spread evenly too, which are OPC UA
//! client sessions to the same servers on TCP 4840: HEL/ACK, OPN on a None channel,
//! CreateSession and ActivateSession (anonymous) once, then Reads of two to four tags answered
//! with their values (100 to 200 bytes each way), each request and each response one chunk in
//! one segment. Exactly `packets` packets: the capture simply ends when the budget is spent.
//! With no S7, DNP3 or OPC UA share the capture is what pure Modbus polling always was.
//!
//! With `read_only` nothing writes: the Modbus sessions draw only from the reads of the mix
//! (FC 1 to 4; the S7, DNP3 and OPC UA sessions read only anyway). Without it the capture is
//! what it always was for the same arguments.
//!
//! With `opcua_secure` the OPC UA sessions open their channel with Basic256Sha256 in mode
//! SignAndEncrypt: after HEL and ACK, the OPN request carries the CA-issued chain
//! `certs/client.der` + `certs/ca.der` and the thumbprint of the server's certificate, the OPN
//! response the same chain (test traffic: no self-signed certificate on the wire) and the
//! client's thumbprint; the OPN bodies and every MSG after its symmetric header are random
//! bytes of the sizes the signed and encrypted messages would have (CreateSession,
//! ActivateSession, then the Reads; the CreateSession chunks span two or three segments). No
//! None channel, no session service in clear. Without it the capture is what it always was.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result, bail};
use faro_protocols::dnp3::app::AppControl;
use faro_protocols::modbus::FunctionCode;
use faro_protocols::s7::comm::TransportSize;
use faro_protocols::s7::cotp::Connection;

use crate::capture::{PacketSink, SECOND, Wire};
use crate::dnp3::{self, Apdu, Outstation};
use crate::link::{Host, LinkType};
use crate::modbus::{Limits, Plc, Request};
use crate::opcua::{
    self, Application, Endpoint, Identity, MessageType, Mode, Node, TokenType, Value, body, id,
};
use crate::rng::Rng;
use crate::s7;
use crate::scenario::{s7 as s7_plant, sample};
use crate::session::{Carrier, Dnp3Session, ModbusSession, OpcUaSession, S7Session, SecureChannel};
use crate::tcp::{End, Side, TcpFlow};

/// First client address, 10.10.0.1; clients count up from here, 250 per /24.
const CLIENT_BASE: u32 = 0x0A0A_0000;
/// First server address, 10.200.0.1.
const SERVER_BASE: u32 = 0x0AC8_0000;
/// Last address either range may use (10.255.255.250).
const LAST_ADDRESS: u32 = 0x0AFF_FFFF;
/// Sessions per client and per server.
const FLOWS_PER_CLIENT: u32 = 8;
const FLOWS_PER_SERVER: u32 = 20;
/// Client OUI (Dell) and server OUIs (Schneider Electric, Siemens, WAGO, Phoenix Contact).
const CLIENT_OUI: [u8; 3] = [0x00, 0x14, 0x22];
const SERVER_OUIS: [[u8; 3]; 4] = [
    [0x00, 0x80, 0xF4],
    [0x00, 0x0E, 0x8C],
    [0x00, 0x30, 0xDE],
    [0x00, 0xA0, 0x45],
];
/// Small process images keep a million-flow run in memory.
const LIMITS: Limits = Limits {
    coils: 512,
    discrete_inputs: 512,
    holding_registers: 512,
    input_registers: 256,
};
/// Function mix (weights in percent): the reads first, then the writes.
const MIX: [(FunctionCode, u32); 6] = [
    (FunctionCode::READ_HOLDING_REGISTERS, 46),
    (FunctionCode::READ_INPUT_REGISTERS, 34),
    (FunctionCode::READ_COILS, 6),
    (FunctionCode::READ_DISCRETE_INPUTS, 6),
    (FunctionCode::WRITE_SINGLE_REGISTER, 4),
    (FunctionCode::WRITE_MULTIPLE_REGISTERS, 4),
];
/// The reads of [`MIX`]: what a read-only session draws from.
const READS: usize = 4;

/// Register read sizes: many short reads, some long block reads.
const SHORT_READ: (u16, u16) = (1, 20);
const BLOCK_READ: (u16, u16) = (20, 125);

/// Address of the `index`-th host of a range: 250 hosts per /24 (.1 to .250).
fn address(base: u32, index: u32) -> Result<IpAddr> {
    let offset = (index / 250)
        .checked_mul(256)
        .and_then(|o| o.checked_add(index % 250 + 1))
        .context("too many hosts")?;
    let addr = base.checked_add(offset).context("too many hosts")?;
    if addr > LAST_ADDRESS {
        bail!("too many hosts for the 10.0.0.0/8 plan");
    }
    Ok(IpAddr::V4(Ipv4Addr::from(addr)))
}

fn mac(oui: [u8; 3], index: u32) -> [u8; 6] {
    let [_, a, b, c] = index.to_be_bytes();
    let [x, y, z] = oui;
    [x, y, z, a, b, c]
}

/// A sink that keeps the first `remaining` packets and drops the rest.
struct Budget<'s, S> {
    inner: &'s mut S,
    remaining: u64,
}

impl<S: PacketSink> PacketSink for Budget<'_, S> {
    fn record(&mut self, at: u64, frame: &[u8]) -> Result<()> {
        if self.remaining == 0 {
            return Ok(());
        }
        self.remaining -= 1;
        self.inner.record(at, frame)
    }
}

/// Calling TSAP of the S7 sessions (OP, rack 0 slot 0) and called TSAP (rack 0 slot 2).
const S7_CALLING_TSAP: [u8; 2] = [0x02, 0x00];
const S7_CALLED_TSAP: [u8; 2] = [0x01, 0x02];
/// TPDU size code of the S7 sessions: 1024 bytes.
const S7_TPDU_SIZE: u8 = 0x0A;
const S7_SETUP: s7::Request = s7::Request::SetupCommunication {
    max_amq: 3,
    pdu_length: 240,
};

/// Points of the polled DNP3 outstations: an integrity response fits one link frame.
const DNP3_BINARIES: usize = 8;
const DNP3_ANALOGS: usize = 8;
/// Chance per poll that one of an outstation's binary inputs changes (an event).
const DNP3_EVENT_PERCENT: u64 = 10;
/// Every this many rounds a DNP3 session polls for class 0 too.
const DNP3_INTEGRITY_ROUNDS: u64 = 10;
/// Link address of the first server's outstation.
const FIRST_OUTSTATION_ADDRESS: u32 = 10;

/// The OPC UA server every polled server runs, and its one endpoint (None, anonymous).
const OPCUA_SERVER: Application<'static> = Application {
    uri: "urn:faro:bench:plc",
    product_uri: "urn:faro:products:plc-ua",
    name: "PLC OPC UA Server",
    kind: 0,
    discovery_urls: &[],
};
const OPCUA_CLIENT: Application<'static> = Application {
    uri: "urn:faro:bench:hmi",
    product_uri: "urn:faro:products:hmi",
    name: "Bench HMI",
    kind: 1,
    discovery_urls: &[],
};
/// The endpoint URL all the polling sessions name (the servers answer on any address).
const OPCUA_URL: &str = "opc.tcp://plc:4840";
const OPCUA_ENDPOINTS: [Endpoint<'static>; 1] = [Endpoint {
    url: OPCUA_URL,
    server: OPCUA_SERVER,
    certificate: None,
    mode: Mode::None,
    policy: opcua::POLICY_NONE,
    tokens: &[TokenType::Anonymous],
    security_level: 0,
}];
/// Tags an OPC UA session polls: numeric ids in namespace 2.
const OPCUA_FIRST_TAG: u32 = 1_000;
const OPCUA_TAGS: u32 = 64;

/// An OPC UA client session and the tags it polls.
struct OpcUaPoller {
    session: OpcUaSession,
    tags: Vec<Node<'static>>,
}

/// A DNP3 master-outstation session and the sequence of the master's next request.
struct Dnp3Association {
    session: Dnp3Session,
    sequence: u8,
}

enum Session {
    Modbus(ModbusSession),
    S7(S7Session),
    Dnp3(Box<Dnp3Association>),
    OpcUa(Box<OpcUaPoller>),
}

impl Session {
    fn flow(&mut self) -> Result<&mut TcpFlow> {
        match self {
            Session::Modbus(session) => Ok(&mut session.flow),
            Session::S7(session) => Ok(&mut session.flow),
            Session::Dnp3(association) => association.session.tcp().context("DNP3 over TCP"),
            Session::OpcUa(poller) => Ok(&mut poller.session.flow),
        }
    }
}

/// Percentages of the sessions that speak S7comm, DNP3 and OPC UA instead of Modbus (at most
/// 100 together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shares {
    pub(crate) s7: u8,
    pub(crate) dnp3: u8,
    pub(crate) opcua: u8,
}

/// How the sessions are made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) shares: Shares,
    /// Nothing writes: the Modbus sessions send only reads (FC 1 to 4). The S7, DNP3 and OPC UA
    /// sessions only read anyway (Read Var, class polls, Read).
    pub(crate) read_only: bool,
    /// The OPC UA sessions open Basic256Sha256 SignAndEncrypt channels: everything after HEL
    /// and ACK and the OPNs' security headers is ciphertext.
    pub(crate) opcua_secure: bool,
}

impl Shares {
    /// Percentage of the sessions that are not Modbus.
    fn special(self) -> u64 {
        u64::from(self.s7) + u64::from(self.dnp3) + u64::from(self.opcua)
    }
}

/// What a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Modbus,
    S7,
    Dnp3,
    OpcUa,
}

/// True for the `i`-th of `whole` items when `share` of every `whole` are picked, spread evenly.
fn picked(i: u64, share: u64, whole: u64) -> bool {
    (i + 1) * share / whole != i * share / whole
}

/// What flow `f` speaks: `s7 + dnp3 + opcua` percent of the flows, spread evenly, are not
/// Modbus; of those, S7, DNP3 and OPC UA in proportion to their shares, spread evenly too.
/// Without a DNP3 or OPC UA share the S7 flows are the ones S7 always had, and without an OPC
/// UA share the DNP3 flows the ones DNP3 always had.
fn kind(f: u32, shares: Shares) -> Kind {
    let special = shares.special();
    let f = u64::from(f);
    if special == 0 || !picked(f, special, 100) {
        return Kind::Modbus;
    }
    // Flows before `f` that are not Modbus.
    let k = f * special / 100;
    let s7 = u64::from(shares.s7);
    if picked(k, s7, special) {
        return Kind::S7;
    }
    // Flows before `f` that are neither Modbus nor S7.
    let rest = special - s7;
    let k = k - k * s7 / special;
    if picked(k, u64::from(shares.dnp3), rest) {
        Kind::Dnp3
    } else {
        Kind::OpcUa
    }
}

struct Poller {
    session: Session,
    server: usize,
    /// Exchanges since the last pure ACK, and how many to wait for the next one.
    since_ack: u32,
    ack_every: u32,
}

/// The next Modbus request, from [`MIX`], or from its reads only when `read_only`.
fn next_request(rng: &mut Rng, read_only: bool) -> Request {
    let mix = if read_only { &MIX[..READS] } else { &MIX[..] };
    let function = rng
        .weighted(mix)
        .unwrap_or(FunctionCode::READ_HOLDING_REGISTERS);
    match function {
        FunctionCode::WRITE_SINGLE_REGISTER => Request::WriteSingleRegister {
            address: rng.range_u16(0, LIMITS.holding_registers - 1),
            value: rng.range_u16(0, 1000),
        },
        FunctionCode::WRITE_MULTIPLE_REGISTERS => {
            let quantity = rng.range_u16(2, 10);
            Request::WriteMultipleRegisters {
                start: rng.range_u16(0, LIMITS.holding_registers - quantity),
                values: (0..quantity).map(|_| rng.range_u16(0, 1000)).collect(),
            }
        }
        FunctionCode::READ_COILS | FunctionCode::READ_DISCRETE_INPUTS => {
            let quantity = rng.range_u16(8, 128);
            Request::Read {
                function,
                start: rng.range_u16(0, LIMITS.coils - quantity),
                quantity,
            }
        }
        _ => {
            let (low, high) = rng
                .weighted(&[(SHORT_READ, 60), (BLOCK_READ, 40)])
                .unwrap_or(SHORT_READ);
            let quantity = rng.range_u16(low, high);
            let table = if function == FunctionCode::READ_INPUT_REGISTERS {
                LIMITS.input_registers
            } else {
                LIMITS.holding_registers
            };
            Request::Read {
                function,
                start: rng.range_u16(0, table - quantity),
                quantity,
            }
        }
    }
}

/// A Read Var Job as an HMI screen sends it: one to four tags of the CPU's data blocks.
fn next_s7_request(rng: &mut Rng) -> s7::Request {
    use TransportSize as T;
    let items = (0..rng.range(1, 4))
        .map(|_| match rng.below(4) {
            0 => s7::db_item(
                10,
                u32::from(rng.range_u16(0, 48)) * 4,
                T::REAL,
                rng.range_u16(1, 16),
            ),
            1 => s7::db_item(
                12,
                u32::from(rng.range_u16(0, 32)) * 2,
                T::INT,
                rng.range_u16(1, 32),
            ),
            2 => s7::db_bit(
                11,
                u32::from(rng.range_u16(0, 31)),
                u8::try_from(rng.below(8)).unwrap_or(0),
            ),
            _ => s7::db_item(
                1,
                u32::from(rng.range_u16(0, 56)) * 4,
                T::REAL,
                rng.range_u16(1, 8),
            ),
        })
        .collect();
    s7::Request::ReadVar(items)
}

/// One S7 exchange in a poll slot: the client's PDU at `at`, the CPU's answer at `answer_at`;
/// in the first slot after the handshake the COTP connection instead.
fn s7_exchange<S: PacketSink>(
    wire: &mut Wire<S>,
    session: &mut S7Session,
    plc: &mut s7::Plc,
    request: Option<&s7::Request>,
    at: u64,
    answer_at: u64,
) -> Result<()> {
    match request {
        None => {
            let request = Connection {
                dst_ref: 0,
                src_ref: session.flow.client.port,
                class: 0,
                options: 0,
                calling_tsap: Some(&S7_CALLING_TSAP),
                called_tsap: Some(&S7_CALLED_TSAP),
                tpdu_size: Some(S7_TPDU_SIZE),
            };
            session.queue_connection(Side::Client, &request)?;
            let confirm = Connection {
                dst_ref: request.src_ref,
                src_ref: request.src_ref.rotate_left(8) | 1,
                ..request
            };
            session.queue_connection(Side::Server, &confirm)?;
        }
        Some(request) => {
            let pdu_ref = session.next_pdu_ref(Side::Client);
            session.queue_pdu(Side::Client, None, |out| request.encode(out, pdu_ref))?;
            session.queue_pdu(Side::Server, None, |out| {
                plc.answer(request, pdu_ref, out).map(|()| None)
            })?;
        }
    }
    session.send(wire, at, Side::Client)?;
    session.send(wire, answer_at, Side::Server)
}

/// One DNP3 poll in a poll slot: the master's request at `at`, the outstation's response at
/// `answer_at`, each one link frame in one segment.
fn dnp3_exchange<S: PacketSink>(
    wire: &mut Wire<S>,
    association: &mut Dnp3Association,
    station: &mut Outstation,
    request: &dnp3::Request,
    at: u64,
    answer_at: u64,
    apdu: &mut Apdu,
) -> Result<()> {
    let sequence = association.sequence;
    association.sequence = (sequence + 1) & AppControl::SEQUENCE;
    station.wander(at, 0..DNP3_BINARIES, DNP3_EVENT_PERCENT);
    request.encode(sequence, apdu)?;
    association.session.queue(Side::Client, apdu, false)?;
    association.session.send(wire, at, Side::Client)?;
    station.answer(request, sequence, answer_at, apdu)?;
    association.session.queue(Side::Server, apdu, false)?;
    association.session.send(wire, answer_at, Side::Server)
}

/// One OPC UA exchange in a poll slot: the client's message at `at`, the server's answer at
/// `answer_at`. `round` 1 is HEL/ACK, 2 the OPN, 3 CreateSession, 4 ActivateSession; every
/// later round a Read of the session's tags.
fn opcua_exchange<S: PacketSink>(
    wire: &mut Wire<S>,
    poller: &mut OpcUaPoller,
    round: u64,
    rng: &mut Rng,
    at: u64,
    answer_at: u64,
) -> Result<()> {
    let session = &mut poller.session;
    match round {
        1 => {
            session.hello(wire, at, OPCUA_URL, 65_535)?;
            session.acknowledge(wire, answer_at, 65_535)?;
        }
        2 => {
            session.open_request(wire, at, Mode::None)?;
            let channel = rng.next_u32() | 1;
            session.open_response(wire, answer_at, channel, 1)?;
        }
        3 => {
            let mut nonces = [0u8; 64];
            rng.fill(&mut nonces);
            let (client_nonce, server_nonce) = nonces.split_at(32);
            let mut token = [0u8; 16];
            rng.fill(&mut token);
            let request = body::CreateSession {
                client: OPCUA_CLIENT,
                server_uri: OPCUA_SERVER.uri,
                endpoint_url: OPCUA_URL,
                session_name: OPCUA_CLIENT.name,
                nonce: Some(client_nonce),
                certificate: None,
            };
            session.request(wire, at, id::CREATE_SESSION_REQUEST, |out| {
                body::create_session_request(out, &request);
            })?;
            session.respond(wire, answer_at, opcua::status::GOOD, |out| {
                body::create_session_response(
                    out,
                    Node::Numeric(1, u32::from(rng.next_u16())),
                    Node::Opaque(0, &token),
                    server_nonce,
                    None,
                    &OPCUA_ENDPOINTS,
                );
            })?;
            session.set_authentication_token(&token);
        }
        4 => {
            session.activate_session(wire, at, &Identity::Anonymous)?;
            let mut nonce = [0u8; 32];
            rng.fill(&mut nonce);
            session.respond(wire, answer_at, opcua::status::GOOD, |out| {
                body::activate_session_response(out, &nonce);
            })?;
        }
        _ => {
            let tags = &poller.tags;
            session.request(wire, at, id::READ_REQUEST, |out| {
                body::read_request(out, tags);
            })?;
            let values: Vec<Value<'_>> = tags
                .iter()
                .map(|_| match rng.below(3) {
                    0 => Value::Double(rng.below(10_000) as f64 / 100.0),
                    1 => Value::Int32(rng.below(5_000) as i32),
                    _ => Value::Boolean(rng.chance(50)),
                })
                .collect();
            session.respond(wire, answer_at, opcua::status::GOOD, |out| {
                body::read_response(out, &values, answer_at);
            })?;
        }
    }
    Ok(())
}

/// Bytes a Basic256Sha256 SignAndEncrypt chunk carries after its symmetric header for `plain`
/// bytes of message: the sequence header, the message, at least one byte of padding and the
/// HMAC-SHA256 signature, encrypted in AES blocks of 16 bytes.
fn sealed(plain: u64) -> usize {
    let len = 8 + plain + 1 + 32;
    len.div_ceil(16) as usize * 16
}

/// One exchange on an encrypted OPC UA channel (`--opcua-secure`): round 1 is HEL/ACK, 2 the
/// OPNs (the chain `certs/client.der` + `certs/ca.der` both ways, 512 bytes of RSA ciphertext
/// each), then opaque MSG chunks of the sizes CreateSession, ActivateSession and the Reads
/// would take once signed and encrypted.
fn opcua_secure_exchange<S: PacketSink>(
    wire: &mut Wire<S>,
    poller: &mut OpcUaPoller,
    (round, secure): (u64, &SecureChannel),
    rng: &mut Rng,
    at: u64,
    answer_at: u64,
) -> Result<()> {
    let session = &mut poller.session;
    if round == 1 {
        session.hello(wire, at, OPCUA_URL, 65_535)?;
        session.acknowledge(wire, answer_at, 65_535)?;
        return Ok(());
    }
    if round == 2 {
        session.open_secure(wire, at, Side::Client, secure, 0, 512, rng)?;
        let channel = rng.next_u32() | 1;
        session.open_secure(wire, answer_at, Side::Server, secure, channel, 512, rng)?;
        return Ok(());
    }
    // Plaintext sizes: CreateSession with the client's certificate, its response with the
    // server's and the endpoints; ActivateSession with the client's signature; Reads of two to
    // four tags.
    let tags = poller.tags.len() as u64;
    let (request, response) = match round {
        3 => (rng.range(1_900, 2_100), rng.range(2_600, 3_000)),
        4 => (rng.range(400, 480), rng.range(80, 120)),
        _ => (
            60 + 20 * tags + rng.below(8),
            40 + 16 * tags + rng.below(40),
        ),
    };
    let message = MessageType::Message;
    session.opaque(wire, at, Side::Client, message, sealed(request), rng)?;
    session.opaque(
        wire,
        answer_at,
        Side::Server,
        message,
        sealed(response),
        rng,
    )?;
    Ok(())
}

/// Writes exactly `packets` packets of polling over `flows` sessions into `sink`, the shares of
/// them S7, DNP3 and OPC UA, as `options` say.
pub(crate) fn generate<S: PacketSink>(
    sink: &mut S,
    packets: u64,
    flows: u32,
    options: Options,
    seed: u64,
) -> Result<()> {
    let shares = options.shares;
    // Test traffic: both ends of an encrypted channel send the CA-issued client chain.
    let secure = if options.opcua_secure {
        let chain = [opcua::CLIENT_CERTIFICATE, opcua::CA_CERTIFICATE];
        Some(SecureChannel::new(
            opcua::POLICY_BASIC256SHA256,
            Mode::SignAndEncrypt,
            &chain,
            &chain,
        )?)
    } else {
        None
    };
    if flows == 0 {
        bail!("at least one flow is needed");
    }
    if shares.special() > 100 {
        bail!("the S7, DNP3 and OPC UA shares add up to more than 100 percent");
    }
    let mut rng = Rng::new(seed);
    let clients = flows.div_ceil(FLOWS_PER_CLIENT);
    let servers = flows.div_ceil(FLOWS_PER_SERVER);
    let mut plcs = Vec::with_capacity(servers as usize);
    let mut server_hosts = Vec::with_capacity(servers as usize);
    for s in 0..servers {
        let oui = SERVER_OUIS
            .get(s as usize % SERVER_OUIS.len())
            .copied()
            .unwrap_or(CLIENT_OUI);
        server_hosts.push(Host::new(mac(oui, s), address(SERVER_BASE, s)?));
        plcs.push(Plc::new(
            sample::identity(s as usize),
            LIMITS,
            rng.fork(u64::from(s)),
        ));
    }
    // S7 CPUs, made for the servers some S7 session polls.
    let mut s7_plcs: Vec<Option<s7::Plc>> = (0..servers).map(|_| None).collect();
    // DNP3 outstations, likewise.
    let mut outstations: Vec<Option<Outstation>> = (0..servers).map(|_| None).collect();
    let mut pollers = Vec::with_capacity(flows as usize);
    for f in 0..flows {
        let client = f % clients;
        let server = (f / clients + f * 7) % servers;
        let client_host = Host::new(mac(CLIENT_OUI, client), address(CLIENT_BASE, client)?);
        let server_host = *server_hosts.get(server as usize).context("server index")?;
        // Distinct per client: each client's flows get consecutive ephemeral ports.
        let port = 49_152 + u16::try_from(f / clients % 16_384).context("client port")?;
        let kind = kind(f, shares);
        let server_port = match kind {
            Kind::Modbus => 502,
            Kind::S7 => s7_plant::ISO_TSAP_PORT,
            Kind::Dnp3 => dnp3::PORT,
            Kind::OpcUa => opcua::PORT,
        };
        let flow = TcpFlow::new(
            End::new(client_host, port, &mut rng),
            End::new(server_host, server_port, &mut rng).with_window(8192),
        );
        let unit_id = if server % 3 == 0 { 255 } else { 1 };
        let session = match kind {
            Kind::S7 => {
                let plc = s7_plcs.get_mut(server as usize).context("server index")?;
                if plc.is_none() {
                    *plc = Some(s7::Plc::new(
                        s7_plant::cpu(server as usize),
                        rng.fork(0x5700_0000 + u64::from(server)),
                    ));
                }
                Session::S7(S7Session::new(flow, rng.next_u16()))
            }
            Kind::Dnp3 => {
                let station = outstations
                    .get_mut(server as usize)
                    .context("server index")?;
                if station.is_none() {
                    *station = Some(Outstation::new(
                        DNP3_BINARIES,
                        DNP3_ANALOGS,
                        rng.fork(0xD300_0000 + u64::from(server)),
                    ));
                }
                let address = u16::try_from(server % 60_000 + FIRST_OUTSTATION_ADDRESS)
                    .context("outstation address")?;
                let session = Dnp3Session::new(Carrier::Tcp(flow), dnp3::MASTER_ADDRESS, address);
                Session::Dnp3(Box::new(Dnp3Association {
                    session,
                    sequence: rng.next_u16() as u8 & AppControl::SEQUENCE,
                }))
            }
            Kind::OpcUa => {
                let count = u32::try_from(rng.range(2, 4)).unwrap_or(2);
                let first = OPCUA_FIRST_TAG + rng.next_u32() % (OPCUA_TAGS - count);
                let tags = (first..first + count)
                    .map(|tag| Node::Numeric(2, tag))
                    .collect();
                Session::OpcUa(Box::new(OpcUaPoller {
                    session: OpcUaSession::new(flow),
                    tags,
                }))
            }
            Kind::Modbus => Session::Modbus(ModbusSession::new(flow, unit_id, rng.next_u16())),
        };
        pollers.push(Poller {
            session,
            server: server as usize,
            since_ack: 0,
            ack_every: u32::try_from(rng.range(3, 6)).unwrap_or(4),
        });
    }

    // One slot per session per period; everything of an exchange fits inside its slot.
    let period = SECOND.max(u64::from(flows) * 400);
    let slot = period / u64::from(flows);
    let mut wire = Wire::new(
        LinkType::Ethernet,
        Budget {
            inner: sink,
            remaining: packets,
        },
    );
    let mut requests = Vec::with_capacity(1);
    let mut apdu = Apdu::default();
    let mut round = 0u64;
    while wire.sink.remaining > 0 {
        for (i, poller) in pollers.iter_mut().enumerate() {
            if wire.sink.remaining == 0 {
                break;
            }
            let start = round * period + i as u64 * slot;
            let at = start + rng.below(slot / 8);
            if round == 0 {
                poller.session.flow()?.handshake(&mut wire, at, slot / 4)?;
                continue;
            }
            match &mut poller.session {
                Session::Modbus(session) => {
                    requests.clear();
                    requests.push(next_request(&mut rng, options.read_only));
                    let plc = plcs.get_mut(poller.server).context("server index")?;
                    session.encode_requests(&requests)?;
                    session.encode_responses(plc, &requests)?;
                    session
                        .flow
                        .send(&mut wire, at, Side::Client, &session.request)?;
                    let at = start + slot / 4 + rng.below(slot / 4);
                    session
                        .flow
                        .send(&mut wire, at, Side::Server, &session.response)?;
                }
                Session::S7(session) => {
                    let plc = s7_plcs
                        .get_mut(poller.server)
                        .and_then(Option::as_mut)
                        .context("S7 server index")?;
                    let request = match round {
                        1 => None,
                        2 => Some(S7_SETUP),
                        _ => Some(next_s7_request(&mut rng)),
                    };
                    let answer_at = start + slot / 4 + rng.below(slot / 4);
                    s7_exchange(&mut wire, session, plc, request.as_ref(), at, answer_at)?;
                }
                Session::Dnp3(association) => {
                    let station = outstations
                        .get_mut(poller.server)
                        .and_then(Option::as_mut)
                        .context("DNP3 server index")?;
                    let request = if round % DNP3_INTEGRITY_ROUNDS == 1 {
                        dnp3::INTEGRITY
                    } else {
                        dnp3::EVENTS
                    };
                    let answer_at = start + slot / 4 + rng.below(slot / 4);
                    dnp3_exchange(
                        &mut wire,
                        association,
                        station,
                        &request,
                        at,
                        answer_at,
                        &mut apdu,
                    )?;
                }
                Session::OpcUa(opcua_poller) => {
                    let answer_at = start + slot / 4 + rng.below(slot / 4);
                    match &secure {
                        Some(secure) => opcua_secure_exchange(
                            &mut wire,
                            opcua_poller,
                            (round, secure),
                            &mut rng,
                            at,
                            answer_at,
                        )?,
                        None => {
                            opcua_exchange(
                                &mut wire,
                                opcua_poller,
                                round,
                                &mut rng,
                                at,
                                answer_at,
                            )?;
                        }
                    }
                }
            }
            poller.since_ack += 1;
            if poller.since_ack >= poller.ack_every {
                poller.since_ack = 0;
                let at = start + slot * 3 / 4;
                poller.session.flow()?.ack(&mut wire, at, Side::Client)?;
            }
        }
        round += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashSet};

    use super::*;
    use crate::capture::Collect;
    use crate::reference::{
        assert_in_order_tcp, asymmetric_header, decode, dnp3_recount, opcua_chunks, recount,
        s7_recount, segmentation,
    };
    use crate::truth::FunctionKey;

    fn run(packets: u64, flows: u32) -> Vec<Vec<u8>> {
        run_with(packets, flows, 0)
    }

    fn run_with(packets: u64, flows: u32, s7_share: u8) -> Vec<Vec<u8>> {
        run_shares(
            packets,
            flows,
            Shares {
                s7: s7_share,
                ..Shares::default()
            },
        )
    }

    fn run_shares(packets: u64, flows: u32, shares: Shares) -> Vec<Vec<u8>> {
        run_options(
            packets,
            flows,
            Options {
                shares,
                ..Options::default()
            },
        )
    }

    fn run_options(packets: u64, flows: u32, options: Options) -> Vec<Vec<u8>> {
        let mut out = Collect::default();
        generate(&mut out, packets, flows, options, 42).unwrap();
        let times: Vec<u64> = out.0.iter().map(|(at, _)| *at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        out.frames()
    }

    #[test]
    fn exact_packet_count() {
        for (packets, flows) in [(7, 10), (10_000, 100), (1, 1), (2_345, 3)] {
            assert_eq!(run(packets, flows).len() as u64, packets);
        }
    }

    #[test]
    fn s7_share_picks_that_many_flows_evenly() {
        for (flows, share, expected) in [(1000, 20, 200), (200, 0, 0), (7, 100, 7), (3, 50, 1)] {
            let shares = Shares {
                s7: share,
                ..Shares::default()
            };
            let picked: Vec<u32> = (0..flows)
                .filter(|&f| kind(f, shares) == Kind::S7)
                .collect();
            assert_eq!(picked.len(), expected, "{flows} flows, {share}%");
            if share == 20 {
                assert!(picked.windows(2).all(|w| w[1] - w[0] == 5));
            }
        }
    }

    #[test]
    fn shares_split_the_flows_evenly() {
        for (flows, s7, dnp3, expected) in [
            (1000, 20, 20, (600, 200, 200)),
            (1000, 30, 10, (600, 300, 100)),
            (200, 0, 20, (160, 0, 40)),
            (7, 0, 100, (0, 0, 7)),
            (10, 50, 50, (0, 5, 5)),
            (3, 0, 0, (3, 0, 0)),
        ] {
            let shares = Shares { s7, dnp3, opcua: 0 };
            let kinds: Vec<Kind> = (0..flows).map(|f| kind(f, shares)).collect();
            let count = |k| kinds.iter().filter(|&&x| x == k).count();
            assert_eq!(
                (count(Kind::Modbus), count(Kind::S7), count(Kind::Dnp3)),
                expected,
                "{flows} flows, {shares:?}"
            );
        }
        // DNP3 alone: every fifth flow at 20 %.
        let dnp3: Vec<u32> = (0..100)
            .filter(|&f| {
                kind(
                    f,
                    Shares {
                        dnp3: 20,
                        ..Shares::default()
                    },
                ) == Kind::Dnp3
            })
            .collect();
        assert!(dnp3.windows(2).all(|w| w[1] - w[0] == 5));
    }

    #[test]
    fn dnp3_sessions_poll_one_link_frame_per_segment() {
        let link = LinkType::Ethernet;
        let dnp3_only = Shares {
            dnp3: 20,
            ..Shares::default()
        };
        for (packets, flows) in [(7, 10), (10_000, 100), (2_345, 3)] {
            assert_eq!(run_shares(packets, flows, dnp3_only).len() as u64, packets);
        }
        let frames = run_shares(
            20_000,
            200,
            Shares {
                s7: 10,
                dnp3: 20,
                opcua: 0,
            },
        );
        assert_eq!(frames.len(), 20_000);
        let segments: Vec<_> = frames.iter().filter_map(|f| decode(link, f)).collect();
        let flows_to = |port| {
            segments
                .iter()
                .filter(|s| s.dst_port == port)
                .map(|s| (s.src, s.src_port, s.dst))
                .collect::<HashSet<_>>()
        };
        let dnp3_flows = flows_to(dnp3::PORT);
        assert_eq!(
            (
                flows_to(502).len(),
                flows_to(s7_plant::ISO_TSAP_PORT).len(),
                dnp3_flows.len()
            ),
            (140, 20, 40)
        );
        assert!(assert_in_order_tcp(link, &frames) > 1000);
        // Every DNP3 segment is exactly one link frame with good CRCs.
        for s in segments.iter().filter(|s| {
            !s.payload.is_empty() && (s.dst_port == dnp3::PORT || s.src_port == dnp3::PORT)
        }) {
            let faro_protocols::Framing::Parsed { consumed, message } =
                faro_protocols::dnp3::link::frame(&s.payload)
            else {
                panic!("not a link frame: {:02x?}", s.payload)
            };
            assert_eq!(consumed, s.payload.len());
            assert!(message.data_crc_ok);
        }
        let counts = dnp3_recount(link, &frames, &[dnp3::PORT]);
        assert_eq!(
            (counts.bad_crc, counts.malformed, counts.orphans),
            (0, 0, 0)
        );
        assert_eq!(counts.multi_frame_fragments, 0);
        let edges: HashSet<_> = dnp3_flows
            .iter()
            .map(|&(client, _, server)| (client, server, dnp3::PORT))
            .collect();
        assert_eq!(
            counts.requests.keys().copied().collect::<HashSet<_>>(),
            edges
        );
        for functions in counts.requests.values() {
            assert_eq!(
                functions.keys().collect::<Vec<_>>(),
                [&FunctionKey::Code(1)]
            );
        }
        let mut objects: BTreeMap<&str, u64> = BTreeMap::new();
        for per_edge in counts.objects.values() {
            for (name, &n) in per_edge {
                *objects.entry(name.as_str()).or_default() += n;
            }
        }
        for name in ["g60v1", "g60v2", "g1v2", "g30v1", "g2v2"] {
            assert!(objects.contains_key(name), "{objects:?}");
        }
        assert!(objects["g60v2"] > 5 * objects["g60v1"]);
        // Masters use link address 1, each outstation its own.
        for (ip, addresses) in &counts.addresses {
            let is_client = dnp3_flows.iter().any(|&(client, _, _)| client == *ip);
            assert_eq!(addresses.len(), 1);
            assert_eq!(addresses.contains(&dnp3::MASTER_ADDRESS), is_client);
        }
        // The Modbus and S7 flows poll on as before.
        assert_eq!(segmentation(link, &frames, &[502]), (1, 1));
        assert_eq!(
            s7_recount(link, &frames, &[s7_plant::ISO_TSAP_PORT]).malformed,
            0
        );
    }

    #[test]
    fn s7_sessions_connect_set_up_and_poll_one_pdu_per_segment() {
        let link = LinkType::Ethernet;
        for (packets, flows) in [(7, 10), (10_000, 100), (2_345, 3)] {
            assert_eq!(run_with(packets, flows, 20).len() as u64, packets);
        }
        let frames = run_with(20_000, 200, 20);
        let segments: Vec<_> = frames.iter().filter_map(|f| decode(link, f)).collect();
        let s7_flows: HashSet<_> = segments
            .iter()
            .filter(|s| s.dst_port == s7_plant::ISO_TSAP_PORT)
            .map(|s| (s.src, s.src_port, s.dst))
            .collect();
        let modbus_flows: HashSet<_> = segments
            .iter()
            .filter(|s| s.dst_port == 502)
            .map(|s| (s.src, s.src_port, s.dst))
            .collect();
        assert_eq!((s7_flows.len(), modbus_flows.len()), (40, 160));
        assert!(assert_in_order_tcp(link, &frames) > 1000);
        // Every S7 segment is exactly one TPKT.
        for s in segments.iter().filter(|s| {
            !s.payload.is_empty()
                && (s.dst_port == s7_plant::ISO_TSAP_PORT || s.src_port == s7_plant::ISO_TSAP_PORT)
        }) {
            let faro_protocols::Framing::Parsed { consumed, .. } =
                faro_protocols::s7::tpkt::frame(&s.payload)
            else {
                panic!("not a TPKT: {:02x?}", s.payload)
            };
            assert_eq!(consumed, s.payload.len());
        }
        let counts = s7_recount(link, &frames, &[s7_plant::ISO_TSAP_PORT]);
        assert_eq!(counts.malformed, 0);
        assert_eq!(counts.split_units, 0);
        // One Setup communication per session, then polling.
        let mut sessions: BTreeMap<_, u64> = BTreeMap::new();
        for &(client, _, server) in &s7_flows {
            *sessions
                .entry((client, server, s7_plant::ISO_TSAP_PORT))
                .or_default() += 1;
        }
        assert_eq!(counts.requests.len(), sessions.len());
        for (edge, functions) in &counts.requests {
            assert_eq!(functions.get(&FunctionKey::Code(0xF0)), sessions.get(edge));
            assert!(functions[&FunctionKey::Code(0x04)] > 10 * sessions[edge]);
            assert_eq!(functions.len(), 2);
        }
        // The Modbus flows poll on as before.
        assert_eq!(segmentation(link, &frames, &[502]), (1, 1));
        let modbus_edges: HashSet<_> = modbus_flows.iter().map(|&(c, _, s)| (c, s, 502)).collect();
        let recounted = recount(link, &frames, &[502]);
        assert_eq!(
            recounted.keys().copied().collect::<HashSet<_>>(),
            modbus_edges
        );
    }

    #[test]
    fn opcua_sessions_open_once_then_read_one_chunk_per_segment() {
        let link = LinkType::Ethernet;
        let all = Shares {
            s7: 10,
            dnp3: 10,
            opcua: 20,
        };
        let kinds: Vec<Kind> = (0..1000).map(|f| kind(f, all)).collect();
        let count = |k| kinds.iter().filter(|&&x| x == k).count();
        assert_eq!(
            (
                count(Kind::Modbus),
                count(Kind::S7),
                count(Kind::Dnp3),
                count(Kind::OpcUa)
            ),
            (600, 100, 100, 200)
        );
        for (packets, flows) in [(7, 10), (10_000, 100), (2_345, 3)] {
            assert_eq!(run_shares(packets, flows, all).len() as u64, packets);
        }
        let frames = run_shares(20_000, 200, all);
        let segments: Vec<_> = frames.iter().filter_map(|f| decode(link, f)).collect();
        let opcua_flows: HashSet<_> = segments
            .iter()
            .filter(|s| s.dst_port == opcua::PORT)
            .map(|s| (s.src, s.src_port, s.dst))
            .collect();
        assert_eq!(opcua_flows.len(), 40);
        assert!(assert_in_order_tcp(link, &frames) > 1000);
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        let mut services: BTreeMap<u16, u64> = BTreeMap::new();
        for s in segments.iter().filter(|s| {
            !s.payload.is_empty() && (s.dst_port == opcua::PORT || s.src_port == opcua::PORT)
        }) {
            // Every segment is exactly one final chunk.
            let p = &s.payload;
            let size = u32::from_le_bytes([p[4], p[5], p[6], p[7]]) as usize;
            assert_eq!(size, p.len());
            assert_eq!(p[3], b'F');
            let kind = String::from_utf8(p[..3].to_vec()).unwrap();
            if kind == "MSG" {
                // Symmetric and sequence headers, then a four-byte encoded type id.
                assert_eq!(p[24], 0x01);
                let service = u16::from_le_bytes([p[26], p[27]]);
                if service == 631 || service == 634 {
                    assert!((90..=220).contains(&p.len()), "{service}: {}", p.len());
                }
                *services.entry(service).or_default() += 1;
            }
            *types.entry(kind).or_default() += 1;
        }
        // One HEL, ACK, OPN pair, CreateSession and ActivateSession per session, then Reads.
        for kind in ["HEL", "ACK"] {
            assert_eq!(types[kind], 40, "{types:?}");
        }
        assert_eq!(types["OPN"], 80);
        for service in [461, 464, 467, 470] {
            assert_eq!(services[&service], 40, "{services:?}");
        }
        assert!(services[&631] > 10 * 40);
        assert!(services[&634] + 40 >= services[&631]);
        assert_eq!(services.len(), 6);
    }

    #[test]
    fn read_only_sessions_never_write() {
        let link = LinkType::Ethernet;
        let shares = Shares {
            s7: 20,
            dnp3: 20,
            opcua: 20,
        };
        let frames = run_options(
            20_000,
            200,
            Options {
                shares,
                read_only: true,
                opcua_secure: false,
            },
        );
        assert_eq!(frames.len(), 20_000);
        let mut functions: BTreeMap<u8, u64> = BTreeMap::new();
        for per_edge in recount(link, &frames, &[502]).values() {
            for (&function, &count) in per_edge {
                *functions.entry(function).or_default() += count;
            }
        }
        assert_eq!(functions.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 4]);
        for functions in s7_recount(link, &frames, &[s7_plant::ISO_TSAP_PORT])
            .requests
            .values()
        {
            assert!(
                functions
                    .keys()
                    .all(|k| [FunctionKey::Code(0xF0), FunctionKey::Code(0x04)].contains(k))
            );
        }
        for functions in dnp3_recount(link, &frames, &[dnp3::PORT]).requests.values() {
            assert_eq!(
                functions.keys().collect::<Vec<_>>(),
                [&FunctionKey::Code(1)]
            );
        }
        // Without the flag the same sessions write now and then.
        let frames = run_shares(20_000, 200, shares);
        let writes: u64 = recount(link, &frames, &[502])
            .values()
            .flat_map(|f| [6, 16].map(|c| f.get(&c).copied().unwrap_or(0)))
            .sum();
        assert!(writes > 0);
    }

    #[test]
    fn the_benign_plant_reads_only_and_opcua_is_encrypted() {
        let link = LinkType::Ethernet;
        let shares = Shares {
            s7: 20,
            dnp3: 20,
            opcua: 20,
        };
        let options = Options {
            shares,
            read_only: true,
            opcua_secure: true,
        };
        for (packets, flows) in [(7, 10), (10_000, 100), (2_345, 3)] {
            assert_eq!(run_options(packets, flows, options).len() as u64, packets);
        }
        let frames = run_options(20_000, 200, options);
        assert!(assert_in_order_tcp(link, &frames) > 1000);
        // Modbus reads, S7 Setup and Read Var, DNP3 class polls.
        let modbus: BTreeSet<u8> = recount(link, &frames, &[502])
            .values()
            .flat_map(|f| f.keys().copied())
            .collect();
        assert_eq!(modbus.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
        let s7: BTreeSet<FunctionKey> = s7_recount(link, &frames, &[s7_plant::ISO_TSAP_PORT])
            .requests
            .values()
            .flat_map(|f| f.keys().copied())
            .collect();
        assert_eq!(
            s7,
            [FunctionKey::Code(0xF0), FunctionKey::Code(0x04)].into()
        );
        let dnp3_counts = dnp3_recount(link, &frames, &[dnp3::PORT]);
        let dnp3: BTreeSet<FunctionKey> = dnp3_counts
            .requests
            .values()
            .flat_map(|f| f.keys().copied())
            .collect();
        assert_eq!(dnp3, [FunctionKey::Code(1)].into());
        // OPC UA: HEL and ACK, Basic256Sha256 OPNs with the CA-issued chain both ways, then
        // MSG chunks; nothing else, no None channel.
        let chain = [opcua::CLIENT_CERTIFICATE, opcua::CA_CERTIFICATE].concat();
        let thumbprint = faro_protocols::opcua::certificate::parse(opcua::CLIENT_CERTIFICATE)
            .unwrap()
            .sha1
            .to_vec();
        let directions = opcua_chunks(link, &frames, opcua::PORT);
        assert_eq!(directions.len(), 80);
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        for chunks in directions.values() {
            for (kind, chunk) in chunks {
                if kind == "OPN" {
                    let ([policy, sender, receiver], rest) = asymmetric_header(chunk);
                    assert_eq!(policy, opcua::POLICY_BASIC256SHA256.as_bytes());
                    assert_eq!(sender, chain);
                    assert_eq!(receiver, thumbprint);
                    assert_eq!(rest, 512);
                }
                if kind == "MSG" {
                    // The symmetric header, then whole AES blocks.
                    assert_eq!((chunk.len() - 16) % 16, 0);
                }
                *types.entry(kind.clone()).or_default() += 1;
            }
        }
        assert_eq!(
            types.keys().collect::<Vec<_>>(),
            ["ACK", "HEL", "MSG", "OPN"]
        );
        assert_eq!((types["HEL"], types["ACK"], types["OPN"]), (40, 40, 80));
        assert!(types["MSG"] > 20 * 40);
    }

    #[test]
    fn concurrent_sessions_one_pdu_per_segment_mostly_reads() {
        let frames = run(20_000, 200);
        let link = LinkType::Ethernet;
        let flows: HashSet<_> = frames
            .iter()
            .filter_map(|f| decode(link, f))
            .map(|s| (s.src, s.src_port, s.dst, s.dst_port))
            .filter(|k| k.3 == 502)
            .collect();
        assert_eq!(flows.len(), 200);
        let clients: HashSet<_> = flows.iter().map(|k| k.0).collect();
        let servers: HashSet<_> = flows.iter().map(|k| k.2).collect();
        assert!(clients.len() >= 20 && servers.len() >= 10);
        assert!(assert_in_order_tcp(link, &frames) > 1000);
        assert_eq!(segmentation(link, &frames, &[502]), (1, 1));
        let mut functions: BTreeMap<u8, u64> = BTreeMap::new();
        for per_edge in recount(link, &frames, &[502]).values() {
            for (&function, &count) in per_edge {
                *functions.entry(function).or_default() += count;
            }
        }
        let total: u64 = functions.values().sum();
        let reads_3_4 = functions.get(&3).unwrap_or(&0) + functions.get(&4).unwrap_or(&0);
        assert!(reads_3_4 * 10 > total * 7, "{functions:?}");
        for function in [1, 2, 3, 4, 6, 16] {
            assert!(functions.contains_key(&function), "{functions:?}");
        }
    }
}
