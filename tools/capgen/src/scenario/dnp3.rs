//! `dnp3`: one minute of a substation, with exact truth.
//!
//! The SCADA master `10.50.0.1` (link address 1) polls four outstations: event polls (Read of
//! classes 1-3) every few seconds and integrity polls (classes 1-3 and 0) now and then, answered
//! with binary inputs (g1v2), analog inputs (g30v1), binary input events (g2v2) and IIN.
//!
//! - RTU `10.50.1.10` (link address 10, SEL, TCP 20000): at connection the master disables
//!   unsolicited responses, reads the device attributes one by one (g0v242...v252: the RTU is
//!   `RTU-NORTH-01`), polls, sets the time (g50v1, the RTU asked for it in IIN1.4) and enables
//!   unsolicited responses. At 13 s an operator trips breaker 3 and closes breaker 7: Select then
//!   Operate of g12v1 CROBs on points 3 and 7, echoed; the RTU reports the breakers' new states
//!   in an unsolicited response (CON set) that the master confirms. At 21 s a link status
//!   keep-alive; at 25 s a Direct Operate of a g41v2 analog output. At 40 s an engineer stops
//!   the RTU's `LOGIC` application (Stop Application, function 18) and at 46 s starts it again
//!   (Start Application, 17), each naming it in a g90v1 application identifier (qualifier 0x5B);
//!   the RTU answers each with a null response (IIN only). One event poll's link frame reaches
//!   the capture with a bit flipped after its CRC was computed (the RTU sits behind a serial
//!   terminal server): the RTU ignores it, and the master tries again a second later.
//! - RTU `10.50.1.11` (link address 11, GE, TCP 20100) runs Secure Authentication: the master
//!   asks for the session key status (g120v4, answered with g120v5), changes the session keys
//!   (g120v6) and reads all device attributes (g0v254). Every critical request, the time write,
//!   a Direct Operate of a CROB on point 2 at 16 s, a Write of a g50v4 schedule at 28 s, is
//!   challenged (AUTHENTICATE_RESP with g120v1) and authenticated (AUTHENTICATE_REQ with g120v2)
//!   before the RTU carries it out.
//! - RTU `10.50.1.12` (link address 12, TCP 20000) has 120 analog inputs: its integrity
//!   responses (about 630 bytes) take three transport segments in three link frames, sent in one
//!   TCP segment, in three, or in two cut inside a link frame. Its session was open before the
//!   capture: the capture starts with the second link frame of an integrity response, whose
//!   fragment a sensor cannot assemble. At 35 s the master cold-restarts it (the response gives
//!   the restart time in g52v2); the RTU closes the connection, the master reconnects, finds
//!   IIN1.7 (device restart) and IIN1.4 set, clears the first with a Write of g80v1 and sets
//!   the time.
//!   The rebooted RTU's configuration check fails: its last response of the capture (and only
//!   that one) sets IIN2.5 (configuration corrupt).
//! - Feeder recloser `10.50.2.20` (link address 20) is polled over UDP 20000 (both ends), with
//!   the latency of a cellular link. It lost events while the link was down: from its seventh
//!   poll (about 32 s) to the end of the capture, every response sets IIN2.3 (event buffer
//!   overflow).
//!
//! The truth counts, per (master, outstation, outstation port), every application fragment whose
//! link frames all reached the capture with good CRCs: requests by function code, the object
//! headers (`g<group>v<variation>`) and CROB points (`crob-<index>`) of requests and responses,
//! whether Secure Authentication was seen; and each address's link addresses and the
//! identities the device attributes reveal.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result};
use faro_protocols::dnp3::app::{
    AnalogOutput, AnalogValue, AppControl, Crob, Iin, Interval, IntervalUnits, OpType, TimeAndDate,
    TripCloseCode,
};

use crate::capture::{MILLISECOND, PacketSink, SECOND, Wire};
use crate::dnp3::{
    ALL_ATTRIBUTES, Apdu, EVENTS, IDENTITY_ATTRIBUTES, INTEGRITY, Identity, MASTER_ADDRESS,
    Outstation, PORT, Request, time_at,
};
use crate::link::Host;
use crate::rng::Rng;
use crate::session::{Carrier, Dnp3Session};
use crate::tcp::{End, Side, TcpFlow};
use crate::truth::{Protocol, Truth};
use crate::udp::{Peer, UdpFlow};

/// Length of the capture.
const DURATION: u64 = 60 * SECOND;
/// RTU 11's port.
pub(crate) const UNUSUAL_PORT: u16 = 20_100;
/// The master runs Windows: IP TTL 128, delayed ACKs after 200 ms.
const WINDOWS_TTL: u8 = 128;
const DELAYED_ACK: u64 = 200 * MILLISECOND;
/// The RTUs' TCP stacks acknowledge after 40 ms.
const RTU_DELAYED_ACK: u64 = 40 * MILLISECOND;
/// How long the master waits for a response before it asks again.
const RESPONSE_TIMEOUT: u64 = SECOND;
/// The Secure Authentication user of the master.
const SA_USER: u16 = 1;
/// Milliseconds in a day, for the schedule written to RTU 11.
const DAY_MS: u64 = 86_400_000;

const fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

