//! Property tests of the S7 parsers: build → encode → parse → compare for
//! TPKT, COTP, S7comm and S7comm-plus; every truncation gives the exact
//! `NeedMore` or `Incomplete`; arbitrary bytes never panic in any entry point.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use faro_protocols::s7::comm::{
    self, AnyItem, Area, Block, BlockType, DataItem, DataTransportSize, Function, Header, Item,
    Items, Message, Param, ReturnCode, Rosctr, SyntaxId, SzlResponse,
};
use faro_protocols::s7::cotp::{self, Connection, Cotp};
use faro_protocols::s7::{classify_payload, plus, probe, szl, tpkt};
use faro_protocols::{Error, Framing, Layer, Probe, fuzzing};
use proptest::prelude::*;

// ---------------------------------------------------------------- TPKT, COTP

proptest! {
    #[test]
    fn tpkt_round_trip_and_exact_need_more(
        payload in proptest::collection::vec(any::<u8>(), 3..300),
    ) {
        let mut framed = Vec::new();
        tpkt::encode(&mut framed, &payload).unwrap();
        let total = framed.len();
        match tpkt::frame(&framed) {
            Framing::Parsed { consumed, message } => {
                prop_assert_eq!(consumed, total);
                prop_assert_eq!(message.payload, &payload[..]);
                prop_assert_eq!(usize::from(message.length), total);
            }
            other => prop_assert!(false, "{:?}", other),
        }
        for n in 0..total {
            let needed = if n < tpkt::HEADER_LEN {
                usize::from(tpkt::MIN_LENGTH) - n
            } else {
                total - n
            };
            prop_assert_eq!(tpkt::frame(&framed[..n]), Framing::NeedMore { needed });
        }
    }

    #[test]
    fn cotp_connection_round_trip_and_truncation(
        dst_ref in any::<u16>(),
        src_ref in any::<u16>(),
        class in 0u8..=4,
        options in 0u8..16,
        calling in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        called in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        tpdu_size in proptest::option::of(7u8..=13),
        confirm in any::<bool>(),
    ) {
        let c = Connection {
            dst_ref,
            src_ref,
            class,
            options,
            calling_tsap: calling.as_deref(),
            called_tsap: called.as_deref(),
            tpdu_size,
        };
        let mut out = Vec::new();
        if confirm {
            cotp::encode_cc(&mut out, &c).unwrap();
            prop_assert_eq!(cotp::parse(&out), Ok(Cotp::ConnectionConfirm(c)));
        } else {
            cotp::encode_cr(&mut out, &c).unwrap();
            prop_assert_eq!(cotp::parse(&out), Ok(Cotp::ConnectionRequest(c)));
        }
        let header_len = usize::from(out[0]) + 1;
        prop_assert_eq!(header_len, out.len());
        for n in 0..out.len() {
            let needed = if n == 0 { 1 } else { header_len - n };
            prop_assert_eq!(
                cotp::parse(&out[..n]),
                Err(Error::Incomplete { layer: Layer::Cotp, offset: n, needed })
            );
        }
    }

    #[test]
    fn cotp_data_round_trip(
        eot in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let mut out = Vec::new();
        cotp::encode_dt(&mut out, eot, &payload);
        prop_assert_eq!(
            cotp::parse(&out),
            Ok(Cotp::Data { eot, tpdu_number: 0, user_data: &payload[..] })
        );
    }
}

// ------------------------------------------------------------------- S7comm

/// Owned ingredients of one S7comm message; `message` borrows them.
#[derive(Debug, Clone)]
struct Case {
    pdu_ref: u16,
    error: (u8, u8),
    kind: u8,
    a: u16,
    b: u16,
    c: u16,
    n: u32,
    f: u8,
    small: [u8; 4],
    items: Vec<Item<'static>>,
    values: Vec<Vec<u8>>,
    text: Vec<u8>,
    raw: Vec<u8>,
    data: Vec<u8>,
}

fn s7any() -> impl Strategy<Value = Item<'static>> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        0u32..1 << 24,
    )
        .prop_map(|(transport_size, length, db, area, address)| {
            Item::Any(AnyItem {
                transport_size,
                length,
                db,
                area: Area(area),
                address,
            })
        })
}

