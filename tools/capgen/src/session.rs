//! Application sessions over a TCP flow: Modbus/TCP (the client's transaction counter and the
//! encoded ADUs of the exchange in progress) and S7 over ISO-on-TCP (COTP connection, PDU
//! references, and the TPKT frames each side has queued but not yet sent); DNP3 over TCP or
//! UDP (link frames around transport segments around application fragments, queued per side);
//! and OPC UA binary over TCP (one secure channel: its ids, each side's sequence numbers and
//! chunk size, the request in progress, and what the edge's truth counts).

use std::net::IpAddr;
use std::ops::Range;

use anyhow::{Context, Result, bail};
use faro_protocols::dnp3::app::FunctionCode;
use faro_protocols::dnp3::{link, transport};
use faro_protocols::s7::{cotp, tpkt};

use crate::capture::{PacketSink, Wire};
use crate::dnp3::Apdu;
use crate::modbus::{Plc, Request};
use crate::opcua::{
    self, Asymmetric, Identity, MessageType, Mode, Node, POLICY_NONE, Put, RequestHeader,
    Symmetric, body, id, status,
};
use crate::rng::Rng;
use crate::tcp::{Side, TcpFlow};
use crate::truth::{FunctionKey, ObjectKey, OpcUaEdge, Transport};
use crate::udp::UdpFlow;

#[derive(Debug, Clone)]
pub(crate) struct ModbusSession {
    pub(crate) flow: TcpFlow,
    pub(crate) unit_id: u8,
    next_transaction_id: u16,
    /// Transaction id of the first request of the current batch.
    batch_transaction_id: u16,
    /// Request ADUs of the current batch, back to back.
    pub(crate) request: Vec<u8>,
    /// Response ADUs of the current batch, back to back.
    pub(crate) response: Vec<u8>,
    /// Where each request ADU of the batch lies in [`Self::request`].
    pub(crate) request_bounds: Vec<Range<usize>>,
    /// Where each response ADU of the batch lies in [`Self::response`].
    pub(crate) response_bounds: Vec<Range<usize>>,
    scratch: Vec<u8>,
}

impl ModbusSession {
    pub(crate) fn new(flow: TcpFlow, unit_id: u8, first_transaction_id: u16) -> Self {
        Self {
            flow,
            unit_id,
            next_transaction_id: first_transaction_id,
            batch_transaction_id: first_transaction_id,
            request: Vec::with_capacity(512),
            response: Vec::with_capacity(512),
            request_bounds: Vec::new(),
            response_bounds: Vec::new(),
            scratch: Vec::with_capacity(256),
        }
    }

    /// Encodes `requests` back to back into [`Self::request`] and notes each in the flow's ledger
    /// at the offsets they will occupy when sent from the client's next offset.
    pub(crate) fn encode_requests(&mut self, requests: &[Request]) -> Result<()> {
        self.request.clear();
        self.request_bounds.clear();
        self.batch_transaction_id = self.next_transaction_id;
        let base = self.flow.next_offset(Side::Client);
        for request in requests {
            let start = self.request.len();
            request.encode(
                &mut self.request,
                self.next_transaction_id,
                self.unit_id,
                &mut self.scratch,
            )?;
            self.next_transaction_id = self.next_transaction_id.wrapping_add(1);
            let end = self.request.len();
            self.request_bounds.push(start..end);
            self.flow
                .note_request(base + start as u64..base + end as u64, request.function().0);
        }
        Ok(())
    }

    /// Encodes `plc`'s answers to the current batch into [`Self::response`].
    pub(crate) fn encode_responses(&mut self, plc: &mut Plc, requests: &[Request]) -> Result<()> {
        self.response.clear();
        self.response_bounds.clear();
        let mut transaction_id = self.batch_transaction_id;
        for request in requests {
            let start = self.response.len();
            plc.answer(request, transaction_id, self.unit_id, &mut self.response)?;
            self.response_bounds.push(start..self.response.len());
            transaction_id = transaction_id.wrapping_add(1);
        }
        Ok(())
    }

    /// Transaction id the next request will carry.
    pub(crate) fn next_transaction_id(&self) -> u16 {
        self.next_transaction_id
    }

    /// Makes the next request carry `transaction_id`.
    pub(crate) fn set_next_transaction_id(&mut self, transaction_id: u16) {
        self.next_transaction_id = transaction_id;
    }
}

/// An S7 session: a TCP flow carrying TPKT frames around COTP TPDUs, the PDU reference each
/// side numbers its Jobs with, and the frames each side has queued for its next segment.
///
/// Requests are noted in the flow's ledger at the stream offsets their frames will occupy, so
/// frames must be sent in the order queued, before anything else from the same side.
#[derive(Debug, Clone)]
pub(crate) struct S7Session {
    pub(crate) flow: TcpFlow,
    client_pdu_ref: u16,
    server_pdu_ref: u16,
    client_queue: Vec<u8>,
    server_queue: Vec<u8>,
    /// The S7comm PDU being framed.
    pdu: Vec<u8>,
    /// The COTP TPDU being framed.
    tpdu: Vec<u8>,
}

