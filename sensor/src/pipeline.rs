//! The offline pipeline: one frame at a time through decoding, the flow table,
//! TCP reassembly and the protocol dissectors, into the inventory.

use faro_firmware_config::{CapacityLimits, Config};
use faro_protocols::services::{self, Channel};

use crate::capture::Frame;
use crate::decode::{self, Decoded, LinkType, Packet, TcpFlags, Transport};
use crate::dissect::{self, Analysis, App, FlowEnds, FrameInfo};
use crate::findings::Findings;
use crate::flow::{Endpoint, Flow, FlowKey, FlowTable, Side, Stream, TransportProto};
use crate::inventory::{Inventory, ServiceFlow};
use crate::reassembly::{Budget, Chunk, HoldLimits, ReassemblyContext};
use crate::report::{InputReport, Report};
use crate::stats::{InterfaceCounters, Stats};

/// Everything the stream callbacks may touch.
struct Shared {
    analysis: Analysis,
    budget: Budget,
}

impl ReassemblyContext for Shared {
    fn budget(&mut self) -> &mut Budget {
        &mut self.budget
    }

    fn stats(&mut self) -> &mut Stats {
        &mut self.analysis.stats
    }
}

/// What an analysis produced.
pub struct Outcome {
    /// Assets and edges.
    pub inventory: Inventory,
    /// Counters.
    pub stats: Stats,
    /// Findings raised by requests (the state rules are applied by [`Findings::evaluate`]).
    pub findings: Findings,
    /// Capture time of the first and last frame.
    pub observed: Option<(u64, u64)>,
}

impl Outcome {
    /// The report of a finished analysis of `inputs`.
    pub fn into_report(mut self, inputs: Vec<InputReport>, config: &Config) -> Report {
        build_report(
            &mut self.inventory,
            &mut self.findings,
            &mut self.stats,
            self.observed,
            inputs,
            config,
        )
    }
}

/// The one way from an analysis to its report: the state rules are applied
/// to the inventory (tagging engineering stations), then the findings the
/// configuration does not silence are listed beside the inventory.
fn build_report(
    inventory: &mut Inventory,
    findings: &mut Findings,
    stats: &mut Stats,
    observed: Option<(u64, u64)>,
    inputs: Vec<InputReport>,
    config: &Config,
) -> Report {
    findings.evaluate(inventory, config, observed, &mut stats.shed);
    let listed = findings.reports(inventory, config);
    Report::new(inputs, inventory, stats.clone(), listed, config)
}

/// Findings kept when no configuration says otherwise.
pub const DEFAULT_MAX_FINDINGS: usize = 4096;

/// The sensor's packet pipeline.
pub struct Pipeline {
    flows: FlowTable,
    shared: Shared,
    hold: HoldLimits,
}

impl Pipeline {
    /// A pipeline sized by `limits`.
    pub fn new(limits: CapacityLimits) -> Self {
        Pipeline {
            flows: FlowTable::new(limits.max_flows, limits.flow_idle_timeout_secs),
            hold: HoldLimits {
                window_bytes: limits.reassembly_window_bytes,
                max_segments: limits.reassembly_max_segments,
            },
            shared: Shared {
                budget: Budget::new(limits.reassembly_budget_bytes),
                analysis: Analysis {
                    inventory: Inventory::new(&limits),
                    message_budget: Budget::new(limits.message_budget_bytes),
                    findings: Findings::new(DEFAULT_MAX_FINDINGS),
                    observed: None,
                    stats: Stats::default(),
                    limits,
                },
            },
        }
    }

    /// The same pipeline keeping at most `max` findings.
    pub fn with_max_findings(mut self, max: usize) -> Self {
        self.shared.analysis.findings = Findings::new(max);
        self
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.shared.analysis.stats
    }

    /// Records the live capture's counters, reported with the other counters.
    pub fn set_capture_counters(&mut self, counters: Vec<InterfaceCounters>) {
        self.shared.analysis.stats.capture = counters;
    }

    /// Closes every flow now, delivering what reassembly still holds, as at
    /// the end of an analysis; the inventory and findings are kept. For the
    /// last summary of a run.
    pub fn close_flows(&mut self) {
        while let Some((key, flow)) = self.flows.pop_oldest() {
            self.close_flow(&key, flow);
        }
    }

