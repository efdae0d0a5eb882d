//! Application-layer dissection: recognise the protocol of a flow by content
//! (ports are only hints), then hand its bytes to that protocol's per-flow state.

pub mod dnp3;
pub mod modbus;
pub mod opcua;
pub mod s7;

use faro_firmware_config::CapacityLimits;
use faro_protocols::{Framing, Probe};

use crate::findings::Findings;
use crate::flow::{Endpoint, TransportProto};
use crate::inventory::{AssetId, EdgeId, EdgePath, FunctionKey, Inventory, Protocol, Role};
use crate::reassembly::Budget;
use crate::stats::Stats;

/// Segments (either direction) probed before a flow is declared unrecognised.
const MAX_PROBE_ATTEMPTS: u8 = 8;

/// Largest partial PDU kept while probing: enough for any protocol's header.
const MAX_PROBE_BYTES: usize = 512;

/// Well-known server ports: a hint for which side serves, never a verdict on the protocol.
pub fn is_ics_port(port: u16) -> bool {
    matches!(port, 502 | 102 | 20000 | 4840)
}

/// Who and where a flow's application data is exchanged.
#[derive(Debug, Clone, Copy)]
pub struct FlowEnds {
    /// The initiator.
    pub client: Endpoint,
    /// The responder.
    pub server: Endpoint,
    /// TCP or UDP.
    pub transport: TransportProto,
}

impl FlowEnds {
    /// The same flow with client and server exchanged.
    pub fn reversed(&self) -> FlowEnds {
        FlowEnds {
            client: self.server,
            server: self.client,
            transport: self.transport,
        }
    }
}

/// The frame that carried the bytes being dissected.
#[derive(Debug, Clone, Copy)]
pub struct FrameInfo {
    /// Capture time, nanoseconds since the epoch.
    pub ts: u64,
    /// Sent by the client (true) or the server.
    pub to_server: bool,
    /// Sender's MAC address.
    pub src_mac: Option<[u8; 6]>,
    /// Innermost VLAN id.
    pub vlan: Option<u16>,
}

/// What [`frame_stream`] reports while it walks a stream.
pub enum StreamEvent<T> {
    /// One framed PDU.
    Pdu(T),
    /// Bytes that cannot start a PDU: the stream resynchronises after them.
    BadFraming,
    /// Bytes skipped while looking for the next PDU.
    Skipped(usize),
}

/// The one framing loop of every stream protocol: frames PDUs from in-order
/// bytes, and after a gap or bad framing (`resync`) skips to where `find` says
/// a PDU could start (keeping the last `keep` bytes when it finds none, as a
/// header may be cut there). Returns how many bytes were consumed; the rest is
/// a partial PDU for the stream to keep.
pub fn frame_stream<'a, T>(
    data: &'a [u8],
    resync: &mut bool,
    keep: usize,
    find: impl Fn(&[u8]) -> Option<usize>,
    frame: impl Fn(&'a [u8]) -> Framing<T>,
    mut on_event: impl FnMut(StreamEvent<T>),
) -> usize {
    let mut pos = 0;
    while let Some(buf) = data.get(pos..).filter(|b| !b.is_empty()) {
        if *resync {
            let skip = match find(buf) {
                Some(at) => {
                    *resync = false;
                    at
                }
                None => buf.len().saturating_sub(keep),
            };
            if skip > 0 {
                on_event(StreamEvent::Skipped(skip));
            }
            pos += skip;
            if *resync {
                break;
            }
            continue;
        }
        match frame(buf) {
            Framing::Parsed { consumed, message } => {
                on_event(StreamEvent::Pdu(message));
                pos += consumed.max(1);
            }
            Framing::NeedMore { .. } => break,
            Framing::NotThisProtocol => {
                on_event(StreamEvent::BadFraming);
                on_event(StreamEvent::Skipped(1));
                *resync = true;
                pos += 1;
            }
        }
    }
    pos
}

/// Which side of a flow plays the client, as the PDUs show it. The flow's
/// guess (well-known port, SYN, lower port) stands until a PDU whose layout
/// fits only one direction settles it: devices that open connections and then
/// serve, and captures without a SYN, are common in plants.
#[derive(Debug, Default, Clone, Copy)]
pub struct Orientation {
    swapped: bool,
    settled: bool,
}

impl Orientation {
    /// Whether a PDU sent `to_server` by the flow's guess goes to the server.
    pub fn to_server(self, guessed_to_server: bool) -> bool {
        guessed_to_server != self.swapped
    }

