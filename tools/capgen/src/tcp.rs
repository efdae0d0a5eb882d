//! A TCP conversation between a client and a server: handshake, per-direction sequence and
//! acknowledgement numbers that advance with the payload, pure ACKs, FIN close, and the low-level
//! hooks the reassembly fixture needs (segments at any stream offset, bytes never captured).
//!
//! Stream offsets count payload bytes from the first byte after the SYN (or from wherever the
//! modelled session is picked up); sequence numbers are derived from them.

use std::ops::Range;

use anyhow::Result;
use etherparse::{TcpHeader, TcpOptionElement};

use crate::capture::{PacketSink, Wire};
use crate::link::{DEFAULT_TTL, Hop, Host, Transport};
use crate::rng::Rng;
use crate::truth::{FunctionKey, Protocol};

/// Which end of the conversation sends a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

impl Side {
    pub(crate) fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// TCP flags of one segment (ACK is implied except on the initial SYN).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub(crate) syn: bool,
    pub(crate) fin: bool,
    pub(crate) psh: bool,
    pub(crate) rst: bool,
    pub(crate) ack: bool,
}

impl Flags {
    pub(crate) const ACK: Flags = Flags {
        syn: false,
        fin: false,
        psh: false,
        rst: false,
        ack: true,
    };
    pub(crate) const PSH_ACK: Flags = Flags {
        psh: true,
        ..Flags::ACK
    };
    pub(crate) const FIN_ACK: Flags = Flags {
        fin: true,
        ..Flags::ACK
    };
    pub(crate) const SYN: Flags = Flags {
        syn: true,
        fin: false,
        psh: false,
        rst: false,
        ack: false,
    };
    pub(crate) const SYN_ACK: Flags = Flags {
        syn: true,
        ..Flags::ACK
    };
}

/// One end of the conversation.
#[derive(Debug, Clone)]
pub(crate) struct End {
    pub(crate) host: Host,
    pub(crate) port: u16,
    /// Sequence number of stream offset 0.
    base_seq: u32,
    /// Next stream offset this end will send.
    next: u64,
    /// 1 once the SYN has been sent (it occupies one sequence number before offset 0), and
    /// likewise for the FIN after the data.
    fin_sent: bool,
    ip_id: u16,
    window: u16,
    ttl: u8,
    mss: u16,
}

impl End {
    pub(crate) fn new(host: Host, port: u16, rng: &mut Rng) -> Self {
        Self {
            host,
            port,
            base_seq: rng.next_u32(),
            next: 0,
            fin_sent: false,
            ip_id: rng.next_u16(),
            window: 64_240,
            ttl: DEFAULT_TTL,
            mss: 1460,
        }
    }

    pub(crate) fn with_window(mut self, window: u16) -> Self {
        self.window = window;
        self
    }

    pub(crate) fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    pub(crate) fn with_mss(mut self, mss: u16) -> Self {
        self.mss = mss;
        self
    }

    fn seq_at(&self, offset: u64) -> u32 {
        // Sequence space is modulo 2^32; the truncation is the point.
        self.base_seq.wrapping_add(offset as u32)
    }

    /// The acknowledgement number the peer sends for everything this end sent so far.
    fn acked_by_peer(&self) -> u32 {
        self.seq_at(self.next)
            .wrapping_add(u32::from(self.fin_sent))
    }
}

/// Request PDUs a flow carries and the byte ranges of each direction actually captured, from
/// which the truth a correct sensor must reproduce is computed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    protocol: Protocol,
    /// (sender, stream range, function) of each request PDU.
    requests: Vec<(Side, Range<u64>, FunctionKey)>,
    /// Client payload ranges that appear in the capture.
    client_captured: Vec<Range<u64>>,
    /// Server payload ranges that appear in the capture.
    server_captured: Vec<Range<u64>>,
}

impl Ledger {
    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn captured(&self, side: Side) -> &[Range<u64>] {
        match side {
            Side::Client => &self.client_captured,
            Side::Server => &self.server_captured,
        }
    }

    fn captured_fully(&self, side: Side, range: &Range<u64>) -> bool {
        covered(self.captured(side), range)
    }

