//! `reassembly`: an exact-truth fixture for TCP reassembly. One Modbus flow per case, each on its
//! own client/server pair so a failing case shows up as one wrong edge:
//!
//! | client | case |
//! |---|---|
//! | .11 | (a) clean handshake, polling, writes, FIN |
//! | .12 | (b) several PDUs in one segment (responses batched too, or one per segment) |
//! | .13 | (c) one PDU split across 2 and across 3 segments, PDUs straddling segments, a split response |
//! | .14 | (d) out-of-order segments: next segment captured before the previous one |
//! | .15 | (e) retransmissions: SPAN duplicates, RTO retransmission (request and response), overlapping partial retransmissions |
//! | .16 | (f) mid-stream pickup at a PDU boundary (no SYN) |
//! | .17 | (g) mid-stream pickup in the middle of a PDU |
//! | .18 | (h) gaps (bytes never captured), the stream resuming at and between PDU boundaries |
//! | .19 | (i) Modbus on TCP 1502, on VLAN 30 |
//!
//! Clients are 10.30.0.x and servers 10.30.1.x (with `--ipv6`, fd00:fa20:30::x and
//! fd00:fa20:30:1::x). The truth counts every request PDU whose bytes all appear in the capture,
//! once, whatever the segmentation, order or duplication; PDUs cut by a gap or by the start of
//! the capture are not counted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use anyhow::{Context, Result};
use faro_protocols::modbus::FunctionCode;

use crate::capture::{MILLISECOND, PacketSink, SECOND, Wire};
use crate::link::Host;
use crate::modbus::{Limits, Plc, Request};
use crate::rng::Rng;
use crate::scenario::sample;
use crate::session::ModbusSession;
use crate::tcp::{End, Side, TcpFlow};
use crate::truth::Truth;

/// Each case starts this long after the previous one.
const CASE_SPACING: u64 = 4 * SECOND;
/// Round-trip time between clients and servers.
const RTT: u64 = 400;
/// Time between segments a sender puts out back to back.
const BACK_TO_BACK: u64 = 60;
/// Between polls.
const POLL_INTERVAL: u64 = 100 * MILLISECOND;
/// Server answer latency range.
const LATENCY: (u64, u64) = (1_500, 4_000);
const MODBUS_PORT: u16 = 502;
const UNUSUAL_PORT: u16 = 1502;
const UNUSUAL_VLAN: u16 = 30;

/// Register values without a zero byte, so no bytes of a PDU cut by a gap or by the start of the
/// capture can look like an MBAP header (protocol id 0): a resynchronising sensor finds the true
/// next PDU.
fn values_without_zero_bytes(count: u16) -> Vec<u16> {
    (0..count).map(|i| 0x4141 + (i % 0x30) * 0x0101).collect()
}

fn read(function: FunctionCode, start: u16, quantity: u16) -> Request {
    Request::Read {
        function,
        start,
        quantity,
    }
}

fn random_read(rng: &mut Rng) -> Request {
    let function = rng
        .weighted(&[
            (FunctionCode::READ_HOLDING_REGISTERS, 50),
            (FunctionCode::READ_INPUT_REGISTERS, 30),
            (FunctionCode::READ_COILS, 10),
            (FunctionCode::READ_DISCRETE_INPUTS, 10),
        ])
        .unwrap_or(FunctionCode::READ_HOLDING_REGISTERS);
    let (quantity, table) = match function {
        FunctionCode::READ_COILS | FunctionCode::READ_DISCRETE_INPUTS => {
            (rng.range_u16(1, 200), Limits::DEFAULT.coils)
        }
        FunctionCode::READ_INPUT_REGISTERS => {
            (rng.range_u16(1, 60), Limits::DEFAULT.input_registers)
        }
        _ => (rng.range_u16(1, 60), Limits::DEFAULT.holding_registers),
    };
    read(function, rng.range_u16(0, table - quantity), quantity)
}