    /// The flow's ends with the roles as settled.
    pub fn ends(self, ends: &FlowEnds) -> FlowEnds {
        if self.swapped { ends.reversed() } else { *ends }
    }

    /// A PDU sent `guessed_to_server` (by the flow's guess) has a layout that
    /// says whether its sender is the client. Settles the roles on the first
    /// such PDU; returns true when that reversed the guess.
    pub fn settle(&mut self, guessed_to_server: bool, sender_is_client: bool) -> bool {
        if self.settled {
            return false;
        }
        self.settled = true;
        if self.to_server(guessed_to_server) != sender_is_client {
            self.swapped = !self.swapped;
            return true;
        }
        false
    }
}

/// Inventory ids of a flow's two ends and their edge, looked up once per flow.
#[derive(Debug, Clone, Copy)]
pub struct FlowIds {
    /// The client asset.
    pub client: AssetId,
    /// The server asset.
    pub server: AssetId,
    /// The edge, unless the inventory had no room for it.
    pub edge: Option<EdgeId>,
}

/// Assets and edge of a flow for `protocol`, created with their roles on first
/// use; `None` when the inventory is full (counted in `shed`).
pub fn flow_ids(
    ends: &FlowEnds,
    roles: (Role, Role),
    protocol: Protocol,
    ts: u64,
    analysis: &mut Analysis,
) -> Option<FlowIds> {
    let inventory = &mut analysis.inventory;
    let shed = &mut analysis.stats.shed;
    let client = inventory.asset_for(ends.client.ip, ts, shed);
    let server = inventory.asset_for(ends.server.ip, ts, shed);
    let (Some(client), Some(server)) = (client, server) else {
        return None;
    };
    let (client_role, server_role) = roles;
    if let Some(asset) = inventory.asset_mut(client, ts) {
        asset.add_role(client_role, protocol);
    }
    if let Some(asset) = inventory.asset_mut(server, ts) {
        asset.add_role(server_role, protocol);
    }
    let path = EdgePath {
        client,
        server,
        server_port: ends.server.port,
        transport: ends.transport,
        protocol,
    };
    let edge = inventory.edge_for(path, ts, shed);
    if let Some(edge) = edge.and_then(|id| inventory.edge_mut(id, ts)) {
        edge.flows += 1;
        edge.sample_flow.get_or_insert(*ends);
    }
    Some(FlowIds {
        client,
        server,
        edge,
    })
}

/// A flow's inventory ids, looked up on first use; a refusal (inventory
/// full) is remembered so a full inventory is not asked again per PDU.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlowBinding {
    ids: Option<FlowIds>,
    refused: bool,
    counted: bool,
}

impl FlowBinding {
    /// The flow's ids for `protocol`, looked up the first time; the flow is
    /// counted as one of that protocol once, even when the inventory is full.
    pub fn get(
        &mut self,
        ends: &FlowEnds,
        roles: (Role, Role),
        protocol: Protocol,
        ts: u64,
        analysis: &mut Analysis,
    ) -> Option<FlowIds> {
        if self.ids.is_none() && !self.refused {
            self.ids = flow_ids(ends, roles, protocol, ts, analysis);
            self.refused = self.ids.is_none();
            if !self.counted {
                self.counted = true;
                let by_protocol = &mut analysis.stats.flows.by_protocol;
                *match protocol {
                    Protocol::Modbus => &mut by_protocol.modbus,
                    Protocol::S7comm => &mut by_protocol.s7comm,
                    Protocol::S7commPlus => &mut by_protocol.s7comm_plus,
                    Protocol::Dnp3 => &mut by_protocol.dnp3,
                    Protocol::OpcUa => &mut by_protocol.opcua,
                } += 1;
            }
        }
        self.ids
    }

    /// Forgets the ids: the roles were reversed (the flow stays counted).
    pub fn reset(&mut self) {
        self.ids = None;
        self.refused = false;
    }
}

/// Counts a request on the flow's edge and, when it is well formed (no
/// anomaly), hands it to the findings rules: a malformed PDU is counted, never
/// a finding.
pub fn count_request(
    analysis: &mut Analysis,
    ids: &FlowIds,
    protocol: Protocol,
    key: FunctionKey,
    ts: u64,
    well_formed: bool,
) {
    let Some(edge) = ids.edge else {
        return;
    };
    if let Some(counters) = analysis.inventory.edge_mut(edge, ts) {
        counters.function(key).requests += 1;
    }
    if well_formed {
        well_formed_request(analysis, edge, protocol, key, ts);
    }
}

