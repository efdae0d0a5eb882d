//! `sample`: one minute of a small plant, for the README and smoke tests.
//!
//! - SCADA server `10.20.0.21` polls PLCs 1–3 every 500 ms over long-lived sessions the capture
//!   picks up mid-stream; every 10 s it reads a 120-register block from PLC 1, whose answer PLC 1
//!   sends in two segments; at 42 s an operator changes a set point (FC 6).
//! - HMI panel `10.20.0.22` connects (DNS, handshake) and polls PLCs 3–5 every second: PLC 4 sits
//!   on VLAN 20 and gets two requests per segment (answered two per segment), PLC 5 listens on
//!   port 5020 and acknowledges each request before answering.
//! - Engineering station `10.20.0.50` visits every PLC: Read Device Identification (FC 43/14),
//!   Diagnostics echo (FC 8/0), writes (FC 5, 6, 15, 16), one read past the end of PLC 1's
//!   holding registers (exception 2), and a recipe download to PLC 1: one Write File Record
//!   (FC 21) of file 4, record 1, answered with its echo; then HTTP to a device console on TCP
//!   502, DNS, HTTPS.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result};
use faro_protocols::modbus::{DiagnosticSubFunction, FunctionCode, ReadDeviceIdCode};

use crate::capture::{MILLISECOND, PacketSink, SECOND, Wire};
use crate::link::Host;
use crate::modbus::{Identity, Limits, Plc, Request};
use crate::rng::Rng;
use crate::scenario::background;
use crate::session::ModbusSession;
use crate::tcp::{End, Side, TcpFlow};
use crate::truth::Truth;

/// Length of the sample.
const DURATION: u64 = 60 * SECOND;
const MODBUS_PORT: u16 = 502;
/// Windows hosts start IP TTL at 128.
const WINDOWS_TTL: u8 = 128;
/// The file of PLC 1's extended memory that holds the recipe the engineering station downloads.
const RECIPE_FILE: u16 = 4;

const fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

const SCADA: Host = Host::new([0x00, 0x14, 0x22, 0x1A, 0x2B, 0x21], v4(10, 20, 0, 21));
const HMI: Host = Host::new([0x00, 0x14, 0x22, 0x1A, 0x2B, 0x22], v4(10, 20, 0, 22));
const ENGINEERING: Host = Host::new([0x3C, 0xD9, 0x2B, 0x5E, 0x10, 0x50], v4(10, 20, 0, 50));
const RESOLVER: Host = Host::new([0x00, 0x15, 0x5D, 0x00, 0x02, 0x02], v4(10, 20, 0, 2));
const HISTORIAN: Host = Host::new([0x00, 0x15, 0x5D, 0x00, 0x02, 0x05], v4(10, 20, 0, 5));
/// A serial device server whose web console was moved to TCP 502.
const DEVICE_CONSOLE: Host = Host::new([0x00, 0x90, 0xE8, 0x41, 0x07, 0x40], v4(10, 20, 1, 40));

/// A PLC and how it is reached.
struct Site {
    name: &'static str,
    host: Host,
    port: u16,
    vlan: Option<u16>,
    unit_id: u8,
    /// Response latency range, microseconds.
    latency: (u64, u64),
    identity: Identity,
}

