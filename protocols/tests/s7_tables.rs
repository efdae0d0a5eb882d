//! Table tests of the S7 parsers on PDUs taken from the public captures in
//! `shared/pcaps` (each named by capture and frame), with the values tshark
//! reports for them (`shared/pcaps/truth`).

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use faro_protocols::s7::comm::{
    self, Area, Function, Item, Param, ReturnCode, Rosctr, UserdataGroup,
};
use faro_protocols::s7::cotp::{self, ConnectionType, Cotp};
use faro_protocols::s7::szl::{self, SzlRecord};
use faro_protocols::s7::{Payload, classify_payload, plus, probe, tpkt};
use faro_protocols::{Framing, Probe};

/// s7comm-icsnpp-s7ident.pcap frame 4: TPKT + COTP CR.
const CONNECTION_REQUEST: [u8; 22] = [
    0x03, 0x00, 0x00, 0x16, // TPKT: version 3, length 22
    0x11, // COTP length indicator: 17
    0xE0, // CR, credit 0
    0x00, 0x00, // destination reference
    0x00, 0x01, // source reference
    0x00, // class 0
    0xC0, 0x01, 0x0A, // TPDU size: 1024
    0xC1, 0x02, 0x01, 0x00, // calling TSAP (src-tsap): PG, rack 0 slot 0
    0xC2, 0x02, 0x01, 0x01, // called TSAP (dst-tsap): PG, rack 0 slot 1
];

#[test]
fn connection_request_from_s7ident() {
    assert_eq!(probe(&CONNECTION_REQUEST), Probe::Match);
    let Framing::Parsed { consumed, message } = tpkt::frame(&CONNECTION_REQUEST) else {
        panic!("not framed");
    };
    assert_eq!(consumed, 22);
    let Ok(Cotp::ConnectionRequest(c)) = cotp::parse(message.payload) else {
        panic!("not a CR");
    };
    assert_eq!((c.dst_ref, c.src_ref, c.class), (0, 1, 0));
    assert_eq!(c.tpdu_size_bytes(), Some(1024));
    let called = cotp::tsap(c.called_tsap.unwrap()).unwrap();
    assert_eq!(called.connection_type, ConnectionType::PG);
    assert_eq!((called.rack, called.slot), (0, 1));
    let calling = cotp::tsap(c.calling_tsap.unwrap()).unwrap();
    assert_eq!(calling.raw, 0x0100);
    // The encoder writes the parameters in the same order.
    let mut cotp_bytes = Vec::new();
    cotp::encode_cr(&mut cotp_bytes, &c).unwrap();
    let mut frame = Vec::new();
    tpkt::encode(&mut frame, &cotp_bytes).unwrap();
    assert_eq!(frame, CONNECTION_REQUEST);
}

/// s7comm-icsnpp-snap7.pcap frame 51: Read Var Job, one S7ANY item.
const READ_VAR_JOB: [u8; 24] = [
    0x32, 0x01, // S7comm, Job
    0x00, 0x00, // redundancy id
    0x19, 0x00, // PDU reference 6400
    0x00, 0x0E, 0x00, 0x00, // parameter 14 bytes, no data
    0x04, 0x01, // Read Var, 1 item
    0x12, 0x0A, 0x10, // var spec, length 10, S7ANY
    0x08, // transport size REAL
    0x00, 0x01, // 1 element
    0x00, 0x00, // DB 0
    0x83, // area M
    0x00, 0x00, 0x80, // address 16.0
];

#[test]
fn read_var_job_from_snap7() {
    assert_eq!(classify_payload(&READ_VAR_JOB), Payload::S7comm);
    let m = comm::parse(&READ_VAR_JOB).unwrap();
    assert!(m.anomalies.is_empty());
    assert_eq!(m.header.rosctr, Rosctr::JOB);
    assert_eq!(m.header.pdu_ref, 6400);
    let Param::ReadVar { items } = m.param else {
        panic!("{:?}", m.param)
    };
    assert_eq!(items.count(), 1);
    let Some(Item::Any(any)) = items.iter().next() else {
        panic!()
    };
    assert_eq!(any.area, Area::FLAGS);
    assert_eq!((any.db, any.byte_offset(), any.bit()), (0, 16, 0));
    let mut out = Vec::new();
    comm::encode(&mut out, &m).unwrap();
    assert_eq!(out, READ_VAR_JOB);
}