impl S7Session {
    pub(crate) fn new(flow: TcpFlow, first_pdu_ref: u16) -> Self {
        Self {
            flow,
            client_pdu_ref: first_pdu_ref,
            server_pdu_ref: first_pdu_ref.rotate_left(8),
            client_queue: Vec::with_capacity(512),
            server_queue: Vec::with_capacity(512),
            pdu: Vec::with_capacity(256),
            tpdu: Vec::with_capacity(256),
        }
    }

    /// The PDU reference of the next Job or request `side` sends (each side numbers its own).
    pub(crate) fn next_pdu_ref(&mut self, side: Side) -> u16 {
        let counter = match side {
            Side::Client => &mut self.client_pdu_ref,
            Side::Server => &mut self.server_pdu_ref,
        };
        let pdu_ref = *counter;
        *counter = counter.wrapping_add(1);
        pdu_ref
    }

    fn queue_and_flow(&mut self, side: Side) -> (&mut Vec<u8>, &mut TcpFlow) {
        match side {
            Side::Client => (&mut self.client_queue, &mut self.flow),
            Side::Server => (&mut self.server_queue, &mut self.flow),
        }
    }

    /// Queues a COTP CR (from the client) or CC (from the server) in one TPKT.
    pub(crate) fn queue_connection(
        &mut self,
        side: Side,
        connection: &cotp::Connection<'_>,
    ) -> Result<()> {
        self.tpdu.clear();
        match side {
            Side::Client => cotp::encode_cr(&mut self.tpdu, connection),
            Side::Server => cotp::encode_cc(&mut self.tpdu, connection),
        }
        .context("encoding COTP connection TPDU")?;
        let queue = match side {
            Side::Client => &mut self.client_queue,
            Side::Server => &mut self.server_queue,
        };
        tpkt::encode(queue, &self.tpdu).context("framing COTP connection TPDU")
    }

    /// Queues the S7comm PDU `build` appends (it returns what a sensor counts the PDU as) from
    /// `side`: in one DT TPDU with EOT, or, with `split`, in two DT TPDUs (the first `split`
    /// bytes without EOT, the rest with it), each in its own TPKT. A request is noted in the
    /// ledger over all of its frames.
    pub(crate) fn queue_pdu(
        &mut self,
        side: Side,
        split: Option<usize>,
        build: impl FnOnce(&mut Vec<u8>) -> Result<Option<FunctionKey>>,
    ) -> Result<()> {
        self.pdu.clear();
        let key = build(&mut self.pdu)?;
        let (first, second) = match split {
            Some(at) => {
                let (first, second) = self
                    .pdu
                    .split_at_checked(at)
                    .context("split point past the PDU")?;
                (first, Some(second))
            }
            None => (self.pdu.as_slice(), None),
        };
        let (queue, flow) = match side {
            Side::Client => (&mut self.client_queue, &mut self.flow),
            Side::Server => (&mut self.server_queue, &mut self.flow),
        };
        let start = queue.len();
        for (piece, eot) in [(Some(first), second.is_none()), (second, true)] {
            let Some(piece) = piece else { continue };
            self.tpdu.clear();
            cotp::encode_dt(&mut self.tpdu, eot, piece);
            tpkt::encode(queue, &self.tpdu).context("framing COTP DT TPDU")?;
        }
        if let Some(key) = key {
            let base = flow.next_offset(side);
            flow.note_request_from(side, base + start as u64..base + queue.len() as u64, key);
        }
        Ok(())
    }

    /// Sends everything `side` has queued in one segment.
    pub(crate) fn send<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
    ) -> Result<()> {
        let (queue, flow) = self.queue_and_flow(side);
        flow.send(wire, at, side, queue)?;
        queue.clear();
        Ok(())
    }

    /// Sends what `side` has queued in segments cut at `cuts` (offsets into the queue, rising),
    /// `spacing` apart; returns the time of the last segment.
    pub(crate) fn send_in_pieces<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        cuts: &[usize],
        spacing: u64,
    ) -> Result<u64> {
        let (queue, flow) = self.queue_and_flow(side);
        let mut at = at;
        let mut from = 0;
        for (i, &to) in cuts.iter().chain([queue.len()].iter()).enumerate() {
            if i > 0 {
                at += spacing;
            }
            let piece = queue
                .get(from..to)
                .context("cut outside the queued bytes")?;
            flow.send(wire, at, side, piece)?;
            from = to;
        }
        queue.clear();
        Ok(at)
    }
}