/// Emits `pieces` of `data` (ranges into it), in the order given, as segments from `side`
/// starting at its next stream offset. Bytes in no piece were sent but never captured. Afterwards
/// `side`'s next offset is past all of `data`. Returns the time of the last segment.
fn transmit<S: PacketSink>(
    wire: &mut Wire<S>,
    flow: &mut TcpFlow,
    side: Side,
    data: &[u8],
    pieces: &[Range<usize>],
    at: u64,
) -> Result<u64> {
    let base = flow.next_offset(side);
    let mut at = at;
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            at += BACK_TO_BACK;
        }
        let bytes = data.get(piece.clone()).context("piece outside the data")?;
        flow.send_at(wire, at, side, base + piece.start as u64, bytes)?;
    }
    flow.set_next(side, base + data.len() as u64);
    Ok(at)
}

struct Fixture<'w, S> {
    wire: &'w mut Wire<S>,
    truth: &'w mut Truth,
    rng: Rng,
    plc: Plc,
    ipv6: bool,
}

impl<S: PacketSink> Fixture<'_, S> {
    fn host(&self, net: u8, index: u8) -> Host {
        let ip = if self.ipv6 {
            IpAddr::V6(Ipv6Addr::new(
                0xfd00,
                0xfa20,
                0x30,
                u16::from(net),
                0,
                0,
                0,
                u16::from(index),
            ))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 30, net, index))
        };
        let oui: [u8; 3] = if net == 0 {
            [0x00, 0x14, 0x22]
        } else {
            [0x00, 0x80, 0xF4]
        };
        let [a, b, c] = oui;
        Host::new([a, b, c, 0x1E, net, index], ip)
    }

    /// A tracked session of client `10.30.0.<index>` to server `10.30.1.<index>`.
    fn session(&mut self, index: u8, port: u16, vlan: Option<u16>) -> ModbusSession {
        let client = self.host(0, index);
        let server = self.host(1, index);
        let mss = if self.ipv6 { 1440 } else { 1460 };
        let flow = TcpFlow::new(
            End::new(client, 49_000 + u16::from(index) * 11, &mut self.rng).with_mss(mss),
            End::new(server, port, &mut self.rng)
                .with_window(8192)
                .with_mss(mss),
        )
        .on_vlan(vlan)
        .tracked();
        let transaction_id = self.rng.range_u16(0x0101, 0x7F7F);
        ModbusSession::new(flow, 1, transaction_id)
    }

    fn latency(&mut self) -> u64 {
        self.rng.range(LATENCY.0, LATENCY.1)
    }

    /// Encodes a batch and the PLC's answers to it.
    fn prepare(&mut self, s: &mut ModbusSession, requests: &[Request]) -> Result<()> {
        s.encode_requests(requests)?;
        s.encode_responses(&mut self.plc, requests)
    }

    /// Sends the prepared responses in one segment; returns its time.
    fn respond(&mut self, s: &mut ModbusSession, at: u64) -> Result<u64> {
        let at = at + self.latency();
        s.flow.send(self.wire, at, Side::Server, &s.response)?;
        Ok(at)
    }

    /// Requests in one segment, answers in one segment.
    fn exchange(&mut self, s: &mut ModbusSession, at: u64, requests: &[Request]) -> Result<u64> {
        self.prepare(s, requests)?;
        s.flow.send(self.wire, at, Side::Client, &s.request)?;
        self.respond(s, at)
    }

    /// `count` single-read exchanges, a pure ACK from the client after every third.
    fn poll(&mut self, s: &mut ModbusSession, at: u64, count: u32) -> Result<u64> {
        let mut at = at;
        for i in 0..count {
            at += POLL_INTERVAL;
            let request = random_read(&mut self.rng);
            at = self.exchange(s, at, &[request])?;
            if i % 3 == 2 {
                at += 40 * MILLISECOND;
                s.flow.ack(self.wire, at, Side::Client)?;
            }
        }
        Ok(at)
    }

    fn finish(&mut self, s: &mut ModbusSession, at: u64) -> Result<()> {
        s.flow
            .close(self.wire, at + POLL_INTERVAL, Side::Client, RTT)?;
        self.truth.add_flow(&s.flow);
        Ok(())
    }

    /// (a) Handshake, polling, writes, orderly close.
    fn clean(&mut self, start: u64) -> Result<()> {
        let mut s = self.session(11, MODBUS_PORT, None);
        let at = s.flow.handshake(self.wire, start, RTT)?;
        let mut at = self.poll(&mut s, at, 10)?;
        at += POLL_INTERVAL;
        let write = Request::WriteSingleRegister {
            address: 40,
            value: 1234,
        };
        at = self.exchange(&mut s, at, &[write])?;
        at += POLL_INTERVAL;
        let write = Request::WriteMultipleRegisters {
            start: 50,
            values: vec![10, 20, 30, 40],
        };
        at = self.exchange(&mut s, at, &[write])?;
        at += POLL_INTERVAL;
        let write = Request::WriteSingleCoil {
            address: 3,
            on: true,
        };
        at = self.exchange(&mut s, at, &[write])?;
        self.finish(&mut s, at)
    }

    /// (b) Several request PDUs per segment.
    fn pipelined(&mut self, start: u64) -> Result<()> {
        let mut s = self.session(12, MODBUS_PORT, None);
        let mut at = s.flow.handshake(self.wire, start, RTT)?;
        for batch in 0..5 {
            at += POLL_INTERVAL;
            let count = if batch == 4 { 5 } else { 3 };
            let mut requests: Vec<Request> =
                (0..count).map(|_| random_read(&mut self.rng)).collect();
            if batch == 2 {
                requests.push(Request::WriteSingleRegister {
                    address: 7,
                    value: 99,
                });
            }
            self.prepare(&mut s, &requests)?;
            s.flow.send(self.wire, at, Side::Client, &s.request)?;
            if batch % 2 == 0 {
                at = self.respond(&mut s, at)?;
            } else {
                // One response per segment.
                at += self.latency();
                let bounds = s.response_bounds.clone();
                at = transmit(
                    self.wire,
                    &mut s.flow,
                    Side::Server,
                    &s.response,
                    &bounds,
                    at,
                )?;
            }
            at += 40 * MILLISECOND;
            s.flow.ack(self.wire, at, Side::Client)?;
        }
        self.finish(&mut s, at)
    }

    /// (c) PDUs split across segments.
    fn split(&mut self, start: u64) -> Result<()> {
        use FunctionCode as F;
        let mut s = self.session(13, MODBUS_PORT, None);
        let at = s.flow.handshake(self.wire, start, RTT)?;
        let mut at = self.poll(&mut s, at, 2)?;
        let writes = |start: u16, count: u16| Request::WriteMultipleRegisters {
            start,
            values: (0..count).map(|i| 500 + i).collect(),
        };
        // Across two segments (73-byte ADU: 40 + 33).
        let cases: [(Vec<Request>, Vec<Range<usize>>); 4] = [
            (vec![writes(100, 30)], vec![0..40, 40..73]),
            // A 12-byte read across three segments, cut inside the MBAP header.
            (
                vec![read(F::READ_HOLDING_REGISTERS, 10, 5)],
                vec![0..4, 4..9, 9..12],
            ),
            // A 93-byte write across three segments.
            (vec![writes(200, 40)], vec![0..5, 5..50, 50..93]),
            // Two reads straddling three segments.
            (
                vec![
                    read(F::READ_INPUT_REGISTERS, 0, 8),
                    read(F::READ_COILS, 0, 16),
                ],
                vec![0..8, 8..20, 20..24],
            ),
        ];
        for (requests, pieces) in &cases {
            at += POLL_INTERVAL;
            self.prepare(&mut s, requests)?;
            at = transmit(self.wire, &mut s.flow, Side::Client, &s.request, pieces, at)?;
            at = self.respond(&mut s, at)?;
        }
        // A 209-byte response split by the server.
        at += POLL_INTERVAL;
        self.prepare(&mut s, &[read(F::READ_HOLDING_REGISTERS, 300, 100)])?;
        s.flow.send(self.wire, at, Side::Client, &s.request)?;
        at += self.latency();
        at = transmit(
            self.wire,
            &mut s.flow,
            Side::Server,
            &s.response,
            &[0..100, 100..209],
            at,
        )?;
        at += 40 * MILLISECOND;
        s.flow.ack(self.wire, at, Side::Client)?;
        at = self.poll(&mut s, at, 2)?;
        self.finish(&mut s, at)
    }

    /// (d) Out-of-order segments.
    fn out_of_order(&mut self, start: u64) -> Result<()> {
        use FunctionCode as F;
        let mut s = self.session(14, MODBUS_PORT, None);
        let at = s.flow.handshake(self.wire, start, RTT)?;
        let mut at = self.poll(&mut s, at, 2)?;
        let writes = |start: u16, count: u16| Request::WriteMultipleRegisters {
            start,
            values: (0..count).map(|i| 700 + i).collect(),
        };
        let cases: [(Vec<Request>, Vec<Range<usize>>); 3] = [
            // Two pipelined requests, one per segment, the second captured first.
            (
                vec![
                    read(F::READ_HOLDING_REGISTERS, 20, 4),
                    read(F::READ_INPUT_REGISTERS, 8, 2),
                ],
                vec![12..24, 0..12],
            ),
            // One 93-byte PDU in two segments, reversed.
            (vec![writes(400, 40)], vec![40..93, 0..40]),
            // One 133-byte PDU in three segments captured 1, 3, 2.
            (vec![writes(600, 60)], vec![0..30, 90..133, 30..90]),
        ];
        for (requests, pieces) in &cases {
            at += POLL_INTERVAL;
            self.prepare(&mut s, requests)?;
            at = transmit(self.wire, &mut s.flow, Side::Client, &s.request, pieces, at)?;
            at = self.respond(&mut s, at)?;
        }
        // A response in two segments, reversed.
        at += POLL_INTERVAL;
        self.prepare(&mut s, &[read(F::READ_HOLDING_REGISTERS, 0, 100)])?;
        s.flow.send(self.wire, at, Side::Client, &s.request)?;
        at += self.latency();
        at = transmit(
            self.wire,
            &mut s.flow,
            Side::Server,
            &s.response,
            &[120..209, 0..120],
            at,
        )?;
        at = self.poll(&mut s, at, 2)?;
        self.finish(&mut s, at)
    }

    /// (e) Retransmissions.
    fn retransmission(&mut self, start: u64) -> Result<()> {
        use FunctionCode as F;
        let mut s = self.session(15, MODBUS_PORT, None);
        let at = s.flow.handshake(self.wire, start, RTT)?;
        let mut at = self.poll(&mut s, at, 2)?;

        // The same frame twice, byte for byte (a SPAN port duplicating).
        at += POLL_INTERVAL;
        self.prepare(&mut s, &[read(F::READ_HOLDING_REGISTERS, 30, 6)])?;
        s.flow.send(self.wire, at, Side::Client, &s.request)?;
        self.wire.repeat_last(at + 3)?;
        at = self.respond(&mut s, at)?;
        self.wire.repeat_last(at + 3)?;

        // The response is lost beyond the sensor: the client retransmits the request (RTO), the
        // server acknowledges the duplicate and retransmits its response.
        at += POLL_INTERVAL;
        self.prepare(&mut s, &[read(F::READ_INPUT_REGISTERS, 12, 10)])?;
        let request_offset = s.flow.next_offset(Side::Client);
        let response_offset = s.flow.next_offset(Side::Server);
        s.flow.send(self.wire, at, Side::Client, &s.request)?;
        at = self.respond(&mut s, at)?;
        at += 220 * MILLISECOND;
        s.flow
            .send_at(self.wire, at, Side::Client, request_offset, &s.request)?;
        at += 150;
        s.flow.ack(self.wire, at, Side::Server)?;
        at += 180 * MILLISECOND;
        s.flow
            .send_at(self.wire, at, Side::Server, response_offset, &s.response)?;
        at += 300;
        s.flow.ack(self.wire, at, Side::Client)?;

        // Overlapping partial retransmissions: [0, 24) then [12, 36) (the second PDU again with
        // the third), and [0, 18) then [6, 36) (starting inside the first PDU).
        for pieces in [[0..24, 12..36], [0..18, 6..36]] {
            at += POLL_INTERVAL;
            let requests: Vec<Request> = (0..3).map(|_| random_read(&mut self.rng)).collect();
            self.prepare(&mut s, &requests)?;
            let first = pieces.first().cloned().unwrap_or(0..0);
            let second = pieces.get(1).cloned().unwrap_or(0..0);
            at = transmit(
                self.wire,
                &mut s.flow,
                Side::Client,
                &s.request,
                &[first],
                at,
            )?;
            at += 210 * MILLISECOND;
            // The retransmission: rewind to its start, emit, and move on past the batch.
            let end = s.flow.next_offset(Side::Client);
            let base = end - s.request.len() as u64;
            let bytes = s
                .request
                .get(second.clone())
                .context("retransmitted range")?;
            s.flow.send_at(
                self.wire,
                at,
                Side::Client,
                base + second.start as u64,
                bytes,
            )?;
            at = self.respond(&mut s, at)?;
        }
        at = self.poll(&mut s, at, 2)?;
        self.finish(&mut s, at)
    }

    /// (f) The capture starts in the middle of a session, at a PDU boundary: first a response to
    /// a request sent before the capture, then polling. No FIN: the session outlives the capture.
    fn pickup_at_boundary(&mut self, start: u64) -> Result<()> {
        use FunctionCode as F;
        let mut s = self.session(16, MODBUS_PORT, None);
        // Hours of polling before the capture started.
        s.flow.skip(Side::Client, 12 * 48_611);
        s.flow.skip(Side::Server, 29 * 48_611);
        let earlier = read(F::READ_HOLDING_REGISTERS, 0, 10);
        let mut response = Vec::new();
        let transaction_id = s.next_transaction_id().wrapping_sub(1);
        self.plc
            .answer(&earlier, transaction_id, s.unit_id, &mut response)?;
        s.flow.send(self.wire, start, Side::Server, &response)?;
        let mut at = start + 40 * MILLISECOND;
        s.flow.ack(self.wire, at, Side::Client)?;
        at = self.poll(&mut s, at, 10)?;
        let _ = at;
        self.truth.add_flow(&s.flow);
        Ok(())
    }

    /// (g) The capture starts in the middle of a PDU: its first client segment holds the last 63
    /// bytes of a 133-byte write followed by a whole read.
    fn pickup_mid_pdu(&mut self, start: u64) -> Result<()> {
        use FunctionCode as F;
        let mut s = self.session(17, MODBUS_PORT, None);
        s.flow.skip(Side::Client, 12 * 20_333 + 93);
        s.flow.skip(Side::Server, 25 * 20_333 + 12);
        // Transaction ids with no zero byte around the cut.
        s.set_next_transaction_id(0x2A3B);
        let requests = [
            Request::WriteMultipleRegisters {
                start: 1000,
                values: values_without_zero_bytes(60),
            },
            read(F::READ_HOLDING_REGISTERS, 1000, 60),
        ];
        self.prepare(&mut s, &requests)?;
        // Only the last 63 bytes of the write (offsets 70..133) and the read after it are captured.
        let tail = 70..145;
        let mut at = transmit(
            self.wire,
            &mut s.flow,
            Side::Client,
            &s.request,
            std::slice::from_ref(&tail),
            start,
        )?;
        at = self.respond(&mut s, at)?;
        at += 40 * MILLISECOND;
        s.flow.ack(self.wire, at, Side::Client)?;
        at = self.poll(&mut s, at, 8)?;
        self.finish(&mut s, at)
    }

    /// (h) Gaps: bytes the sensor never saw (the peer did: the acknowledgements cover them).
    fn gaps(&mut self, start: u64) -> Result<()> {
        use FunctionCode as F;
        let mut s = self.session(18, MODBUS_PORT, None);
        let at = s.flow.handshake(self.wire, start, RTT)?;
        let mut at = self.poll(&mut s, at, 3)?;

        // A whole request segment missing; its response is captured.
        at += POLL_INTERVAL;
        self.prepare(&mut s, &[read(F::READ_HOLDING_REGISTERS, 64, 16)])?;
        at = transmit(self.wire, &mut s.flow, Side::Client, &s.request, &[], at)?;
        at = self.respond(&mut s, at)?;
        at = self.poll(&mut s, at, 2)?;

        // The middle of three segments of a 113-byte write missing; the next request starts a
        // new segment.
        at += POLL_INTERVAL;
        s.set_next_transaction_id(0x3C4D);
        let write = Request::WriteMultipleRegisters {
            start: 2000,
            values: values_without_zero_bytes(50),
        };
        self.prepare(&mut s, &[write])?;
        at = transmit(
            self.wire,
            &mut s.flow,
            Side::Client,
            &s.request,
            &[0..40, 80..113],
            at,
        )?;
        at = self.respond(&mut s, at)?;
        at = self.poll(&mut s, at, 2)?;

        // Four pipelined reads over three segments, the middle one missing: the first read is
        // whole, the second and third are cut, the fourth follows the cut tail in the same
        // segment.
        at += POLL_INTERVAL;
        s.set_next_transaction_id(0x4E5F);
        let requests = [
            read(F::READ_INPUT_REGISTERS, 0x0111, 0x0011),
            read(F::READ_INPUT_REGISTERS, 0x0122, 0x0012),
            read(F::READ_HOLDING_REGISTERS, 0x0133, 0x0013),
            read(F::READ_HOLDING_REGISTERS, 0x0144, 0x0014),
        ];
        self.prepare(&mut s, &requests)?;
        at = transmit(
            self.wire,
            &mut s.flow,
            Side::Client,
            &s.request,
            &[0..17, 31..48],
            at,
        )?;
        at = self.respond(&mut s, at)?;
        at = self.poll(&mut s, at, 2)?;
        self.finish(&mut s, at)
    }

    /// (i) Modbus on TCP 1502, tagged VLAN 30 on Ethernet.
    fn unusual_port(&mut self, start: u64) -> Result<()> {
        let mut s = self.session(19, UNUSUAL_PORT, Some(UNUSUAL_VLAN));
        let at = s.flow.handshake(self.wire, start, RTT)?;
        let mut at = self.poll(&mut s, at, 6)?;
        at += POLL_INTERVAL;
        let write = Request::WriteMultipleRegisters {
            start: 10,
            values: vec![1, 2, 3],
        };
        at = self.exchange(&mut s, at, &[write])?;
        self.finish(&mut s, at)
    }
}