const MASTER: Host = Host::new([0x00, 0x25, 0xB3, 0x50, 0x00, 0x01], v4(10, 50, 0, 1));
const NORTH: Host = Host::new([0x00, 0x30, 0xA7, 0x50, 0x01, 0x10], v4(10, 50, 1, 10));
const SOUTH: Host = Host::new([0x02, 0x09, 0x1E, 0x50, 0x01, 0x11], v4(10, 50, 1, 11));
const EAST: Host = Host::new([0x00, 0x80, 0xF4, 0x50, 0x01, 0x12], v4(10, 50, 1, 12));
const RECLOSER: Host = Host::new([0x02, 0x1C, 0x2C, 0x50, 0x02, 0x20], v4(10, 50, 2, 20));

/// The application RTU 10 runs, as its g90v1 application identifier names it.
const NORTH_APPLICATION: &str = "LOGIC";

const NORTH_IDENTITY: Identity = Identity {
    software_version: "R151-V2",
    hardware_version: "3530-0A1",
    user_assigned_id: "NORTH-SUB-RTU",
    device_name: "RTU-NORTH-01",
    serial_number: "1183920457",
    product_and_model: "SEL-3530 RTAC",
    vendor: "SEL",
};

const SOUTH_IDENTITY: Identity = Identity {
    software_version: "7.20.4",
    hardware_version: "D20MX-B",
    user_assigned_id: "SOUTH-SUB-RTU",
    device_name: "RTU-SOUTH-02",
    serial_number: "MX2291044",
    product_and_model: "D20MX",
    vendor: "GE Vernova",
};

/// The master's association with one outstation: the session, the outstation model, and the
/// application sequence of the master's next request.
struct Association {
    session: Dnp3Session,
    station: Outstation,
    sequence: u8,
    /// Answer latency range, microseconds.
    latency: (u64, u64),
    /// Multi-frame responses delivered so far: each is cut differently from the last.
    multi_frame: u32,
}

/// When and how the master polls one outstation.
struct Plan {
    next_poll: u64,
    period: u64,
    polls: u32,
    /// Every this many polls an integrity poll; poll 0 too when `integrity_first`.
    integrity_every: u32,
    integrity_first: bool,
    /// Binary inputs that change on their own, and the chance per poll that one does.
    wandering: std::ops::Range<usize>,
    event_percent: u64,
    /// The poll whose request frame arrives corrupted.
    corrupted: Option<u32>,
    /// From this poll on, to the end of the capture, the outstation reports these IIN2 health
    /// flags.
    reports_from: Option<(u32, Iin)>,
    /// Health flags the outstation reports from the last poll of the capture on (in that one
    /// response: nothing follows it).
    reports_last: Iin,
}

/// Something the master does at a set time besides polling.
enum Step {
    /// One exchange.
    Send(Request),
    /// Select, then Operate, of the same blocks; then the unsolicited report of what changed.
    SelectOperate(Vec<Crob>),
    /// A link status keep-alive.
    LinkStatus,
    /// One exchange whose randomness comes from a generator forked for it, so that the
    /// master's own draws (and every model forked from them later) are as without it.
    Aside(Request),
}

/// The substation's output and the master's randomness.
struct Substation<'w, S> {
    wire: &'w mut Wire<S>,
    truth: &'w mut Truth,
    rng: Rng,
    apdu: Apdu,
}

fn crob(index: u32, trip_close: TripCloseCode, op: OpType, on_ms: u32) -> Crob {
    Crob {
        index,
        code: trip_close.0 << 6 | op.0,
        count: 1,
        on_ms,
        off_ms: 0,
        status: 0,
    }
}