/// A well-formed request: counted by access class on its edge (what the
/// zone, policy and engineering rules look at) and matched against the rules.
pub fn well_formed_request(
    analysis: &mut Analysis,
    edge: EdgeId,
    protocol: Protocol,
    key: FunctionKey,
    ts: u64,
) {
    if let Some(entry) = analysis.inventory.edge_mut(edge, ts) {
        entry.count_access(crate::findings::rules::access_class(protocol, key));
    }
    analysis
        .findings
        .on_request(edge, protocol, key, ts, &mut analysis.stats.shed);
}

/// Records an object a request named (a PI service, a block, a diagnostics
/// sub-function) on the flow's edge, and hands it to the findings rules.
pub fn count_request_object(
    analysis: &mut Analysis,
    ids: &FlowIds,
    protocol: Protocol,
    object: &str,
    ts: u64,
) {
    let Some(edge) = ids.edge else {
        return;
    };
    if let Some(entry) = analysis.inventory.edge_mut(edge, ts) {
        if !entry.count_object(object) {
            analysis.stats.shed.edge_objects += 1;
        }
    }
    analysis
        .findings
        .on_object(edge, protocol, object, ts, &mut analysis.stats.shed);
}

/// What dissectors update: the inventory and the counters.
pub struct Analysis {
    /// Assets and edges.
    pub inventory: Inventory,
    /// Counters.
    pub stats: Stats,
    /// Bytes of application messages being assembled, across flows.
    pub message_budget: Budget,
    /// Findings raised so far.
    pub findings: Findings,
    /// Capture time of the first and last frame, nanoseconds since the epoch.
    pub observed: Option<(u64, u64)>,
    /// Capacity limits.
    pub limits: CapacityLimits,
}

/// Per-flow application state.
#[derive(Debug, Default)]
pub enum App {
    /// Not yet recognised; counts the segments probed.
    Probing(u8),
    /// Modbus/TCP.
    Modbus(Box<modbus::ModbusFlow>),
    /// Siemens S7comm / S7comm-plus over ISO-on-TCP.
    S7(Box<s7::S7Flow>),
    /// DNP3 over TCP or UDP.
    Dnp3(Box<dnp3::Dnp3Flow>),
    /// OPC UA binary over TCP.
    OpcUa(Box<opcua::OpcUaFlow>),
    /// Matched no supported protocol: its payload is no longer looked at.
    #[default]
    Unrecognised,
}

impl App {
    /// A flow whose protocol is still to be recognised.
    pub fn probing() -> Self {
        App::Probing(0)
    }

    /// True once the flow was given up on.
    pub fn is_unrecognised(&self) -> bool {
        matches!(self, App::Unrecognised)
    }

    /// Largest partial PDU this state may ask the stream to keep.
    pub fn max_partial(&self) -> usize {
        match self {
            App::Probing(_) => MAX_PROBE_BYTES,
            App::Modbus(_) => modbus::MAX_PARTIAL,
            App::S7(_) => s7::MAX_PARTIAL,
            App::Dnp3(_) => dnp3::MAX_PARTIAL,
            App::OpcUa(_) => opcua::MAX_PARTIAL,
            App::Unrecognised => 0,
        }
    }

    /// In-order stream bytes; returns how many were consumed (the rest is a partial PDU).
    pub fn on_stream(
        &mut self,
        data: &[u8],
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) -> usize {
        match self {
            App::Probing(attempts) => match recognise(data) {
                Recognition::Protocol(protocol) => {
                    self.start(protocol);
                    self.on_stream(data, frame, ends, analysis)
                }
                Recognition::Within(at, protocol) => {
                    // Picked up mid-PDU: the bytes before the first whole PDU are lost.
                    analysis.stats.reassembly.resync_skipped_bytes += at as u64;
                    self.start(protocol);
                    let rest = data.get(at..).unwrap_or_default();
                    at + self.on_stream(rest, frame, ends, analysis)
                }
                Recognition::NeedMore if data.len() < MAX_PROBE_BYTES => 0,
                Recognition::NeedMore | Recognition::No => {
                    *attempts += 1;
                    self.give_up_after_attempts(analysis);
                    data.len()
                }
            },
            App::Modbus(flow) => flow.on_stream(data, frame, ends, analysis),
            App::S7(flow) => flow.on_stream(data, frame, ends, analysis),
            App::Dnp3(flow) => flow.on_stream(data, frame, ends, analysis),
            App::OpcUa(flow) => flow.on_stream(data, frame, ends, analysis),
            App::Unrecognised => data.len(),
        }
    }