/// Writes the fixture into `wire` and its truth into `truth`.
pub(crate) fn generate<S: PacketSink>(
    wire: &mut Wire<S>,
    truth: &mut Truth,
    ipv6: bool,
    seed: u64,
) -> Result<()> {
    let rng = Rng::new(seed);
    let plc = Plc::new(sample::identity(0), Limits::DEFAULT, rng.fork(1));
    let mut fixture = Fixture {
        wire,
        truth,
        rng,
        plc,
        ipv6,
    };
    let start = |case: u64| case * CASE_SPACING;
    fixture.clean(start(0))?;
    fixture.pipelined(start(1))?;
    fixture.split(start(2))?;
    fixture.out_of_order(start(3))?;
    fixture.retransmission(start(4))?;
    fixture.pickup_at_boundary(start(5))?;
    fixture.pickup_mid_pdu(start(6))?;
    fixture.gaps(start(7))?;
    fixture.unusual_port(start(8))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::capture::{Collect, Timeline};
    use crate::link::LinkType;
    use crate::reference::{decode, recount};

    const SEED: u64 = 0x0FA2_0C49;

    fn run(link: LinkType, ipv6: bool, seed: u64) -> (Vec<Vec<u8>>, Truth) {
        let mut wire = Wire::new(link, Timeline::default());
        let mut truth = Truth::default();
        generate(&mut wire, &mut truth, ipv6, seed).unwrap();
        let mut out = Collect::default();
        wire.sink.drain_into(&mut out).unwrap();
        (out.frames(), truth)
    }

    #[test]
    fn recount_by_a_resynchronising_reader_matches_the_truth() {
        for link in [
            LinkType::Ethernet,
            LinkType::Sll,
            LinkType::Sll2,
            LinkType::Raw,
        ] {
            for ipv6 in [false, true] {
                let (frames, truth) = run(link, ipv6, SEED);
                assert_eq!(
                    recount(link, &frames, &[MODBUS_PORT, UNUSUAL_PORT]),
                    truth.modbus_edges(),
                    "{link:?} ipv6={ipv6}"
                );
            }
        }
    }

    #[test]
    fn each_case_counts_what_a_correct_sensor_must() {
        let (frames, truth) = run(LinkType::Ethernet, false, SEED);
        assert!(
            (200..=400).contains(&frames.len()),
            "{} packets",
            frames.len()
        );
        let totals: BTreeMap<u8, u64> = truth
            .modbus_edges()
            .iter()
            .map(|(&(client, _, _), functions)| {
                let IpAddr::V4(v4) = client else {
                    panic!("IPv4 expected")
                };
                (v4.octets()[3], functions.values().sum())
            })
            .collect();
        let expected: BTreeMap<u8, u64> = [
            (11, 13), // (a) 10 polls + 3 writes
            (12, 18), // (b) 3 + 3 + 4 + 3 + 5
            (13, 10), // (c) 2 + 1 + 1 + 1 + 2 + 1 + 2
            (14, 9),  // (d) 2 + 2 + 1 + 1 + 1 + 2
            (15, 12), // (e) 2 + 1 + 1 + 3 + 3 + 2: duplicates once
            (16, 10), // (f) 10 polls
            (17, 9),  // (g) the cut write not counted: 1 + 8
            (18, 11), // (h) 3 + 2 + 2 + 2 + 2: lost and cut PDUs not counted
            (19, 7),  // (i) 6 + 1 on port 1502
        ]
        .into_iter()
        .collect();
        assert_eq!(totals, expected);
        let v4 = |net, host| IpAddr::V4(Ipv4Addr::new(10, 30, net, host));
        assert_eq!(truth.count(v4(0, 17), v4(1, 17), 502, 16), 0);
        assert_eq!(truth.count(v4(0, 18), v4(1, 18), 502, 16), 0);
        assert_eq!(truth.count(v4(0, 19), v4(1, 19), 1502, 16), 1);
    }

    #[test]
    fn mid_stream_flows_have_no_handshake_and_port_1502_is_tagged() {
        let (frames, _) = run(LinkType::Ethernet, false, SEED);
        for segment in frames.iter().filter_map(|f| decode(LinkType::Ethernet, f)) {
            let IpAddr::V4(client) = segment.src else {
                continue;
            };
            let host = client.octets()[3];
            if segment.syn {
                assert!(host != 16 && host != 17);
            }
            let port_1502 = segment.dst_port == UNUSUAL_PORT || segment.src_port == UNUSUAL_PORT;
            assert_eq!(segment.vlan, port_1502);
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (a, ta) = run(LinkType::Sll2, true, 5);
        let (b, tb) = run(LinkType::Sll2, true, 5);
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        let (c, _) = run(LinkType::Sll2, true, 6);
        assert_ne!(a, c);
    }
}
