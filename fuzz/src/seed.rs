//! Writes run-time seed corpora from capture files: Modbus/TCP payloads for
//! `modbus_stream`; ISO-on-TCP payloads for `s7_tpkt_cotp` and the COTP user
//! data inside them for `s7comm` (protocol id 0x32) and `s7plus` (0x72); UA
//! TCP payloads for `opcua_transport` and the plain service messages inside
//! their OPN/MSG/CLO chunks for `opcua_service`; and groups of raw frames for
//! `pipeline_frames`.
//!
//! Usage: seed OUT_DIR CAPTURE...   (e.g. seed corpus-run ../../shared/pcaps/*)
//! Seeds taken from other people's captures are written under names starting
//! with `seed-`, which .gitignore keeps out of the repository.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

const FRAMES_PER_SEED: usize = 48;

fn write_seed(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    std::fs::write(dir.join(format!("seed-{:016x}", h.finish())), bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: seed OUT_DIR CAPTURE...")?);
    let modbus_dir = out.join("modbus_stream");
    let pipeline_dir = out.join("pipeline_frames");
    let [tpkt_dir, s7comm_dir, s7plus_dir] = ["s7_tpkt_cotp", "s7comm", "s7plus"].map(|t| out.join(t));
    let [dnp3_link_dir, dnp3_app_dir] = ["dnp3_link", "dnp3_app"].map(|t| out.join(t));
    let [opcua_transport_dir, opcua_service_dir] = ["opcua_transport", "opcua_service"].map(|t| out.join(t));
    for dir in [&modbus_dir, &pipeline_dir, &tpkt_dir, &s7comm_dir, &s7plus_dir, &dnp3_link_dir, &dnp3_app_dir, &opcua_transport_dir, &opcua_service_dir] {
        std::fs::create_dir_all(dir)?;
    }
    let (mut modbus, mut pipeline, mut s7, mut dnp3, mut opcua) = (0, 0, 0, 0, 0);
    for file in args {
        let Ok(mut capture) = pcap::Capture::from_file(&file) else {
            eprintln!("skipping {file}");
            continue;
        };
        let link_index = match capture.get_datalink().0 {
            1 => 0u8,
            113 => 1,
            276 => 2,
            101 | 12 | 14 | 228 | 229 => 3,
            0 | 108 => 4,
            _ => continue,
        };
        let mut frames: Vec<Vec<u8>> = Vec::new();
        while let Ok(packet) = capture.next_packet() {
            let data = packet.data.to_vec();
            if let Ok(p) = etherparse_payload(&data, link_index) {
                if p.len() >= 8 && p.get(2..4) == Some(&[0, 0]) {
                    write_seed(&modbus_dir, &p)?;
                    modbus += 1;
                }
                if p.starts_with(&faro_protocols::dnp3::link::START) {
                    write_seed(&dnp3_link_dir, &p)?;
                    dnp3 += 1;
                    // Single-segment application fragments: link user data without CRCs,
                    // after the transport byte.
                    if let faro_protocols::Framing::Parsed { message, .. } = faro_protocols::dnp3::link::frame(&p) {
                        let mut data = Vec::new();
                        message.data.copy_to(&mut data);
                        if let Some((header, fragment)) = faro_protocols::dnp3::transport::split(&data) {
                            if header.fir && header.fin && !fragment.is_empty() {
                                write_seed(&dnp3_app_dir, fragment)?;
                            }
                        }
                    }
                }
                if faro_protocols::opcua::transport::probe(&p) == faro_protocols::Probe::Match {
                    write_seed(&opcua_transport_dir, &p)?;
                    opcua += 1;
                    for message in opcua_service_messages(&p) {
                        write_seed(&opcua_service_dir, message)?;
                    }
                }
                if p.first() == Some(&faro_protocols::s7::tpkt::VERSION) {
                    write_seed(&tpkt_dir, &p)?;
                    s7 += 1;
                    if let faro_protocols::Framing::Parsed { message, .. } = faro_protocols::s7::tpkt::frame(&p) {
                        if let Ok(faro_protocols::s7::cotp::Cotp::Data { user_data, .. }) =
                            faro_protocols::s7::cotp::parse(message.payload)
                        {
                            match user_data.first() {
                                Some(0x32) => write_seed(&s7comm_dir, user_data)?,
                                Some(0x72) => write_seed(&s7plus_dir, user_data)?,
                                _ => {}
                            }
                        }
                    }
                }
            }
            frames.push(data);
            if frames.len() == FRAMES_PER_SEED {
                write_seed(&pipeline_dir, &faro_sensor::fuzzing::encode_frames(link_index, frames.iter().map(Vec::as_slice)))?;
                pipeline += 1;
                frames.clear();
            }
        }
        if !frames.is_empty() {
            write_seed(&pipeline_dir, &faro_sensor::fuzzing::encode_frames(link_index, frames.iter().map(Vec::as_slice)))?;
            pipeline += 1;
        }
    }
    let plus = synthesize_s7plus(&s7plus_dir)?;
    eprintln!(
        "wrote {modbus} modbus_stream, {s7} S7, {dnp3} DNP3, {opcua} OPC UA, {plus} synthesized s7plus and {pipeline} pipeline_frames seeds under {}",
        out.display()
    );
    Ok(())
}

/// S7comm-plus seeds made by the project's own encoder (no capture needed):
/// requests and responses of the common functions, in protocol versions 1, 2
/// and 3 (with an integrity digest), with and without a trailer. Written as
/// `gen-plus-*`, so they may be committed.
fn synthesize_s7plus(dir: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    use faro_protocols::s7::plus::{self, Function, Message, Opcode};
    let functions = [
        Function::CREATE_OBJECT,
        Function::DELETE_OBJECT,
        Function::SET_VARIABLE,
        Function::GET_MULTI_VARIABLES,
        Function::SET_MULTI_VARIABLES,
        Function::INVOKE,
        Function::EXPLORE,
    ];
    let digest = [0x5a; 32];
    let body = b"\x00\x00\x01\x20\x36\x00\x00\x01\x1d\x00\x04SIMATIC S7-1500 6ES7 515-2AM01-0AB0 V2.8.3";
    let mut count = 0;
    for (i, function) in functions.iter().enumerate() {
        for opcode in [Opcode::REQUEST, Opcode::RESPONSE] {
            for version in [1u8, 2, 3] {
                for trailer in [true, false] {
                    let message = Message {
                        protocol_version: version,
                        data_len: 0,
                        opcode: Some(opcode),
                        function: Some(function.0),
                        sequence: Some(u16::try_from(i).unwrap_or(0) + 1),
                        session_id: (opcode == Opcode::REQUEST).then_some(0x0000_0120),
                        transport_flags: Some(0x36),
                        body,
                        integrity_protected: version == 3,
                        digest: (version == 3).then_some(&digest[..]),
                        trailer,
                        anomalies: plus::Anomalies::empty(),
                    };
                    let mut out = Vec::new();
                    if plus::encode(&mut out, &message).is_ok() {
                        std::fs::write(dir.join(format!("gen-plus-{i}-{}-{version}-{trailer}", opcode.0)), &out)?;
                        count += 1;
                    }
                }
            }
        }
    }
    Ok(count)
}

/// The service messages (after the sequence header) of the single-chunk
/// OPN, MSG and CLO messages framed in a UA TCP payload. OPN chunks count
/// only with policy None: otherwise their body is encrypted.
fn opcua_service_messages(payload: &[u8]) -> Vec<&[u8]> {
    use faro_protocols::opcua::{secure, transport};
    let mut out = Vec::new();
    let mut rest = payload;
    while let faro_protocols::Framing::Parsed { consumed, message } = transport::frame(rest) {
        if message.header.chunk_type == transport::ChunkType::Final {
            let after_security = match message.header.message_type {
                transport::MessageType::Open => secure::parse_open(message.body).ok().and_then(|open| {
                    let policy = open.security.security_policy_uri.map(secure::SecurityPolicy::from_uri);
                    (policy == Some(secure::SecurityPolicy::None)).then_some(open.rest)
                }),
                transport::MessageType::Message | transport::MessageType::Close => {
                    secure::parse_symmetric(message.body).ok().map(|chunk| chunk.rest)
                }
                _ => None,
            };
            if let Some((_, body)) = after_security.and_then(|rest| secure::split_sequence(rest).ok()) {
                out.push(body);
            }
        }
        rest = rest.get(consumed..).unwrap_or_default();
    }
    out
}

/// The TCP payload of a frame, by the sensor's own decoder.
fn etherparse_payload(frame: &[u8], link_index: u8) -> Result<Vec<u8>, ()> {
    let link = faro_sensor::fuzzing::LINK_TYPES
        .get(usize::from(link_index))
        .copied()
        .ok_or(())?;
    match faro_sensor::decode::decode(link, frame) {
        faro_sensor::decode::Decoded::Packet(p) => match p.transport {
            faro_sensor::decode::Transport::Tcp { payload, .. } => Ok(payload.to_vec()),
            _ => Err(()),
        },
        _ => Err(()),
    }
}