/// What carries a DNP3 session's link frames: a TCP flow, or UDP datagrams.
#[derive(Debug, Clone)]
pub(crate) enum Carrier {
    Tcp(TcpFlow),
    Udp(UdpFlow),
}

impl Carrier {
    fn next_offset(&self, side: Side) -> u64 {
        match self {
            Carrier::Tcp(flow) => flow.next_offset(side),
            Carrier::Udp(flow) => flow.next_offset(side),
        }
    }

    fn send<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        payload: &[u8],
    ) -> Result<()> {
        match self {
            Carrier::Tcp(flow) => flow.send(wire, at, side, payload),
            Carrier::Udp(flow) => flow.send(wire, at, side, payload),
        }
    }

    fn skip(&mut self, side: Side, len: u64) {
        match self {
            Carrier::Tcp(flow) => flow.skip(side, len),
            Carrier::Udp(flow) => flow.skip(side, len),
        }
    }

    fn captured_fully(&self, side: Side, range: &Range<u64>) -> bool {
        match self {
            Carrier::Tcp(flow) => flow.captured_fully(side, range),
            Carrier::Udp(flow) => flow.captured_fully(side, range),
        }
    }
}

/// An address and port of one end of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
}

/// A link frame a tracked session sent, at its stream offsets.
#[derive(Debug, Clone)]
pub(crate) struct FrameNote {
    pub(crate) from_master: bool,
    range: Range<u64>,
    /// False for a frame whose data CRC does not match.
    good: bool,
    pub(crate) source: u16,
    pub(crate) destination: u16,
}

/// An application fragment a tracked session sent, over all of its frames.
#[derive(Debug, Clone)]
pub(crate) struct FragmentNote {
    side: Side,
    range: Range<u64>,
    /// False when one of its frames has a bad data CRC.
    good: bool,
    pub(crate) function: FunctionCode,
    pub(crate) objects: Vec<ObjectKey>,
    pub(crate) identity: Vec<(&'static str, String)>,
}

/// The frames and fragments a tracked session sent.
#[derive(Debug, Clone, Default)]
struct Dnp3Ledger {
    frames: Vec<FrameNote>,
    fragments: Vec<FragmentNote>,
}

/// What a side has queued: link frames back to back, where each ends, and the transport
/// sequence of its next segment.
#[derive(Debug, Clone, Default)]
struct Queue {
    bytes: Vec<u8>,
    frame_ends: Vec<usize>,
    transport_sequence: u8,
}

/// A DNP3 session between a master (the client end of the carrier) and an outstation (the
/// server end): each side's application fragments cut into transport segments, each segment in
/// an unconfirmed user data link frame from the master's (DIR set) or the outstation's link
/// address, queued until sent.
///
/// A tracked session notes every frame and fragment at the stream offsets they will occupy, so
/// frames must be sent (or lost) in the order queued, before anything else from the same side.
#[derive(Debug, Clone)]
pub(crate) struct Dnp3Session {
    pub(crate) carrier: Carrier,
    master_address: u16,
    outstation_address: u16,
    master_queue: Queue,
    outstation_queue: Queue,
    ledger: Option<Dnp3Ledger>,
    /// The transport segment being framed.
    segment: Vec<u8>,
}

impl Dnp3Session {
    pub(crate) fn new(carrier: Carrier, master_address: u16, outstation_address: u16) -> Self {
        Self {
            carrier,
            master_address,
            outstation_address,
            master_queue: Queue::default(),
            outstation_queue: Queue::default(),
            ledger: None,
            segment: Vec::with_capacity(link::MAX_USER_DATA_LEN),
        }
    }

    /// Notes frames and fragments for the truth (the TCP flow must be tracked too).
    pub(crate) fn tracked(mut self) -> Self {
        self.ledger = Some(Dnp3Ledger::default());
        self
    }

    /// Starts each side's transport sequence where a session open for a while would have it.
    pub(crate) fn with_transport_sequences(mut self, master: u8, outstation: u8) -> Self {
        self.master_queue.transport_sequence = master & transport::TransportHeader::SEQUENCE;
        self.outstation_queue.transport_sequence =
            outstation & transport::TransportHeader::SEQUENCE;
        self
    }

    /// The TCP flow, for handshakes, ACKs and closes.
    pub(crate) fn tcp(&mut self) -> Option<&mut TcpFlow> {
        match &mut self.carrier {
            Carrier::Tcp(flow) => Some(flow),
            Carrier::Udp(_) => None,
        }
    }

