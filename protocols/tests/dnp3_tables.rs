//! Table tests of the DNP3 parsers on frames taken from the public captures
//! in `shared/pcaps` (each named by capture and frame), with the values
//! tshark reports for them (`shared/pcaps/truth`).

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use faro_protocols::dnp3::app::{
    self, AnalogValue, FileMode, FileObject, FunctionCode, Iin, ObjectHeader, ObjectValues, OpType,
    Range,
};
use faro_protocols::dnp3::link::{self, LinkFunction};
use faro_protocols::dnp3::{probe, transport};
use faro_protocols::{Framing, Probe};

/// Frames `bytes` as exactly one link frame, checks its CRCs and returns it.
fn one_frame(bytes: &[u8]) -> link::Frame<'_> {
    assert_eq!(probe(bytes), Probe::Match);
    let Framing::Parsed { consumed, message } = link::frame(bytes) else {
        panic!("not framed: {bytes:02x?}");
    };
    assert_eq!(consumed, bytes.len());
    assert!(message.data_crc_ok);
    message
}

/// The application fragment of a single-segment frame (FIR and FIN set).
fn fragment(frame: &link::Frame<'_>) -> Vec<u8> {
    let mut segment = Vec::new();
    frame.data.copy_to(&mut segment);
    let (header, data) = transport::split(&segment).unwrap();
    assert!(header.fir && header.fin, "{header:?}");
    let mut reassembler = transport::Reassembler::new(2048);
    let transport::Assembly::Complete(fragment) = reassembler.push(header, data) else {
        panic!("not complete");
    };
    fragment.to_vec()
}

fn objects<'a>(f: &app::Fragment<'a>) -> Vec<ObjectHeader<'a>> {
    f.objects.iter().collect()
}

/// dnp3-iti-full-exchange.pcap frame 4: an unsolicited response announcing a restart.
/// tshark: ctl 0x44, src 10, dst 1, dir 0, func 130, IIN 0x8000.
const UNSOLICITED_RESTART: [u8; 17] = [
    0x05, 0x64, // start
    0x0A, // length: 5 + 5 bytes of user data
    0x44, // PRM, unconfirmed user data (DIR clear: from the outstation)
    0x01, 0x00, // destination 1
    0x0A, 0x00, // source 10
    0x6E, 0x25, // header CRC
    0xC0, // transport: FIN, FIR, sequence 0
    0xF0, // application: FIR, FIN, CON, UNS, sequence 0
    0x82, // unsolicited response
    0x80, 0x00, // IIN1.7 device restart
    0x6B, 0x7D, // data CRC
];

#[test]
fn unsolicited_response_from_full_exchange() {
    let frame = one_frame(&UNSOLICITED_RESTART);
    let h = frame.header;
    assert_eq!((h.control.0, h.source, h.destination), (0x44, 10, 1));
    assert!(!h.control.dir() && h.control.prm());
    assert_eq!(h.control.function(), LinkFunction::UNCONFIRMED_USER_DATA);
    let bytes = fragment(&frame);
    let f = app::parse(&bytes).unwrap();
    assert_eq!(f.function, FunctionCode::UNSOLICITED_RESPONSE);
    assert_eq!(f.iin.map(|i| i.bits()), Some(0x8000));
    assert!(f.control.uns() && f.control.con() && f.control.fir() && f.control.fin());
    assert!(f.objects.is_empty() && f.anomalies.is_empty());
    // The encoders give the frame back.
    let mut fragment_bytes = Vec::new();
    app::encode(
        &mut fragment_bytes,
        f.control,
        f.function,
        f.iin,
        f.objects.bytes(),
    );
    let mut segment = Vec::new();
    transport::encode(
        &mut segment,
        transport::TransportHeader::from_byte(0xC0),
        &fragment_bytes,
    );
    let mut out = Vec::new();
    link::encode(&mut out, &h, &segment).unwrap();
    assert_eq!(out, UNSOLICITED_RESTART);
}

