//! `s7`: thirty seconds of a small S7-300/400 plant, with exact truth.
//!
//! - PLC A `10.40.1.11` (CPU 315-2 PN/DP, rack 0 slot 2, TCP 102), PLC B `10.40.1.12` (CPU 414-3
//!   PN/DP, rack 0 slot 3, TCP 102), PLC C `10.40.1.13` (CPU 317-2 PN/DP, rack 0 slot 2, served
//!   on TCP 10102).
//! - HMI `10.40.0.21` (OP connections, calling TSAP 0x0200) polls every PLC once a second with
//!   Read Var Jobs on data blocks, answered by Ack_Data with return code 0xFF. Its session to PLC
//!   B was opened before the capture started: the capture picks it up mid-stream at a TPKT
//!   boundary (no handshake, no COTP CR, no Setup communication). To PLC A it sometimes sends two
//!   Jobs in one segment (two TPKTs per segment, answered likewise); to PLC C one Job is cut
//!   across two TCP segments (one TPKT over two segments).
//! - Engineering station `10.40.0.50` (PG connections, calling TSAP 0x0100) reads SZL 0x0011,
//!   0x001C, 0x0132 index 4 and 0x0424 from every PLC. On PLC A it then writes set points with
//!   a Write Var Job sent as two COTP DT TPDUs (the first without EOT) in two segments, stops the
//!   CPU (PLC stop, `P_PROGRAM`), downloads DB1 (`_0A00001P`: Request download from the station,
//!   then the CPU's Download block Jobs and its Download ended Job, each answered by the
//!   station), activates it (PI `_INSE`), uploads it back (Start upload, Upload, End upload) and
//!   restarts the CPU (PI `P_PROGRAM`).
//!
//! The truth counts, per (client, server, server port), every S7comm Job (whichever side sends
//! it, as the connection's) by parameter function and every userdata request as
//! `ud-<group>-<subfunction>`, and lists the identity each PLC reveals in its SZL answers.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result};
use faro_protocols::s7::comm::{AnyItem, Block, BlockType, TransportSize};
use faro_protocols::s7::cotp::{self, Connection};
use faro_protocols::s7::szl::{PROTECTION_INDEX, id};
use faro_protocols::s7::tpkt;

use crate::capture::{MILLISECOND, PacketSink, SECOND, Wire};
use crate::link::Host;
use crate::rng::Rng;
use crate::s7::{self, Cpu, INSERT, P_PROGRAM, Plc, Request, db_bit, db_item};
use crate::session::S7Session;
use crate::tcp::{End, Side, TcpFlow};
use crate::truth::{Protocol, Truth};

/// Length of the capture.
const DURATION: u64 = 30 * SECOND;
/// ISO-on-TCP's port.
pub(crate) const ISO_TSAP_PORT: u16 = 102;
/// PLC C's port.
pub(crate) const UNUSUAL_PORT: u16 = 10102;
/// Between HMI polls of one PLC.
const POLL_PERIOD: u64 = SECOND;
/// Windows hosts start IP TTL at 128; SIMATIC CPUs at 30.
const WINDOWS_TTL: u8 = 128;
const SIMATIC_TTL: u8 = 30;
/// Windows' delayed-ACK timer.
const DELAYED_ACK: u64 = 200 * MILLISECOND;
/// TPDU size code proposed in the CR: 1024 bytes.
const TPDU_SIZE_1024: u8 = 0x0A;
/// Calling TSAPs: connection type PG (1) or OP (2), rack 0 slot 0.
const PG_TSAP: u16 = 0x0100;
const OP_TSAP: u16 = 0x0200;
/// What the HMI and the engineering station propose in Setup communication.
const HMI_SETUP: Request = Request::SetupCommunication {
    max_amq: 8,
    pdu_length: 480,
};
const PG_SETUP: Request = Request::SetupCommunication {
    max_amq: 1,
    pdu_length: 960,
};
/// Bytes a TPKT and a class 0 DT header add to a piece of user data.
const DT_FRAMING: usize = tpkt::HEADER_LEN + cotp::DT_LENGTH_INDICATOR as usize + 1;

const fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

const HMI: Host = Host::new([0x00, 0x1B, 0x1B, 0x40, 0x00, 0x21], v4(10, 40, 0, 21));
const ENGINEERING: Host = Host::new([0x3C, 0xD9, 0x2B, 0x40, 0x00, 0x50], v4(10, 40, 0, 50));