    /// The master's and the outstation's addresses and ports.
    pub(crate) fn ends(&self) -> (Endpoint, Endpoint) {
        let (master, outstation) = match &self.carrier {
            Carrier::Tcp(flow) => (
                (flow.client.host.ip, flow.client.port),
                (flow.server.host.ip, flow.server.port),
            ),
            Carrier::Udp(flow) => (
                (flow.client.host.ip, flow.client.port),
                (flow.server.host.ip, flow.server.port),
            ),
        };
        (
            Endpoint {
                ip: master.0,
                port: master.1,
            },
            Endpoint {
                ip: outstation.0,
                port: outstation.1,
            },
        )
    }

    pub(crate) fn transport(&self) -> Transport {
        match self.carrier {
            Carrier::Tcp(_) => Transport::Tcp,
            Carrier::Udp(_) => Transport::Udp,
        }
    }

    fn queue_mut(&mut self, side: Side) -> &mut Queue {
        match side {
            Side::Client => &mut self.master_queue,
            Side::Server => &mut self.outstation_queue,
        }
    }

    /// Source and destination link addresses and the control byte of frames from `side`.
    fn link_header(&self, side: Side, function: link::LinkFunction, prm: bool) -> link::Header {
        let from_master = side == Side::Client;
        let (source, destination) = if from_master {
            (self.master_address, self.outstation_address)
        } else {
            (self.outstation_address, self.master_address)
        };
        link::Header {
            length: 0,
            control: link::Control::new(from_master, prm, false, false, function),
            destination,
            source,
        }
    }

    /// Queues `apdu` from `side` (the master is the client), one transport segment per link
    /// frame. With `corrupt`, one bit of the first frame's user data is flipped after its CRCs
    /// were computed: a sensor must drop that frame, and with it the fragment.
    pub(crate) fn queue(&mut self, side: Side, apdu: &Apdu, corrupt: bool) -> Result<()> {
        let header = self.link_header(side, link::LinkFunction::UNCONFIRMED_USER_DATA, true);
        let base = self.carrier.next_offset(side);
        let tracked = self.ledger.is_some();
        let mut notes = Vec::new();
        let queue = match side {
            Side::Client => &mut self.master_queue,
            Side::Server => &mut self.outstation_queue,
        };
        let fragment_start = queue.bytes.len();
        let mut sequence = queue.transport_sequence;
        for (i, (segment_header, piece)) in
            transport::segments(&apdu.bytes, queue.transport_sequence).enumerate()
        {
            self.segment.clear();
            transport::encode(&mut self.segment, segment_header, piece);
            let start = queue.bytes.len();
            link::encode(&mut queue.bytes, &header, &self.segment).context("DNP3 link frame")?;
            let bad = corrupt && i == 0;
            if bad {
                // The application function code: a sensor that skips the CRC check counts a
                // request that was never made.
                let at = start + link::HEADER_LEN + transport::HEADER_LEN + 1;
                let byte = queue
                    .bytes
                    .get_mut(at)
                    .context("frame too short to corrupt")?;
                *byte ^= 0x02;
            }
            queue.frame_ends.push(queue.bytes.len());
            sequence = transport::next_sequence(segment_header.sequence);
            if tracked {
                notes.push(FrameNote {
                    from_master: side == Side::Client,
                    range: base + start as u64..base + queue.bytes.len() as u64,
                    good: !bad,
                    source: header.source,
                    destination: header.destination,
                });
            }
        }
        queue.transport_sequence = sequence;
        let fragment_end = queue.bytes.len();
        if let Some(ledger) = &mut self.ledger {
            ledger.frames.extend(notes);
            ledger.fragments.push(FragmentNote {
                side,
                range: base + fragment_start as u64..base + fragment_end as u64,
                good: !corrupt,
                function: apdu.function,
                objects: apdu.objects.clone(),
                identity: apdu.identity.clone(),
            });
        }
        Ok(())
    }

    /// Queues a link-layer frame without user data from `side`: a master's REQUEST_LINK_STATUS
    /// (PRM set) or an outstation's LINK_STATUS answer (PRM clear).
    pub(crate) fn queue_link_status(&mut self, side: Side) -> Result<()> {
        let header = match side {
            Side::Client => self.link_header(side, link::LinkFunction::REQUEST_LINK_STATUS, true),
            Side::Server => self.link_header(side, link::LinkFunction::LINK_STATUS, false),
        };
        let base = self.carrier.next_offset(side);
        let queue = self.queue_mut(side);
        let start = queue.bytes.len();
        link::encode(&mut queue.bytes, &header, &[]).context("DNP3 link status frame")?;
        queue.frame_ends.push(queue.bytes.len());
        let end = queue.bytes.len();
        if let Some(ledger) = &mut self.ledger {
            ledger.frames.push(FrameNote {
                from_master: side == Side::Client,
                range: base + start as u64..base + end as u64,
                good: true,
                source: header.source,
                destination: header.destination,
            });
        }
        Ok(())
    }