/// dnp3-icsnpp-example.pcap frame 16: Read class 0.
/// tshark: ctl 0xc4, src 100, dst 5, dir 1, func 1, obj 0x3c01.
const READ_CLASS_0: [u8; 18] = [
    0x05, 0x64, 0x0B, // start, length 11
    0xC4, // DIR, PRM, unconfirmed user data
    0x05, 0x00, 0x64, 0x00, // destination 5, source 100
    0x6F, 0x36, // header CRC
    0xD5, // transport: FIN, FIR, sequence 21
    0xC8, // application: FIR, FIN, sequence 8
    0x01, // read
    0x3C, 0x01, 0x06, // g60v1 class 0, all
    0xFE, 0x85, // data CRC
];

#[test]
fn class_0_read_from_icsnpp() {
    let frame = one_frame(&READ_CLASS_0);
    assert_eq!((frame.header.source, frame.header.destination), (100, 5));
    assert!(frame.header.control.dir());
    let bytes = fragment(&frame);
    let f = app::parse(&bytes).unwrap();
    assert_eq!(f.function, FunctionCode::READ);
    assert_eq!(f.iin, None);
    let headers = objects(&f);
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].object(), 0x3C01);
    assert_eq!(headers[0].range, Range::All);
    assert_eq!(headers[0].name(), Some("class_0_data"));
    assert!(!headers[0].with_values && f.anomalies.is_empty());
}

/// dnp3-icsnpp-example.pcap frame 310: Operate, one CROB (close, pulse off, 500 ms).
/// tshark: ctl 0xc4, func 4, obj 0x0c01, dnp3.ctl.op 2.
const OPERATE_CROB: [u8; 33] = [
    0x05, 0x64, 0x18, 0xC4, // start, length 24, DIR PRM unconfirmed user data
    0x05, 0x00, 0x64, 0x00, // destination 5, source 100
    0xFE, 0xDD, // header CRC
    0xCD, // transport: FIN, FIR, sequence 13
    0xC8, // application: FIR, FIN, sequence 8
    0x04, // operate
    0x0C, 0x01, 0x17, 0x01, // g12v1, 1-byte index prefix, count 1
    0x02, // index 2
    0x42, // control code: close, pulse off
    0x01, // count
    0xF4, 0x01, 0x00, 0x00, // on-time 500 ms
    0x00, 0x00, // off-time, low half
    0x68, 0x0C, // CRC of the first 16-byte block
    0x00, 0x00, // off-time, high half
    0x00, // status
    0xFF, 0xFF, // CRC of the last block
];

#[test]
fn operate_crob_from_icsnpp() {
    let frame = one_frame(&OPERATE_CROB);
    let bytes = fragment(&frame);
    let f = app::parse(&bytes).unwrap();
    assert_eq!(f.function, FunctionCode::OPERATE);
    assert!(f.function.is_control());
    let headers = objects(&f);
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].object(), 0x0C01);
    let ObjectValues::Crob(crobs) = headers[0].values.clone() else {
        panic!("{:?}", headers[0].values);
    };
    let crobs: Vec<_> = crobs.collect();
    assert_eq!(crobs.len(), 1);
    let crob = crobs[0];
    assert_eq!(crob.index, 2);
    assert_eq!(crob.op_type(), OpType::PULSE_OFF);
    assert_eq!(crob.op_type().0, 2, "tshark dnp3.ctl.op");
    assert_eq!(
        (crob.count, crob.on_ms, crob.off_ms, crob.status),
        (1, 500, 0, 0)
    );
    assert!(f.anomalies.is_empty());
}

/// dnp3-iti-full-exchange.pcap frame 10: Write g80v1 index 7 = 0 (clear device restart).
/// tshark: func 2, obj 0x5001.
const WRITE_IIN: [u8; 21] = [
    0x05, 0x64, 0x0E, 0xC4, // start, length 14, DIR PRM unconfirmed user data
    0x0A, 0x00, 0x01, 0x00, // destination 10, source 1
    0x25, 0x29, // header CRC
    0xC2, // transport: FIN, FIR, sequence 2
    0xC1, // application: FIR, FIN, sequence 1
    0x02, // write
    0x50, 0x01, 0x00, 0x07, 0x07, // g80v1, start 7 stop 7
    0x00, // packed: IIN1.7 = 0
    0xC5, 0xAF, // data CRC
];

