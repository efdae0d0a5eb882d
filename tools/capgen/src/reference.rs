//! Test-only: an independent recount of the truth from the frames of a capture. Client→server
//! payload of each flow is laid out by sequence number (duplicates must agree byte for byte), cut
//! into runs of contiguous captured bytes, and each run is walked with the project's Modbus
//! `probe` and `frame`: at a boundary the next ADU frames, inside a cut PDU the walk moves on byte
//! by byte until the probe matches. If a fixture could make a resynchronising sensor latch onto a
//! false header, the recount disagrees with the truth.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
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
type Direction = (IpAddr, u16, IpAddr, u16);

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

/// Decodes a frame of `link` down to TCP; `None` for anything else (UDP).
pub(crate) fn decode(link: LinkType, frame: &[u8]) -> Option<Segment> {
    let sliced = match link {
        LinkType::Ethernet => SlicedPacket::from_ethernet(frame),
        LinkType::Sll => SlicedPacket::from_linux_sll(frame),
        LinkType::Sll2 => SlicedPacket::from_ip(frame.get(20..)?),
        LinkType::Raw => SlicedPacket::from_ip(frame),
    }
    .ok()?;
    let vlan = sliced.vlan().is_some();
    let (src, dst) = match sliced.net? {
        NetSlice::Ipv4(ip) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
        ),
        NetSlice::Ipv6(ip) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
        ),
        _ => return None,
    };
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