/// A PLC and how it is reached.
struct Site {
    host: Host,
    port: u16,
    slot: u8,
    /// Answer latency range, microseconds.
    latency: (u64, u64),
    cpu: Cpu,
}

const SITES: [Site; 3] = [
    Site {
        host: Host::new([0x00, 0x1B, 0x1B, 0x40, 0x01, 0x11], v4(10, 40, 1, 11)),
        port: ISO_TSAP_PORT,
        slot: 2,
        latency: (3_000, 9_000),
        cpu: Cpu {
            order_number: "6ES7 315-2EH14-0AB0",
            module_type: 0x00C0,
            hardware: 4,
            firmware: [3, 2, 6],
            module_type_name: "CPU 315-2 PN/DP",
            serial_number: "S C-C2UR28922012",
            as_name: "MIXING",
            module_name: "PLC_MIXING",
            plant_designation: "MIX-LINE-1",
            copyright: "Original Siemens Equipment",
            max_pdu_length: 240,
            max_amq: 3,
        },
    },
    Site {
        host: Host::new([0x00, 0x0E, 0x8C, 0x40, 0x01, 0x12], v4(10, 40, 1, 12)),
        port: ISO_TSAP_PORT,
        slot: 3,
        latency: (1_000, 4_000),
        cpu: Cpu {
            order_number: "6ES7 414-3EM07-0AB0",
            module_type: 0x00C0,
            hardware: 1,
            firmware: [7, 0, 3],
            module_type_name: "CPU 414-3 PN/DP",
            serial_number: "S Q-G1T637452019",
            as_name: "UTILITIES",
            module_name: "PLC_UTILITIES",
            plant_designation: "UTIL-BOILER",
            copyright: "Original Siemens Equipment",
            max_pdu_length: 480,
            max_amq: 8,
        },
    },
    Site {
        host: Host::new([0x00, 0x1B, 0x1B, 0x40, 0x01, 0x13], v4(10, 40, 1, 13)),
        port: UNUSUAL_PORT,
        slot: 2,
        latency: (2_000, 6_000),
        cpu: Cpu {
            order_number: "6ES7 317-2EK14-0AB0",
            module_type: 0x00C0,
            hardware: 3,
            firmware: [3, 2, 17],
            module_type_name: "CPU 317-2 PN/DP",
            serial_number: "S C-H4U802122016",
            as_name: "PACKAGING",
            module_name: "PLC_PACKAGING",
            plant_designation: "PACK-LINE-2",
            copyright: "Original Siemens Equipment",
            max_pdu_length: 240,
            max_amq: 3,
        },
    },
];
/// The CPU of one of the plant's PLC models, for other captures' S7 servers.
pub(crate) fn cpu(index: usize) -> Cpu {
    let [first, ..] = &SITES;
    SITES.get(index % SITES.len()).unwrap_or(first).cpu
}

const PLC_A: usize = 0;
const PLC_B: usize = 1;
const PLC_C: usize = 2;

/// The HMI's screens: the tags it reads from every PLC, one Job per screen.
fn screens() -> [Vec<AnyItem>; 3] {
    use TransportSize as T;
    [
        vec![
            db_item(10, 0, T::REAL, 8),
            db_item(12, 0, T::INT, 6),
            db_bit(11, 0, 0),
            db_bit(11, 0, 1),
        ],
        vec![db_item(10, 32, T::REAL, 16), db_item(11, 4, T::BYTE, 3)],
        vec![db_item(1, 0, T::REAL, 4), db_item(12, 20, T::WORD, 10)],
    ]
}

/// The plant's mutable world: the PLCs (shared by every session) and the output.
struct Plant<'w, S> {
    wire: &'w mut Wire<S>,
    truth: &'w mut Truth,
    plcs: Vec<Plc>,
    rng: Rng,
}

/// The HMI's session to one PLC and where its polling stands.
struct Poller {
    site: usize,
    session: S7Session,
    next_poll: u64,
    polls: u32,
}