    /// Where each frame `side` has queued ends, in the queue.
    pub(crate) fn queued_frame_ends(&self, side: Side) -> &[usize] {
        match side {
            Side::Client => &self.master_queue.frame_ends,
            Side::Server => &self.outstation_queue.frame_ends,
        }
    }

    /// The first `frames` frames `side` queued went out before the capture started: the
    /// carrier moves past them without capturing them.
    pub(crate) fn lose(&mut self, side: Side, frames: usize) -> Result<()> {
        let queue = self.queue_mut(side);
        let Some(len) = frames
            .checked_sub(1)
            .map(|last| queue.frame_ends.get(last).copied())
        else {
            return Ok(());
        };
        let len = len.context("losing more frames than queued")?;
        queue.bytes.drain(..len);
        queue.frame_ends.drain(..frames);
        for end in &mut queue.frame_ends {
            *end -= len;
        }
        self.carrier.skip(side, len as u64);
        Ok(())
    }

    /// Sends everything `side` has queued in one segment or datagram.
    pub(crate) fn send<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
    ) -> Result<()> {
        let queue = match side {
            Side::Client => &mut self.master_queue,
            Side::Server => &mut self.outstation_queue,
        };
        if !queue.bytes.is_empty() {
            self.carrier.send(wire, at, side, &queue.bytes)?;
        }
        queue.bytes.clear();
        queue.frame_ends.clear();
        Ok(())
    }

    /// Sends what `side` has queued one link frame per segment or datagram, `spacing` apart;
    /// returns the time of the last.
    pub(crate) fn send_frames<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        spacing: u64,
    ) -> Result<u64> {
        let cuts: Vec<usize> = {
            let queue = self.queue_mut(side);
            let count = queue.frame_ends.len().saturating_sub(1);
            queue.frame_ends.iter().take(count).copied().collect()
        };
        self.send_in_pieces(wire, at, side, &cuts, spacing)
    }

    /// Sends what `side` has queued in segments cut at `cuts` (offsets into the queue, rising),
    /// `spacing` apart; returns the time of the last. Over UDP each piece must be whole frames.
    pub(crate) fn send_in_pieces<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        cuts: &[usize],
        spacing: u64,
    ) -> Result<u64> {
        let queue = match side {
            Side::Client => &mut self.master_queue,
            Side::Server => &mut self.outstation_queue,
        };
        if matches!(self.carrier, Carrier::Udp(_))
            && !cuts.iter().all(|cut| queue.frame_ends.contains(cut))
        {
            bail!("a UDP datagram must hold whole link frames");
        }
        let mut at = at;
        let mut from = 0;
        for (i, &to) in cuts.iter().chain([queue.bytes.len()].iter()).enumerate() {
            if i > 0 {
                at += spacing;
            }
            let piece = queue
                .bytes
                .get(from..to)
                .context("cut outside the queued bytes")?;
            self.carrier.send(wire, at, side, piece)?;
            from = to;
        }
        queue.bytes.clear();
        queue.frame_ends.clear();
        Ok(at)
    }

    /// A pure ACK from `side` over TCP; nothing over UDP.
    pub(crate) fn ack<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
    ) -> Result<()> {
        match &mut self.carrier {
            Carrier::Tcp(flow) => flow.ack(wire, at, side),
            Carrier::Udp(_) => Ok(()),
        }
    }

    /// The frames a sensor sees whole with good CRCs.
    pub(crate) fn counted_frames(&self) -> impl Iterator<Item = &FrameNote> + '_ {
        let frames = self.ledger.iter().flat_map(|ledger| &ledger.frames);
        frames.filter(|frame| {
            let side = if frame.from_master {
                Side::Client
            } else {
                Side::Server
            };
            frame.good && self.carrier.captured_fully(side, &frame.range)
        })
    }

    /// The fragments a sensor assembles: every frame captured, every CRC good.
    pub(crate) fn counted_fragments(&self) -> impl Iterator<Item = &FragmentNote> + '_ {
        let fragments = self.ledger.iter().flat_map(|ledger| &ledger.fragments);
        fragments.filter(|f| f.good && self.carrier.captured_fully(f.side, &f.range))
    }
}

/// The request an OPC UA session waits for the answer to.
#[derive(Debug, Clone, Copy)]
struct Pending {
    service: u32,
    request_id: u32,
    handle: u32,
}