/// s7comm-icsnpp-s7ident.pcap frame 32: Read Var Ack_Data, five items that do not exist.
const READ_VAR_ACK_DATA: [u8; 34] = [
    0x32, 0x03, 0x00, 0x00, // S7comm, Ack_Data, redundancy id
    0x0A, 0x00, // PDU reference 2560
    0x00, 0x02, 0x00, 0x14, // parameter 2 bytes, data 20 bytes
    0x00, 0x00, // no error
    0x04, 0x05, // Read Var, 5 items
    0x0A, 0x00, 0x00, 0x04, // object does not exist, no data
    0x0A, 0x00, 0x00, 0x04, //
    0x0A, 0x00, 0x00, 0x04, //
    0x0A, 0x00, 0x00, 0x04, //
    0x0A, 0x00, 0x00, 0x04, //
];

#[test]
fn read_var_ack_data_from_s7ident() {
    let m = comm::parse(&READ_VAR_ACK_DATA).unwrap();
    assert!(m.anomalies.is_empty());
    assert_eq!(m.header.error, Some((0, 0)));
    assert_eq!(
        m.param,
        Param::AckFunction {
            function: Function::READ_VAR,
            item_count: Some(5)
        }
    );
    let codes: Vec<_> = comm::return_codes(&m).collect();
    assert_eq!(codes, [ReturnCode::OBJECT_DOES_NOT_EXIST; 5]);
}

/// s7comm-icsnpp-snap7.pcap frame 59: PI service `_MODU` (copy RAM to ROM).
const PI_SERVICE: [u8; 28] = [
    0x32, 0x01, 0x00, 0x00, 0x1D, 0x00, // S7comm Job, PDU reference 0x1D00
    0x00, 0x12, 0x00, 0x00, // parameter 18 bytes
    0x28, // PI service
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD, // unknown
    0x00, 0x02, 0x45, 0x50, // parameter block: "EP"
    0x05, 0x5F, 0x4D, 0x4F, 0x44, 0x55, // service name "_MODU"
];

#[test]
fn pi_service_from_snap7() {
    let m = comm::parse(&PI_SERVICE).unwrap();
    assert!(m.anomalies.is_empty());
    assert_eq!(
        m.param,
        Param::PiService {
            service: b"_MODU",
            parameters: b"EP"
        }
    );
    let mut out = Vec::new();
    comm::encode(&mut out, &m).unwrap();
    assert_eq!(out, PI_SERVICE);
}

/// s7comm-iti-downloading-block-db1.pcap frame 43: Request download of DB 1.
const REQUEST_DOWNLOAD: [u8; 42] = [
    0x32, 0x01, 0x00, 0x00, 0x0E, 0x00, // S7comm Job, PDU reference 0x0E00
    0x00, 0x20, 0x00, 0x00, // parameter 32 bytes
    0x1A, // request download
    0x00, // status
    0x01, 0x00, // unknown
    0x00, 0x00, 0x00, 0x00, // unknown
    0x09, b'_', b'0', b'A', b'0', b'0', b'0', b'0', b'1', b'P', // file name "_0A00001P"
    0x0D, b'1', // part 2: length 13, '1'
    b'0', b'0', b'0', b'5', b'0', b'0', // load memory length
    b'0', b'0', b'0', b'4', b'0', b'0', // MC7 code length
];

#[test]
fn request_download_from_iti() {
    let m = comm::parse(&REQUEST_DOWNLOAD).unwrap();
    assert!(m.anomalies.is_empty());
    let Param::Download {
        function,
        filename,
        block: Some(block),
        ..
    } = m.param
    else {
        panic!("{:?}", m.param)
    };
    assert_eq!(function, Function::REQUEST_DOWNLOAD);
    assert_eq!(filename, Some(&b"_0A00001P"[..]));
    assert_eq!(block.block_type, comm::BlockType::DB);
    assert_eq!(block.number, 1);
    assert_eq!(block.destination, b'P');
}

/// s7comm-icsnpp-s7ident.pcap frame 17: Read SZL 0x0424 response (current mode transition).
const SZL_0424_RESPONSE: [u8; 54] = [
    0x32, 0x07, 0x00, 0x00, 0x04, 0x00, // S7comm Userdata, PDU reference 1024
    0x00, 0x0C, 0x00, 0x20, // parameter 12, data 32
    0x00, 0x01, 0x12, 0x08, 0x12, // head, extended form
    0x84, // response, CPU functions
    0x01, 0x01, // Read SZL, sequence 1
    0x00, 0x00, 0x00, 0x00, // data unit ref, last unit, no error
    0xFF, 0x09, 0x00, 0x1C, // success, octet string, 28 bytes
    0x04, 0x24, 0x00, 0x00, // SZL 0x0424, index 0
    0x00, 0x14, 0x00, 0x01, // one record of 20 bytes
    0x51, 0x44, // event id
    0xFF, 0x08, // ae, modes: RUN requested, previous 0
    0x00, 0x00, 0x00, 0x00, // reserved
    0x00, 0x00, 0x00, 0x00, // startup information
    0x24, 0x10, 0x04, 0x21, 0x24, 0x25, 0x00, 0x05, // timestamp
];

