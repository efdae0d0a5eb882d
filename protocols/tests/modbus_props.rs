//! Property tests of the Modbus/TCP parser: build a body → encode → frame →
//! parse → compare; every truncation needs the exact number of bytes; no input panics.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use faro_protocols::modbus::{
    Adu, Anomalies, Body, DeviceIdObjects, Direction, ExceptionCode, FunctionCode, MAX_MBAP_LENGTH,
    MBAP_HEADER_LEN, MbapHeader, Message, encode, frame, parse, probe, response_anomalies,
};
use faro_protocols::{Framing, Probe};
use proptest::prelude::*;

/// Random fields from which one body of any variant is built, with byte
/// counts consistent with the data so that the round trip is exact.
#[derive(Debug, Clone)]
struct Case {
    variant: u8,
    pick: u8,
    request: bool,
    a: u16,
    b: u16,
    c: u16,
    d: u16,
    e: u8,
    f: u8,
    g: u8,
    h: u8,
    data: Vec<u8>,
}

/// Most data bytes a generated body carries: the longest fixed fields (FC 23 request: 9 bytes)
/// plus this stay within the 253-byte PDU.
const MAX_DATA: usize = 240;

fn case() -> impl Strategy<Value = Case> {
    (
        (0u8..19, any::<u8>(), any::<bool>()),
        (any::<u16>(), any::<u16>(), any::<u16>(), any::<u16>()),
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
        proptest::collection::vec(any::<u8>(), 0..=MAX_DATA),
    )
        .prop_map(
            |((variant, pick, request), (a, b, c, d), (e, f, g, h), data)| Case {
                variant,
                pick,
                request,
                a,
                b,
                c,
                d,
                e,
                f,
                g,
                h,
                data,
            },
        )
}

fn choose(pick: u8, codes: &[u8]) -> FunctionCode {
    FunctionCode(codes[usize::from(pick) % codes.len()])
}

fn len_u8(data: &[u8]) -> u8 {
    u8::try_from(data.len()).unwrap()
}

/// Function codes that decode as `Body::Raw`: everything but the public assigned codes.
fn raw_function(pick: u8) -> FunctionCode {
    let code = pick & 0x7F;
    if FunctionCode(code).name().is_some() {
        FunctionCode(code.wrapping_add(1) | 0x40) // 0x40..=0x7F holds no public assigned code but 43
    } else {
        FunctionCode(code)
    }
}

impl Case {
    fn either(&self) -> Direction {
        if self.request {
            Direction::Request
        } else {
            Direction::Response
        }
    }