    /// The function of every request PDU whose bytes were all captured, in the order noted.
    pub(crate) fn counted_requests(&self) -> impl Iterator<Item = FunctionKey> + '_ {
        self.requests
            .iter()
            .filter(|(side, range, _)| self.captured_fully(*side, range))
            .map(|&(_, _, function)| function)
    }
}

/// True when `ranges` cover `range` without a hole.
pub(crate) fn covered(ranges: &[Range<u64>], range: &Range<u64>) -> bool {
    // Walk the ranges sorted by start and check they cover `range` without a hole.
    let mut overlapping: Vec<&Range<u64>> = ranges
        .iter()
        .filter(|r| r.end > range.start && r.start < range.end)
        .collect();
    overlapping.sort_by_key(|r| r.start);
    let mut reached = range.start;
    for r in overlapping {
        if r.start > reached {
            return false;
        }
        reached = reached.max(r.end);
    }
    reached >= range.end
}

/// A TCP conversation.
#[derive(Debug, Clone)]
pub(crate) struct TcpFlow {
    pub(crate) client: End,
    pub(crate) server: End,
    pub(crate) vlan: Option<u16>,
    ledger: Option<Ledger>,
}

impl TcpFlow {
    pub(crate) fn new(client: End, server: End) -> Self {
        Self {
            client,
            server,
            vlan: None,
            ledger: None,
        }
    }

    pub(crate) fn on_vlan(mut self, vlan: Option<u16>) -> Self {
        self.vlan = vlan;
        self
    }

    /// Keeps a [`Ledger`] of Modbus requests and captured bytes.
    pub(crate) fn tracked(self) -> Self {
        self.tracked_as(Protocol::Modbus)
    }

    /// Keeps a [`Ledger`] of `protocol` requests and captured bytes.
    pub(crate) fn tracked_as(mut self, protocol: Protocol) -> Self {
        self.ledger = Some(Ledger {
            protocol,
            ..Ledger::default()
        });
        self
    }

    pub(crate) fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    fn end(&self, side: Side) -> &End {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    fn end_mut(&mut self, side: Side) -> &mut End {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// True when the flow is tracked and every byte of `range` of `side`'s stream was captured.
    pub(crate) fn captured_fully(&self, side: Side, range: &Range<u64>) -> bool {
        self.ledger
            .as_ref()
            .is_some_and(|ledger| ledger.captured_fully(side, range))
    }

    /// Next stream offset `side` will send.
    pub(crate) fn next_offset(&self, side: Side) -> u64 {
        self.end(side).next
    }

    /// Records that the client stream holds a request PDU with function code `function` at `range`.
    pub(crate) fn note_request(&mut self, range: Range<u64>, function: u8) {
        self.note_request_from(Side::Client, range, FunctionKey::Code(function));
    }

    /// Records that `side`'s stream holds a request PDU counted as `function` at `range`.
    pub(crate) fn note_request_from(
        &mut self,
        side: Side,
        range: Range<u64>,
        function: FunctionKey,
    ) {
        if let Some(ledger) = &mut self.ledger {
            ledger.requests.push((side, range, function));
        }
    }

    /// Moves `side`'s next offset on by `len` bytes without putting them in the capture (they were
    /// sent, the sensor missed them).
    pub(crate) fn skip(&mut self, side: Side, len: u64) {
        self.end_mut(side).next += len;
    }

    /// Emits one segment from `side` with explicit sequence number and flags (MSS option on SYNs).
    fn emit<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        seq: u32,
        flags: Flags,
        payload: &[u8],
    ) -> Result<()> {
        let (me, peer) = match side {
            Side::Client => (&mut self.client, &self.server),
            Side::Server => (&mut self.server, &self.client),
        };
        let mut header = TcpHeader::new(me.port, peer.port, seq, me.window);
        header.syn = flags.syn;
        header.fin = flags.fin;
        header.psh = flags.psh;
        header.rst = flags.rst;
        header.ack = flags.ack;
        if flags.ack {
            header.acknowledgment_number = peer.acked_by_peer();
        }
        if flags.syn {
            // The MSS option on SYN and SYN-ACK, as every stack sends it.
            header.set_options(&[TcpOptionElement::MaximumSegmentSize(me.mss)])?;
        }
        let hop = Hop {
            src: me.host,
            dst: peer.host,
            vlan: self.vlan,
            ttl: me.ttl,
            ip_id: me.ip_id,
        };
        me.ip_id = me.ip_id.wrapping_add(1);
        wire.emit(at, &hop, Transport::Tcp(header), payload)
    }

    /// SYN, SYN-ACK, ACK; returns the time of the last packet. `rtt` is the round-trip time.
    pub(crate) fn handshake<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        rtt: u64,
    ) -> Result<u64> {
        let client_isn = self.client.base_seq;
        self.client.base_seq = client_isn.wrapping_add(1);
        // The SYN-ACK's acknowledgement is the client's first data byte, offset 0.
        self.emit(wire, at, Side::Client, client_isn, Flags::SYN, &[])?;
        let server_isn = self.server.base_seq;
        self.server.base_seq = server_isn.wrapping_add(1);
        let at = at + rtt / 2;
        self.emit(wire, at, Side::Server, server_isn, Flags::SYN_ACK, &[])?;
        let at = at + rtt / 2;
        let seq = self.client.seq_at(0);
        self.emit(wire, at, Side::Client, seq, Flags::ACK, &[])?;
        Ok(at)
    }