fn other_item() -> impl Strategy<Value = Item<'static>> {
    (
        prop_oneof![Just(0xB2u8), Just(0xB0), Just(0x82), Just(0x11)],
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(syntax, address)| Item::Other {
            spec_type: comm::VAR_SPEC,
            syntax_id: SyntaxId(syntax),
            address: Box::leak(address.into_boxed_slice()),
        })
}

fn ascii(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0x21u8..0x7F, len)
}

fn case() -> impl Strategy<Value = Case> {
    (
        (0u8..16, any::<u16>(), any::<(u8, u8)>()),
        (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<u8>(),
            any::<[u8; 4]>(),
        ),
        proptest::collection::vec(prop_oneof![3 => s7any(), 1 => other_item()], 0..6),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..9), 0..6),
        ascii(1..12),
        proptest::collection::vec(any::<u8>(), 0..24),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(
            |((kind, pdu_ref, error), (a, b, c, n, f, small), items, values, text, raw, data)| {
                Case {
                    pdu_ref,
                    error,
                    kind,
                    a,
                    b,
                    c,
                    n,
                    f,
                    small,
                    items,
                    values,
                    text,
                    raw,
                    data,
                }
            },
        )
}

/// Functions without a decoded parameter layout: `Other` in a Job.
fn unknown_function(f: u8) -> Function {
    let code = f | 0x40;
    if Function(code).name().is_some() {
        Function(0x42)
    } else {
        Function(code)
    }
}

fn block(case: &Case) -> Block {
    Block {
        file_id: if case.f % 2 == 0 { b'_' } else { b'$' },
        block_type: BlockType::ALL[usize::from(case.f) % BlockType::ALL.len()],
        number: case.n % 100_000,
        destination: [b'P', b'A', b'B'][usize::from(case.f) % 3],
    }
}