    /// Processes one captured frame.
    pub fn process(&mut self, link: LinkType, frame: &Frame<'_>) {
        let analysis = &mut self.shared.analysis;
        let ts = frame.ts_nanos;
        analysis.observed = Some(match analysis.observed {
            Some((first, last)) => (first.min(ts), last.max(ts)),
            None => (ts, ts),
        });
        let stats = &mut analysis.stats;
        stats.packets += 1;
        stats.bytes += u64::from(frame.wire_len);
        while let Some((key, flow)) = self.flows.pop_expired(frame.ts_nanos) {
            self.shared.analysis.stats.flows.expired += 1;
            self.close_flow(&key, flow);
        }
        let stats = &mut self.shared.analysis.stats;
        match decode::decode(link, frame.data) {
            Decoded::Packet(packet) => {
                if packet.truncated {
                    stats.malformed.truncated_packets += 1;
                }
                match packet.transport {
                    Transport::Tcp {
                        src_port,
                        dst_port,
                        seq,
                        ack,
                        flags,
                        payload,
                    } => {
                        stats.decode.tcp += 1;
                        let segment = Segment {
                            seq,
                            ack,
                            flags,
                            payload,
                        };
                        self.tcp(frame.ts_nanos, &packet, src_port, dst_port, &segment);
                    }
                    Transport::Udp {
                        src_port,
                        dst_port,
                        payload,
                    } => {
                        stats.decode.udp += 1;
                        self.udp(frame.ts_nanos, &packet, src_port, dst_port, payload);
                    }
                }
            }
            Decoded::NotIp => stats.decode.not_ip += 1,
            Decoded::IpFragment => stats.decode.ip_fragments += 1,
            Decoded::OtherTransport => stats.decode.other_transport += 1,
            Decoded::Truncated => stats.malformed.truncated_packets += 1,
        }
    }

    /// The report as things stand, without closing any flow (for periodic
    /// summaries).
    pub fn report(&mut self, config: &Config) -> Report {
        let analysis = &mut self.shared.analysis;
        build_report(
            &mut analysis.inventory,
            &mut analysis.findings,
            &mut analysis.stats,
            analysis.observed,
            Vec::new(),
            config,
        )
    }

    /// Capture time of the first and last frame so far.
    pub fn observed(&self) -> Option<(u64, u64)> {
        self.shared.analysis.observed
    }

    /// Closes every flow (delivering what reassembly still holds) and returns the results.
    pub fn finish(mut self) -> Outcome {
        self.close_flows();
        let analysis = self.shared.analysis;
        Outcome {
            inventory: analysis.inventory,
            stats: analysis.stats,
            findings: analysis.findings,
            observed: analysis.observed,
        }
    }

    fn tcp(
        &mut self,
        ts: u64,
        packet: &Packet<'_>,
        src_port: u16,
        dst_port: u16,
        segment: &Segment<'_>,
    ) {
        let (key, side) = flow_key(packet, src_port, dst_port, TransportProto::Tcp);
        let closing = if let Some(flow) = self.flows.get_mut(&key) {
            on_tcp_segment(
                flow,
                &key,
                side,
                ts,
                packet,
                segment,
                self.hold,
                &mut self.shared,
            )
        } else {
            // Stray ACKs, FINs and RSTs of flows never seen open do not create state.
            if (segment.payload.is_empty() && !segment.flags.syn) || segment.flags.rst {
                return;
            }
            self.create_flow(key, ts);
            match self.flows.get_mut(&key) {
                Some(flow) => on_tcp_segment(
                    flow,
                    &key,
                    side,
                    ts,
                    packet,
                    segment,
                    self.hold,
                    &mut self.shared,
                ),
                None => false,
            }
        };
        if closing {
            if let Some(flow) = self.flows.remove(&key) {
                self.shared.analysis.stats.flows.closed += 1;
                self.close_flow(&key, flow);
            }
        }
    }

    fn udp(&mut self, ts: u64, packet: &Packet<'_>, src_port: u16, dst_port: u16, payload: &[u8]) {
        if payload.is_empty() {
            return;
        }
        let (key, side) = flow_key(packet, src_port, dst_port, TransportProto::Udp);
        if self.flows.get_mut(&key).is_none() {
            self.create_flow(key, ts);
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return;
        };
        flow.last_seen = ts;
        let server = *flow.server.get_or_insert_with(|| guess_server(&key));
        first_payload(flow, side, payload, &mut self.shared.analysis.stats);
        if flow.app.is_unrecognised() {
            return;
        }
        let ends = flow_ends(&key, server);
        let info = frame_info(ts, packet, side != server);
        flow.app
            .on_datagram(payload, &info, &ends, &mut self.shared.analysis);
    }

    fn create_flow(&mut self, key: FlowKey, ts: u64) {
        let stats = &mut self.shared.analysis.stats;
        stats.flows.created += 1;
        let mut flow = Flow::new(ts);
        flow.app = App::probing();
        if let Some((evicted_key, evicted)) = self.flows.insert(key, flow) {
            self.shared.analysis.stats.shed.flows += 1;
            self.close_flow(&evicted_key, evicted);
        }
        let stats = &mut self.shared.analysis.stats;
        stats.flows.peak = stats.flows.peak.max(self.flows.len() as u64);
    }

