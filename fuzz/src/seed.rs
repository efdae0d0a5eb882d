//! Writes run-time seed corpora from capture files: Modbus/TCP payloads for
//! `modbus_stream`, and groups of raw frames for `pipeline_frames`.
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
    std::fs::create_dir_all(&modbus_dir)?;
    std::fs::create_dir_all(&pipeline_dir)?;
    let (mut modbus, mut pipeline) = (0, 0);
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
    eprintln!("wrote {modbus} modbus_stream and {pipeline} pipeline_frames seeds under {}", out.display());
    Ok(())
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