/// Builds a consistent message of variant `case.kind`, with its owned bytes in `store`.
fn build<'a>(case: &'a Case, store: &'a mut Vec<Vec<u8>>) -> Message<'a> {
    let mut data: &'a [u8] = &[];
    let mut rosctr = Rosctr::JOB;
    let mut keep = |bytes: Vec<u8>| -> usize {
        store.push(bytes);
        store.len() - 1
    };
    // Build owned parts first, then borrow them.
    let mut item_bytes = Vec::new();
    Items::write_items(&mut item_bytes, &case.items);
    let count = u8::try_from(case.items.len()).unwrap();
    let mut write_data = Vec::new();
    for (i, value) in case.values.iter().take(case.items.len()).enumerate() {
        let bits = case.f % 2 == 0;
        DataItem {
            return_code: ReturnCode::RESERVED,
            transport_size: if bits {
                DataTransportSize::BYTE_WORD_DWORD
            } else {
                DataTransportSize::OCTET_STRING
            },
            length: u16::try_from(value.len() * if bits { 8 } else { 1 }).unwrap(),
            data: value,
        }
        .write(
            &mut write_data,
            i + 1 == case.items.len().min(case.values.len()),
        );
    }
    let write_items = case.items.len().min(case.values.len());
    let mut write_item_bytes = Vec::new();
    Items::write_items(&mut write_item_bytes, &case.items[..write_items]);
    let mut read_data = Vec::new();
    for (i, value) in case.values.iter().enumerate() {
        let ok = case.f % 3 != 0;
        DataItem {
            return_code: if ok {
                ReturnCode::SUCCESS
            } else {
                ReturnCode::OBJECT_DOES_NOT_EXIST
            },
            transport_size: DataTransportSize::OCTET_STRING,
            length: u16::try_from(value.len()).unwrap(),
            data: if ok { value } else { &[] },
        }
        .write(&mut read_data, i + 1 == case.values.len());
    }
    let filename = block(case).filename().to_vec();
    let indices = [
        keep(item_bytes),
        keep(write_item_bytes),
        keep(write_data),
        keep(read_data),
        keep(filename),
    ];
    let store: &'a Vec<Vec<u8>> = store;
    let [
        items_at,
        write_items_at,
        write_data_at,
        read_data_at,
        filename_at,
    ] = indices;
    let block = block(case);
    let filename: &'a [u8] = &store[filename_at];
    let param = match case.kind {
        0 => Param::SetupCommunication {
            max_amq_calling: case.a,
            max_amq_called: case.b,
            pdu_length: case.c,
        },
        1 => Param::ReadVar {
            items: Items::new(count, &store[items_at]),
        },
        2 => {
            data = &store[write_data_at];
            Param::WriteVar {
                items: Items::new(u8::try_from(write_items).unwrap(), &store[write_items_at]),
            }
        }
        3 => {
            let function = Function(0x1A + case.f % 3);
            Param::Download {
                function,
                status: case.small[0],
                error_code: (function == Function::DOWNLOAD_ENDED).then_some(case.a),
                filename: Some(filename),
                block: Some(block),
            }
        }
        4 => {
            let function = Function(0x1D + case.f % 3);
            let start = function == Function::START_UPLOAD;
            Param::Upload {
                function,
                status: case.small[0],
                error_code: (function == Function::END_UPLOAD).then_some(case.a),
                upload_id: Some(case.n),
                filename: start.then_some(filename),
                block: start.then_some(block),
            }
        }
        5 => Param::PiService {
            service: &case.text,
            parameters: &case.raw,
        },
        6 => Param::PlcStop {
            service: &case.text,
        },
        7 => {
            rosctr = Rosctr::USERDATA;
            data = &case.data;
            let extended = case.f % 2 == 0;
            Param::Userdata {
                function: Function::CPU_SERVICES,
                syntax_id: if extended { 0x12 } else { 0x11 },
                kind: [0, 4, 8][usize::from(case.small[0]) % 3],
                group: case.small[1] % 8,
                subfunction: case.small[2],
                sequence: case.small[3],
                data_unit_ref: if extended { case.small[0] } else { 0 },
                last_data_unit: !extended || case.small[1] % 2 == 0,
                error: if extended { case.a } else { 0 },
            }
        }
        8 => {
            rosctr = Rosctr::USERDATA;
            Param::Userdata {
                function: Function::MODE_TRANSITION,
                syntax_id: 0x00,
                kind: 0,
                group: 0,
                subfunction: case.small[2],
                sequence: case.small[3],
                data_unit_ref: 0,
                last_data_unit: true,
                error: 0,
            }
        }
        9 => {
            rosctr = Rosctr::ACK_DATA;
            data = &store[read_data_at];
            Param::AckFunction {
                function: Function::READ_VAR,
                item_count: Some(u8::try_from(case.values.len()).unwrap()),
            }
        }
        10 => {
            rosctr = Rosctr::ACK_DATA;
            data = &case.raw;
            Param::AckFunction {
                function: Function::WRITE_VAR,
                item_count: Some(u8::try_from(case.raw.len()).unwrap()),
            }
        }
        11 => {
            rosctr = Rosctr::ACK_DATA;
            Param::AckFunction {
                function: [
                    Function::PLC_STOP,
                    Function::PI_SERVICE,
                    Function::REQUEST_DOWNLOAD,
                ][usize::from(case.f) % 3],
                item_count: None,
            }
        }
        12 => {
            rosctr = Rosctr::ACK_DATA;
            let function = Function(0x1A + case.f % 6);
            if function == Function::START_UPLOAD {
                Param::Upload {
                    function,
                    status: case.small[0],
                    error_code: None,
                    upload_id: Some(case.n),
                    filename: None,
                    block: None,
                }
            } else if function.is_download() {
                Param::Download {
                    function,
                    status: case.small[0],
                    error_code: None,
                    filename: None,
                    block: None,
                }
            } else {
                Param::Upload {
                    function,
                    status: case.small[0],
                    error_code: None,
                    upload_id: None,
                    filename: None,
                    block: None,
                }
            }
        }
        13 => {
            rosctr = Rosctr::ACK_DATA;
            Param::SetupCommunication {
                max_amq_calling: case.a,
                max_amq_called: case.b,
                pdu_length: case.c,
            }
        }
        14 => {
            data = &case.data;
            Param::Other {
                function: unknown_function(case.f),
                raw: &case.raw,
            }
        }
        _ => {
            rosctr = [Rosctr::ACK, Rosctr::JOB, Rosctr::ACK_DATA][usize::from(case.f) % 3];
            Param::Empty
        }
    };
    Message {
        header: Header {
            rosctr,
            redundancy_id: 0,
            pdu_ref: case.pdu_ref,
            param_len: 0,
            data_len: 0,
            error: rosctr.has_error_fields().then_some(case.error),
        },
        param,
        data,
        anomalies: comm::Anomalies::empty(),
    }
}