    /// Sends `payload` from `side` at its next offset (PSH, ACK) and advances it.
    pub(crate) fn send<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        payload: &[u8],
    ) -> Result<()> {
        let offset = self.end(side).next;
        self.send_at(wire, at, side, offset, payload)?;
        let end = self.end_mut(side);
        end.next = end.next.max(offset + payload.len() as u64);
        Ok(())
    }

    /// Sends `payload` from `side` in segments no larger than either end's MSS, `spacing` apart
    /// (a message bigger than one segment); returns the time of the last segment.
    pub(crate) fn send_segmented<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        payload: &[u8],
        spacing: u64,
    ) -> Result<u64> {
        let mss = usize::from(self.client.mss.min(self.server.mss)).max(1);
        let mut at = at;
        for (i, piece) in payload.chunks(mss).enumerate() {
            if i > 0 {
                at += spacing;
            }
            self.send(wire, at, side, piece)?;
        }
        Ok(at)
    }

    /// Emits `payload` as the bytes at stream `offset` of `side` without moving its next offset
    /// (for out-of-order segments and retransmissions).
    pub(crate) fn send_at<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        offset: u64,
        payload: &[u8],
    ) -> Result<()> {
        let seq = self.end(side).seq_at(offset);
        if let Some(ledger) = &mut self.ledger
            && !payload.is_empty()
        {
            let range = offset..offset + payload.len() as u64;
            match side {
                Side::Client => ledger.client_captured.push(range),
                Side::Server => ledger.server_captured.push(range),
            }
        }
        self.emit(wire, at, side, seq, Flags::PSH_ACK, payload)
    }

    /// Moves `side`'s next offset to `offset` (after segments were sent out of order).
    pub(crate) fn set_next(&mut self, side: Side, offset: u64) {
        self.end_mut(side).next = offset;
    }

    /// A pure ACK from `side` for everything the peer sent.
    pub(crate) fn ack<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
    ) -> Result<()> {
        let end = self.end(side);
        let seq = end.acked_by_peer();
        self.emit(wire, at, side, seq, Flags::ACK, &[])
    }

    /// Orderly close started by `initiator`: FIN-ACK, FIN-ACK, ACK. Returns the last time.
    pub(crate) fn close<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        initiator: Side,
        rtt: u64,
    ) -> Result<u64> {
        let seq = self.end(initiator).acked_by_peer();
        self.emit(wire, at, initiator, seq, Flags::FIN_ACK, &[])?;
        self.end_mut(initiator).fin_sent = true;
        let responder = initiator.peer();
        let at = at + rtt / 2;
        let seq = self.end(responder).acked_by_peer();
        self.emit(wire, at, responder, seq, Flags::FIN_ACK, &[])?;
        self.end_mut(responder).fin_sent = true;
        let at = at + rtt / 2;
        let seq = self.end(initiator).acked_by_peer();
        self.emit(wire, at, initiator, seq, Flags::ACK, &[])?;
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use etherparse::{SlicedPacket, TransportSlice};

    use super::*;
    use crate::capture::Collect;
    use crate::link::LinkType;

    fn flow() -> TcpFlow {
        let mut rng = Rng::new(3);
        let a = Host::new([2, 0, 0, 0, 0, 1], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        let b = Host::new([2, 0, 0, 0, 0, 2], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        TcpFlow::new(End::new(a, 40_000, &mut rng), End::new(b, 502, &mut rng)).tracked()
    }

    /// (seq, ack, syn, fin, payload length, from client)
    fn decode(frames: &[Vec<u8>]) -> Vec<(u32, u32, bool, bool, usize, bool)> {
        frames
            .iter()
            .map(|f| {
                let p = SlicedPacket::from_ethernet(f).unwrap();
                let Some(TransportSlice::Tcp(t)) = p.transport else {
                    panic!("not TCP")
                };
                (
                    t.sequence_number(),
                    t.acknowledgment_number(),
                    t.syn(),
                    t.fin(),
                    t.payload().len(),
                    t.destination_port() == 502,
                )
            })
            .collect()
    }

    #[test]
    fn sequence_numbers_follow_the_payload() {
        let mut wire = Wire::new(LinkType::Ethernet, Collect::default());
        let mut f = flow();
        f.handshake(&mut wire, 0, 1000).unwrap();
        f.send(&mut wire, 10, Side::Client, &[0; 12]).unwrap();
        f.send(&mut wire, 20, Side::Server, &[0; 9]).unwrap();
        f.ack(&mut wire, 30, Side::Client).unwrap();
        f.send(&mut wire, 40, Side::Client, &[0; 12]).unwrap();
        f.close(&mut wire, 50, Side::Client, 1000).unwrap();
        let segs = decode(&wire.sink.frames());
        // Each segment's seq equals the previous seq of that direction plus its length (+1 for SYN/FIN),
        // and each ACK acknowledges everything the peer sent before.
        let mut next = [None::<u32>, None::<u32>];
        let mut sent_end = [0u32, 0u32];
        for &(seq, ack, syn, fin, len, from_client) in &segs {
            let me = usize::from(!from_client);
            let peer = 1 - me;
            if let Some(n) = next[me] {
                assert_eq!(seq, n);
            }
            let advance = len as u32 + u32::from(syn) + u32::from(fin);
            next[me] = Some(seq.wrapping_add(advance));
            sent_end[me] = seq.wrapping_add(advance);
            if ack != 0 {
                assert_eq!(ack, sent_end[peer]);
            }
        }
        assert_eq!(segs.len(), 3 + 4 + 3);
    }

    #[test]
    fn ledger_counts_only_fully_captured_requests() {
        let mut wire = Wire::new(LinkType::Ethernet, Collect::default());
        let mut f = flow();
        f.note_request(0..12, 3);
        f.note_request(12..24, 4);
        f.note_request(24..36, 16);
        f.send_at(&mut wire, 0, Side::Client, 0, &[0; 6]).unwrap();
        f.send_at(&mut wire, 0, Side::Client, 6, &[0; 8]).unwrap();
        f.send_at(&mut wire, 0, Side::Client, 20, &[0; 4]).unwrap();
        f.send_at(&mut wire, 0, Side::Client, 26, &[0; 10]).unwrap();
        let counted: Vec<FunctionKey> = f.ledger().unwrap().counted_requests().collect();
        assert_eq!(counted, vec![FunctionKey::Code(3)]);
        // Requests the server sends count by the server's captured bytes.
        f.note_request_from(Side::Server, 0..10, FunctionKey::Code(0x1B));
        f.note_request_from(Side::Server, 10..20, FunctionKey::Code(0x1C));
        f.send_at(&mut wire, 0, Side::Server, 0, &[0; 10]).unwrap();
        let counted: Vec<FunctionKey> = f.ledger().unwrap().counted_requests().collect();
        assert_eq!(counted, vec![FunctionKey::Code(3), FunctionKey::Code(0x1B)]);
    }
}