    fn build(&self) -> (FunctionCode, Direction, Body<'_>) {
        use Direction::{Request, Response};
        let (a, b, c, d, e, f, g, h) = (
            self.a, self.b, self.c, self.d, self.e, self.f, self.g, self.h,
        );
        let data = self.data.as_slice();
        let pick = self.pick;
        match self.variant {
            0 => (
                choose(pick, &[1, 2, 3, 4]),
                Request,
                Body::ReadRequest {
                    start: a,
                    quantity: b,
                },
            ),
            1 => {
                let body = Body::ByteCounted {
                    byte_count: len_u8(data),
                    data,
                };
                if self.request {
                    (choose(pick, &[20, 21]), Request, body)
                } else {
                    (choose(pick, &[1, 2, 3, 4, 17, 20, 21, 23]), Response, body)
                }
            }
            2 => (
                choose(pick, &[5, 6]),
                self.either(),
                Body::WriteSingle {
                    address: a,
                    value: b,
                },
            ),
            3 => (
                choose(pick, &[15, 16]),
                Request,
                Body::WriteMultipleRequest {
                    start: a,
                    quantity: b,
                    byte_count: len_u8(data),
                    values: data,
                },
            ),
            4 => (
                choose(pick, &[15, 16]),
                Response,
                Body::WriteMultipleResponse {
                    start: a,
                    quantity: b,
                },
            ),
            5 => (
                FunctionCode::MASK_WRITE_REGISTER,
                self.either(),
                Body::MaskWrite {
                    address: a,
                    and_mask: b,
                    or_mask: c,
                },
            ),
            6 => (
                FunctionCode::READ_WRITE_MULTIPLE_REGISTERS,
                Request,
                Body::ReadWriteMultipleRequest {
                    read_start: a,
                    read_quantity: b,
                    write_start: c,
                    write_quantity: d,
                    byte_count: len_u8(data),
                    values: data,
                },
            ),
            7 => (
                FunctionCode::READ_FIFO_QUEUE,
                Request,
                Body::ReadFifoRequest { address: a },
            ),
            8 => (
                FunctionCode::READ_FIFO_QUEUE,
                Response,
                Body::ReadFifoResponse {
                    byte_count: u16::from(len_u8(data)) + 2,
                    fifo_count: b,
                    values: data,
                },
            ),
            9 => (
                FunctionCode::DIAGNOSTICS,
                self.either(),
                Body::Diagnostics {
                    sub_function: a,
                    data,
                },
            ),
            10 => (choose(pick, &[7, 11, 12, 17]), Request, Body::Empty),
            11 => (
                FunctionCode::READ_EXCEPTION_STATUS,
                Response,
                Body::ExceptionStatus { status: e },
            ),
            12 => (
                FunctionCode::GET_COMM_EVENT_COUNTER,
                Response,
                Body::CommEventCounter {
                    status: a,
                    event_count: b,
                },
            ),
            13 => {
                let events = data;
                (
                    FunctionCode::GET_COMM_EVENT_LOG,
                    Response,
                    Body::CommEventLog {
                        byte_count: len_u8(events) + 6,
                        status: a,
                        event_count: b,
                        message_count: c,
                        events,
                    },
                )
            }
            14 => (
                FunctionCode::ENCAPSULATED_INTERFACE_TRANSPORT,
                Request,
                Body::ReadDeviceIdRequest {
                    read_device_id_code: e,
                    object_id: f,
                },
            ),
            15 => (
                FunctionCode::ENCAPSULATED_INTERFACE_TRANSPORT,
                Response,
                Body::ReadDeviceIdResponse {
                    read_device_id_code: e,
                    conformity_level: f,
                    more_follows: g,
                    next_object_id: h,
                    number_of_objects: pick,
                    objects: DeviceIdObjects::new(data, pick),
                },
            ),
            16 => (
                FunctionCode::ENCAPSULATED_INTERFACE_TRANSPORT,
                self.either(),
                Body::MeiOther {
                    mei_type: if e == 14 { 13 } else { e },
                    data,
                },
            ),
            17 => (
                FunctionCode(pick | 0x80),
                Response,
                Body::Exception {
                    code: ExceptionCode(e),
                },
            ),
            _ => (raw_function(pick), self.either(), Body::Raw(data)),
        }
    }
}

/// Frames `buf`, which must hold exactly one ADU.
fn frame_one(buf: &[u8]) -> Adu<'_> {
    match frame(buf) {
        Framing::Parsed { consumed, message } => {
            assert_eq!(consumed, buf.len());
            message
        }
        other => panic!("not framed: {other:?}"),
    }
}