impl<S: PacketSink> Plant<'_, S> {
    fn site(&self, site: usize) -> Result<&'static Site> {
        SITES.get(site).context("site index")
    }

    fn session(&mut self, client: Host, site: usize, client_port: u16) -> Result<S7Session> {
        let site = self.site(site)?;
        let flow = TcpFlow::new(
            End::new(client, client_port, &mut self.rng).with_ttl(WINDOWS_TTL),
            End::new(site.host, site.port, &mut self.rng)
                .with_ttl(SIMATIC_TTL)
                .with_window(8192),
        )
        .tracked_as(Protocol::S7comm);
        Ok(S7Session::new(flow, self.rng.range_u16(1, 0x0400)))
    }

    fn latency(&mut self, site: usize) -> Result<u64> {
        let (low, high) = self.site(site)?.latency;
        Ok(self.rng.range(low, high))
    }

    /// COTP CR from the client (calling `calling`, called rack 0 and the site's slot), CC from
    /// the PLC; returns the time of the CC.
    fn connect(&mut self, s: &mut S7Session, site: usize, at: u64, calling: u16) -> Result<u64> {
        let called = [0x01, self.site(site)?.slot];
        let calling = calling.to_be_bytes();
        let request = Connection {
            dst_ref: 0,
            src_ref: self.rng.range_u16(1, 0x7FFF),
            class: 0,
            options: 0,
            calling_tsap: Some(&calling),
            called_tsap: Some(&called),
            tpdu_size: Some(TPDU_SIZE_1024),
        };
        s.queue_connection(Side::Client, &request)?;
        s.send(self.wire, at, Side::Client)?;
        let confirm = Connection {
            dst_ref: request.src_ref,
            src_ref: self.rng.range_u16(0x4400, 0x44FF),
            ..request
        };
        let at = at + self.latency(site)?;
        s.queue_connection(Side::Server, &confirm)?;
        s.send(self.wire, at, Side::Server)?;
        Ok(at)
    }

    /// Queues `requests` from the client and the PLC's answers to them.
    fn prepare(&mut self, s: &mut S7Session, site: usize, requests: &[Request]) -> Result<()> {
        let plc = self.plcs.get_mut(site).context("PLC index")?;
        for request in requests {
            let pdu_ref = s.next_pdu_ref(Side::Client);
            s.queue_pdu(Side::Client, None, |out| request.encode(out, pdu_ref))?;
            s.queue_pdu(Side::Server, None, |out| {
                plc.answer(request, pdu_ref, out).map(|()| None)
            })?;
        }
        Ok(())
    }

    /// `requests` in one segment, the answers in one segment; returns the time of the answer.
    fn exchange(
        &mut self,
        s: &mut S7Session,
        site: usize,
        at: u64,
        requests: &[Request],
    ) -> Result<u64> {
        self.prepare(s, site, requests)?;
        s.send(self.wire, at, Side::Client)?;
        let at = at + self.latency(site)?;
        s.send(self.wire, at, Side::Server)?;
        Ok(at)
    }

    /// An engineering-station step: the exchange, then think time; the station's delayed ACK
    /// goes out when the pause outlasts its timer. Returns when the next step starts.
    fn step(&mut self, s: &mut S7Session, site: usize, at: u64, request: Request) -> Result<u64> {
        let answered = self.exchange(s, site, at, &[request])?;
        self.think(s, answered)
    }

    /// Think time after an answer at `answered`; returns when the station acts next.
    fn think(&mut self, s: &mut S7Session, answered: u64) -> Result<u64> {
        let pause = self.rng.range(20, 600) * MILLISECOND;
        if pause > DELAYED_ACK {
            s.flow
                .ack(self.wire, answered + DELAYED_ACK, Side::Client)?;
        }
        Ok(answered + pause)
    }

    /// The four Read SZL requests of an identification, and the identity they reveal.
    fn identify(&mut self, s: &mut S7Session, site: usize, at: u64) -> Result<u64> {
        let mut at = at;
        for (szl_id, index) in [
            (id::MODULE_IDENTIFICATION, 0),
            (id::COMPONENT_IDENTIFICATION, 0),
            (id::COMMUNICATION_STATUS, PROTECTION_INDEX),
            (id::CURRENT_MODE_TRANSITION, 0),
        ] {
            at = self.step(s, site, at, Request::ReadSzl { id: szl_id, index })?;
        }
        let site = self.site(site)?;
        for (attribute, value) in site.cpu.identity() {
            self.truth.add_identity(site.host.ip, attribute, &value);
        }
        Ok(at)
    }

    /// One HMI poll; `pipelined` sends two Jobs in one segment, `cut` cuts the Job's TPKT
    /// across two segments at that many bytes.
    fn poll(&mut self, p: &mut Poller, pipelined: bool, cut: Option<usize>) -> Result<()> {
        let [first, second, setpoints] = screens();
        let screen = if p.polls % 2 == 0 { first } else { second };
        let requests = if pipelined {
            vec![Request::ReadVar(screen), Request::ReadVar(setpoints)]
        } else {
            vec![Request::ReadVar(screen)]
        };
        let at = p.next_poll + self.rng.below(20 * MILLISECOND);
        self.prepare(&mut p.session, p.site, &requests)?;
        let sent = match cut {
            Some(cut) => {
                let spacing = self.rng.range(80, 300);
                p.session
                    .send_in_pieces(self.wire, at, Side::Client, &[cut], spacing)?
            }
            None => {
                p.session.send(self.wire, at, Side::Client)?;
                at
            }
        };
        let answered = sent + self.latency(p.site)?;
        p.session.send(self.wire, answered, Side::Server)?;
        p.session
            .flow
            .ack(self.wire, answered + DELAYED_ACK, Side::Client)?;
        p.polls += 1;
        p.next_poll += POLL_PERIOD;
        Ok(())
    }

    /// Polls until `until`.
    fn poll_until(&mut self, p: &mut Poller, until: u64) -> Result<()> {
        while p.next_poll < until {
            let pipelined = p.site == PLC_A && p.polls % 4 == 3;
            // A Job cut inside its S7comm header: TPKT, COTP DT, two bytes of S7comm.
            let cut = (p.site == PLC_C && p.polls == 5).then_some(DT_FRAMING + 2);
            self.poll(p, pipelined, cut)?;
        }
        Ok(())
    }

    /// An HMI session opened at `at`: handshake, COTP connection, Setup communication.
    fn open_hmi(&mut self, site: usize, at: u64, port: u16) -> Result<Poller> {
        let mut session = self.session(HMI, site, port)?;
        let rtt = self.rng.range(300, 700);
        let at = session.flow.handshake(self.wire, at, rtt)?;
        let at = self.connect(&mut session, site, at + 150, OP_TSAP)?;
        let at = self.exchange(&mut session, site, at + 300, &[HMI_SETUP])?;
        Ok(Poller {
            site,
            session,
            next_poll: at + 50 * MILLISECOND,
            polls: 0,
        })
    }

    /// The HMI session to PLC B, open since before the capture: the first captured byte is a
    /// TPKT header.
    fn picked_up_hmi(&mut self, site: usize, port: u16) -> Result<Poller> {
        let session = self.session(HMI, site, port)?;
        Ok(Poller {
            site,
            session,
            next_poll: 180 * MILLISECOND,
            // Mid-way through the screen cycle.
            polls: 1,
        })
    }

    /// The engineering station's visit to PLC A: identification, write, stop, download,
    /// upload, restart. Returns when the session has closed.
    fn maintain(&mut self, at: u64) -> Result<u64> {
        let site = PLC_A;
        let mut s = self.session(ENGINEERING, site, 50_112)?;
        let rtt = self.rng.range(300, 700);
        let at = s.flow.handshake(self.wire, at, rtt)?;
        let at = self.connect(&mut s, site, at + 200, PG_TSAP)?;
        let at = self.exchange(&mut s, site, at + 400, &[PG_SETUP])?;
        let mut at = self.identify(&mut s, site, at + 30 * MILLISECOND)?;

        // New set points, one Write Var Job in two DT TPDUs and two segments.
        let mut values = Vec::with_capacity(96);
        for i in 0..24u16 {
            values.extend_from_slice(&(50.0f32 + f32::from(i) * 2.5).to_be_bytes());
        }
        let write = Request::WriteVar(vec![
            (db_item(1, 0, TransportSize::REAL, 24), values),
            (
                db_item(1, 100, TransportSize::REAL, 1),
                72.5f32.to_be_bytes().to_vec(),
            ),
        ]);
        let split = 64;
        let pdu_ref = s.next_pdu_ref(Side::Client);
        s.queue_pdu(Side::Client, Some(split), |out| write.encode(out, pdu_ref))?;
        let plc = self.plcs.get_mut(site).context("PLC index")?;
        s.queue_pdu(Side::Server, None, |out| {
            plc.answer(&write, pdu_ref, out).map(|()| None)
        })?;
        let sent = s.send_in_pieces(self.wire, at, Side::Client, &[DT_FRAMING + split], 120)?;
        let answered = sent + self.latency(site)?;
        s.send(self.wire, answered, Side::Server)?;
        at = self.think(&mut s, answered)?;

        at = self.step(&mut s, site, at, Request::PlcStop)?;

        // Download DB1: the CPU pulls the block with its own Jobs.
        let db1 = Block::parse(b"_0A00001P").context("block file name")?;
        let body: Vec<u8> = (0..256u16)
            .flat_map(|i| (f32::from(i % 64) * 1.5).to_be_bytes())
            .take(256)
            .collect();
        let image = s7::block_image(BlockType::DB, 1, "SETPOINT", &body);
        at = self.exchange(&mut s, site, at, &[Request::RequestDownload(db1)])?;
        let pieces = image.len().div_ceil(s7::BLOCK_CHUNK);
        for (i, piece) in image.chunks(s7::BLOCK_CHUNK).enumerate() {
            at += self.latency(site)?;
            let pdu_ref = s.next_pdu_ref(Side::Server);
            s.queue_pdu(Side::Server, None, |out| {
                s7::download_block_job(out, pdu_ref, db1)
            })?;
            s.send(self.wire, at, Side::Server)?;
            at += self.rng.range(400, 1_500);
            let more = i + 1 < pieces;
            s.queue_pdu(Side::Client, None, |out| {
                s7::download_block_ack(out, pdu_ref, piece, more)
            })?;
            s.send(self.wire, at, Side::Client)?;
        }
        at += self.latency(site)?;
        let pdu_ref = s.next_pdu_ref(Side::Server);
        s.queue_pdu(Side::Server, None, |out| {
            s7::download_ended_job(out, pdu_ref, db1)
        })?;
        s.send(self.wire, at, Side::Server)?;
        at += self.rng.range(400, 1_500);
        s.queue_pdu(Side::Client, None, |out| {
            s7::download_ended_ack(out, pdu_ref)
        })?;
        s.send(self.wire, at, Side::Client)?;
        self.plcs
            .get_mut(site)
            .context("PLC index")?
            .install(BlockType::DB, 1, image);
        let mut block_list = vec![1, 0];
        block_list.extend_from_slice(db1.filename().get(1..).unwrap_or_default());
        at = self.step(
            &mut s,
            site,
            at + 30 * MILLISECOND,
            Request::PiService {
                service: INSERT,
                parameters: block_list,
            },
        )?;

        // Upload DB1 back, to compare.
        let db1_active = Block {
            destination: b'A',
            ..db1
        };
        at = self.exchange(&mut s, site, at, &[Request::StartUpload(db1_active)])?;
        // The id the CPU assigned in its Start upload Ack_Data.
        let upload_id = self
            .plcs
            .get(site)
            .and_then(Plc::upload_id)
            .context("upload id")?;
        for _ in 0..pieces {
            at += self.rng.range(400, 1_500);
            at = self.exchange(&mut s, site, at, &[Request::Upload { upload_id }])?;
        }
        at += self.rng.range(400, 1_500);
        at = self.step(&mut s, site, at, Request::EndUpload { upload_id })?;

        // Warm restart.
        at = self.step(
            &mut s,
            site,
            at,
            Request::PiService {
                service: P_PROGRAM,
                parameters: Vec::new(),
            },
        )?;
        let at = s.flow.close(self.wire, at, Side::Client, rtt)?;
        self.truth.add_flow(&s.flow);
        Ok(at)
    }

    /// The engineering station identifies a PLC and leaves.
    fn survey(&mut self, site: usize, at: u64, port: u16) -> Result<()> {
        let mut s = self.session(ENGINEERING, site, port)?;
        let rtt = self.rng.range(300, 700);
        let at = s.flow.handshake(self.wire, at, rtt)?;
        let at = self.connect(&mut s, site, at + 200, PG_TSAP)?;
        let at = self.exchange(&mut s, site, at + 400, &[PG_SETUP])?;
        let at = self.identify(&mut s, site, at + 30 * MILLISECOND)?;
        s.flow.close(self.wire, at, Side::Client, rtt)?;
        self.truth.add_flow(&s.flow);
        Ok(())
    }
}

