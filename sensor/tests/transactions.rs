//! Request/response pairing and the bounded pending table, through the whole
//! pipeline on frames built here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use etherparse::PacketBuilder;
use faro_firmware_config::CapacityLimits;
use faro_protocols::modbus::{self, Body, FunctionCode};
use faro_sensor::Pipeline;
use faro_sensor::capture::Frame;
use faro_sensor::decode::LinkType;

struct Conn {
    frames: Vec<Vec<u8>>,
    client_seq: u32,
    server_seq: u32,
}

impl Conn {
    fn new() -> Self {
        Conn {
            frames: Vec::new(),
            client_seq: 1000,
            server_seq: 9000,
        }
    }

    fn send(&mut self, to_server: bool, payload: &[u8]) {
        let (src, dst, sport, dport, seq) = if to_server {
            (
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                40000,
                502,
                &mut self.client_seq,
            )
        } else {
            (
                [10, 0, 0, 2],
                [10, 0, 0, 1],
                502,
                40000,
                &mut self.server_seq,
            )
        };
        let mut out = Vec::new();
        PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(src, dst, 64)
            .tcp(sport, dport, *seq, 8192)
            .write(&mut out, payload)
            .unwrap();
        *seq += payload.len() as u32;
        self.frames.push(out);
    }

    fn run(&self, limits: CapacityLimits) -> faro_sensor::Outcome {
        let mut pipeline = Pipeline::new(limits);
        for (i, frame) in self.frames.iter().enumerate() {
            pipeline.process(
                LinkType::Ethernet,
                &Frame {
                    ts_nanos: 1_000_000_000 + i as u64,
                    wire_len: frame.len() as u32,
                    data: frame,
                },
            );
        }
        pipeline.finish()
    }
}

fn read_request(tid: u16, quantity: u16) -> Vec<u8> {
    let mut out = Vec::new();
    modbus::encode(
        &mut out,
        tid,
        1,
        FunctionCode::READ_HOLDING_REGISTERS,
        &Body::ReadRequest { start: 0, quantity },
    )
    .unwrap();
    out
}

fn read_response(tid: u16, registers: u8) -> Vec<u8> {
    let data = vec![0u8; usize::from(registers) * 2];
    let mut out = Vec::new();
    modbus::encode(
        &mut out,
        tid,
        1,
        FunctionCode::READ_HOLDING_REGISTERS,
        &Body::ByteCounted {
            byte_count: registers * 2,
            data: &data,
        },
    )
    .unwrap();
    out
}

#[test]
fn responses_pair_by_transaction_and_check_byte_counts() {
    let mut conn = Conn::new();
    conn.send(true, &read_request(1, 10));
    conn.send(true, &read_request(2, 4));
    conn.send(false, &read_response(2, 4)); // answered out of order: fine
    conn.send(false, &read_response(1, 9)); // 9 registers for a request of 10
    conn.send(false, &read_response(7, 1)); // nothing asked with transaction 7
    let outcome = conn.run(CapacityLimits::default());
    let m = &outcome.stats.modbus;
    assert_eq!((m.requests, m.responses, m.unanswered), (2, 3, 0));
    assert_eq!(m.anomalies.get("byte_count_mismatch"), Some(&1));
    assert_eq!(m.anomalies.get("response_without_request"), Some(&1));
    let edge = &outcome.inventory.edges()[0];
    let fc3 = &edge.functions[&faro_sensor::inventory::FunctionKey::Code(3)];
    assert_eq!((fc3.requests, fc3.responses), (2, 3));
}

#[test]
fn pending_table_is_bounded_and_sheds_visibly() {
    let mut conn = Conn::new();
    for tid in 0..40 {
        conn.send(true, &read_request(tid, 1));
    }
    conn.send(false, &read_response(0, 1)); // shed long ago: unpaired
    conn.send(false, &read_response(39, 1)); // still pending: paired
    let limits = CapacityLimits {
        max_pending_transactions: 32,
        ..CapacityLimits::default()
    };
    let outcome = conn.run(limits);
    assert_eq!(outcome.stats.shed.pending_transactions, 8);
    assert_eq!(
        outcome
            .stats
            .modbus
            .anomalies
            .get("response_without_request"),
        Some(&1)
    );
    // 8 shed, 31 still pending when the flow ended.
    assert_eq!(outcome.stats.modbus.unanswered, 8 + 31);
}

/// An FC 17 request and its response, made by the project's encoder.
fn report_server_id(tid: u16, data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut request = Vec::new();
    modbus::encode(
        &mut request,
        tid,
        1,
        FunctionCode::REPORT_SERVER_ID,
        &Body::Empty,
    )
    .unwrap();
    let mut response = Vec::new();
    modbus::encode(
        &mut response,
        tid,
        1,
        FunctionCode::REPORT_SERVER_ID,
        &Body::ByteCounted {
            byte_count: data.len() as u8,
            data,
        },
    )
    .unwrap();
    (request, response)
}

#[test]
fn report_server_id_is_identity_as_text_or_hex() {
    use faro_protocols::identity::IdentitySource;
    for (data, expected) in [
        // libmodbus: id 0xB4, run indicator on, "LMB" and its version.
        (
            &b"\xb4\xffLMB3.1.10"[..],
            [Some("0xb4"), Some("on"), Some("LMB3.1.10")],
        ),
        // A text id, run indicator off, binary additional data.
        (
            b"ACME PLC-7\x00\x01\x02",
            [Some("ACME PLC-7"), Some("off"), Some("0x0102")],
        ),
        // No run indicator: all of it is the id.
        (b"\x42\x07", [Some("0x4207"), None, None]),
    ] {
        let (request, response) = report_server_id(1, data);
        let mut conn = Conn::new();
        conn.send(true, &request);
        conn.send(false, &response);
        let outcome = conn.run(CapacityLimits::default());
        let server = outcome
            .inventory
            .assets()
            .iter()
            .find(|a| a.ip == std::net::IpAddr::from([10, 0, 0, 2]))
            .unwrap();
        for (name, value) in ["server_id", "run_indicator", "server_id_additional_data"]
            .into_iter()
            .zip(expected)
        {
            assert_eq!(
                server.identity.get(name).map(String::as_str),
                value,
                "{name}"
            );
            if value.is_some() {
                assert_eq!(
                    server.identity_sources.get(name),
                    Some(&IdentitySource::ModbusReportServerId),
                    "{name}"
                );
            }
        }
        assert_eq!(outcome.stats.modbus.responses, 1);
    }
}