#[test]
fn read_szl_0424_response_from_s7ident() {
    let m = comm::parse(&SZL_0424_RESPONSE).unwrap();
    assert!(m.anomalies.is_empty());
    let Param::Userdata {
        kind,
        group,
        subfunction,
        sequence,
        ..
    } = m.param
    else {
        panic!("{:?}", m.param)
    };
    assert_eq!((kind, group, subfunction, sequence), (8, 4, 1, 1));
    assert_eq!(
        comm::subfunction_name(UserdataGroup(group), subfunction),
        Some("read_szl")
    );
    let response = comm::szl_response(m.data).unwrap();
    assert_eq!((response.szl_id, response.index), (0x0424, 0));
    let records: Vec<_> = szl::records(&response).collect();
    assert_eq!(
        records,
        [SzlRecord::OperatingMode {
            event_id: 0x5144,
            requested_mode: 8,
            previous_mode: 0
        }]
    );
    assert_eq!(szl::mode_name(8), Some("run"));
    let mut out = Vec::new();
    comm::encode(&mut out, &m).unwrap();
    assert_eq!(out, SZL_0424_RESPONSE);
}

/// s7comm-iti-step7-s300-authpassword.pcap frame 4: PLC password response (group 5).
const PASSWORD_RESPONSE: [u8; 26] = [
    0x32, 0x07, 0x00, 0x00, 0x06, 0x00, // S7comm Userdata, PDU reference 0x0600
    0x00, 0x0C, 0x00, 0x04, // parameter 12, data 4
    0x00, 0x01, 0x12, 0x08, 0x12, // head, extended form
    0x85, // response, security
    0x01, 0x01, // PLC password, sequence 1
    0x00, 0x00, 0x00, 0x00, // data unit ref, last unit, no error
    0x0A, 0x00, 0x00, 0x00, // return code 0x0A, no data
];

#[test]
fn password_response_from_iti() {
    let m = comm::parse(&PASSWORD_RESPONSE).unwrap();
    assert!(m.anomalies.is_empty());
    assert!(matches!(
        m.param,
        Param::Userdata {
            kind: 8,
            group: 5,
            subfunction: 1,
            error: 0,
            ..
        }
    ));
    assert_eq!(
        comm::subfunction_name(UserdataGroup::SECURITY, 1),
        Some("plc_password")
    );
    let data = comm::userdata_data(m.data).unwrap();
    assert_eq!(data.return_code, ReturnCode::OBJECT_DOES_NOT_EXIST);
}

/// s7comm-iti-step7-s300-stop.pcap frames 1 and 4: PLC stop, then the mode transition push.
#[test]
fn plc_stop_and_mode_transition_from_iti() {
    let stop = [
        0x32, 0x01, 0x00, 0x00, 0x35, 0x00, // S7comm Job, PDU reference 0x3500
        0x00, 0x10, 0x00, 0x00, // parameter 16 bytes
        0x29, // PLC stop
        0x00, 0x00, 0x00, 0x00, 0x00, // unknown
        0x09, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M', // "P_PROGRAM"
    ];
    let m = comm::parse(&stop).unwrap();
    assert_eq!(
        m.param,
        Param::PlcStop {
            service: b"P_PROGRAM"
        }
    );
    assert_eq!(m.function(), Some(Function::PLC_STOP));

    let push = [
        0x32, 0x07, 0x00, 0x00, 0x00, 0x00, // S7comm Userdata, PDU reference 0
        0x00, 0x08, 0x00, 0x00, // parameter 8 bytes
        0x01, 0x00, 0x10, 0x10, 0x00, // mode transition head
        0x00, // push, group 0
        0x00, // mode entered: STOP
        0x00, // sequence
    ];
    let m = comm::parse(&push).unwrap();
    assert!(m.anomalies.is_empty());
    let Param::Userdata {
        function,
        kind,
        group,
        subfunction,
        ..
    } = m.param
    else {
        panic!("{:?}", m.param)
    };
    assert_eq!(function, Function::MODE_TRANSITION);
    assert_eq!((kind, group), (0, 0));
    assert_eq!(
        comm::subfunction_name(UserdataGroup::MODE_TRANSITION, subfunction),
        Some("stop")
    );
    let mut out = Vec::new();
    comm::encode(&mut out, &m).unwrap();
    assert_eq!(out, push);
}