    /// Delivers what the flow's streams still hold and ends its application state.
    fn close_flow(&mut self, key: &FlowKey, mut flow: Flow) {
        if let Some(server) = flow.server {
            let ends = flow_ends(key, server);
            for side in [Side::Lo, Side::Hi] {
                let info = FrameInfo {
                    ts: flow.last_seen,
                    to_server: side != server,
                    src_mac: None,
                    vlan: None,
                };
                let (stream, app) = flow.split(side);
                let Stream {
                    reassembler,
                    partial,
                    ..
                } = stream;
                reassembler.flush(&mut self.shared, &mut |chunk, shared: &mut Shared| {
                    deliver(chunk, partial, app, &info, &ends, shared);
                });
                self.shared.budget.release(partial.len());
                partial.clear();
            }
        }
        flow.app.on_close(&mut self.shared.analysis);
        if let (Some(server), true) = (flow.server, flow.spoke) {
            if matches!(flow.app, App::Probing(_) | App::Unrecognised) {
                let ends = flow_ends(key, server);
                let analysis = &mut self.shared.analysis;
                let _ = analysis.inventory.record_service(
                    ServiceFlow {
                        client: ends.client.ip,
                        server: ends.server.ip,
                        server_port: ends.server.port,
                        transport: ends.transport,
                        channel: flow.channel.unwrap_or(Channel::Unknown),
                        first_seen: flow.first_seen,
                        last_seen: flow.last_seen,
                    },
                    &mut analysis.stats.shed,
                );
            }
        }
    }
}

/// Notes the first payload of a flow: that it spoke, and from the client's
/// first bytes whether the channel is TLS or cleartext. An RDP connection
/// request (TPKT + X.224 CR, as S7's) is not handed to the ICS dissectors.
fn first_payload(flow: &mut Flow, side: Side, payload: &[u8], stats: &mut Stats) {
    flow.spoke = true;
    if flow.channel.is_some() || flow.server == Some(side) || flow.server.is_none() {
        return;
    }
    flow.channel = Some(services::classify(payload));
    if matches!(flow.app, App::Probing(_)) && services::rdp_connection_request(payload).is_some() {
        stats.flows.unrecognised += 1;
        flow.app = App::Unrecognised;
    }
}

/// The TCP fields the flow logic reads.
struct Segment<'a> {
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload: &'a [u8],
}

/// Handles one segment of a known flow; returns true when the flow is over.
#[allow(clippy::too_many_arguments)]
fn on_tcp_segment(
    flow: &mut Flow,
    key: &FlowKey,
    side: Side,
    ts: u64,
    packet: &Packet<'_>,
    segment: &Segment<'_>,
    hold: HoldLimits,
    shared: &mut Shared,
) -> bool {
    flow.last_seen = ts;
    let flags = segment.flags;
    if flow.server.is_none() {
        // A well-known ICS port outranks the SYN: some devices open the connection
        // and then serve, and hostile or fuzzed traffic sets SYN anywhere. The
        // dissector has the last word from the PDUs' layout.
        flow.server = match (ics_port_side(key), flags.syn, flags.ack) {
            (Some(server), _, _) => Some(server),
            (None, true, false) => Some(side.other()),
            (None, true, true) => Some(side),
            _ if !segment.payload.is_empty() => Some(guess_server(key)),
            _ => None,
        };
    }
    if !segment.payload.is_empty() {
        first_payload(flow, side, segment.payload, &mut shared.analysis.stats);
    }
    // Data in a SYN segment starts one after its sequence number.
    let mut data_seq = segment.seq;
    if flags.syn {
        flow.stream_mut(side)
            .reassembler
            .syn(segment.seq, &mut shared.budget);
        data_seq = data_seq.wrapping_add(1);
    }
    // The sender acknowledges the other direction: holes it has acknowledged
    // were lost by the capture, not still on their way. Handled before this
    // segment's own data, which may answer what was held behind the hole.
    if flags.ack && flow.stream_mut(side.other()).reassembler.held_bytes() > 0 {
        if let Some(server) = flow.server {
            let ends = flow_ends(key, server);
            let info = FrameInfo {
                ts,
                to_server: side.other() != server,
                src_mac: None,
                vlan: None,
            };
            let (stream, app) = flow.split(side.other());
            let Stream {
                reassembler,
                partial,
                ..
            } = stream;
            reassembler.peer_acked(segment.ack, shared, &mut |chunk, shared: &mut Shared| {
                deliver(chunk, partial, app, &info, &ends, shared);
            });
        }
    }
    // A TCP keep-alive probe carries one byte the peer already acknowledged.
    // Before a direction's position is known it would fix the position one
    // byte early and glue that byte to the first real PDU: skip it.
    let keepalive =
        segment.payload.len() == 1 && !flags.syn && !flow.stream_mut(side).reassembler.is_started();
    if let Some(server) = flow.server.filter(|_| !keepalive) {
        if !segment.payload.is_empty() && !flow.app.is_unrecognised() {
            let ends = flow_ends(key, server);
            let info = frame_info(ts, packet, side != server);
            let (stream, app) = flow.split(side);
            let Stream {
                reassembler,
                partial,
                ..
            } = stream;
            reassembler.segment(
                data_seq,
                segment.payload,
                hold,
                shared,
                &mut |chunk, shared: &mut Shared| {
                    deliver(chunk, partial, app, &info, &ends, shared);
                },
            );
        }
    }
    if flags.fin {
        flow.stream_mut(side).fin = true;
    }
    flags.rst || (flow.stream_mut(Side::Lo).fin && flow.stream_mut(Side::Hi).fin)
}