/// Where a header read stops for a buffer of `n` bytes: the end of the field holding byte `n`.
fn header_field_end(n: usize, ack: bool) -> usize {
    let ends: &[usize] = if ack {
        &[1, 2, 4, 6, 8, 10, 11, 12]
    } else {
        &[1, 2, 4, 6, 8, 10]
    };
    ends.iter().copied().find(|&end| end > n).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn s7comm_round_trip_and_truncation(case in case()) {
        let mut store = Vec::new();
        let message = build(&case, &mut store);
        let mut out = Vec::new();
        comm::encode(&mut out, &message).unwrap();
        let parsed = comm::parse(&out).unwrap();
        let mut expected = comm::Anomalies::empty();
        if let Param::ReadVar { items } | Param::WriteVar { items } = message.param {
            if items.iter().any(|item| !matches!(item, Item::Any(_))) {
                expected |= comm::Anomalies::NON_S7ANY_ITEM;
            }
        }
        if matches!(message.param, Param::Other { .. }) {
            expected |= comm::Anomalies::UNKNOWN_FUNCTION;
        }
        prop_assert_eq!(parsed.anomalies, expected, "{:02x?}", out);
        prop_assert_eq!(parsed.param, message.param);
        prop_assert_eq!(parsed.data, message.data);
        prop_assert_eq!(parsed.header.rosctr, message.header.rosctr);
        prop_assert_eq!(parsed.header.pdu_ref, message.header.pdu_ref);
        prop_assert_eq!(parsed.header.error, message.header.error);
        let header_len = parsed.header.encoded_len();
        prop_assert_eq!(
            header_len + usize::from(parsed.header.param_len) + usize::from(parsed.header.data_len),
            out.len()
        );
        if let Param::ReadVar { items } | Param::WriteVar { items } = parsed.param {
            let expected_items = case.items[..usize::from(items.count())].to_vec();
            prop_assert_eq!(items.iter().collect::<Vec<_>>(), expected_items);
        }
        if let Some(items) = parsed.data_items() {
            prop_assert!(items.count() <= case.values.len());
        }
        let _ = comm::return_codes(&parsed).count();

        // Every truncation fails with the exact shortfall.
        let param_end = header_len + usize::from(parsed.header.param_len);
        for n in 0..out.len() {
            let needed = if n < header_len {
                header_field_end(n, parsed.header.rosctr.has_error_fields()) - n
            } else if n < param_end {
                param_end - n
            } else {
                out.len() - n
            };
            prop_assert_eq!(
                comm::parse(&out[..n]),
                Err(Error::Incomplete { layer: Layer::S7comm, offset: n, needed }),
                "prefix of {} bytes", n
            );
        }

        // The same PDU in a COTP DT in a TPKT: recognised at every prefix.
        let mut dt = Vec::new();
        cotp::encode_dt(&mut dt, true, &out);
        let mut framed = Vec::new();
        tpkt::encode(&mut framed, &dt).unwrap();
        for n in 0..framed.len() {
            prop_assert_ne!(probe(&framed[..n]), Probe::NoMatch, "prefix of {} bytes", n);
        }
        prop_assert_eq!(probe(&framed), Probe::Match);
        prop_assert_eq!(classify_payload(&out), faro_protocols::s7::Payload::S7comm);
    }

    #[test]
    fn read_szl_request_and_response_round_trip(
        pdu_ref in any::<u16>(),
        szl_id in any::<u16>(),
        index in any::<u16>(),
        record_len in 0u16..40,
        records in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut request_data = Vec::new();
        comm::write_szl_request(&mut request_data, szl_id, index);
        let record_count =
            u16::try_from(records.len()).unwrap().checked_div(record_len).unwrap_or(0);
        let response = SzlResponse { szl_id, index, record_len, record_count, records: &records };
        let mut response_data = Vec::new();
        comm::write_szl_response(&mut response_data, &response);
        for (kind, data) in [(4u8, &request_data), (8u8, &response_data)] {
            let m = Message {
                header: Header {
                    rosctr: Rosctr::USERDATA,
                    redundancy_id: 0,
                    pdu_ref,
                    param_len: 0,
                    data_len: 0,
                    error: None,
                },
                param: Param::Userdata {
                    function: Function::CPU_SERVICES,
                    syntax_id: if kind == 4 { 0x11 } else { 0x12 },
                    kind,
                    group: 4,
                    subfunction: 1,
                    sequence: 0,
                    data_unit_ref: 0,
                    last_data_unit: true,
                    error: 0,
                },
                data,
                anomalies: comm::Anomalies::empty(),
            };
            let mut out = Vec::new();
            comm::encode(&mut out, &m).unwrap();
            let parsed = comm::parse(&out).unwrap();
            prop_assert_eq!(parsed.param, m.param);
            if kind == 4 {
                prop_assert_eq!(comm::szl_request(parsed.data), Some((szl_id, index)));
            } else {
                let got = comm::szl_response(parsed.data).unwrap();
                prop_assert_eq!(got, response);
                let decoded = szl::records(&got).count();
                prop_assert_eq!(decoded, usize::from(record_count));
            }
        }
    }

    #[test]
    fn szl_records_are_bounded(
        szl_id in prop_oneof![
            Just(0x0011u16), Just(0x001C), Just(0x0132), Just(0x0424), any::<u16>()
        ],
        index in prop_oneof![Just(4u16), any::<u16>()],
        record_len in any::<u16>(),
        record_count in any::<u16>(),
        records in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let response = SzlResponse { szl_id, index, record_len, record_count, records: &records };
        let n = szl::records(&response).count();
        prop_assert!(n <= usize::from(record_count));
        if record_len > 0 {
            prop_assert!(n <= records.len() / usize::from(record_len));
        } else {
            prop_assert_eq!(n, 0);
        }
    }
}