/// Exercises every accessor of a message; none may panic.
fn touch(message: &Message<'_>) {
    let _ = message.accesses().count();
    let _ = message.quantity();
    let _ = message.anomalies.names().count();
    let _ = message.function.class();
    let _ = message.function.name();
    if let Some(records) = message.file_records() {
        let _ = records.count();
    }
    if let Body::ReadDeviceIdResponse { objects, .. } = message.body {
        let _ = objects.iter().count();
        let _ = objects.is_well_formed();
    }
    for function in [1u8, 3, 16, 23, 0x83] {
        let _ = response_anomalies(FunctionCode(function), Some(message.header.length), message);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encode_frame_parse_round_trips(case in case(), transaction_id: u16, unit_id: u8) {
        let (function, direction, body) = case.build();
        let mut out = Vec::new();
        encode(&mut out, transaction_id, unit_id, function, &body).unwrap();
        let adu = frame_one(&out);
        prop_assert_eq!(
            adu.header,
            MbapHeader {
                transaction_id,
                protocol_id: 0,
                length: u16::try_from(out.len() - 6).unwrap(),
                unit_id,
            }
        );
        prop_assert!(adu.header.length <= MAX_MBAP_LENGTH);
        let message = parse(adu, direction);
        prop_assert_eq!(message.function, function);
        prop_assert_eq!(message.direction, direction);
        prop_assert_eq!(message.body, body);
        prop_assert!(!message.anomalies.intersects(Anomalies::TRUNCATED_PDU | Anomalies::BAD_PROTOCOL_ID));
        touch(&message);
        // Decode then encode gives the same bytes back.
        let mut again = Vec::new();
        encode(&mut again, transaction_id, unit_id, message.function, &message.body).unwrap();
        prop_assert_eq!(again, out);
    }

    #[test]
    fn every_truncation_needs_the_exact_byte_count(case in case()) {
        let (function, _, body) = case.build();
        let mut out = Vec::new();
        encode(&mut out, 7, 1, function, &body).unwrap();
        let total = out.len();
        let plausible = !matches!(function.0, 0 | 0x80);
        for cut in 0..total {
            let needed = if cut < 6 { 8 - cut } else { total - cut };
            prop_assert_eq!(frame(&out[..cut]), Framing::NeedMore { needed }, "cut {}", cut);
            if plausible {
                prop_assert_eq!(probe(&out[..cut]), Probe::NeedMore, "cut {}", cut);
            }
        }
        if plausible {
            prop_assert_eq!(probe(&out), Probe::Match);
        }
    }

    #[test]
    fn a_stream_of_adus_frames_one_by_one(cases in proptest::collection::vec(case(), 1..6)) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let (function, direction, body) = case.build();
            encode(&mut stream, u16::try_from(i).unwrap(), 1, function, &body).unwrap();
            expected.push((function, direction, body));
        }
        let mut rest = stream.as_slice();
        for (function, direction, body) in expected {
            let Framing::Parsed { consumed, message } = frame(rest) else {
                panic!("not framed");
            };
            let message = parse(message, direction);
            prop_assert_eq!(message.function, function);
            prop_assert_eq!(message.body, body);
            rest = &rest[consumed..];
        }
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = probe(&bytes);
        match frame(&bytes) {
            Framing::Parsed { consumed, message } => {
                prop_assert!(consumed <= bytes.len());
                prop_assert!(consumed > MBAP_HEADER_LEN);
                for direction in [Direction::Request, Direction::Response] {
                    touch(&parse(message, direction));
                }
            }
            Framing::NeedMore { needed } => prop_assert!(needed > 0),
            Framing::NotThisProtocol => {}
        }
    }

    #[test]
    fn arbitrary_pdus_never_panic(
        function: u8,
        data in proptest::collection::vec(any::<u8>(), 0..260),
        length: u16,
        protocol_id: u16,
        request: bool,
    ) {
        let mut pdu = vec![function];
        pdu.extend_from_slice(&data);
        let header = MbapHeader { transaction_id: 1, protocol_id, length, unit_id: 1 };
        let direction = if request { Direction::Request } else { Direction::Response };
        let message = parse(Adu { header, pdu: &pdu }, direction);
        touch(&message);
        prop_assert_eq!(message.function, FunctionCode(function));
        touch(&parse(Adu { header, pdu: &[] }, direction));
    }

    #[test]
    fn probe_rejects_text(text in "[ -~\r\n]{8,64}") {
        // Printable ASCII never has a zero protocol id.
        prop_assert_eq!(probe(text.as_bytes()), Probe::NoMatch);
    }
}