impl<S: PacketSink> Substation<'_, S> {
    fn tcp_session(
        &mut self,
        outstation: Host,
        port: u16,
        master_port: u16,
        address: u16,
    ) -> Dnp3Session {
        let flow = TcpFlow::new(
            End::new(MASTER, master_port, &mut self.rng).with_ttl(WINDOWS_TTL),
            End::new(outstation, port, &mut self.rng).with_window(8192),
        )
        .tracked_as(Protocol::Dnp3);
        Dnp3Session::new(Carrier::Tcp(flow), MASTER_ADDRESS, address).tracked()
    }

    fn association(
        &mut self,
        session: Dnp3Session,
        station: Outstation,
        latency: (u64, u64),
    ) -> Association {
        Association {
            session,
            station,
            sequence: self.rng.range_u16(0, 15) as u8 & AppControl::SEQUENCE,
            latency,
            multi_frame: 0,
        }
    }

    fn latency(&mut self, a: &Association) -> u64 {
        self.rng.range(a.latency.0, a.latency.1)
    }

    /// Queues and sends `request` from the master with `sequence`.
    fn send_request(
        &mut self,
        a: &mut Association,
        at: u64,
        request: &Request,
        sequence: u8,
        corrupt: bool,
    ) -> Result<()> {
        request.encode(sequence, &mut self.apdu)?;
        a.session.queue(Side::Client, &self.apdu, corrupt)?;
        a.session.send(self.wire, at, Side::Client)
    }

    /// The master sends `request` at `at`; the outstation answers, under Secure Authentication
    /// after challenging a critical request and checking the master's reply. Returns the time of
    /// the response.
    fn exchange(&mut self, a: &mut Association, at: u64, request: &Request) -> Result<u64> {
        let sequence = a.sequence;
        a.sequence = (sequence + 1) & AppControl::SEQUENCE;
        self.send_request(a, at, request, sequence, false)?;
        let mut at = at + self.latency(a);
        a.station.answer(request, sequence, at, &mut self.apdu)?;
        if self.apdu.is_challenge() {
            a.session.queue(Side::Server, &self.apdu, false)?;
            a.session.send(self.wire, at, Side::Server)?;
            // The master computes the HMAC over the challenge and the critical request.
            at += self.rng.range(2_000, 6_000);
            let reply = a.station.reply_for(&mut self.rng)?;
            self.send_request(a, at, &reply, sequence, false)?;
            at += self.latency(a);
            a.station.answer(&reply, sequence, at, &mut self.apdu)?;
        }
        a.session.queue(Side::Server, &self.apdu, false)?;
        self.deliver(a, at)
    }

    /// Sends the outstation's queued frames: a multi-frame response over TCP in one segment, one
    /// segment per frame, or two segments cut inside the second frame's header, in turn; over
    /// UDP one datagram per frame. Returns the time of the last packet.
    fn deliver(&mut self, a: &mut Association, at: u64) -> Result<u64> {
        let ends = a.session.queued_frame_ends(Side::Server).to_vec();
        let udp = matches!(a.session.carrier, Carrier::Udp(_));
        if ends.len() <= 1 {
            a.session.send(self.wire, at, Side::Server)?;
            return Ok(at);
        }
        if udp {
            return a.session.send_frames(self.wire, at, Side::Server, 400);
        }
        a.multi_frame += 1;
        match a.multi_frame % 3 {
            1 => {
                a.session.send(self.wire, at, Side::Server)?;
                Ok(at)
            }
            2 => a.session.send_frames(self.wire, at, Side::Server, 150),
            _ => {
                let cut = ends.first().context("first frame")? + 4;
                a.session
                    .send_in_pieces(self.wire, at, Side::Server, &[cut], 200)
            }
        }
    }

    /// After an answer at `answered`, the master's delayed ACK, if it sends nothing before
    /// `next`.
    fn settle(&mut self, a: &mut Association, answered: u64, next: u64) -> Result<()> {
        if next > answered + DELAYED_ACK {
            a.session
                .ack(self.wire, answered + DELAYED_ACK, Side::Client)?;
        }
        Ok(())
    }

    /// Exchanges one after another, a short think time apart; returns when the next may start.
    fn exchanges(&mut self, a: &mut Association, at: u64, requests: &[Request]) -> Result<u64> {
        let mut at = at;
        for request in requests {
            let answered = self.exchange(a, at, request)?;
            at = answered + self.rng.range(20, 80) * MILLISECOND;
        }
        Ok(at)
    }

    /// If the outstation has events to report unsolicited, it sends them at `at` and the master
    /// confirms; returns when the master is free again.
    fn unsolicited(&mut self, a: &mut Association, at: u64) -> Result<u64> {
        let Some(sequence) = a.station.unsolicited(&mut self.apdu)? else {
            return Ok(at);
        };
        a.session.queue(Side::Server, &self.apdu, false)?;
        a.session.send(self.wire, at, Side::Server)?;
        let at = at + self.rng.range(3, 12) * MILLISECOND;
        self.send_request(
            a,
            at,
            &Request::Confirm { unsolicited: true },
            sequence,
            false,
        )?;
        Ok(at + 100 * MILLISECOND)
    }

    /// An event poll whose link frame reaches the outstation (and the capture) with a bit
    /// flipped: the outstation's TCP stack acknowledges it, DNP3 drops it, and the master asks
    /// again with the same sequence once its response timeout runs out.
    fn corrupted_poll(&mut self, a: &mut Association, at: u64) -> Result<u64> {
        let sequence = a.sequence;
        self.send_request(a, at, &EVENTS, sequence, true)?;
        a.session
            .ack(self.wire, at + RTU_DELAYED_ACK, Side::Server)?;
        self.exchange(a, at + RESPONSE_TIMEOUT, &EVENTS)
    }

    /// One scheduled poll, `last` when nothing follows it in the capture; returns the time of
    /// the answer.
    fn poll(&mut self, a: &mut Association, plan: &mut Plan, last: bool) -> Result<u64> {
        if let Some((from, flags)) = plan.reports_from
            && plan.polls >= from
        {
            a.station.report(flags);
        }
        if last {
            a.station.report(plan.reports_last);
        }
        let mut at = plan.next_poll + self.rng.below(20 * MILLISECOND);
        a.station
            .wander(at, plan.wandering.clone(), plan.event_percent);
        at = self.unsolicited(a, at)?;
        let integrity = if plan.polls == 0 {
            plan.integrity_first
        } else {
            plan.polls % plan.integrity_every == 0
        };
        let answered = if plan.corrupted == Some(plan.polls) {
            self.corrupted_poll(a, at)?
        } else if integrity {
            self.exchange(a, at, &INTEGRITY)?
        } else {
            self.exchange(a, at, &EVENTS)?
        };
        plan.polls += 1;
        plan.next_poll += plan.period;
        Ok(answered)
    }

    /// Polls and carries out `script` (in time order) until `until`.
    fn run(
        &mut self,
        a: &mut Association,
        plan: &mut Plan,
        script: &mut Vec<(u64, Step)>,
        until: u64,
    ) -> Result<()> {
        loop {
            let scripted = script.first().map(|(at, _)| *at).filter(|&at| at < until);
            let polling = Some(plan.next_poll).filter(|&at| at < until);
            let answered = match (scripted, polling) {
                (Some(step_at), poll_at) if poll_at.is_none_or(|p| step_at < p) => {
                    let (at, step) = script.remove(0);
                    self.step(a, at, step)?
                }
                (_, Some(_)) => {
                    let last = scripted.is_none() && plan.next_poll + plan.period >= until;
                    self.poll(a, plan, last)?
                }
                (_, None) => return Ok(()),
            };
            let next = script
                .first()
                .map_or(plan.next_poll, |(at, _)| plan.next_poll.min(*at))
                .min(until);
            self.settle(a, answered, next)?;
        }
    }

    fn step(&mut self, a: &mut Association, at: u64, step: Step) -> Result<u64> {
        match step {
            Step::Send(request) => self.exchange(a, at, &request),
            Step::SelectOperate(crobs) => {
                let selected = self.exchange(a, at, &Request::Select(crobs.clone()))?;
                let at = selected + self.rng.range(30, 90) * MILLISECOND;
                let operated = self.exchange(a, at, &Request::Operate(crobs))?;
                let reported = operated + self.rng.range(20, 60) * MILLISECOND;
                self.unsolicited(a, reported)
            }
            Step::Aside(request) => {
                let aside = self.rng.fork(u64::from(request.function().0));
                let master = std::mem::replace(&mut self.rng, aside);
                let answered = self.exchange(a, at, &request);
                self.rng = master;
                answered
            }
            Step::LinkStatus => {
                a.session.queue_link_status(Side::Client)?;
                a.session.send(self.wire, at, Side::Client)?;
                let at = at + self.latency(a);
                a.session.queue_link_status(Side::Server)?;
                a.session.send(self.wire, at, Side::Server)?;
                Ok(at)
            }
        }
    }

    /// RTU 10: startup, polls, select-before-operate, unsolicited events, a keep-alive, an
    /// analog output, its application stopped and started, and one corrupted poll.
    fn north(&mut self) -> Result<()> {
        let station = Outstation::new(16, 16, self.rng.fork(10))
            .with_identity(NORTH_IDENTITY)
            .needing_time();
        let session = self.tcp_session(NORTH, PORT, 50_210, 10);
        let mut a = self.association(session, station, (4_000, 15_000));
        let rtt = self.rng.range(400, 900);
        let at = tcp(&mut a)?.handshake(self.wire, 200 * MILLISECOND, rtt)?;
        let at = self.exchanges(
            &mut a,
            at + 2 * MILLISECOND,
            &[
                Request::DisableUnsolicited(&[1, 2, 3]),
                Request::ReadAttributes(IDENTITY_ATTRIBUTES),
                INTEGRITY,
                Request::WriteTime(time_at(at)),
                Request::EnableUnsolicited(&[1, 2, 3]),
            ],
        )?;
        let mut plan = Plan {
            next_poll: at.max(1_300 * MILLISECOND),
            period: 2 * SECOND,
            polls: 0,
            integrity_every: 10,
            integrity_first: false,
            wandering: 8..16,
            event_percent: 12,
            corrupted: Some(15),
            reports_from: None,
            reports_last: Iin::empty(),
        };
        let mut script = vec![
            (
                12_900 * MILLISECOND,
                Step::SelectOperate(vec![
                    crob(3, TripCloseCode::TRIP, OpType::PULSE_ON, 250),
                    crob(7, TripCloseCode::CLOSE, OpType::PULSE_ON, 250),
                ]),
            ),
            (21_000 * MILLISECOND, Step::LinkStatus),
            (
                24_900 * MILLISECOND,
                Step::Send(Request::DirectOperateAnalog(vec![AnalogOutput {
                    index: 1,
                    value: AnalogValue::I16(1250),
                    status: 0,
                }])),
            ),
            // The RTU's logic application stopped for a settings change, then started again;
            // aside, so that the other outstations' traffic stays as it was.
            (
                40_300 * MILLISECOND,
                Step::Aside(Request::StopApplication(NORTH_APPLICATION)),
            ),
            (
                46_300 * MILLISECOND,
                Step::Aside(Request::StartApplication(NORTH_APPLICATION)),
            ),
        ];
        self.run(&mut a, &mut plan, &mut script, DURATION)?;
        self.truth.add_dnp3(&a.session)
    }

    /// RTU 11: Secure Authentication, identification by g0v254, challenged controls and writes.
    fn south(&mut self) -> Result<()> {
        let station = Outstation::new(16, 32, self.rng.fork(11))
            .with_identity(SOUTH_IDENTITY)
            .with_secure_authentication(SA_USER)
            .needing_time();
        let session = self.tcp_session(SOUTH, UNUSUAL_PORT, 50_211, 11);
        let mut a = self.association(session, station, (6_000, 20_000));
        let rtt = self.rng.range(400, 900);
        let at = tcp(&mut a)?.handshake(self.wire, 450 * MILLISECOND, rtt)?;
        let mut at = self.exchanges(
            &mut a,
            at + 2 * MILLISECOND,
            &[Request::SessionKeyStatusQuery { user: SA_USER }],
        )?;
        let change = a.station.key_change_for(&mut self.rng)?;
        at = self.exchanges(
            &mut a,
            at,
            &[
                change,
                Request::ReadAttributes(&[ALL_ATTRIBUTES]),
                INTEGRITY,
                Request::WriteTime(time_at(at)),
            ],
        )?;
        let mut plan = Plan {
            next_poll: at.max(1_700 * MILLISECOND),
            period: 2 * SECOND,
            polls: 0,
            integrity_every: 10,
            integrity_first: false,
            wandering: 4..16,
            event_percent: 15,
            corrupted: None,
            reports_from: None,
            reports_last: Iin::empty(),
        };
        let midnight = (time_at(0) / DAY_MS + 1) * DAY_MS;
        let mut script = vec![
            (
                15_900 * MILLISECOND,
                Step::Send(Request::DirectOperate(vec![crob(
                    2,
                    TripCloseCode::NUL,
                    OpType::LATCH_ON,
                    0,
                )])),
            ),
            (
                27_900 * MILLISECOND,
                Step::Send(Request::WriteSchedules(vec![TimeAndDate {
                    index: 0,
                    timestamp_ms: midnight,
                    interval: Some(Interval {
                        count: 1,
                        units: IntervalUnits::DAYS,
                    }),
                }])),
            ),
        ];
        self.run(&mut a, &mut plan, &mut script, DURATION)?;
        self.truth.add_dnp3(&a.session)
    }

    /// RTU 12: picked up mid-stream inside a multi-frame response, cold-restarted at 35 s,
    /// reconnected.
    fn east(&mut self) -> Result<()> {
        let station = Outstation::new(16, 120, self.rng.fork(12));
        let master_sequence = self.rng.range_u16(0, 63) as u8;
        let outstation_sequence = self.rng.range_u16(0, 63) as u8;
        let session = self
            .tcp_session(EAST, PORT, 49_874, 12)
            .with_transport_sequences(master_sequence, outstation_sequence);
        let mut a = self.association(session, station, (3_000, 9_000));
        // The integrity poll in progress when the capture starts: its request and the first
        // frame of its response went out before.
        let sequence = a.sequence;
        a.sequence = (sequence + 1) & AppControl::SEQUENCE;
        INTEGRITY.encode(sequence, &mut self.apdu)?;
        a.session.queue(Side::Client, &self.apdu, false)?;
        a.session.lose(Side::Client, 1)?;
        a.station.answer(&INTEGRITY, sequence, 0, &mut self.apdu)?;
        a.session.queue(Side::Server, &self.apdu, false)?;
        a.session.lose(Side::Server, 1)?;
        a.session.send(self.wire, 30 * MILLISECOND, Side::Server)?;
        let mut plan = Plan {
            next_poll: SECOND,
            period: 2 * SECOND,
            polls: 1,
            integrity_every: 5,
            integrity_first: false,
            wandering: 0..16,
            event_percent: 20,
            corrupted: None,
            reports_from: None,
            reports_last: Iin::empty(),
        };
        a.session
            .ack(self.wire, 30 * MILLISECOND + DELAYED_ACK, Side::Client)?;
        let restart_at = 35_500 * MILLISECOND;
        self.run(&mut a, &mut plan, &mut Vec::new(), restart_at)?;

        // Cold restart: the RTU answers with the time it needs, drops the connection, reboots.
        let answered = self.exchange(&mut a, restart_at, &Request::ColdRestart)?;
        a.station.restart();
        let rtt = self.rng.range(400, 900);
        let closed =
            tcp(&mut a)?.close(self.wire, answered + 120 * MILLISECOND, Side::Server, rtt)?;
        self.truth.add_dnp3(&a.session)?;

        // The master reconnects once the RTU is back.
        let reconnect = closed + 14 * SECOND + self.rng.below(SECOND);
        a.session = self.tcp_session(EAST, PORT, 49_875, 12);
        a.multi_frame = 0;
        let at = tcp(&mut a)?.handshake(self.wire, reconnect, rtt)?;
        let at = self.exchanges(
            &mut a,
            at + 2 * MILLISECOND,
            &[
                INTEGRITY,
                Request::ClearRestart,
                Request::WriteTime(time_at(at)),
            ],
        )?;
        plan.next_poll = plan.next_poll.max(at + SECOND);
        // The rebooted RTU's configuration check fails: its last response says so.
        plan.reports_last = Iin::CONFIG_CORRUPT;
        self.run(&mut a, &mut plan, &mut Vec::new(), DURATION)?;
        self.truth.add_dnp3(&a.session)
    }

    /// The recloser over UDP: an integrity poll, then event polls every five seconds.
    fn recloser(&mut self) -> Result<()> {
        let station = Outstation::new(8, 8, self.rng.fork(20));
        let flow = UdpFlow::new(
            Peer::new(MASTER, PORT, &mut self.rng).with_ttl(WINDOWS_TTL),
            Peer::new(RECLOSER, PORT, &mut self.rng),
        );
        let session = Dnp3Session::new(Carrier::Udp(flow), MASTER_ADDRESS, 20).tracked();
        let mut a = self.association(session, station, (60_000, 250_000));
        let mut plan = Plan {
            next_poll: 2_200 * MILLISECOND,
            period: 5 * SECOND,
            polls: 0,
            integrity_every: 6,
            integrity_first: true,
            wandering: 0..8,
            event_percent: 25,
            corrupted: None,
            // Events lost while the cellular link was down: from the seventh poll (about 32 s)
            // to the end of the capture.
            reports_from: Some((6, Iin::EVENT_BUFFER_OVERFLOW)),
            reports_last: Iin::empty(),
        };
        self.run(&mut a, &mut plan, &mut Vec::new(), DURATION)?;
        self.truth.add_dnp3(&a.session)
    }
}

