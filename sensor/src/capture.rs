//! Capture input through libpcap: pcap and pcapng files (live interfaces
//! are in [`crate::live`]).

use std::path::{Path, PathBuf};

use crate::decode::LinkType;
use crate::error::SensorError;

/// One captured frame, borrowed from libpcap's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// Length on the wire (may exceed `data.len()` when the snap length cut it).
    pub wire_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

impl<'a> Frame<'a> {
    /// The frame of a packet libpcap returned from a handle opened with
    /// nanosecond precision.
    pub(crate) fn of(packet: &pcap::Packet<'a>) -> Frame<'a> {
        let ts = packet.header.ts;
        // Nano precision was requested, so tv_usec carries nanoseconds.
        let ts_nanos = u64::try_from(ts.tv_sec)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(ts.tv_usec).unwrap_or(0));
        Frame {
            ts_nanos,
            wire_len: packet.header.len,
            data: packet.data,
        }
    }
}

/// An open capture file.
pub struct CaptureFile {
    path: PathBuf,
    capture: pcap::Capture<pcap::Offline>,
    link: LinkType,
    packets: u64,
}

impl CaptureFile {
    /// Opens a pcap or pcapng file and checks its link type.
    pub fn open(path: &Path) -> Result<Self, SensorError> {
        let open_error = |reason: String| SensorError::Open {
            path: path.to_owned(),
            reason,
        };
        // std gives a cleaner reason than libpcap for a missing or unreadable file.
        std::fs::File::open(path).map_err(|e| open_error(io_reason(&e)))?;
        if path.is_dir() {
            return Err(open_error("is a directory".into()));
        }
        let capture = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
            .map_err(|e| open_error(pcap_reason(&e, path)))?;
        let linktype = capture.get_datalink();
        let link = LinkType::from_linktype(linktype.0).ok_or_else(|| {
            SensorError::UnsupportedLinkType {
                path: path.to_owned(),
                name: linktype.get_name().unwrap_or_else(|_| "unknown".into()),
                code: linktype.0,
            }
        })?;
        Ok(CaptureFile {
            path: path.to_owned(),
            capture,
            link,
            packets: 0,
        })
    }

    /// The link type every frame of this file starts with.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The next frame, `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SensorError> {
        match self.capture.next_packet() {
            Ok(packet) => {
                self.packets += 1;
                Ok(Some(Frame::of(&packet)))
            }
            Err(pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => Err(SensorError::Read {
                path: self.path.clone(),
                packets: self.packets,
                reason: pcap_reason(&e, &self.path),
            }),
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    // "No such file or directory (os error 2)" → "No such file or directory"
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text.get(..at).unwrap_or(&text).to_owned(),
        None => text,
    }
}

pub(crate) fn pcap_reason(e: &pcap::Error, path: &Path) -> String {
    let text = match e {
        pcap::Error::PcapError(msg) => msg.clone(),
        other => other.to_string(),
    };
    // libpcap often repeats the path: keep the reason alone.
    let shown = path.display().to_string();
    text.strip_prefix(&shown)
        .map(|rest| rest.trim_start_matches(':').trim().to_owned())
        .unwrap_or(text)
}
