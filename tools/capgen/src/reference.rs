//! Test-only: an independent recount of the truth from the frames of a capture. Client→server
//! payload of each flow is laid out by sequence number (duplicates must agree byte for byte), cut
//! into runs of contiguous captured bytes, and each run is walked with the project's Modbus
//! `probe` and `frame`: at a boundary the next ADU frames, inside a cut PDU the walk moves on byte
//! by byte until the probe matches. If a fixture could make a resynchronising sensor latch onto a
//! false header, the recount disagrees with the truth. S7 and DNP3 streams are walked likewise
//! with those protocols' framers and parsers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use faro_protocols::dnp3::{app, link as dnp3_link, transport};
use faro_protocols::modbus;
use faro_protocols::s7::comm::{self, Param, Rosctr, UserdataKind};
use faro_protocols::s7::cotp::{self, Cotp};
use faro_protocols::s7::{self, tpkt};
use faro_protocols::{Framing, Probe};

use crate::link::LinkType;
use crate::truth::{EdgeKey, FunctionKey};

/// (client, server, server port) → function code → requests.
pub(crate) type Counts = BTreeMap<(IpAddr, IpAddr, u16), BTreeMap<u8, u64>>;

/// (source, source port, destination, destination port): one direction of a flow.
pub(crate) type Direction = (IpAddr, u16, IpAddr, u16);

/// One TCP segment's fields the recount needs.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) src_port: u16,
    pub(crate) dst_port: u16,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) syn: bool,
    pub(crate) fin: bool,
    pub(crate) ack_flag: bool,
    pub(crate) payload: Vec<u8>,
    pub(crate) vlan: bool,
}

fn slice(link: LinkType, frame: &[u8]) -> Option<SlicedPacket<'_>> {
    match link {
        LinkType::Ethernet => SlicedPacket::from_ethernet(frame),
        LinkType::Sll => SlicedPacket::from_linux_sll(frame),
        LinkType::Sll2 => SlicedPacket::from_ip(frame.get(20..)?),
        LinkType::Raw => SlicedPacket::from_ip(frame),
    }
    .ok()
}

fn addresses(sliced: &SlicedPacket<'_>) -> Option<(IpAddr, IpAddr)> {
    Some(match sliced.net.as_ref()? {
        NetSlice::Ipv4(ip) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
        ),
        NetSlice::Ipv6(ip) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
        ),
        _ => return None,
    })
}

/// One UDP datagram: (source, source port, destination, destination port) and payload.
pub(crate) type Datagram = (Direction, Vec<u8>);

/// Decodes a frame of `link` down to UDP; `None` for anything else.
pub(crate) fn decode_udp(link: LinkType, frame: &[u8]) -> Option<Datagram> {
    let sliced = slice(link, frame)?;
    let (src, dst) = addresses(&sliced)?;
    let TransportSlice::Udp(udp) = sliced.transport? else {
        return None;
    };
    Some((
        (src, udp.source_port(), dst, udp.destination_port()),
        udp.payload().to_vec(),
    ))
}

/// Decodes a frame of `link` down to TCP; `None` for anything else (UDP).
pub(crate) fn decode(link: LinkType, frame: &[u8]) -> Option<Segment> {
    let sliced = slice(link, frame)?;
    let vlan = sliced.vlan().is_some();
    let (src, dst) = addresses(&sliced)?;
    let TransportSlice::Tcp(tcp) = sliced.transport? else {
        return None;
    };
    Some(Segment {
        src,
        dst,
        src_port: tcp.source_port(),
        dst_port: tcp.destination_port(),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        syn: tcp.syn(),
        fin: tcp.fin(),
        ack_flag: tcp.ack(),
        payload: tcp.payload().to_vec(),
        vlan,
    })
}