/// s7commplus-agentcarter-barkink1.pcapng frame 39: V3 SetMultiVariables response.
const PLUS_V3_RESPONSE: [u8; 58] = [
    0x72, 0x03, 0x00, 0x32, // S7comm-plus V3, 50 data bytes
    0x20, // digest length 32
    0x58, 0xC9, 0xA7, 0x25, 0x8C, 0x15, 0x2F, 0x44, // digest
    0x59, 0xFC, 0xC2, 0x54, 0x09, 0x1D, 0x78, 0xF0, //
    0x88, 0xA7, 0x08, 0xB3, 0x15, 0x48, 0xA1, 0x29, //
    0x28, 0xAF, 0x40, 0xEB, 0xFF, 0x8A, 0x75, 0x2C, //
    0x32, // opcode: response
    0x00, 0x00, // reserved
    0x05, 0x42, // SetMultiVariables
    0x00, 0x00, // reserved
    0x00, 0x21, // sequence 33
    0x34, // transport flags
    0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x00, // return value and the rest of the body
    0x72, 0x03, 0x00, 0x00, // trailer
];

#[test]
fn plus_v3_response_from_agentcarter() {
    let mut stream = Vec::new();
    cotp::encode_dt(&mut stream, true, &PLUS_V3_RESPONSE);
    let mut framed = Vec::new();
    tpkt::encode(&mut framed, &stream).unwrap();
    assert_eq!(probe(&framed), Probe::Match);
    assert_eq!(classify_payload(&PLUS_V3_RESPONSE), Payload::S7commPlus);
    let m = plus::parse(&PLUS_V3_RESPONSE).unwrap();
    assert!(m.anomalies.is_empty());
    assert_eq!(m.protocol_version, plus::version::V3);
    assert!(m.integrity_protected);
    assert_eq!(m.digest.map(<[u8]>::len), Some(32));
    assert_eq!(m.opcode, Some(plus::Opcode::RESPONSE));
    assert_eq!(m.function, Some(0x0542));
    assert_eq!(m.sequence, Some(33));
    assert_eq!(m.session_id, None);
    assert!(m.trailer);
    let mut out = Vec::new();
    plus::encode(&mut out, &m).unwrap();
    assert_eq!(out, PLUS_V3_RESPONSE);
}

/// s7commplus-agentcarter-offline-stop-yeni-yeni.pcapng frame 74: V2 SetMultiVariables response.
const PLUS_V2_RESPONSE: [u8; 25] = [
    0x72, 0x02, 0x00, 0x11, // S7comm-plus V2, 17 data bytes
    0x32, // opcode: response
    0x00, 0x00, // reserved
    0x05, 0x42, // SetMultiVariables
    0x00, 0x00, // reserved
    0x00, 0x02, // sequence 2
    0x34, // transport flags
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // body
    0x72, 0x02, 0x00, 0x00, // trailer
];

/// s7commplus-agentcarter-barkink1.pcapng frame 23: system event (extended keep-alive).
const PLUS_SYSTEM_EVENT: [u8; 20] = [
    0x72, 0xFE, 0x00, 0x10, // S7comm-plus system event, 16 data bytes
    0x00, 0x00, 0x00, 0x00, // reserved
    0x00, 0x06, 0xA4, 0xB2, // confirmed bytes
    0x00, 0x00, 0x00, 0x00, // reserved
    0x00, 0x00, 0x00, 0x00, // reserved
];

#[test]
fn plus_v2_response_and_system_event() {
    let m = plus::parse(&PLUS_V2_RESPONSE).unwrap();
    assert!(m.anomalies.is_empty());
    assert_eq!(
        (m.protocol_version, m.opcode, m.function, m.sequence),
        (2, Some(plus::Opcode::RESPONSE), Some(0x0542), Some(2))
    );
    assert_eq!(
        plus::function_name(m.function.unwrap()),
        Some("set_multi_variables")
    );
    let e = plus::parse(&PLUS_SYSTEM_EVENT).unwrap();
    assert!(e.anomalies.is_empty());
    assert_eq!(e.protocol_version, plus::version::SYSTEM_EVENT);
    assert_eq!((e.opcode, e.data_len, e.body.len()), (None, 16, 16));
    assert!(!e.trailer);
}