#[test]
fn write_iin_from_full_exchange() {
    let frame = one_frame(&WRITE_IIN);
    let bytes = fragment(&frame);
    let f = app::parse(&bytes).unwrap();
    assert_eq!(f.function, FunctionCode::WRITE);
    let headers = objects(&f);
    assert_eq!(headers[0].range, Range::StartStop { start: 7, stop: 7 });
    let ObjectValues::Iin(bits) = headers[0].values.clone() else {
        panic!("{:?}", headers[0].values);
    };
    let points: Vec<_> = bits.collect();
    assert_eq!(points, [(7, 0)]);
    assert_eq!(Iin::point(points[0].0), Some(Iin::DEVICE_RESTART));
    let mut objects_bytes = Vec::new();
    app::write_iin_clear(&mut objects_bytes, 7).unwrap();
    assert_eq!(objects_bytes, f.objects.bytes());
}

/// dnp3-zeek-write.pcap frame 4: Write g50v1, the master's time.
/// tshark: func 2, obj 0x3201.
const WRITE_TIME: [u8; 25] = [
    0x05, 0x64, 0x12, 0xC4, // start, length 18
    0x02, 0x00, 0x03, 0x00, // destination 2, source 3
    0x9C, 0x68, // header CRC
    0xDF, // transport: FIN, FIR, sequence 31
    0xC0, // application: FIR, FIN, sequence 0
    0x02, // write
    0x32, 0x01, 0x07, 0x01, // g50v1, count 1
    0x83, 0xA5, 0x5C, 0x58, 0x34, 0x01, // 1324332393859 ms: 2011-12-19T22:06:33.859Z
    0xF3, 0xD2, // data CRC
];

#[test]
fn write_time_from_zeek() {
    let bytes = fragment(&one_frame(&WRITE_TIME));
    let f = app::parse(&bytes).unwrap();
    let headers = objects(&f);
    let ObjectValues::Time(times) = headers[0].values.clone() else {
        panic!("{:?}", headers[0].values);
    };
    let times: Vec<_> = times.collect();
    assert_eq!(times.len(), 1);
    assert_eq!(times[0].timestamp_ms, 1_324_332_393_859);
    assert_eq!(times[0].interval, None);
    let mut objects_bytes = Vec::new();
    app::write_time(&mut objects_bytes, 1_324_332_393_859).unwrap();
    assert_eq!(objects_bytes, f.objects.bytes());
}

/// dnp3-opendnp3conf-8.4.4.2.pcap frame 4: Select, four g41v2 analog outputs.
/// tshark: func 3, obj 0x2902.
const SELECT_ANALOG: [u8; 42] = [
    0x05, 0x64, 0x21, 0xC4, // start, length 33
    0x00, 0x04, 0x01, 0x00, // destination 1024, source 1
    0x23, 0xC7, // header CRC
    0xC0, // transport: FIN, FIR, sequence 0
    0xC0, // application: FIR, FIN, sequence 0
    0x03, // select
    0x29, 0x02, 0x28, 0x04, 0x00, // g41v2, 2-byte index prefix, count 4
    0x0A, 0x00, 0x0A, 0x00, 0x00, // index 10, value 10, status 0
    0x0B, 0x00, 0x0A, // index 11, value (low byte)
    0x75, 0x98, // CRC of the first block
    0x00, 0x00, // value (high byte), status 0
    0x0C, 0x00, 0x0A, 0x00, 0x00, // index 12, value 10, status 0
    0x0D, 0x00, 0x0A, 0x00, 0x00, // index 13, value 10, status 0
    0xD0, 0x44, // CRC of the last block
];