/// The payload of every direction `keep` accepts, laid out by sequence number (duplicates must
/// agree byte for byte) and cut into runs of contiguous captured bytes.
fn streams(
    link: LinkType,
    frames: &[Vec<u8>],
    keep: impl Fn(&Segment) -> bool,
) -> HashMap<Direction, Vec<Vec<u8>>> {
    // Direction → (reference seq, offset → byte).
    let mut streams: HashMap<Direction, (u32, BTreeMap<i64, u8>)> = HashMap::new();
    for segment in frames.iter().filter_map(|f| decode(link, f)) {
        if !keep(&segment) || segment.payload.is_empty() {
            continue;
        }
        let key = (segment.src, segment.src_port, segment.dst, segment.dst_port);
        let (reference, bytes) = streams
            .entry(key)
            .or_insert_with(|| (segment.seq, BTreeMap::new()));
        let start = i64::from(segment.seq.wrapping_sub(*reference) as i32);
        for (i, &byte) in segment.payload.iter().enumerate() {
            let previous = bytes.insert(start + i as i64, byte);
            assert!(
                previous.is_none() || previous == Some(byte),
                "retransmitted bytes differ"
            );
        }
    }
    streams
        .into_iter()
        .map(|(direction, (_, bytes))| {
            let mut runs: Vec<Vec<u8>> = Vec::new();
            let mut last = None;
            for (offset, byte) in bytes {
                if last != Some(offset - 1) {
                    runs.push(Vec::new());
                }
                if let Some(run) = runs.last_mut() {
                    run.push(byte);
                }
                last = Some(offset);
            }
            (direction, runs)
        })
        .collect()
}

/// Recounts the Modbus requests of every client→server stream towards `server_ports`.
pub(crate) fn recount(link: LinkType, frames: &[Vec<u8>], server_ports: &[u16]) -> Counts {
    let client_streams = streams(link, frames, |s| server_ports.contains(&s.dst_port));
    let mut counts = Counts::new();
    for ((client, _, server, port), runs) in client_streams {
        let functions = counts.entry((client, server, port)).or_default();
        for run in runs {
            let mut pos = 0;
            while pos < run.len() {
                let rest = &run[pos..];
                match modbus::probe(rest) {
                    Probe::Match => match modbus::frame(rest) {
                        Framing::Parsed { consumed, message } => {
                            *functions.entry(message.pdu[0]).or_default() += 1;
                            pos += consumed;
                        }
                        _ => unreachable!("probe matched an unframable ADU"),
                    },
                    Probe::NeedMore => break,
                    Probe::NoMatch => pos += 1,
                }
            }
        }
        if functions.is_empty() {
            counts.remove(&(client, server, port));
        }
    }
    counts
}

/// Checks a capture without loss, reordering or retransmission: in capture order every segment
/// continues its direction's sequence space exactly, and every ACK acknowledges everything the
/// peer had sent. Returns the number of pure ACKs seen.
pub(crate) fn assert_in_order_tcp(link: LinkType, frames: &[Vec<u8>]) -> usize {
    let mut next: HashMap<Direction, u32> = HashMap::new();
    let mut pure_acks = 0;
    for (index, segment) in frames.iter().filter_map(|f| decode(link, f)).enumerate() {
        let key = (segment.src, segment.src_port, segment.dst, segment.dst_port);
        let reverse = (segment.dst, segment.dst_port, segment.src, segment.src_port);
        if let Some(&expected) = next.get(&key) {
            assert_eq!(segment.seq, expected, "segment {index} of {key:?}");
        }
        if segment.ack_flag
            && let Some(&peer) = next.get(&reverse)
        {
            assert_eq!(segment.ack, peer, "ack of segment {index} of {key:?}");
        }
        let advance =
            segment.payload.len() as u32 + u32::from(segment.syn) + u32::from(segment.fin);
        next.insert(key, segment.seq.wrapping_add(advance));
        if segment.ack_flag && !segment.syn && !segment.fin && segment.payload.is_empty() {
            pure_acks += 1;
        }
    }
    pure_acks
}