const SITES: [Site; 5] = [
    Site {
        name: "plc-line1.plant.local",
        host: Host::new([0x00, 0x80, 0xF4, 0x0A, 0x14, 0x0B], v4(10, 20, 1, 11)),
        port: MODBUS_PORT,
        vlan: None,
        unit_id: 1,
        latency: (2_000, 6_000),
        identity: Identity {
            vendor_name: "Schneider Electric",
            product_code: "BMX P34 2020",
            revision: "v3.10",
            vendor_url: "www.se.com",
            product_name: "Modicon M340",
            model_name: "BMX P34 2020",
        },
    },
    Site {
        name: "plc-line2.plant.local",
        host: Host::new([0x00, 0x0E, 0x8C, 0x0A, 0x14, 0x0C], v4(10, 20, 1, 12)),
        port: MODBUS_PORT,
        vlan: None,
        unit_id: 1,
        latency: (1_000, 4_000),
        identity: Identity {
            vendor_name: "Siemens",
            product_code: "6ES7 215-1AG40-0XB0",
            revision: "V4.5.2",
            vendor_url: "www.siemens.com",
            product_name: "SIMATIC S7-1200",
            model_name: "CPU 1215C DC/DC/DC",
        },
    },
    Site {
        name: "plc-line3.plant.local",
        host: Host::new([0x00, 0x30, 0xDE, 0x0A, 0x14, 0x0D], v4(10, 20, 1, 13)),
        port: MODBUS_PORT,
        vlan: None,
        unit_id: 1,
        latency: (1_500, 5_000),
        identity: Identity {
            vendor_name: "WAGO",
            product_code: "750-8202",
            revision: "03.10.08(22)",
            vendor_url: "www.wago.com",
            product_name: "PFC200 CS 2ETH RS",
            model_name: "750-8202",
        },
    },
    Site {
        name: "plc-packaging.plant.local",
        host: Host::new([0x00, 0xA0, 0x45, 0x14, 0x14, 0x0E], v4(10, 20, 20, 14)),
        port: MODBUS_PORT,
        vlan: Some(20),
        unit_id: 255,
        latency: (3_000, 8_000),
        identity: Identity {
            vendor_name: "Phoenix Contact",
            product_code: "2404267",
            revision: "2023.0.4 LTS",
            vendor_url: "www.phoenixcontact.com",
            product_name: "PLCnext Control",
            model_name: "AXC F 2152",
        },
    },
    Site {
        name: "plc-utilities.plant.local",
        host: Host::new([0x00, 0x24, 0x59, 0x0A, 0x14, 0x0F], v4(10, 20, 1, 15)),
        port: 5020,
        vlan: None,
        unit_id: 1,
        latency: (18_000, 35_000),
        identity: Identity {
            vendor_name: "ABB",
            product_code: "1SAP130300R0271",
            revision: "V2.8.3",
            vendor_url: "new.abb.com",
            product_name: "AC500",
            model_name: "PM573-ETH",
        },
    },
];

/// The identity of one of the sample's PLC models, for other captures' servers.
pub(crate) fn identity(index: usize) -> Identity {
    let site = SITES.get(index % SITES.len()).or(SITES.first());
    site.map_or(
        Identity {
            vendor_name: "",
            product_code: "",
            revision: "",
            vendor_url: "",
            product_name: "",
            model_name: "",
        },
        |site| site.identity,
    )
}

fn read(function: FunctionCode, start: u16, quantity: u16) -> Request {
    Request::Read {
        function,
        start,
        quantity,
    }
}

/// How a PLC puts its answer on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answering {
    /// The response in one segment (piggybacking the ACK of the request).
    OneSegment,
    /// Responses longer than this many bytes go out in two segments.
    SplitAbove(usize),
    /// A pure ACK of the request first, then the response.
    AckFirst,
}

/// The sample's mutable world: the PLCs (shared by every session) and the output.
struct Plant<'w, S> {
    wire: &'w mut Wire<S>,
    plcs: Vec<Plc>,
    truth: &'w mut Truth,
    rng: Rng,
}