/// Hands in-order bytes (or a gap) to the application layer, keeping any partial PDU.
fn deliver(
    chunk: Chunk<'_>,
    partial: &mut Vec<u8>,
    app: &mut App,
    info: &FrameInfo,
    ends: &FlowEnds,
    shared: &mut Shared,
) {
    let bytes = match chunk {
        Chunk::Gap { .. } => {
            drop_partial(partial, shared);
            app.on_gap(info.to_server, &mut shared.analysis);
            return;
        }
        Chunk::Data(bytes) => bytes,
    };
    if !partial.is_empty() && !shared.budget.take(bytes.len()) {
        // No room to join the pieces: lose the partial PDU, parse what arrived.
        shared.analysis.stats.shed.reassembly_bytes += partial.len() as u64;
        drop_partial(partial, shared);
        app.on_gap(info.to_server, &mut shared.analysis);
    }
    if partial.is_empty() {
        let used = app.on_stream(bytes, info, ends, &mut shared.analysis);
        keep_partial(
            bytes.get(used..).unwrap_or_default(),
            partial,
            app,
            info,
            shared,
        );
        return;
    }
    partial.extend_from_slice(bytes);
    let used = app
        .on_stream(partial, info, ends, &mut shared.analysis)
        .min(partial.len());
    partial.drain(..used);
    shared.budget.release(used);
    if partial.len() > app.max_partial() {
        shared.analysis.stats.shed.reassembly_bytes += partial.len() as u64;
        drop_partial(partial, shared);
        app.on_gap(info.to_server, &mut shared.analysis);
    } else if partial.is_empty() {
        // Give the memory back: most flows never split a PDU again.
        *partial = Vec::new();
    }
}

fn keep_partial(
    rest: &[u8],
    partial: &mut Vec<u8>,
    app: &mut App,
    info: &FrameInfo,
    shared: &mut Shared,
) {
    if rest.is_empty() {
        return;
    }
    if rest.len() <= app.max_partial() && shared.budget.take(rest.len()) {
        partial.extend_from_slice(rest);
    } else {
        shared.analysis.stats.shed.reassembly_bytes += rest.len() as u64;
        app.on_gap(info.to_server, &mut shared.analysis);
    }
}

fn drop_partial(partial: &mut Vec<u8>, shared: &mut Shared) {
    shared.budget.release(partial.len());
    *partial = Vec::new();
}

/// The side on a well-known ICS port, when exactly one side is.
fn ics_port_side(key: &FlowKey) -> Option<Side> {
    let lo = key.endpoint(Side::Lo).port;
    let hi = key.endpoint(Side::Hi).port;
    match (dissect::is_ics_port(lo), dissect::is_ics_port(hi)) {
        (true, false) => Some(Side::Lo),
        (false, true) => Some(Side::Hi),
        _ => None,
    }
}

/// Which side serves when neither a SYN nor a well-known port tells: the lower
/// port (ephemeral client ports are high).
fn guess_server(key: &FlowKey) -> Side {
    ics_port_side(key).unwrap_or_else(|| {
        if key.endpoint(Side::Hi).port < key.endpoint(Side::Lo).port {
            Side::Hi
        } else {
            Side::Lo
        }
    })
}

fn flow_key(
    packet: &Packet<'_>,
    src_port: u16,
    dst_port: u16,
    proto: TransportProto,
) -> (FlowKey, Side) {
    let src = Endpoint {
        ip: packet.src,
        port: src_port,
    };
    let dst = Endpoint {
        ip: packet.dst,
        port: dst_port,
    };
    FlowKey::new(src, dst, proto)
}

fn flow_ends(key: &FlowKey, server: Side) -> FlowEnds {
    FlowEnds {
        client: key.endpoint(server.other()),
        server: key.endpoint(server),
        transport: key.proto(),
    }
}

fn frame_info(ts: u64, packet: &Packet<'_>, to_server: bool) -> FrameInfo {
    FrameInfo {
        ts,
        to_server,
        src_mac: packet.src_mac,
        vlan: packet.vlan,
    }
}