#[test]
fn select_analog_outputs_from_opendnp3() {
    let bytes = fragment(&one_frame(&SELECT_ANALOG));
    let f = app::parse(&bytes).unwrap();
    assert_eq!(f.function, FunctionCode::SELECT);
    let headers = objects(&f);
    assert_eq!(headers[0].object(), 0x2902);
    let ObjectValues::AnalogOutput(outputs) = headers[0].values.clone() else {
        panic!("{:?}", headers[0].values);
    };
    let outputs: Vec<_> = outputs.collect();
    assert_eq!(
        outputs.iter().map(|o| o.index).collect::<Vec<_>>(),
        [10, 11, 12, 13]
    );
    assert!(
        outputs
            .iter()
            .all(|o| o.value == AnalogValue::I16(10) && o.status == 0)
    );
    let mut objects_bytes = Vec::new();
    app::write_analog_outputs(
        &mut objects_bytes,
        app::Qualifier::INDEX_16_COUNT_16,
        &outputs,
    )
    .unwrap();
    assert_eq!(objects_bytes, f.objects.bytes());
}

/// dnp3-iti-file-write.pcap frame 1: Open File `./helloworld.txt` for writing.
/// tshark: func 25, obj 0x4603.
const OPEN_FILE: [u8; 60] = [
    0x05, 0x64, 0x38, 0xC4, // start, length 56
    0x04, 0x00, 0x03, 0x00, // destination 4, source 3
    0xF7, 0x31, // header CRC
    0xE8, // transport: FIN, FIR, sequence 40
    0xC9, // application: FIR, FIN, sequence 9
    0x19, // open file
    0x46, 0x03, 0x5B, 0x01, // g70v3, free format, count 1
    0x2A, 0x00, // object size 42
    0x1A, 0x00, 0x10, 0x00, // name offset 26, name size 16
    0xC8, 0xB3, 0x31, // created (low bytes)
    0x43, 0xB6, // CRC of the first block
    0x5A, 0x4C, 0x01, // created (high bytes): 1427442349000 ms
    0xFF, 0x01, // permissions 0o777
    0x00, 0x00, 0x00, 0x00, // authentication key
    0x09, 0x00, 0x00, 0x00, // file size 9
    0x02, 0x00, // mode: write
    0x00, // max block size (low byte)
    0xC4, 0x01, // CRC of the second block
    0x04, // max block size (high byte): 1024
    0x06, 0x00, // request id 6
    0x2E, 0x2F, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x77, 0x6F, 0x72,
    0x6C, // "./helloworl" ("d.txt" follows)
];

#[test]
fn open_file_from_iti() {
    // The capture's frame is 69 bytes; the table holds its first 60 and the
    // encoders rebuild the whole frame from the decoded fields.
    let name = b"./helloworld.txt";
    let command = app::FileCommand {
        name,
        created_ms: 1_427_442_349_000,
        permissions: 0o777,
        authentication_key: 0,
        file_size: 9,
        mode: FileMode::WRITE,
        max_block_size: 1024,
        request_id: 6,
    };
    let mut objects_bytes = Vec::new();
    app::write_file_command(&mut objects_bytes, &command).unwrap();
    let mut fragment_bytes = Vec::new();
    app::encode(
        &mut fragment_bytes,
        app::AppControl(0xC9),
        FunctionCode::OPEN_FILE,
        None,
        &objects_bytes,
    );
    let mut segment = vec![0xE8];
    segment.extend_from_slice(&fragment_bytes);
    let header = link::Header {
        length: 0,
        control: link::Control(0xC4),
        destination: 4,
        source: 3,
    };
    let mut frame = Vec::new();
    link::encode(&mut frame, &header, &segment).unwrap();
    assert_eq!(
        frame[..60],
        OPEN_FILE,
        "the encoder writes the capture's bytes"
    );
    // The first 60 bytes need the rest of the frame.
    assert_eq!(
        link::frame(&OPEN_FILE),
        Framing::NeedMore {
            needed: frame.len() - 60
        }
    );
    let bytes = fragment(&one_frame(&frame));
    let f = app::parse(&bytes).unwrap();
    assert_eq!(f.function, FunctionCode::OPEN_FILE);
    assert!(f.function.is_file() && f.anomalies.is_empty());
    let headers = objects(&f);
    assert_eq!(headers[0].object(), 0x4603);
    let ObjectValues::File(mut files) = headers[0].values.clone() else {
        panic!("{:?}", headers[0].values);
    };
    let Some(FileObject::Command(decoded)) = files.next() else {
        panic!("no file command");
    };
    assert_eq!(decoded, command);
}