/// Per direction of each flow towards or from `server_ports`, in capture order: the most ADUs
/// that start in one segment, and the most segments one ADU spans. Assumes an in-order capture
/// whose streams start at ADU boundaries.
pub(crate) fn segmentation(
    link: LinkType,
    frames: &[Vec<u8>],
    server_ports: &[u16],
) -> (usize, usize) {
    // Direction → (unframed bytes, segments the pending ADU has spanned so far).
    let mut pending: HashMap<Direction, (Vec<u8>, usize)> = HashMap::new();
    let (mut most_adus, mut most_segments) = (0, 0);
    for segment in frames.iter().filter_map(|f| decode(link, f)) {
        let modbus_side =
            server_ports.contains(&segment.dst_port) || server_ports.contains(&segment.src_port);
        if !modbus_side || segment.payload.is_empty() {
            continue;
        }
        let key = (segment.src, segment.src_port, segment.dst, segment.dst_port);
        let (buffer, spanned) = pending.entry(key).or_default();
        buffer.extend_from_slice(&segment.payload);
        *spanned += 1;
        let mut adus = 0;
        loop {
            match modbus::frame(buffer) {
                Framing::Parsed { consumed, .. } => {
                    buffer.drain(..consumed);
                    adus += 1;
                    most_segments = most_segments.max(*spanned);
                    *spanned = usize::from(!buffer.is_empty());
                }
                Framing::NeedMore { .. } => break,
                Framing::NotThisProtocol => {
                    // Not Modbus (HTTP on 502): drop it.
                    buffer.clear();
                    *spanned = 0;
                    break;
                }
            }
        }
        most_adus = most_adus.max(adus);
    }
    (most_adus, most_segments)
}

/// Every ADU of every server→client stream towards `server_ports`, framed in capture order.
pub(crate) fn responses(link: LinkType, frames: &[Vec<u8>], server_ports: &[u16]) -> Vec<Vec<u8>> {
    let mut pending: HashMap<Direction, Vec<u8>> = HashMap::new();
    let mut out = Vec::new();
    for segment in frames.iter().filter_map(|f| decode(link, f)) {
        if !server_ports.contains(&segment.src_port) {
            continue;
        }
        let key = (segment.src, segment.src_port, segment.dst, segment.dst_port);
        let buffer = pending.entry(key).or_default();
        buffer.extend_from_slice(&segment.payload);
        while let Framing::Parsed { consumed, .. } = modbus::frame(buffer) {
            out.push(buffer.drain(..consumed).collect());
        }
        if let Framing::NotThisProtocol = modbus::frame(buffer) {
            buffer.clear();
        }
    }
    out
}

/// What an independent reader of the S7 streams of a capture finds.
#[derive(Debug, Default)]
pub(crate) struct S7Counts {
    /// Requests per edge: Jobs (from either side, counted on the connection's edge) by parameter
    /// function, userdata requests by group and subfunction.
    pub(crate) requests: BTreeMap<EdgeKey, BTreeMap<FunctionKey, u64>>,
    /// TPKTs, TPDUs or PDUs that did not parse, and PDUs with anomalies.
    pub(crate) malformed: usize,
    /// The longest S7comm PDU.
    pub(crate) largest_pdu: usize,
    /// PDUs that came in more than one DT TPDU.
    pub(crate) split_units: usize,
}