fn tcp(a: &mut Association) -> Result<&mut TcpFlow> {
    a.session.tcp().context("a TCP session")
}

/// Writes the substation into `wire` and its DNP3 truth into `truth`.
pub(crate) fn generate<S: PacketSink>(
    wire: &mut Wire<S>,
    truth: &mut Truth,
    seed: u64,
) -> Result<()> {
    let mut substation = Substation {
        wire,
        truth,
        rng: Rng::new(seed),
        apdu: Apdu::default(),
    };
    substation.north()?;
    substation.south()?;
    substation.east()?;
    substation.recloser()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use faro_protocols::Framing;
    use faro_protocols::dnp3::app::FunctionCode;
    use faro_protocols::dnp3::{link as dnp3_link, transport};

    use super::*;
    use crate::capture::{Collect, PcapOut, Timeline};
    use crate::link::LinkType;
    use crate::reference::{assert_in_order_tcp, decode, decode_udp, dnp3_recount};
    use crate::truth::{FunctionKey, Transport};

    const SEED: u64 = 0x0FA2_0C49;
    const PORTS: [u16; 2] = [PORT, UNUSUAL_PORT];

    fn run(link: LinkType, seed: u64) -> (Vec<Vec<u8>>, Truth) {
        let mut wire = Wire::new(link, Timeline::default());
        let mut truth = Truth::default();
        generate(&mut wire, &mut truth, seed).unwrap();
        let mut out = Collect::default();
        wire.sink.drain_into(&mut out).unwrap();
        let times: Vec<u64> = out.0.iter().map(|(at, _)| *at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        (out.frames(), truth)
    }

    fn code(c: FunctionCode) -> FunctionKey {
        FunctionKey::Code(c.0)
    }

    /// The link frames at the start of `payload`, and whether it holds whole frames only.
    fn link_frames(payload: &[u8]) -> (Vec<dnp3_link::Frame<'_>>, bool) {
        let mut frames = Vec::new();
        let mut rest = payload;
        while let Framing::Parsed { consumed, message } = dnp3_link::frame(rest) {
            frames.push(message);
            rest = &rest[consumed..];
        }
        (frames, rest.is_empty())
    }

    #[test]
    fn truth_is_what_a_reader_of_the_frames_counts() {
        for link in [LinkType::Ethernet, LinkType::Sll2, LinkType::Raw] {
            let (frames, truth) = run(link, SEED);
            let recount = dnp3_recount(link, &frames, &PORTS);
            assert_eq!(recount.requests, truth.edges_of(Protocol::Dnp3));
            let objects: BTreeMap<_, BTreeMap<String, u64>> = truth
                .dnp3_edges()
                .iter()
                .map(|(edge, e)| {
                    let objects = e.objects.iter().map(|(k, &n)| (k.to_string(), n)).collect();
                    (*edge, objects)
                })
                .collect();
            assert_eq!(recount.objects, objects);
            let secure: BTreeMap<_, bool> = truth
                .dnp3_edges()
                .iter()
                .map(|(edge, e)| (*edge, e.secure_authentication))
                .collect();
            assert_eq!(recount.secure_authentication, secure);
            let transports: BTreeMap<_, &str> = truth
                .dnp3_edges()
                .iter()
                .map(|(edge, e)| (*edge, e.transport.name()))
                .collect();
            assert_eq!(recount.transports, transports);
            assert_eq!(&recount.addresses, truth.addresses());
            let identity: BTreeMap<_, BTreeMap<&str, String>> = truth.identity().clone();
            assert_eq!(recount.identity, identity);
            // One frame with a bad data CRC; the two frames of the response in progress when
            // the capture started cannot be assembled; nothing else is amiss.
            assert_eq!(recount.bad_crc, 1);
            assert_eq!(recount.orphans, 2);
            assert_eq!(recount.malformed, 0);
            assert_eq!(recount.link_only, 2);
            assert!(recount.multi_frame_fragments >= 4);
            assert!((600..=2048).contains(&recount.largest_fragment));
        }
    }

    #[test]
    fn each_edge_counts_what_happened() {
        let (frames, truth) = run(LinkType::Ethernet, SEED);
        assert!(
            (300..=500).contains(&frames.len()),
            "{} packets",
            frames.len()
        );
        let edges = truth.edges_of(Protocol::Dnp3);
        let dnp3 = truth.dnp3_edges();
        let master = MASTER.ip;
        let north = (master, NORTH.ip, PORT);
        let south = (master, SOUTH.ip, UNUSUAL_PORT);
        let east = (master, EAST.ip, PORT);
        let recloser = (master, RECLOSER.ip, PORT);
        assert_eq!(
            edges.keys().copied().collect::<BTreeSet<_>>(),
            [north, south, east, recloser].into_iter().collect()
        );
        let count = |edge, function| edges[&edge].get(&code(function)).copied();
        let object = |edge, name: &str| {
            dnp3[&edge]
                .objects
                .iter()
                .find(|(k, _)| k.to_string() == name)
                .map(|(_, &n)| n)
        };
        // North: startup, select-before-operate on points 3 and 7 (request and echo each),
        // unsolicited events confirmed, an analog output, its application stopped and started
        // (one g90v1 each, null responses), no Secure Authentication.
        for function in [
            FunctionCode::SELECT,
            FunctionCode::OPERATE,
            FunctionCode::DIRECT_OPERATE,
            FunctionCode::ENABLE_UNSOLICITED,
            FunctionCode::DISABLE_UNSOLICITED,
            FunctionCode::WRITE,
            FunctionCode::STOP_APPLICATION,
            FunctionCode::START_APPLICATION,
        ] {
            assert_eq!(count(north, function), Some(1), "{function:?}");
        }
        assert!(count(north, FunctionCode::CONFIRM) >= Some(1));
        assert!(count(north, FunctionCode::READ) >= Some(25));
        for name in ["g12v1", "crob-3", "crob-7"] {
            assert_eq!(object(north, name), Some(4), "{name}");
        }
        assert_eq!(object(north, "g41v2"), Some(2));
        assert_eq!(object(north, "g0v247"), Some(2));
        assert_eq!(object(north, "g50v1"), Some(1));
        assert_eq!(object(north, "g90v1"), Some(2));
        for edge in [south, east, recloser] {
            for function in [
                FunctionCode::STOP_APPLICATION,
                FunctionCode::START_APPLICATION,
            ] {
                assert_eq!(count(edge, function), None, "{function:?}");
            }
            assert_eq!(object(edge, "g90v1"), None);
        }
        assert!(!dnp3[&north].secure_authentication);
        // South: three challenged requests (time, CROB, schedule), each authenticated, and the
        // two key management requests.
        assert!(dnp3[&south].secure_authentication);
        assert_eq!(count(south, FunctionCode::AUTHENTICATE_REQ), Some(5));
        assert_eq!(object(south, "g120v1"), Some(3));
        assert_eq!(object(south, "g120v2"), Some(3));
        assert_eq!(object(south, "g120v5"), Some(2));
        assert_eq!(object(south, "g0v254"), Some(1));
        assert_eq!(object(south, "g50v4"), Some(1));
        assert_eq!(object(south, "crob-2"), Some(2));
        // East: the restart, its delay, the clearing of IIN1.7, the time set after it.
        assert_eq!(count(east, FunctionCode::COLD_RESTART), Some(1));
        assert_eq!(count(east, FunctionCode::WRITE), Some(2));
        assert_eq!(object(east, "g52v2"), Some(1));
        assert_eq!(object(east, "g80v1"), Some(1));
        assert!(!dnp3[&east].secure_authentication);
        // The recloser over UDP: reads only.
        assert_eq!(dnp3[&recloser].transport, Transport::Udp);
        assert_eq!(
            edges[&recloser].keys().collect::<Vec<_>>(),
            [&code(FunctionCode::READ)]
        );
        // Addresses and identities.
        let addresses: BTreeMap<IpAddr, Vec<u16>> = truth
            .addresses()
            .iter()
            .map(|(ip, a)| (*ip, a.iter().copied().collect()))
            .collect();
        let expected: BTreeMap<IpAddr, Vec<u16>> = [
            (master, vec![1]),
            (NORTH.ip, vec![10]),
            (SOUTH.ip, vec![11]),
            (EAST.ip, vec![12]),
            (RECLOSER.ip, vec![20]),
        ]
        .into_iter()
        .collect();
        assert_eq!(addresses, expected);
        let identity = truth.identity();
        assert_eq!(identity[&NORTH.ip]["device_name"], "RTU-NORTH-01");
        assert_eq!(identity[&NORTH.ip]["vendor"], "SEL");
        assert_eq!(identity[&SOUTH.ip]["product_and_model"], "D20MX");
        assert_eq!(identity[&NORTH.ip].len(), 7);
        assert_eq!(identity.len(), 2);
        let json = truth.to_json();
        let edge = json["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["server"] == "10.50.1.10")
            .unwrap();
        assert_eq!(edge["protocol"], "dnp3");
        assert_eq!(edge["transport"], "tcp");
        assert_eq!(edge["functions"]["3"], 1);
        assert_eq!(edge["objects"]["crob-7"], 4);
        assert_eq!(edge["secure_authentication"], false);
        assert_eq!(json["addresses"]["10.50.0.1"], serde_json::json!([1]));
        assert_eq!(
            json["identity"]["10.50.1.10"]["serial_number"],
            "1183920457"
        );
        assert!(assert_in_order_tcp(LinkType::Ethernet, &frames) > 30);
    }

    #[test]
    fn framing_cases_pickup_and_the_corrupted_frame() {
        let link = LinkType::Ethernet;
        let (frames, _) = run(link, SEED);
        let segments: Vec<_> = frames.iter().filter_map(|f| decode(link, f)).collect();
        // Mid-stream: no SYN to RTU 12 on the first connection, and its first segment starts
        // with a link header whose segment is not the first of its fragment.
        let to_east: Vec<_> = segments
            .iter()
            .filter(|s| s.src == EAST.ip || s.dst == EAST.ip)
            .collect();
        assert!(!to_east[0].syn && to_east[0].src == EAST.ip);
        let (first, _) = link_frames(&to_east[0].payload);
        assert_eq!(first.len(), 2);
        let mut segment = Vec::new();
        first[0].data.copy_to(&mut segment);
        assert!(!transport::split(&segment).unwrap().0.fir);
        // The reconnection after the restart does a handshake, and the RTU closed the first.
        assert_eq!(to_east.iter().filter(|s| s.syn).count(), 2);
        assert!(to_east.iter().any(|s| s.fin && s.src == EAST.ip));
        // Three frames in one segment, three segments of one frame each, and a frame cut across
        // two segments.
        let dnp3: Vec<_> = segments
            .iter()
            .filter(|s| {
                !s.payload.is_empty()
                    && (PORTS.contains(&s.src_port) || PORTS.contains(&s.dst_port))
            })
            .collect();
        assert!(dnp3.iter().any(|s| link_frames(&s.payload).0.len() == 3));
        let partial: Vec<_> = dnp3.iter().filter(|s| !link_frames(&s.payload).1).collect();
        assert_eq!(partial.len(), 2);
        assert!(partial.iter().all(|s| s.src == EAST.ip));
        // The one bad frame: from the master to RTU 10, whose function byte reads Select.
        let bad: Vec<_> = dnp3
            .iter()
            .flat_map(|s| link_frames(&s.payload).0.into_iter().map(move |f| (s, f)))
            .filter(|(_, f)| !f.data_crc_ok)
            .collect();
        assert_eq!(bad.len(), 1);
        let (carrier, frame) = &bad[0];
        assert_eq!((carrier.src, carrier.dst), (MASTER.ip, NORTH.ip));
        let mut user_data = Vec::new();
        frame.data.copy_to(&mut user_data);
        assert_eq!(user_data[2], FunctionCode::SELECT.0);
        // Ports: 20000 and 20100 over TCP, 20000 at both ends over UDP, whole frames per
        // datagram.
        let ports: BTreeSet<u16> = segments
            .iter()
            .filter(|s| s.src == MASTER.ip)
            .map(|s| s.dst_port)
            .collect();
        assert_eq!(ports, PORTS.into_iter().collect());
        let datagrams: Vec<_> = frames.iter().filter_map(|f| decode_udp(link, f)).collect();
        assert!(datagrams.len() >= 20);
        for ((_, src_port, _, dst_port), payload) in &datagrams {
            assert_eq!((*src_port, *dst_port), (PORT, PORT));
            let (frames, whole) = link_frames(payload);
            assert!(whole && !frames.is_empty());
        }
    }

    /// The IIN of every response and unsolicited response each outstation sends, in capture
    /// order (from the first frame of each fragment).
    fn iins(link: LinkType, frames: &[Vec<u8>]) -> BTreeMap<IpAddr, Vec<Iin>> {
        let mut iins: BTreeMap<IpAddr, Vec<Iin>> = BTreeMap::new();
        for frame in frames {
            let (src, payload) = if let Some(s) = decode(link, frame) {
                (s.src, s.payload)
            } else if let Some(((src, ..), payload)) = decode_udp(link, frame) {
                (src, payload)
            } else {
                continue;
            };
            if src == MASTER.ip {
                continue;
            }
            for frame in link_frames(&payload).0 {
                let mut user_data = Vec::new();
                frame.data.copy_to(&mut user_data);
                let Some((header, apdu)) = transport::split(&user_data) else {
                    continue;
                };
                if header.fir && apdu.len() >= 4 && (apdu[1] & 0xFE) == 0x80 {
                    iins.entry(src)
                        .or_default()
                        .push(Iin::from_bytes(apdu[2], apdu[3]));
                }
            }
        }
        iins
    }

    #[test]
    fn the_recloser_overflows_its_event_buffer_and_rtu_12_reports_a_corrupt_configuration() {
        let link = LinkType::Ethernet;
        let (frames, _) = run(link, SEED);
        let iins = iins(link, &frames);
        let flagged = |ip: IpAddr, flag: Iin| iins[&ip].iter().filter(|i| i.contains(flag)).count();
        // The recloser: from its seventh poll to the end, so its last response says so.
        let recloser = &iins[&RECLOSER.ip];
        assert!(flagged(RECLOSER.ip, Iin::EVENT_BUFFER_OVERFLOW) >= 4);
        assert!(
            recloser
                .last()
                .unwrap()
                .contains(Iin::EVENT_BUFFER_OVERFLOW)
        );
        let first = recloser
            .iter()
            .position(|i| i.contains(Iin::EVENT_BUFFER_OVERFLOW))
            .unwrap();
        assert!(first >= 3);
        assert!(
            recloser[first..]
                .iter()
                .all(|i| i.contains(Iin::EVENT_BUFFER_OVERFLOW))
        );
        // RTU 12: once, in its last response.
        assert_eq!(flagged(EAST.ip, Iin::CONFIG_CORRUPT), 1);
        assert!(iins[&EAST.ip].last().unwrap().contains(Iin::CONFIG_CORRUPT));
        // Nobody else.
        for ip in [NORTH.ip, SOUTH.ip, EAST.ip, RECLOSER.ip] {
            let others = if ip == RECLOSER.ip {
                Iin::CONFIG_CORRUPT
            } else if ip == EAST.ip {
                Iin::EVENT_BUFFER_OVERFLOW
            } else {
                Iin::HEALTH
            };
            assert!(iins[&ip].iter().all(|i| !i.intersects(others)), "{ip}");
        }
    }

    #[test]
    fn deterministic_and_reads_back_through_libpcap() {
        let (a, ta) = run(LinkType::Ethernet, 5);
        let (b, tb) = run(LinkType::Ethernet, 5);
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        let (c, _) = run(LinkType::Ethernet, 6);
        assert_ne!(a, c);

        let path =
            std::env::temp_dir().join(format!("faro-capgen-dnp3-{}.pcap", std::process::id()));
        let mut wire = Wire::new(LinkType::Ethernet, Timeline::default());
        generate(&mut wire, &mut Truth::default(), SEED).unwrap();
        let mut out = PcapOut::create(&path, LinkType::Ethernet.pcap()).unwrap();
        wire.sink.drain_into(&mut out).unwrap();
        let written = out.finish().unwrap();
        let mut capture = pcap::Capture::from_file(&path).unwrap();
        let mut frames = Vec::new();
        while let Ok(packet) = capture.next_packet() {
            assert_eq!(packet.header.caplen, packet.header.len);
            frames.push(packet.data.to_vec());
        }
        std::fs::remove_file(&path).unwrap();
        assert_eq!(frames.len() as u64, written);
        assert_eq!(frames, run(LinkType::Ethernet, SEED).0);
    }
}
