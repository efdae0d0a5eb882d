//! `polling`: pure Modbus polling for benchmarks. Many clients and servers, `flows` concurrent
//! sessions served round-robin (one time slot per session per poll period), each request and
//! each response one segment, a pure ACK from the client every few exchanges, mostly FC 3 and 4.
//! Exactly `packets` packets: the capture simply ends when the budget is spent.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result, bail};
use faro_protocols::modbus::FunctionCode;

use crate::capture::{PacketSink, SECOND, Wire};
use crate::link::{Host, LinkType};
use crate::modbus::{Limits, Plc, Request};
use crate::rng::Rng;
use crate::scenario::sample;
use crate::session::ModbusSession;
use crate::tcp::{End, Side, TcpFlow};

/// First client address, 10.10.0.1; clients count up from here, 250 per /24.
const CLIENT_BASE: u32 = 0x0A0A_0000;
/// First server address, 10.200.0.1.
const SERVER_BASE: u32 = 0x0AC8_0000;
/// Last address either range may use (10.255.255.250).
const LAST_ADDRESS: u32 = 0x0AFF_FFFF;
/// Sessions per client and per server.
const FLOWS_PER_CLIENT: u32 = 8;
const FLOWS_PER_SERVER: u32 = 20;
/// Client OUI (Dell) and server OUIs (Schneider Electric, Siemens, WAGO, Phoenix Contact).
const CLIENT_OUI: [u8; 3] = [0x00, 0x14, 0x22];
const SERVER_OUIS: [[u8; 3]; 4] = [
    [0x00, 0x80, 0xF4],
    [0x00, 0x0E, 0x8C],
    [0x00, 0x30, 0xDE],
    [0x00, 0xA0, 0x45],
];
/// Small process images keep a million-flow run in memory.
const LIMITS: Limits = Limits {
    coils: 512,
    discrete_inputs: 512,
    holding_registers: 512,
    input_registers: 256,
};
/// Function mix (weights in percent).
const MIX: [(FunctionCode, u32); 6] = [
    (FunctionCode::READ_HOLDING_REGISTERS, 46),
    (FunctionCode::READ_INPUT_REGISTERS, 34),
    (FunctionCode::READ_COILS, 6),
    (FunctionCode::READ_DISCRETE_INPUTS, 6),
    (FunctionCode::WRITE_SINGLE_REGISTER, 4),
    (FunctionCode::WRITE_MULTIPLE_REGISTERS, 4),
];

/// Register read sizes: many short reads, some long block reads.
const SHORT_READ: (u16, u16) = (1, 20);
const BLOCK_READ: (u16, u16) = (20, 125);

/// Address of the `index`-th host of a range: 250 hosts per /24 (.1 to .250).
fn address(base: u32, index: u32) -> Result<IpAddr> {
    let offset = (index / 250)
        .checked_mul(256)
        .and_then(|o| o.checked_add(index % 250 + 1))
        .context("too many hosts")?;
    let addr = base.checked_add(offset).context("too many hosts")?;
    if addr > LAST_ADDRESS {
        bail!("too many hosts for the 10.0.0.0/8 plan");
    }
    Ok(IpAddr::V4(Ipv4Addr::from(addr)))
}

fn mac(oui: [u8; 3], index: u32) -> [u8; 6] {
    let [_, a, b, c] = index.to_be_bytes();
    let [x, y, z] = oui;
    [x, y, z, a, b, c]
}

/// A sink that keeps the first `remaining` packets and drops the rest.
struct Budget<'s, S> {
    inner: &'s mut S,
    remaining: u64,
}

impl<S: PacketSink> PacketSink for Budget<'_, S> {
    fn record(&mut self, at: u64, frame: &[u8]) -> Result<()> {
        if self.remaining == 0 {
            return Ok(());
        }
        self.remaining -= 1;
        self.inner.record(at, frame)
    }
}

struct Poller {
    session: ModbusSession,
    server: usize,
    /// Exchanges since the last pure ACK, and how many to wait for the next one.
    since_ack: u32,
    ack_every: u32,
}

fn next_request(rng: &mut Rng) -> Request {
    let function = rng
        .weighted(&MIX)
        .unwrap_or(FunctionCode::READ_HOLDING_REGISTERS);
    match function {
        FunctionCode::WRITE_SINGLE_REGISTER => Request::WriteSingleRegister {
            address: rng.range_u16(0, LIMITS.holding_registers - 1),
            value: rng.range_u16(0, 1000),
        },
        FunctionCode::WRITE_MULTIPLE_REGISTERS => {
            let quantity = rng.range_u16(2, 10);
            Request::WriteMultipleRegisters {
                start: rng.range_u16(0, LIMITS.holding_registers - quantity),
                values: (0..quantity).map(|_| rng.range_u16(0, 1000)).collect(),
            }
        }
        FunctionCode::READ_COILS | FunctionCode::READ_DISCRETE_INPUTS => {
            let quantity = rng.range_u16(8, 128);
            Request::Read {
                function,
                start: rng.range_u16(0, LIMITS.coils - quantity),
                quantity,
            }
        }
        _ => {
            let (low, high) = rng
                .weighted(&[(SHORT_READ, 60), (BLOCK_READ, 40)])
                .unwrap_or(SHORT_READ);
            let quantity = rng.range_u16(low, high);
            let table = if function == FunctionCode::READ_INPUT_REGISTERS {
                LIMITS.input_registers
            } else {
                LIMITS.holding_registers
            };
            Request::Read {
                function,
                start: rng.range_u16(0, table - quantity),
                quantity,
            }
        }
    }
}