/// Recounts the S7comm requests of every flow with `server_ports` on one end: each direction's
/// runs of captured bytes are walked TPKT by TPKT with the project's `tpkt::frame` and
/// `cotp::parse` (resynchronising with `s7::probe` where a run starts inside a frame), DT user
/// data is joined up to EOT, and each unit is decoded with `comm::parse`.
pub(crate) fn s7_recount(link: LinkType, frames: &[Vec<u8>], server_ports: &[u16]) -> S7Counts {
    let mut counts = S7Counts::default();
    let either_end =
        |s: &Segment| server_ports.contains(&s.dst_port) || server_ports.contains(&s.src_port);
    for ((src, src_port, dst, dst_port), runs) in streams(link, frames, either_end) {
        let edge = if server_ports.contains(&dst_port) {
            (src, dst, dst_port)
        } else {
            (dst, src, src_port)
        };
        for run in runs {
            let mut unit: Vec<u8> = Vec::new();
            let mut tpdus = 0;
            let mut pos = 0;
            let mut aligned = true;
            while pos < run.len() {
                let rest = &run[pos..];
                if !aligned {
                    match s7::probe(rest) {
                        Probe::Match => aligned = true,
                        Probe::NeedMore => break,
                        Probe::NoMatch => {
                            pos += 1;
                            continue;
                        }
                    }
                }
                let Framing::Parsed { consumed, message } = tpkt::frame(rest) else {
                    if let Framing::NotThisProtocol = tpkt::frame(rest) {
                        counts.malformed += 1;
                        aligned = false;
                        unit.clear();
                        pos += 1;
                        continue;
                    }
                    break;
                };
                pos += consumed;
                match cotp::parse(message.payload) {
                    Ok(Cotp::Data { eot, user_data, .. }) => {
                        unit.extend_from_slice(user_data);
                        tpdus += 1;
                        if !eot {
                            continue;
                        }
                        if tpdus > 1 {
                            counts.split_units += 1;
                        }
                        counts.largest_pdu = counts.largest_pdu.max(unit.len());
                        match comm::parse(&unit) {
                            Ok(m) => {
                                if !m.anomalies.is_empty() {
                                    counts.malformed += 1;
                                }
                                let key = match (m.header.rosctr, m.param) {
                                    (Rosctr::JOB, param) => {
                                        Some(FunctionKey::Code(param.function().map_or(0, |f| f.0)))
                                    }
                                    (
                                        Rosctr::USERDATA,
                                        Param::Userdata {
                                            kind,
                                            group,
                                            subfunction,
                                            ..
                                        },
                                    ) if UserdataKind(kind) == UserdataKind::REQUEST => {
                                        Some(FunctionKey::Userdata { group, subfunction })
                                    }
                                    _ => None,
                                };
                                if let Some(key) = key {
                                    *counts
                                        .requests
                                        .entry(edge)
                                        .or_default()
                                        .entry(key)
                                        .or_default() += 1;
                                }
                            }
                            Err(_) => counts.malformed += 1,
                        }
                        unit.clear();
                        tpdus = 0;
                    }
                    Ok(_) => {}
                    Err(_) => counts.malformed += 1,
                }
            }
        }
    }
    counts
}

/// What an independent reader of the DNP3 frames of a capture finds.
#[derive(Debug, Default)]
pub(crate) struct Dnp3Counts {
    /// Requests per edge (master, outstation, outstation port) by function code.
    pub(crate) requests: BTreeMap<EdgeKey, BTreeMap<FunctionKey, u64>>,
    /// Object headers (`g<group>v<variation>`) and CROB points (`crob-<index>`) of requests and
    /// responses, per edge.
    pub(crate) objects: BTreeMap<EdgeKey, BTreeMap<String, u64>>,
    /// Edges with a fragment, and whether any carried Secure Authentication.
    pub(crate) secure_authentication: BTreeMap<EdgeKey, bool>,
    /// The transport of each edge.
    pub(crate) transports: BTreeMap<EdgeKey, &'static str>,
    /// Link addresses of each address's good frames.
    pub(crate) addresses: BTreeMap<IpAddr, BTreeSet<u16>>,
    /// Identity attributes outstations' device attributes reveal.
    pub(crate) identity: BTreeMap<IpAddr, BTreeMap<&'static str, String>>,
    /// Frames whose data CRC did not match.
    pub(crate) bad_crc: usize,
    /// Bytes that did not frame, fragments that did not parse or carried anomalies.
    pub(crate) malformed: usize,
    /// Frames without user data (link status and the like).
    pub(crate) link_only: usize,
    /// Segments without FIR and no fragment in progress, and sequence errors.
    pub(crate) orphans: usize,
    /// Fragments assembled, those of more than one segment, and the largest.
    pub(crate) fragments: usize,
    pub(crate) multi_frame_fragments: usize,
    pub(crate) largest_fragment: usize,
}