/// dnp3-iti-operate-aggressive-mode.pcap frame 1: the application fragment
/// (link CRCs and transport byte 0xD3 removed) of a Direct Operate in Secure
/// Authentication aggressive mode: g120v3, a CROB, the g120v9 MAC.
/// tshark: func 5; it lists 0x7803 only, the three headers are there.
const AGGRESSIVE_MODE: [u8; 52] = [
    0xCC, // application: FIR, FIN, sequence 12
    0x05, // direct operate
    0x78, 0x03, 0x07, 0x01, // g120v3 aggressive mode request, count 1
    0x09, 0x00, 0x00, 0x00, // challenge sequence number 9
    0x01, 0x00, // user 1
    0x0C, 0x01, 0x28, 0x01, 0x00, // g12v1, 2-byte index prefix, count 1
    0x01, 0x00, // index 1
    0x03, 0x01, // latch on, count 1
    0x64, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, // on 100 ms, off 100 ms
    0x00, // status
    0x78, 0x09, 0x5B, 0x01, // g120v9 MAC, free format, count 1
    0x10, 0x00, // object size 16
    0xBA, 0x8D, 0xB4, 0x4D, 0x5E, 0x72, 0xCD, 0x0A, // MAC
    0xD4, 0x18, 0xE5, 0xE4, 0x15, 0x25, 0x68, 0x67,
];

#[test]
fn aggressive_mode_from_iti() {
    let f = app::parse(&AGGRESSIVE_MODE).unwrap();
    assert_eq!(f.function, FunctionCode::DIRECT_OPERATE);
    assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
    let headers = objects(&f);
    assert_eq!(
        headers.iter().map(ObjectHeader::object).collect::<Vec<_>>(),
        [0x7803, 0x0C01, 0x7809]
    );
    assert!(matches!(
        headers[0].values,
        ObjectValues::SecureAuth {
            variation: 3,
            data: [9, 0, 0, 0, 1, 0]
        }
    ));
    let ObjectValues::SecureAuth { variation: 9, data } = headers[2].values else {
        panic!("{:?}", headers[2].values);
    };
    assert_eq!(data.len(), 16);
}

/// dnp3-opendnp3conf-6.6.2.3.pcap frame 4: a header announcing no user data
/// followed by the user data (and CRC) a correct length would have covered.
/// tshark marks the frame malformed.
const SHORT_LENGTH: [u8; 24] = [
    0x05, 0x64, 0x05, 0xC4, 0x01, 0x04, 0x01, 0x00, 0x27, 0xB9, // header, length 5
    0xC0, 0xC0, 0x01, 0x3C, 0x02, 0x06, 0x3C, 0x03, 0x06, 0x3C, 0x04, 0x06, 0x9E, 0x30,
];

#[test]
fn resynchronises_after_a_short_length() {
    let Framing::Parsed { consumed, message } = link::frame(&SHORT_LENGTH) else {
        panic!("not framed");
    };
    assert_eq!(consumed, 10);
    assert!(message.data.is_empty());
    let rest = &SHORT_LENGTH[consumed..];
    assert_eq!(link::frame(rest), Framing::NotThisProtocol);
    assert_eq!(link::find_start(rest), None);
    assert_eq!(probe(rest), Probe::NoMatch);
}

/// dnp3-zeek-udp-read.pcap frame 1: Request Link Status over UDP.
/// tshark: ctl 0x49, src 1, dst 100.
const REQUEST_LINK_STATUS: [u8; 10] = [
    0x05, 0x64, 0x05, // start, length 5
    0x49, // PRM, request link status (DIR clear)
    0x64, 0x00, 0x01, 0x00, // destination 100, source 1
    0x7E, 0x5F, // header CRC
];

#[test]
fn request_link_status_from_zeek_udp() {
    let frame = one_frame(&REQUEST_LINK_STATUS);
    let c = frame.header.control;
    assert_eq!(c.function(), LinkFunction::REQUEST_LINK_STATUS);
    assert_eq!(c.function_name(), Some("request_link_status"));
    assert!(!c.is_user_data() && !c.dir());
    assert_eq!((frame.header.source, frame.header.destination), (1, 100));
}