/// An OPC UA client-server connection: the TCP flow, the secure channel (ids, each side's next
/// sequence number, the largest chunk each side may send, the authentication token of the
/// session on it) and what its edge's truth counts, noted as messages are sent (every byte of
/// an OPC UA session reaches the capture).
///
/// Requests and responses alternate: [`Self::request`] leaves the request pending, and the
/// next [`Self::respond`] answers it.
#[derive(Debug, Clone)]
pub(crate) struct OpcUaSession {
    pub(crate) flow: TcpFlow,
    security: Symmetric,
    client_sequence: u32,
    server_sequence: u32,
    next_request_id: u32,
    next_handle: u32,
    /// The largest chunk the client may send (the server's receive buffer), and the server.
    client_max_chunk: usize,
    server_max_chunk: usize,
    authentication_token: Vec<u8>,
    pending: Option<Pending>,
    ledger: OpcUaEdge,
    /// Time between the TCP segments of one message.
    segment_spacing: u64,
    out: Vec<u8>,
    message: Vec<u8>,
}

impl OpcUaSession {
    /// Chunk size both sides use until HEL and ACK say otherwise.
    const DEFAULT_CHUNK: usize = 65_535;

    pub(crate) fn new(flow: TcpFlow) -> Self {
        Self {
            flow,
            security: Symmetric {
                channel_id: 0,
                token_id: 0,
            },
            client_sequence: 1,
            server_sequence: 1,
            next_request_id: 1,
            next_handle: 1,
            client_max_chunk: Self::DEFAULT_CHUNK,
            server_max_chunk: Self::DEFAULT_CHUNK,
            authentication_token: Vec::new(),
            pending: None,
            ledger: OpcUaEdge::default(),
            segment_spacing: 30,
            out: Vec::with_capacity(1024),
            message: Vec::with_capacity(1024),
        }
    }

    /// A session whose channel and session were open before the capture started.
    pub(crate) fn open_before(
        mut self,
        security: Symmetric,
        sequence: u32,
        request_id: u32,
        authentication_token: &[u8],
    ) -> Self {
        self.security = security;
        self.client_sequence = sequence;
        self.server_sequence = sequence;
        self.next_request_id = request_id;
        self.next_handle = request_id;
        authentication_token.clone_into(&mut self.authentication_token);
        self
    }

    /// What the edge's truth counts so far.
    pub(crate) fn ledger(&self) -> &OpcUaEdge {
        &self.ledger
    }

    fn count(&mut self, message_type: MessageType, chunks: usize) {
        *self.ledger.message_types.entry(message_type).or_default() += chunks as u64;
    }

    /// Sends what `side` has built, cut to the MSS; returns the time of the last segment.
    fn flush<S: PacketSink>(&mut self, wire: &mut Wire<S>, at: u64, side: Side) -> Result<u64> {
        let at = self
            .flow
            .send_segmented(wire, at, side, &self.out, self.segment_spacing)?;
        self.out.clear();
        Ok(at)
    }