impl<S: PacketSink> Plant<'_, S> {
    fn session(&mut self, client: Host, site: usize, client_port: u16) -> Result<ModbusSession> {
        let site = SITES.get(site).context("site index")?;
        let flow = TcpFlow::new(
            End::new(client, client_port, &mut self.rng).with_ttl(WINDOWS_TTL),
            End::new(site.host, site.port, &mut self.rng).with_window(8192),
        )
        .on_vlan(site.vlan)
        .tracked();
        Ok(ModbusSession::new(
            flow,
            site.unit_id,
            self.rng.range_u16(1, 4000),
        ))
    }

    /// One batch of requests in one segment and its answers; returns the time of the last packet.
    fn exchange(
        &mut self,
        session: &mut ModbusSession,
        site: usize,
        at: u64,
        requests: &[Request],
        answering: Answering,
    ) -> Result<u64> {
        let latency = SITES.get(site).context("site index")?.latency;
        let plc = self.plcs.get_mut(site).context("PLC index")?;
        session.encode_requests(requests)?;
        session.encode_responses(plc, requests)?;
        let flow = &mut session.flow;
        flow.send(self.wire, at, Side::Client, &session.request)?;
        let sent = at;
        let mut at = sent + self.rng.range(latency.0, latency.1);
        match answering {
            Answering::SplitAbove(limit) if session.response.len() > limit => {
                let (first, second) = session.response.split_at(limit);
                flow.send(self.wire, at, Side::Server, first)?;
                at += self.rng.range(150, 400);
                flow.send(self.wire, at, Side::Server, second)?;
            }
            Answering::AckFirst => {
                flow.ack(self.wire, sent + self.rng.range(150, 450), Side::Server)?;
                flow.send(self.wire, at, Side::Server, &session.response)?;
            }
            _ => flow.send(self.wire, at, Side::Server, &session.response)?,
        }
        Ok(at)
    }

    /// A poll cycle: each batch after the previous answer, then the client's delayed ACK.
    fn cycle(
        &mut self,
        session: &mut ModbusSession,
        site: usize,
        at: u64,
        batches: &[Vec<Request>],
        answering: Answering,
    ) -> Result<()> {
        let mut at = at;
        for batch in batches {
            at = self.exchange(session, site, at, batch, answering)?;
            at += self.rng.range(200, 1_200);
        }
        // Windows' delayed ACK timer.
        session.flow.ack(
            self.wire,
            at + self.rng.range(40, 200) * MILLISECOND,
            Side::Client,
        )
    }

    /// An engineering-station visit: connect, one exchange per batch with human pauses, close.
    fn visit(&mut self, site: usize, at: u64, batches: &[Vec<Request>]) -> Result<()> {
        let port = self.rng.range_u16(49_700, 60_999);
        let mut session = self.session(ENGINEERING, site, port)?;
        let rtt = self.rng.range(300, 900);
        let mut at = session.flow.handshake(self.wire, at, rtt)?;
        for batch in batches {
            at += self.rng.range(5, 40) * MILLISECOND;
            at = self.exchange(&mut session, site, at, batch, Answering::OneSegment)?;
            at += self.rng.range(100, 200) * MILLISECOND;
            session.flow.ack(self.wire, at, Side::Client)?;
            at += self.rng.range(400, 2_500) * MILLISECOND;
        }
        session.flow.close(self.wire, at, Side::Client, rtt)?;
        self.truth.add_flow(&session.flow);
        Ok(())
    }
}

/// Writes the sample into `wire` and its Modbus truth into `truth`.
pub(crate) fn generate<S: PacketSink>(
    wire: &mut Wire<S>,
    truth: &mut Truth,
    seed: u64,
) -> Result<()> {
    let rng = Rng::new(seed);
    let plcs = SITES
        .iter()
        .enumerate()
        .map(|(i, site)| Plc::new(site.identity, Limits::DEFAULT, rng.fork(100 + i as u64)))
        .collect();
    let mut plant = Plant {
        wire,
        plcs,
        truth,
        rng,
    };
    scada(&mut plant)?;
    hmi(&mut plant)?;
    engineering(&mut plant)?;
    Ok(())
}

/// SCADA server: long-lived sessions to PLCs 1–3, picked up mid-stream.
fn scada<S: PacketSink>(plant: &mut Plant<'_, S>) -> Result<()> {
    use FunctionCode as F;
    let plans: [(usize, Vec<Vec<Request>>); 3] = [
        (
            0,
            vec![
                vec![read(F::READ_HOLDING_REGISTERS, 0, 40)],
                vec![read(F::READ_COILS, 0, 64)],
            ],
        ),
        (
            1,
            vec![
                vec![read(F::READ_HOLDING_REGISTERS, 100, 20)],
                vec![read(F::READ_INPUT_REGISTERS, 0, 16)],
            ],
        ),
        (
            2,
            vec![
                vec![read(F::READ_INPUT_REGISTERS, 0, 32)],
                vec![read(F::READ_DISCRETE_INPUTS, 0, 32)],
            ],
        ),
    ];
    let block = [vec![read(F::READ_HOLDING_REGISTERS, 200, 120)]];
    let set_point = [vec![Request::WriteSingleRegister {
        address: 110,
        value: 750,
    }]];
    const PERIOD: u64 = 500 * MILLISECOND;
    for (slot, (site, plan)) in plans.iter().enumerate() {
        let port = 50_100 + slot as u16 * 7;
        let mut session = plant.session(SCADA, *site, port)?;
        let mut at = 80 * MILLISECOND + slot as u64 * 37 * MILLISECOND;
        let mut cycle = 0u64;
        // PLC 1's stack sends answers longer than 128 bytes in two segments.
        let answering = if *site == 0 {
            Answering::SplitAbove(128)
        } else {
            Answering::OneSegment
        };
        while at < DURATION - SECOND {
            let mut batches = plan.clone();
            if *site == 0 && cycle % 20 == 7 {
                batches.extend(block.iter().cloned());
            }
            if *site == 1 && cycle == 84 {
                batches.extend(set_point.iter().cloned());
            }
            let jitter = plant.rng.range(0, 3 * MILLISECOND);
            plant.cycle(&mut session, *site, at + jitter, &batches, answering)?;
            at += PERIOD;
            cycle += 1;
        }
        plant.truth.add_flow(&session.flow);
    }
    Ok(())
}