/// The report's name for an identity device attribute.
fn attribute_name(variation: u8) -> Option<&'static str> {
    use app::AttributeVariation as V;
    Some(match app::AttributeVariation(variation) {
        V::SOFTWARE_VERSION => "software_version",
        V::HARDWARE_VERSION => "hardware_version",
        V::USER_ASSIGNED_ID => "user_assigned_id",
        V::DEVICE_NAME => "device_name",
        V::SERIAL_NUMBER => "serial_number",
        V::PRODUCT_NAME_AND_MODEL => "product_and_model",
        V::MANUFACTURER_NAME => "vendor",
        _ => return None,
    })
}

/// Transport reassembly of one direction of one link-address pair, and the segments the
/// fragment in progress has taken.
type Reassembly = HashMap<(Direction, u16, u16), (transport::Reassembler, usize)>;

impl Dnp3Counts {
    /// Walks `bytes` (a run of one TCP direction, or one datagram) link frame by link frame,
    /// resynchronising on the next valid header after bytes that do not frame.
    fn walk(
        &mut self,
        direction: Direction,
        transport_name: &'static str,
        bytes: &[u8],
        reassembly: &mut Reassembly,
    ) {
        let mut pos = 0;
        while let Some(rest) = bytes.get(pos..).filter(|rest| !rest.is_empty()) {
            match dnp3_link::frame(rest) {
                Framing::Parsed { consumed, message } => {
                    pos += consumed;
                    self.frame(direction, transport_name, &message, reassembly);
                }
                Framing::NeedMore { .. } => break,
                Framing::NotThisProtocol => {
                    self.malformed += 1;
                    let skip = rest
                        .get(1..)
                        .and_then(dnp3_link::find_start)
                        .map_or(rest.len(), |at| at + 1);
                    pos += skip;
                }
            }
        }
    }

    fn frame(
        &mut self,
        direction: Direction,
        transport_name: &'static str,
        frame: &dnp3_link::Frame<'_>,
        reassembly: &mut Reassembly,
    ) {
        if !frame.data_crc_ok {
            self.bad_crc += 1;
            return;
        }
        let (src, src_port, dst, dst_port) = direction;
        let header = frame.header;
        for (ip, address) in [(src, header.source), (dst, header.destination)] {
            if address < 0xFFF0 {
                self.addresses.entry(ip).or_default().insert(address);
            }
        }
        if frame.data.is_empty() {
            self.link_only += 1;
            return;
        }
        let edge = if header.control.dir() {
            (src, dst, dst_port)
        } else {
            (dst, src, src_port)
        };
        let mut segment = Vec::new();
        frame.data.copy_to(&mut segment);
        let Some((segment_header, data)) = transport::split(&segment) else {
            return;
        };
        let (reassembler, segments) = reassembly
            .entry((direction, header.source, header.destination))
            .or_insert_with(|| (transport::Reassembler::new(1 << 16), 0));
        if segment_header.fir {
            *segments = 0;
        }
        *segments += 1;
        let segments = *segments;
        match reassembler.push(segment_header, data) {
            transport::Assembly::Complete(fragment) => {
                let fragment = fragment.to_vec();
                self.fragment(edge, transport_name, &fragment, segments);
            }
            transport::Assembly::Pending => {}
            _ => self.orphans += 1,
        }
    }

    fn fragment(
        &mut self,
        edge: EdgeKey,
        transport_name: &'static str,
        bytes: &[u8],
        segments: usize,
    ) {
        let Ok(fragment) = app::parse(bytes) else {
            self.malformed += 1;
            return;
        };
        if !fragment.anomalies.is_empty() {
            self.malformed += 1;
        }
        self.fragments += 1;
        if segments > 1 {
            self.multi_frame_fragments += 1;
        }
        self.largest_fragment = self.largest_fragment.max(bytes.len());
        self.transports.insert(edge, transport_name);
        let function = fragment.function;
        if function.is_request() {
            *self
                .requests
                .entry(edge)
                .or_default()
                .entry(FunctionKey::Code(function.0))
                .or_default() += 1;
        }
        let mut secure = function.is_secure_authentication();
        let objects = self.objects.entry(edge).or_default();
        for header in fragment.objects.iter() {
            secure |= header.group == 120;
            *objects
                .entry(format!("g{}v{}", header.group, header.variation))
                .or_default() += 1;
            match header.values {
                app::ObjectValues::Crob(crobs) => {
                    for crob in crobs {
                        *objects.entry(format!("crob-{}", crob.index)).or_default() += 1;
                    }
                }
                app::ObjectValues::DeviceAttribute {
                    variation, value, ..
                } if function.is_response() => {
                    if let Some(name) = attribute_name(variation) {
                        self.identity
                            .entry(edge.1)
                            .or_default()
                            .insert(name, String::from_utf8_lossy(value).into_owned());
                    }
                }
                _ => {}
            }
        }
        *self.secure_authentication.entry(edge).or_default() |= secure;
    }
}