    /// One whole datagram (UDP).
    pub fn on_datagram(
        &mut self,
        data: &[u8],
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        match self {
            App::Probing(attempts) => match recognise(data) {
                Recognition::Protocol(protocol) => {
                    self.start(protocol);
                    self.on_datagram(data, frame, ends, analysis);
                }
                // A datagram is one message: a PDU inside it does not make the flow that protocol.
                Recognition::Within(..) | Recognition::NeedMore | Recognition::No => {
                    *attempts += 1;
                    self.give_up_after_attempts(analysis);
                }
            },
            App::Modbus(flow) => flow.on_datagram(data, frame, ends, analysis),
            App::Dnp3(flow) => flow.on_datagram(data, frame, ends, analysis),
            // ISO-on-TCP and UA TCP are stream protocols: their datagrams are not parsed.
            App::S7(_) | App::OpcUa(_) | App::Unrecognised => {}
        }
    }

    /// Bytes were lost before the next data in the direction `to_server`.
    pub fn on_gap(&mut self, to_server: bool, analysis: &mut Analysis) {
        match self {
            App::Modbus(flow) => flow.on_gap(to_server),
            App::S7(flow) => flow.on_gap(to_server),
            App::Dnp3(flow) => flow.on_gap(to_server),
            App::OpcUa(flow) => flow.on_gap(to_server, analysis),
            App::Probing(_) | App::Unrecognised => {}
        }
    }

    /// The flow ended (closed, expired, evicted or end of input).
    pub fn on_close(&mut self, analysis: &mut Analysis) {
        match self {
            App::Modbus(flow) => flow.on_close(analysis),
            App::S7(flow) => flow.on_close(analysis),
            App::OpcUa(flow) => flow.on_close(analysis),
            App::Dnp3(_) | App::Probing(_) | App::Unrecognised => {}
        }
    }

    /// After too many segments matched nothing, the flow is unrecognised.
    fn give_up_after_attempts(&mut self, analysis: &mut Analysis) {
        if matches!(self, App::Probing(attempts) if *attempts >= MAX_PROBE_ATTEMPTS) {
            analysis.stats.flows.unrecognised += 1;
            *self = App::Unrecognised;
        }
    }

    fn start(&mut self, protocol: Dissector) {
        match protocol {
            Dissector::Modbus => *self = App::Modbus(Box::default()),
            Dissector::S7 => *self = App::S7(Box::default()),
            Dissector::Dnp3 => *self = App::Dnp3(Box::default()),
            Dissector::OpcUa => *self = App::OpcUa(Box::default()),
        }
    }
}

/// The per-flow dissectors a flow can be handed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dissector {
    Modbus,
    S7,
    Dnp3,
    OpcUa,
}

enum Recognition {
    /// The data starts with a PDU of this protocol.
    Protocol(Dissector),
    /// A whole PDU of this protocol starts at this offset (a stream picked up mid-PDU).
    Within(usize, Dissector),
    NeedMore,
    No,
}

/// Tries each protocol's content probe. The probes are disjoint: TPKT starts
/// 03 00, DNP3 05 64, UA TCP with an upper-case message type, and all put
/// non-zero bytes where MBAP needs a zero protocol id.
fn recognise(data: &[u8]) -> Recognition {
    for (probe, dissector) in [
        (
            faro_protocols::s7::probe as fn(&[u8]) -> Probe,
            Dissector::S7,
        ),
        (faro_protocols::dnp3::probe, Dissector::Dnp3),
        (faro_protocols::opcua::transport::probe, Dissector::OpcUa),
    ] {
        match probe(data) {
            Probe::Match => return Recognition::Protocol(dissector),
            Probe::NeedMore => return Recognition::NeedMore,
            Probe::NoMatch => {}
        }
    }
    match faro_protocols::modbus::probe(data) {
        Probe::Match => Recognition::Protocol(Dissector::Modbus),
        Probe::NeedMore => Recognition::NeedMore,
        Probe::NoMatch => match faro_protocols::modbus::find_adu(data) {
            Some(at) => Recognition::Within(at, Dissector::Modbus),
            None => Recognition::No,
        },
    }
}