/// HMI panel: resolves and connects to PLCs 3–5, then polls every second.
fn hmi<S: PacketSink>(plant: &mut Plant<'_, S>) -> Result<()> {
    use FunctionCode as F;
    let plans: [(usize, Vec<Vec<Request>>, Answering); 3] = [
        (
            2,
            vec![vec![read(F::READ_HOLDING_REGISTERS, 512, 10)]],
            Answering::OneSegment,
        ),
        (
            3,
            // Two requests in one segment; both answers in one segment.
            vec![vec![
                read(F::READ_HOLDING_REGISTERS, 0, 24),
                read(F::READ_INPUT_REGISTERS, 0, 8),
            ]],
            Answering::OneSegment,
        ),
        (
            4,
            vec![
                vec![read(F::READ_HOLDING_REGISTERS, 0, 12)],
                vec![read(F::READ_COILS, 100, 16)],
            ],
            Answering::AckFirst,
        ),
    ];
    const PERIOD: u64 = SECOND;
    for (slot, (site, plan, answering)) in plans.iter().enumerate() {
        let info = SITES.get(*site).context("site index")?;
        let start = 900 * MILLISECOND + slot as u64 * 120 * MILLISECOND;
        let resolved = background::dns_lookup(
            plant.wire,
            start,
            HMI,
            RESOLVER,
            info.name,
            info.host.ip,
            &mut plant.rng,
        )?;
        let port = 49_810 + slot as u16;
        let mut session = plant.session(HMI, *site, port)?;
        let rtt = plant.rng.range(300, 900);
        let mut at = session.flow.handshake(plant.wire, resolved + 400, rtt)?;
        at += 2 * MILLISECOND;
        while at < DURATION - SECOND {
            let jitter = plant.rng.range(0, 2 * MILLISECOND);
            plant.cycle(&mut session, *site, at + jitter, plan, *answering)?;
            at += PERIOD;
        }
        plant.truth.add_flow(&session.flow);
    }
    Ok(())
}