/// Recounts the DNP3 of every flow with `server_ports` on one end: TCP runs of captured bytes
/// and UDP datagrams are walked link frame by link frame with the project's `link::frame`
/// (data CRCs checked, bad frames dropped), segments joined with `transport::Reassembler` per
/// direction and link-address pair, fragments decoded with `app::parse`. A fragment in
/// progress is dropped at a gap in a TCP stream.
pub(crate) fn dnp3_recount(link: LinkType, frames: &[Vec<u8>], server_ports: &[u16]) -> Dnp3Counts {
    let mut counts = Dnp3Counts::default();
    let either_end =
        |s: &Segment| server_ports.contains(&s.dst_port) || server_ports.contains(&s.src_port);
    for (direction, runs) in streams(link, frames, either_end) {
        for run in runs {
            let mut reassembly = Reassembly::new();
            counts.walk(direction, "tcp", &run, &mut reassembly);
        }
    }
    let mut reassembly = Reassembly::new();
    for (direction, payload) in frames.iter().filter_map(|f| decode_udp(link, f)) {
        let (_, src_port, _, dst_port) = direction;
        if server_ports.contains(&dst_port) || server_ports.contains(&src_port) {
            counts.walk(direction, "udp", &payload, &mut reassembly);
        }
    }
    counts
}

/// An OPC UA chunk as read off one direction's stream: its type (`HEL`, `OPN`, …) and its
/// bytes.
pub(crate) type UaChunk = (String, Vec<u8>);

/// The OPC UA chunks of every direction of the TCP flows on `port` (one connection per
/// direction, captured whole and in order), each direction's stream cut at the message sizes.
pub(crate) fn opcua_chunks(
    link: LinkType,
    frames: &[Vec<u8>],
    port: u16,
) -> BTreeMap<Direction, Vec<UaChunk>> {
    let mut streams: BTreeMap<Direction, Vec<u8>> = BTreeMap::new();
    for s in frames.iter().filter_map(|f| decode(link, f)) {
        if s.src_port == port || s.dst_port == port {
            let direction = (s.src, s.src_port, s.dst, s.dst_port);
            streams.entry(direction).or_default().extend(&s.payload);
        }
    }
    streams
        .into_iter()
        .map(|(direction, stream)| {
            let mut chunks = Vec::new();
            let mut rest = &stream[..];
            // A budgeted capture may end inside a chunk: that one is left out.
            while let Some(size) = rest.get(4..8) {
                let size = u32::from_le_bytes(size.try_into().unwrap()) as usize;
                let Some((chunk, next)) = rest.split_at_checked(size) else {
                    break;
                };
                chunks.push((
                    String::from_utf8_lossy(&chunk[..3]).into_owned(),
                    chunk.to_vec(),
                ));
                rest = next;
            }
            (direction, chunks)
        })
        .collect()
}

/// The asymmetric security header of an OPN chunk (policy URI, sender certificate, receiver
/// thumbprint) and the length of what follows it.
pub(crate) fn asymmetric_header(chunk: &[u8]) -> ([Vec<u8>; 3], usize) {
    // After the message header and the secure channel id.
    let mut at = 12;
    let mut field = || {
        let len = i32::from_le_bytes(chunk[at..at + 4].try_into().unwrap());
        at += 4;
        let len = usize::try_from(len).unwrap_or(0);
        let bytes = chunk[at..at + len].to_vec();
        at += len;
        bytes
    };
    let fields = [field(), field(), field()];
    (fields, chunk.len() - at)
}