// -------------------------------------------------------------- S7comm-plus

#[derive(Debug, Clone)]
struct PlusCase {
    version: u8,
    opcode: u8,
    function: u16,
    sequence: u16,
    session_id: u32,
    flags: u8,
    digest: [u8; 32],
    body: Vec<u8>,
    trailer: bool,
}

fn plus_case() -> impl Strategy<Value = PlusCase> {
    (
        prop_oneof![Just(1u8), Just(2), Just(3), Just(0xFE), Just(0xFF)],
        0u8..4,
        proptest::sample::select(plus::Function::ALL.to_vec()),
        (any::<u16>(), any::<u32>(), any::<u8>(), any::<[u8; 32]>()),
        proptest::collection::vec(any::<u8>(), 0..80),
        any::<bool>(),
    )
        .prop_map(
            |(version, opcode, function, (sequence, session_id, flags, digest), body, trailer)| {
                PlusCase {
                    version,
                    opcode,
                    function: function.0,
                    sequence,
                    session_id,
                    flags,
                    digest,
                    body,
                    trailer,
                }
            },
        )
}

fn plus_message(case: &PlusCase) -> plus::Message<'_> {
    let opcode = [
        plus::Opcode::REQUEST,
        plus::Opcode::RESPONSE,
        plus::Opcode::RESPONSE2,
        plus::Opcode::NOTIFICATION,
    ][usize::from(case.opcode)];
    let mut m = plus::Message {
        protocol_version: case.version,
        data_len: 0,
        opcode: None,
        function: None,
        sequence: None,
        session_id: None,
        transport_flags: None,
        body: &case.body,
        integrity_protected: false,
        digest: None,
        trailer: case.trailer,
        anomalies: plus::Anomalies::empty(),
    };
    match case.version {
        plus::version::KEEP_ALIVE => {
            m.body = &[];
            m.trailer = false;
            m.sequence = Some(case.sequence & 0xFF);
            return m;
        }
        plus::version::SYSTEM_EVENT => return m,
        plus::version::V3 => {
            m.digest = Some(&case.digest);
            m.integrity_protected = true;
        }
        _ => {}
    }
    m.opcode = Some(opcode);
    if opcode != plus::Opcode::NOTIFICATION {
        m.function = Some(case.function);
        m.sequence = Some(case.sequence);
        m.transport_flags = Some(case.flags);
        if opcode == plus::Opcode::REQUEST {
            m.session_id = Some(case.session_id);
        }
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn s7plus_round_trip_and_truncation(case in plus_case()) {
        let message = plus_message(&case);
        let mut out = Vec::new();
        plus::encode(&mut out, &message).unwrap();
        let parsed = plus::parse(&out).unwrap();
        let expected_len = if case.version == plus::version::KEEP_ALIVE {
            0
        } else {
            out.len() - plus::HEADER_LEN - if message.trailer { plus::TRAILER_LEN } else { 0 }
        };
        let data_len = u16::try_from(expected_len).unwrap();
        prop_assert_eq!(parsed, plus::Message { data_len, ..message });
        if case.version == plus::version::KEEP_ALIVE {
            for n in 0..out.len() {
                let incomplete = matches!(plus::parse(&out[..n]), Err(Error::Incomplete { .. }));
                prop_assert!(incomplete);
            }
            return Ok(());
        }
        let data_end = plus::HEADER_LEN + expected_len;
        for n in 0..out.len() {
            let got = plus::parse(&out[..n]);
            if n < plus::HEADER_LEN {
                let needed = if n < 2 { 1 } else { plus::HEADER_LEN - n };
                let layer = Layer::S7commPlus;
                prop_assert_eq!(got, Err(Error::Incomplete { layer, offset: n, needed }));
            } else if n < data_end {
                let (layer, needed) = (Layer::S7commPlus, data_end - n);
                prop_assert_eq!(got, Err(Error::Incomplete { layer, offset: n, needed }));
            } else {
                // Inside the trailer: the data is whole, the trailer is not.
                let m = got.unwrap();
                prop_assert!(!m.trailer);
                let partial = m.anomalies.contains(plus::Anomalies::TRAILING_BYTES);
                prop_assert_eq!(partial, n > data_end);
            }
        }
        // Continuations keep header, trailer and integrity part.
        let c = plus::parse_continuation(&out).unwrap();
        prop_assert_eq!((c.opcode, c.function, c.trailer), (None, None, message.trailer));
        prop_assert_eq!(c.integrity_protected, message.integrity_protected);
    }
}