/// Writes exactly `packets` packets of polling over `flows` sessions into `sink`.
pub(crate) fn generate<S: PacketSink>(
    sink: &mut S,
    packets: u64,
    flows: u32,
    seed: u64,
) -> Result<()> {
    if flows == 0 {
        bail!("at least one flow is needed");
    }
    let mut rng = Rng::new(seed);
    let clients = flows.div_ceil(FLOWS_PER_CLIENT);
    let servers = flows.div_ceil(FLOWS_PER_SERVER);
    let mut plcs = Vec::with_capacity(servers as usize);
    let mut server_hosts = Vec::with_capacity(servers as usize);
    for s in 0..servers {
        let oui = SERVER_OUIS
            .get(s as usize % SERVER_OUIS.len())
            .copied()
            .unwrap_or(CLIENT_OUI);
        server_hosts.push(Host::new(mac(oui, s), address(SERVER_BASE, s)?));
        plcs.push(Plc::new(
            sample::identity(s as usize),
            LIMITS,
            rng.fork(u64::from(s)),
        ));
    }
    let mut pollers = Vec::with_capacity(flows as usize);
    for f in 0..flows {
        let client = f % clients;
        let server = (f / clients + f * 7) % servers;
        let client_host = Host::new(mac(CLIENT_OUI, client), address(CLIENT_BASE, client)?);
        let server_host = *server_hosts.get(server as usize).context("server index")?;
        // Distinct per client: each client's flows get consecutive ephemeral ports.
        let port = 49_152 + u16::try_from(f / clients % 16_384).context("client port")?;
        let flow = TcpFlow::new(
            End::new(client_host, port, &mut rng),
            End::new(server_host, 502, &mut rng).with_window(8192),
        );
        let unit_id = if server % 3 == 0 { 255 } else { 1 };
        pollers.push(Poller {
            session: ModbusSession::new(flow, unit_id, rng.next_u16()),
            server: server as usize,
            since_ack: 0,
            ack_every: u32::try_from(rng.range(3, 6)).unwrap_or(4),
        });
    }

    // One slot per session per period; everything of an exchange fits inside its slot.
    let period = SECOND.max(u64::from(flows) * 400);
    let slot = period / u64::from(flows);
    let mut wire = Wire::new(
        LinkType::Ethernet,
        Budget {
            inner: sink,
            remaining: packets,
        },
    );
    let mut requests = Vec::with_capacity(1);
    let mut round = 0u64;
    while wire.sink.remaining > 0 {
        for (i, poller) in pollers.iter_mut().enumerate() {
            if wire.sink.remaining == 0 {
                break;
            }
            let start = round * period + i as u64 * slot;
            let at = start + rng.below(slot / 8);
            if round == 0 {
                poller.session.flow.handshake(&mut wire, at, slot / 4)?;
                continue;
            }
            requests.clear();
            requests.push(next_request(&mut rng));
            let plc = plcs.get_mut(poller.server).context("server index")?;
            poller.session.encode_requests(&requests)?;
            poller.session.encode_responses(plc, &requests)?;
            let session = &mut poller.session;
            session
                .flow
                .send(&mut wire, at, Side::Client, &session.request)?;
            let at = start + slot / 4 + rng.below(slot / 4);
            session
                .flow
                .send(&mut wire, at, Side::Server, &session.response)?;
            poller.since_ack += 1;
            if poller.since_ack >= poller.ack_every {
                poller.since_ack = 0;
                let at = start + slot * 3 / 4;
                session.flow.ack(&mut wire, at, Side::Client)?;
            }
        }
        round += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;
    use crate::capture::Collect;
    use crate::reference::{assert_in_order_tcp, decode, recount, segmentation};

    fn run(packets: u64, flows: u32) -> Vec<Vec<u8>> {
        let mut out = Collect::default();
        generate(&mut out, packets, flows, 42).unwrap();
        let times: Vec<u64> = out.0.iter().map(|(at, _)| *at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        out.frames()
    }

    #[test]
    fn exact_packet_count() {
        for (packets, flows) in [(7, 10), (10_000, 100), (1, 1), (2_345, 3)] {
            assert_eq!(run(packets, flows).len() as u64, packets);
        }
    }

    #[test]
    fn concurrent_sessions_one_pdu_per_segment_mostly_reads() {
        let frames = run(20_000, 200);
        let link = LinkType::Ethernet;
        let flows: HashSet<_> = frames
            .iter()
            .filter_map(|f| decode(link, f))
            .map(|s| (s.src, s.src_port, s.dst, s.dst_port))
            .filter(|k| k.3 == 502)
            .collect();
        assert_eq!(flows.len(), 200);
        let clients: HashSet<_> = flows.iter().map(|k| k.0).collect();
        let servers: HashSet<_> = flows.iter().map(|k| k.2).collect();
        assert!(clients.len() >= 20 && servers.len() >= 10);
        assert!(assert_in_order_tcp(link, &frames) > 1000);
        assert_eq!(segmentation(link, &frames, &[502]), (1, 1));
        let mut functions: BTreeMap<u8, u64> = BTreeMap::new();
        for per_edge in recount(link, &frames, &[502]).values() {
            for (&function, &count) in per_edge {
                *functions.entry(function).or_default() += count;
            }
        }
        let total: u64 = functions.values().sum();
        let reads_3_4 = functions.get(&3).unwrap_or(&0) + functions.get(&4).unwrap_or(&0);
        assert!(reads_3_4 * 10 > total * 7, "{functions:?}");
        for function in [1, 2, 3, 4, 6, 16] {
            assert!(functions.contains_key(&function), "{functions:?}");
        }
    }
}