/// Writes the plant into `wire` and its S7comm truth into `truth`.
pub(crate) fn generate<S: PacketSink>(
    wire: &mut Wire<S>,
    truth: &mut Truth,
    seed: u64,
) -> Result<()> {
    let rng = Rng::new(seed);
    let plcs = SITES
        .iter()
        .enumerate()
        .map(|(i, site)| Plc::new(site.cpu, rng.fork(200 + i as u64)))
        .collect();
    let mut plant = Plant {
        wire,
        truth,
        plcs,
        rng,
    };
    let mut hmi = vec![
        plant.picked_up_hmi(PLC_B, 49_320)?,
        plant.open_hmi(PLC_A, 350 * MILLISECOND, 49_417)?,
        plant.open_hmi(PLC_C, 600 * MILLISECOND, 49_418)?,
    ];
    // The HMI's polls before the engineering station's visit to PLC A are modelled before it,
    // the polls after it after it, so the CPU answers with the state it has at the time (polls
    // during the visit already see its outcome).
    let maintenance = 6 * SECOND;
    for p in &mut hmi {
        plant.poll_until(p, maintenance)?;
    }
    let done = plant.maintain(maintenance)?;
    for p in &mut hmi {
        plant.poll_until(p, done)?;
    }
    plant.survey(PLC_B, done + 2 * SECOND, 50_140)?;
    plant.survey(PLC_C, done + 6 * SECOND, 50_163)?;
    for p in &mut hmi {
        plant.poll_until(p, DURATION)?;
        plant.truth.add_flow(&p.session.flow);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::capture::{Collect, PcapOut, Timeline};
    use crate::link::LinkType;
    use crate::reference::{S7Counts, assert_in_order_tcp, decode, s7_recount};
    use crate::truth::FunctionKey;

    const SEED: u64 = 0x0FA2_0C49;
    const PORTS: [u16; 2] = [ISO_TSAP_PORT, UNUSUAL_PORT];

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

    fn code(c: u8) -> FunctionKey {
        FunctionKey::Code(c)
    }

    const READ_SZL: FunctionKey = FunctionKey::Userdata {
        group: 4,
        subfunction: 1,
    };

    #[test]
    fn truth_is_what_a_reader_of_the_frames_counts() {
        for link in [LinkType::Ethernet, LinkType::Sll2] {
            let (frames, truth) = run(link, SEED);
            let recount: S7Counts = s7_recount(link, &frames, &PORTS);
            assert_eq!(recount.requests, truth.edges_of(Protocol::S7comm));
            // Every PDU the reader met was parsed, without anomalies and within 480 bytes.
            assert_eq!(recount.malformed, 0);
            assert!(recount.largest_pdu <= 480, "{}", recount.largest_pdu);
            assert!(recount.split_units >= 1, "a PDU over two DT TPDUs");
        }
    }

    #[test]
    fn each_edge_counts_what_happened() {
        let (frames, truth) = run(LinkType::Ethernet, SEED);
        assert!(
            (300..=700).contains(&frames.len()),
            "{} packets",
            frames.len()
        );
        let edges = truth.edges_of(Protocol::S7comm);
        let hmi = HMI.ip;
        let es = ENGINEERING.ip;
        let [a, b, c] = [SITES[0].host.ip, SITES[1].host.ip, SITES[2].host.ip];
        let maintenance = &edges[&(es, a, ISO_TSAP_PORT)];
        let expected: BTreeMap<FunctionKey, u64> = [
            (code(0xF0), 1),
            (READ_SZL, 4),
            (code(0x05), 1),
            (code(0x29), 1),
            (code(0x1A), 1),
            (code(0x1B), 2),
            (code(0x1C), 1),
            (code(0x28), 2),
            (code(0x1D), 1),
            (code(0x1E), 2),
            (code(0x1F), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(maintenance, &expected);
        for site in [b, c] {
            let port = if site == c {
                UNUSUAL_PORT
            } else {
                ISO_TSAP_PORT
            };
            let survey = &edges[&(es, site, port)];
            assert_eq!(
                survey,
                &[(code(0xF0), 1), (READ_SZL, 4)].into_iter().collect()
            );
        }
        // The HMI: setup on the sessions it opened, none on the one picked up mid-stream, about
        // 30 reads per PLC, one more per pipelined poll on PLC A.
        let reads = |server, port| edges[&(hmi, server, port)][&code(0x04)];
        assert!(!edges[&(hmi, b, ISO_TSAP_PORT)].contains_key(&code(0xF0)));
        assert_eq!(edges[&(hmi, a, ISO_TSAP_PORT)][&code(0xF0)], 1);
        assert_eq!(edges[&(hmi, c, UNUSUAL_PORT)][&code(0xF0)], 1);
        assert!((28..=31).contains(&reads(b, ISO_TSAP_PORT)));
        assert!((34..=40).contains(&reads(a, ISO_TSAP_PORT)));
        assert!((28..=31).contains(&reads(c, UNUSUAL_PORT)));
        assert_eq!(edges.len(), 6);
        // Identity of every PLC.
        for site in &SITES {
            let identity = &truth.identity()[&site.host.ip];
            assert_eq!(identity["order_number"], site.cpu.order_number);
            assert_eq!(identity["serial_number"], site.cpu.serial_number);
            assert_eq!(identity["module_type_name"], site.cpu.module_type_name);
        }
        assert_eq!(truth.identity()[&a]["firmware_version"], "V3.2.6");
        assert!(assert_in_order_tcp(LinkType::Ethernet, &frames) > 50);
    }

    #[test]
    fn segmentation_cases_and_mid_stream_pickup() {
        let (frames, _) = run(LinkType::Ethernet, SEED);
        let segments: Vec<_> = frames
            .iter()
            .filter_map(|f| decode(LinkType::Ethernet, f))
            .collect();
        let b = SITES[1].host.ip;
        // Mid-stream: no SYN, and the first segment to PLC B starts with a TPKT.
        let to_b: Vec<_> = segments
            .iter()
            .filter(|s| s.src == HMI.ip && s.dst == b)
            .collect();
        assert!(to_b.iter().all(|s| !s.syn));
        assert_eq!(to_b[0].payload[..2], [tpkt::VERSION, 0]);
        assert!(segments.iter().filter(|s| s.syn).count() >= 4);
        // Two TPKTs in one segment, and a segment that is not a whole number of TPKTs.
        let tpkts_in = |payload: &[u8]| {
            let mut n = 0;
            let mut rest = payload;
            while let faro_protocols::Framing::Parsed { consumed, .. } = tpkt::frame(rest) {
                rest = &rest[consumed..];
                n += 1;
            }
            (n, rest.is_empty())
        };
        let s7 = |s: &&crate::reference::Segment| {
            !s.payload.is_empty() && (PORTS.contains(&s.dst_port) || PORTS.contains(&s.src_port))
        };
        assert!(
            segments
                .iter()
                .filter(s7)
                .any(|s| tpkts_in(&s.payload).0 >= 2)
        );
        let partial: Vec<_> = segments
            .iter()
            .filter(s7)
            .filter(|s| !tpkts_in(&s.payload).1)
            .collect();
        // One TPKT cut across two segments: neither holds whole TPKTs only.
        assert_eq!(partial.len(), 2);
        assert!(partial.iter().all(|s| s.dst_port == UNUSUAL_PORT));
        assert_eq!(partial[0].payload.len(), DT_FRAMING + 2);
        // Ports and TTLs.
        let ports: BTreeSet<u16> = segments
            .iter()
            .filter(|s| s.src.to_string().starts_with("10.40.0."))
            .map(|s| s.dst_port)
            .collect();
        assert_eq!(ports, PORTS.into_iter().collect());
    }

    #[test]
    fn deterministic_and_reads_back_through_libpcap() {
        let (a, ta) = run(LinkType::Ethernet, 5);
        let (b, tb) = run(LinkType::Ethernet, 5);
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        let (c, _) = run(LinkType::Ethernet, 6);
        assert_ne!(a, c);

        let path = std::env::temp_dir().join(format!("faro-capgen-s7-{}.pcap", std::process::id()));
        let mut wire = Wire::new(LinkType::Ethernet, Timeline::default());
        generate(&mut wire, &mut Truth::default(), SEED).unwrap();
        let mut out = PcapOut::create(&path, LinkType::Ethernet.pcap()).unwrap();
        wire.sink.drain_into(&mut out).unwrap();
        let written = out.finish().unwrap();
        let mut capture = pcap::Capture::from_file(&path).unwrap();
        let mut read = 0u64;
        let mut frames = Vec::new();
        while let Ok(packet) = capture.next_packet() {
            assert_eq!(packet.header.caplen, packet.header.len);
            frames.push(packet.data.to_vec());
            read += 1;
        }
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read, written);
        assert_eq!(frames, run(LinkType::Ethernet, SEED).0);
    }
}