    /// HEL from the client: its buffer sizes (the server's chunks must fit its receive
    /// buffer) and the endpoint URL.
    pub(crate) fn hello<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        endpoint_url: &str,
        receive_buffer: u32,
    ) -> Result<u64> {
        opcua::hello(&mut self.out, receive_buffer, receive_buffer, endpoint_url)?;
        self.server_max_chunk = receive_buffer as usize;
        self.count(MessageType::Hello, 1);
        self.flush(wire, at, Side::Client)
    }

    /// ACK from the server with its receive buffer size (the client's chunk limit).
    pub(crate) fn acknowledge<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        receive_buffer: u32,
    ) -> Result<u64> {
        opcua::acknowledge(&mut self.out, receive_buffer, receive_buffer)?;
        self.client_max_chunk = receive_buffer as usize;
        self.count(MessageType::Acknowledge, 1);
        self.flush(wire, at, Side::Server)
    }

    /// ERR from the server.
    pub(crate) fn error<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        code: u32,
        reason: &str,
    ) -> Result<u64> {
        opcua::error(&mut self.out, code, reason)?;
        self.count(MessageType::Error, 1);
        self.flush(wire, at, Side::Server)
    }

    fn header(&self, at: u64, handle: u32) -> RequestHeader<'_> {
        RequestHeader {
            authentication_token: if self.authentication_token.is_empty() {
                Node::Numeric(0, 0)
            } else {
                Node::Opaque(0, &self.authentication_token)
            },
            at,
            handle,
        }
    }

    /// Starts the message of request `service`: its encoding id and request header; notes it.
    fn begin_request(&mut self, at: u64, service: u32) -> Pending {
        let pending = Pending {
            service,
            request_id: self.next_request_id,
            handle: self.next_handle,
        };
        self.next_request_id = self.next_request_id.wrapping_add(1);
        self.next_handle = self.next_handle.wrapping_add(1);
        let mut message = std::mem::take(&mut self.message);
        message.clear();
        message.node(Node::Numeric(0, service));
        opcua::request_header(&mut message, &self.header(at, pending.handle));
        self.message = message;
        *self.ledger.requests.entry(service).or_default() += 1;
        self.pending = Some(pending);
        pending
    }

    /// Starts the answer to the pending request: the response's (or a ServiceFault's)
    /// encoding id and response header; notes it. True when the response body follows.
    fn begin_response(&mut self, at: u64, service_result: u32) -> Result<(Pending, bool)> {
        let pending = self
            .pending
            .take()
            .context("a response with no request pending")?;
        let good = status::is_good_or_uncertain(service_result);
        self.message.clear();
        let type_id = if good {
            id::response(pending.service)
        } else {
            id::SERVICE_FAULT
        };
        self.message.node(Node::Numeric(0, type_id));
        opcua::response_header(&mut self.message, at, pending.handle, service_result);
        let counts = if good {
            &mut self.ledger.responses
        } else {
            &mut self.ledger.faults
        };
        *counts.entry(pending.service).or_default() += 1;
        Ok((pending, good))
    }

    /// OPN request from the client on a None channel (mode `mode`); returns the time sent.
    pub(crate) fn open_request<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        mode: Mode,
    ) -> Result<u64> {
        let pending = self.begin_request(at, id::OPEN_SECURE_CHANNEL_REQUEST);
        body::open_request(&mut self.message, mode, None);
        let rest = opcua::sequenced(self.client_sequence, pending.request_id, &self.message);
        self.client_sequence = self.client_sequence.wrapping_add(1);
        opcua::open_chunk(&mut self.out, 0, &none_security(), &rest)?;
        self.ledger.policies.insert(POLICY_NONE.to_owned());
        self.ledger.modes.insert(mode);
        self.count(MessageType::Open, 1);
        self.flush(wire, at, Side::Client)
    }

    /// OPN response from the server opening channel `channel_id` with token `token_id`.
    pub(crate) fn open_response<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        channel_id: u32,
        token_id: u32,
    ) -> Result<u64> {
        let (pending, _) = self.begin_response(at, status::GOOD)?;
        body::open_response(&mut self.message, channel_id, token_id, at, None);
        self.security = Symmetric {
            channel_id,
            token_id,
        };
        let rest = opcua::sequenced(self.server_sequence, pending.request_id, &self.message);
        self.server_sequence = self.server_sequence.wrapping_add(1);
        opcua::open_chunk(&mut self.out, channel_id, &none_security(), &rest)?;
        self.count(MessageType::Open, 1);
        self.flush(wire, at, Side::Server)
    }

    /// An OPN from `side` on an encrypted channel: the asymmetric header in clear, then
    /// `ciphertext` (sequence header and message), which the truth cannot count. `mode` is the
    /// mode of the server's endpoint for the policy.
    pub(crate) fn open_encrypted<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        security: &Asymmetric<'_>,
        (mode, channel_id): (Mode, u32),
        ciphertext: &[u8],
    ) -> Result<u64> {
        opcua::open_chunk(&mut self.out, channel_id, security, ciphertext)?;
        self.security.channel_id = channel_id;
        self.ledger.policies.insert(security.policy.to_owned());
        self.ledger.modes.insert(mode);
        self.count(MessageType::Open, 1);
        self.flush(wire, at, side)
    }

    /// An OPN from `side` on the encrypted channel `secure`: the sender's chain and the
    /// thumbprint of the other side's certificate, then `len` random bytes of ciphertext. The
    /// server's opens channel `channel_id` with token 1 (the client's asks for channel 0).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open_secure<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        secure: &SecureChannel,
        channel_id: u32,
        len: usize,
        rng: &mut Rng,
    ) -> Result<u64> {
        let mut ciphertext = vec![0; len];
        rng.fill(&mut ciphertext);
        let (sender, receiver, channel_id) = match side {
            Side::Client => (&secure.client_chain, &secure.server_thumbprint, 0),
            Side::Server => (&secure.server_chain, &secure.client_thumbprint, channel_id),
        };
        let security = Asymmetric {
            policy: secure.policy,
            sender_certificate: Some(sender),
            receiver_thumbprint: Some(receiver),
        };
        let sent = self.open_encrypted(
            wire,
            at,
            side,
            &security,
            (secure.mode, channel_id),
            &ciphertext,
        )?;
        if side == Side::Server {
            self.set_security(Symmetric {
                channel_id,
                token_id: 1,
            });
        }
        Ok(sent)
    }

    /// A MSG (or CLO) from `side` on an encrypted channel: the symmetric header, then `len`
    /// bytes of ciphertext.
    pub(crate) fn opaque<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        message_type: MessageType,
        len: usize,
        rng: &mut Rng,
    ) -> Result<u64> {
        let mut ciphertext = vec![0; len];
        rng.fill(&mut ciphertext);
        opcua::opaque_chunk(&mut self.out, message_type, self.security, &ciphertext)?;
        self.count(message_type, 1);
        self.flush(wire, at, side)
    }

    /// Sends the message built in `self.message` from `side` in MSG or CLO chunks.
    fn send_message<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        message_type: MessageType,
        request_id: u32,
    ) -> Result<u64> {
        let (sequence, max_chunk) = match side {
            Side::Client => (&mut self.client_sequence, self.client_max_chunk),
            Side::Server => (&mut self.server_sequence, self.server_max_chunk),
        };
        let chunks = opcua::symmetric_chunks(
            &mut self.out,
            message_type,
            self.security,
            sequence,
            request_id,
            &self.message,
            max_chunk,
        )?;
        self.count(message_type, chunks);
        self.flush(wire, at, side)
    }

    /// A request from the client: encoding id `service`, the request header, then what
    /// `build` appends; returns the time of its last segment.
    pub(crate) fn request<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        service: u32,
        build: impl FnOnce(&mut Vec<u8>),
    ) -> Result<u64> {
        let pending = self.begin_request(at, service);
        build(&mut self.message);
        self.send_message(
            wire,
            at,
            Side::Client,
            MessageType::Message,
            pending.request_id,
        )
    }

    /// The server's answer to the pending request: with a Good or Uncertain
    /// `service_result`, the response with what `build` appends; with a Bad one, a
    /// ServiceFault. Returns the time of its last segment.
    pub(crate) fn respond<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        service_result: u32,
        build: impl FnOnce(&mut Vec<u8>),
    ) -> Result<u64> {
        let (pending, good) = self.begin_response(at, service_result)?;
        if good {
            build(&mut self.message);
        }
        self.send_message(
            wire,
            at,
            Side::Server,
            MessageType::Message,
            pending.request_id,
        )
    }

    /// ActivateSession from the client with `identity`; notes its token type and whether it
    /// carries a readable password.
    pub(crate) fn activate_session<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        identity: &Identity<'_>,
    ) -> Result<u64> {
        self.ledger.token_types.insert(identity.token_type());
        if identity.cleartext_password() {
            self.ledger.cleartext_passwords += 1;
        }
        self.request(wire, at, id::ACTIVATE_SESSION_REQUEST, |out| {
            body::activate_session_request(out, identity);
        })
    }

    /// The channel and token an encrypted OPN response gave (the truth cannot read them; the
    /// generator knows them).
    pub(crate) fn set_security(&mut self, security: Symmetric) {
        self.security = security;
    }

    /// From now on requests carry `token` (CreateSession's authentication token).
    pub(crate) fn set_authentication_token(&mut self, token: &[u8]) {
        token.clone_into(&mut self.authentication_token);
    }

    /// CLO from the client: CloseSecureChannel, which has no response.
    pub(crate) fn close_channel<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
    ) -> Result<u64> {
        let pending = self.begin_request(at, id::CLOSE_SECURE_CHANNEL_REQUEST);
        self.pending = None;
        self.send_message(
            wire,
            at,
            Side::Client,
            MessageType::Close,
            pending.request_id,
        )
    }
}