// ------------------------------------------------------- arbitrary input

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = probe(&data);
        let _ = classify_payload(&data);
        let _ = tpkt::frame(&data);
        let _ = cotp::parse(&data);
        let _ = cotp::tsap(&data);
        let _ = comm::parse(&data);
        let _ = comm::szl_request(&data);
        if let Some(response) = comm::szl_response(&data) {
            let _ = szl::records(&response).count();
        }
        let _ = comm::data_items(&data, 255).count();
        let _ = Items::new(255, &data).iter().count();
        let _ = comm::pi_blocks(&data).map(Iterator::count);
        let _ = Block::parse(&data);
        let _ = plus::parse(&data);
        let _ = plus::parse_continuation(&data);
        let _ = plus::strings(&data).count();
        fuzzing::s7_tpkt_cotp(&data);
        fuzzing::s7comm(&data);
        fuzzing::s7plus(&data);
    }

    #[test]
    fn protocol_shaped_bytes_never_panic(
        head in prop_oneof![
            Just(vec![0x32u8, 0x01]), Just(vec![0x32, 0x03]), Just(vec![0x32, 0x07]),
            Just(vec![0x72, 0x01]), Just(vec![0x72, 0x03]), Just(vec![0x03, 0x00]),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut data = head;
        data.extend_from_slice(&tail);
        fuzzing::s7_tpkt_cotp(&data);
        fuzzing::s7comm(&data);
        fuzzing::s7plus(&data);
    }
}