/// Engineering station: identification, diagnostics and writes on every PLC, then HTTP on TCP
/// 502, DNS and HTTPS.
fn engineering<S: PacketSink>(plant: &mut Plant<'_, S>) -> Result<()> {
    use FunctionCode as F;
    let basic = Request::ReadDeviceId {
        code: ReadDeviceIdCode::BASIC.0,
        object_id: 0,
    };
    let regular = Request::ReadDeviceId {
        code: ReadDeviceIdCode::REGULAR.0,
        object_id: 0,
    };
    let coils: Vec<bool> = (0..10).map(|i| i % 3 != 1).collect();
    let registers: Vec<u16> = (0..8).map(|i| 1200 + i * 25).collect();
    // Recipe parameters: set point, ramp rate, hold time, batch size, mixer speed.
    let recipe = vec![725, 15, 180, 2400, 1450];
    let visits: [(u64, usize, Vec<Vec<Request>>); 5] = [
        (
            10 * SECOND,
            0,
            vec![
                vec![basic.clone()],
                vec![Request::Diagnostics {
                    sub_function: DiagnosticSubFunction::RETURN_QUERY_DATA.0,
                    data: 0xA537,
                }],
                // Past the end of PLC 1's 4096 holding registers: exception 2.
                vec![read(F::READ_HOLDING_REGISTERS, 9000, 10)],
                vec![read(F::READ_HOLDING_REGISTERS, 1000, 10)],
                vec![Request::WriteSingleRegister {
                    address: 1000,
                    value: 1200,
                }],
                vec![Request::WriteMultipleRegisters {
                    start: 1010,
                    values: registers,
                }],
                // A recipe download into extended memory: file 4, from record 1.
                vec![Request::WriteFileRecord {
                    file: RECIPE_FILE,
                    record: 1,
                    values: recipe,
                }],
            ],
        ),
        (
            18 * SECOND,
            1,
            vec![
                vec![regular.clone()],
                vec![Request::WriteSingleCoil {
                    address: 12,
                    on: true,
                }],
                vec![Request::WriteMultipleCoils {
                    start: 16,
                    bits: coils,
                }],
                vec![read(F::READ_COILS, 0, 32)],
            ],
        ),
        (
            24 * SECOND,
            2,
            vec![
                vec![regular.clone()],
                vec![read(F::READ_HOLDING_REGISTERS, 0, 60)],
            ],
        ),
        (29 * SECOND, 3, vec![vec![regular]]),
        (
            33 * SECOND,
            4,
            vec![
                vec![basic],
                vec![Request::Diagnostics {
                    sub_function: DiagnosticSubFunction::RETURN_QUERY_DATA.0,
                    data: 0x1234,
                }],
            ],
        ),
    ];
    for (at, site, batches) in &visits {
        let info = SITES.get(*site).context("site index")?;
        let resolved = background::dns_lookup(
            plant.wire,
            *at,
            ENGINEERING,
            RESOLVER,
            info.name,
            info.host.ip,
            &mut plant.rng,
        )?;
        plant.visit(*site, resolved + 500, batches)?;
    }
    background::http_get(
        plant.wire,
        38 * SECOND,
        ENGINEERING,
        DEVICE_CONSOLE,
        MODBUS_PORT,
        &mut plant.rng,
    )?;
    let resolved = background::dns_lookup(
        plant.wire,
        44 * SECOND,
        ENGINEERING,
        RESOLVER,
        "historian.plant.local",
        HISTORIAN.ip,
        &mut plant.rng,
    )?;
    background::https_session(
        plant.wire,
        resolved + 300,
        ENGINEERING,
        HISTORIAN,
        "historian.plant.local",
        &mut plant.rng,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::capture::{Collect, PcapOut, START_UNIX_SECONDS, Timeline};
    use crate::link::LinkType;
    use crate::reference::{assert_in_order_tcp, decode, recount, responses, segmentation};

    const SEED: u64 = 0x0FA2_0C49;
    const PORTS: [u16; 2] = [MODBUS_PORT, 5020];

    fn run(link: LinkType) -> (Vec<Vec<u8>>, Truth) {
        let mut wire = Wire::new(link, Timeline::default());
        let mut truth = Truth::default();
        generate(&mut wire, &mut truth, SEED).unwrap();
        let mut out = Collect::default();
        wire.sink.drain_into(&mut out).unwrap();
        let times: Vec<u64> = out.0.iter().map(|(at, _)| *at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        (out.frames(), truth)
    }

    #[test]
    fn size_truth_and_tcp_behaviour() {
        let (frames, truth) = run(LinkType::Ethernet);
        assert!(
            (2000..=5000).contains(&frames.len()),
            "{} packets",
            frames.len()
        );
        assert_eq!(
            recount(LinkType::Ethernet, &frames, &PORTS),
            truth.modbus_edges()
        );
        // HTTP on port 502 is no Modbus edge.
        assert!(
            truth
                .modbus_edges()
                .keys()
                .all(|&(_, server, _)| server != DEVICE_CONSOLE.ip)
        );
        // Five PLCs, three clients.
        let servers: HashSet<_> = truth
            .modbus_edges()
            .keys()
            .map(|&(_, s, p)| (s, p))
            .collect();
        assert_eq!(servers.len(), 5);
        assert!(servers.contains(&(v4(10, 20, 1, 15), 5020)));
        assert!(assert_in_order_tcp(LinkType::Ethernet, &frames) > 100);
        let (most_adus, most_segments) = segmentation(LinkType::Ethernet, &frames, &PORTS);
        assert!(most_adus >= 2, "several PDUs in one segment");
        assert!(most_segments >= 2, "one PDU over two segments");
        let functions: HashSet<u8> = truth
            .modbus_edges()
            .values()
            .flat_map(|f| f.keys().copied())
            .collect();
        for function in [1, 2, 3, 4, 5, 6, 8, 15, 16, 21, 43] {
            assert!(functions.contains(&function), "function {function}");
        }
        // One recipe download, from the engineering station to PLC 1.
        let downloads: Vec<_> = truth
            .modbus_edges()
            .into_iter()
            .filter_map(|(edge, f)| f.get(&21).map(|&n| (edge, n)))
            .collect();
        assert_eq!(
            downloads,
            [((ENGINEERING.ip, SITES[0].host.ip, MODBUS_PORT), 1)]
        );
    }

    #[test]
    fn one_exception_and_every_identity() {
        let (frames, _) = run(LinkType::Ethernet);
        let answers = responses(LinkType::Ethernet, &frames, &PORTS);
        let exceptions: Vec<&Vec<u8>> = answers.iter().filter(|a| a[7] & 0x80 != 0).collect();
        assert_eq!(exceptions.len(), 1);
        assert_eq!(&exceptions[0][7..], &[0x83, 0x02]);
        let identification: Vec<&Vec<u8>> = answers.iter().filter(|a| a[7] == 43).collect();
        assert_eq!(identification.len(), SITES.len());
        for site in &SITES {
            let vendor = site.identity.vendor_name.as_bytes();
            let product = site.identity.product_code.as_bytes();
            assert!(identification.iter().any(|a| {
                a.windows(vendor.len()).any(|w| w == vendor)
                    && a.windows(product.len()).any(|w| w == product)
            }));
        }
        let echo = answers
            .iter()
            .filter(|a| a[7] == 8 && a[8..10] == [0, 0])
            .count();
        assert_eq!(echo, 2);
        // The recipe download's answer echoes file 4, record 1 and its five registers.
        let file_records: Vec<&Vec<u8>> = answers.iter().filter(|a| a[7] == 21).collect();
        assert_eq!(file_records.len(), 1);
        assert_eq!(&file_records[0][8..15], [17, 6, 0, 4, 0, 1, 0]);
        assert_eq!(file_records[0][15], 5);
    }

    #[test]
    fn vlan_20_carries_only_the_packaging_plc() {
        let (frames, _) = run(LinkType::Ethernet);
        let plc = SITES[3].host.ip;
        let mut tagged = 0;
        for segment in frames.iter().filter_map(|f| decode(LinkType::Ethernet, f)) {
            let to_plc = segment.src == plc || segment.dst == plc;
            assert_eq!(segment.vlan, to_plc);
            tagged += usize::from(segment.vlan);
        }
        assert!(tagged > 100);
    }

    #[test]
    fn every_link_type_gives_the_same_conversation() {
        let (ethernet, truth) = run(LinkType::Ethernet);
        for link in [LinkType::Sll, LinkType::Sll2, LinkType::Raw] {
            let (frames, other) = run(link);
            assert_eq!(frames.len(), ethernet.len());
            assert_eq!(other, truth);
            assert_eq!(recount(link, &frames, &PORTS), truth.modbus_edges());
        }
    }

    #[test]
    fn reads_back_through_libpcap() {
        let path =
            std::env::temp_dir().join(format!("faro-capgen-sample-{}.pcap", std::process::id()));
        let mut wire = Wire::new(LinkType::Sll2, Timeline::default());
        generate(&mut wire, &mut Truth::default(), SEED).unwrap();
        let mut out = PcapOut::create(&path, LinkType::Sll2.pcap()).unwrap();
        wire.sink.drain_into(&mut out).unwrap();
        let written = out.finish().unwrap();
        let mut capture = pcap::Capture::from_file(&path).unwrap();
        assert_eq!(capture.get_datalink(), pcap::Linktype::LINUX_SLL2);
        let mut read = 0u64;
        let mut first = None;
        while let Ok(packet) = capture.next_packet() {
            first.get_or_insert(packet.header.ts.tv_sec);
            assert_eq!(packet.header.caplen, packet.header.len);
            read += 1;
        }
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read, written);
        assert_eq!(first, Some(START_UNIX_SECONDS as libc::time_t));
    }
}