/// What the OPNs of an encrypted channel show in clear: the policy, each side's certificate
/// (a chain: DER certificates back to back, the sender's own first) and the SHA-1 thumbprint
/// of the other side's; and, for the truth, the mode of the server's endpoint for the policy.
#[derive(Debug, Clone)]
pub(crate) struct SecureChannel {
    pub(crate) policy: &'static str,
    pub(crate) mode: Mode,
    client_chain: Vec<u8>,
    server_chain: Vec<u8>,
    client_thumbprint: [u8; 20],
    server_thumbprint: [u8; 20],
}

impl SecureChannel {
    /// A channel whose client sends the chain `client` and whose server sends `server` (each
    /// at least its own certificate).
    pub(crate) fn new(
        policy: &'static str,
        mode: Mode,
        client: &[&[u8]],
        server: &[&[u8]],
    ) -> Result<Self> {
        let thumbprint = |chain: &[&[u8]]| -> Result<[u8; 20]> {
            let leaf = chain.first().context("an empty certificate chain")?;
            let certificate = faro_protocols::opcua::certificate::parse(leaf)
                .map_err(|e| anyhow::anyhow!("certificate: {e}"))?;
            Ok(certificate.sha1)
        };
        Ok(Self {
            policy,
            mode,
            client_chain: client.concat(),
            server_chain: server.concat(),
            client_thumbprint: thumbprint(client)?,
            server_thumbprint: thumbprint(server)?,
        })
    }
}

/// The asymmetric header of a None channel: the policy URI, no certificate, no thumbprint.
fn none_security() -> Asymmetric<'static> {
    Asymmetric {
        policy: POLICY_NONE,
        sender_certificate: None,
        receiver_thumbprint: None,
    }
}
