//! Writing packets to a pcap file, directly or through a timeline that merges independently
//! modelled conversations by timestamp.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use pcap::{Capture, Linktype, Packet, PacketHeader, Savefile};

use crate::link::{FrameBuilder, Hop, LinkType, Transport};

/// Capture start, 2026-01-05T08:00:00Z, in seconds since the Unix epoch. Timestamps inside the
/// generator are microseconds since this instant, so output never depends on the time of day.
pub(crate) const START_UNIX_SECONDS: u64 = 1_767_600_000;

/// Microseconds per second.
pub(crate) const SECOND: u64 = 1_000_000;
/// Microseconds per millisecond.
pub(crate) const MILLISECOND: u64 = 1_000;

/// Receives finished frames with their capture time (microseconds since [`START_UNIX_SECONDS`]).
pub(crate) trait PacketSink {
    fn record(&mut self, at: u64, frame: &[u8]) -> Result<()>;
}

/// A pcap savefile being written.
pub(crate) struct PcapOut {
    savefile: Savefile,
    packets: u64,
}

impl PcapOut {
    pub(crate) fn create(path: &Path, linktype: Linktype) -> Result<Self> {
        // `Capture::savefile` takes any path but cannot handle a non-UTF-8 one; refuse it here.
        let name = path
            .to_str()
            .ok_or_else(|| anyhow!("output path {} is not UTF-8", path.display()))?;
        let savefile = Capture::dead(linktype)
            .context("opening a dead pcap handle")?
            .savefile(name)
            .with_context(|| format!("creating {name}"))?;
        Ok(Self {
            savefile,
            packets: 0,
        })
    }

    /// Flushes the file and returns the number of packets written.
    pub(crate) fn finish(mut self) -> Result<u64> {
        self.savefile.flush().context("flushing capture")?;
        Ok(self.packets)
    }
}

impl PacketSink for PcapOut {
    fn record(&mut self, at: u64, frame: &[u8]) -> Result<()> {
        let len = u32::try_from(frame.len()).context("frame length")?;
        let header = PacketHeader {
            ts: libc::timeval {
                tv_sec: libc::time_t::try_from(START_UNIX_SECONDS + at / SECOND)
                    .context("timestamp seconds")?,
                tv_usec: libc::suseconds_t::try_from(at % SECOND)
                    .context("timestamp microseconds")?,
            },
            caplen: len,
            len,
        };
        self.savefile.write(&Packet::new(&header, frame));
        self.packets += 1;
        Ok(())
    }
}

/// Frames held in memory and written in timestamp order (ties keep recording order), so each
/// conversation can be modelled on its own clock.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    bytes: Vec<u8>,
    /// (time, recording index, start in `bytes`, length)
    entries: Vec<(u64, usize, usize, usize)>,
}

impl Timeline {
    /// Writes every frame, earliest first, into `out`.
    pub(crate) fn drain_into(mut self, out: &mut impl PacketSink) -> Result<()> {
        self.entries
            .sort_unstable_by_key(|&(at, index, _, _)| (at, index));
        for &(at, _, start, len) in &self.entries {
            let frame = self
                .bytes
                .get(start..start + len)
                .ok_or_else(|| anyhow!("timeline entry out of range"))?;
            out.record(at, frame)?;
        }
        Ok(())
    }
}

impl PacketSink for Timeline {
    fn record(&mut self, at: u64, frame: &[u8]) -> Result<()> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(frame);
        self.entries
            .push((at, self.entries.len(), start, frame.len()));
        Ok(())
    }
}

/// A frame builder and the sink its frames go to.
pub(crate) struct Wire<S> {
    pub(crate) frames: FrameBuilder,
    pub(crate) sink: S,
}

impl<S: PacketSink> Wire<S> {
    pub(crate) fn new(link: LinkType, sink: S) -> Self {
        Self {
            frames: FrameBuilder::new(link),
            sink,
        }
    }

    pub(crate) fn emit(
        &mut self,
        at: u64,
        hop: &Hop,
        transport: Transport,
        payload: &[u8],
    ) -> Result<()> {
        let frame = self.frames.build(hop, transport, payload)?;
        self.sink.record(at, frame)
    }

    /// Records the last frame again, byte for byte (a SPAN port's duplicate).
    pub(crate) fn repeat_last(&mut self, at: u64) -> Result<()> {
        self.sink.record(at, self.frames.last())
    }
}

/// Test sink: keeps every frame with its time.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Collect(pub(crate) Vec<(u64, Vec<u8>)>);

#[cfg(test)]
impl Collect {
    pub(crate) fn frames(&self) -> Vec<Vec<u8>> {
        self.0.iter().map(|(_, f)| f.clone()).collect()
    }
}

#[cfg(test)]
impl PacketSink for Collect {
    fn record(&mut self, at: u64, frame: &[u8]) -> Result<()> {
        self.0.push((at, frame.to_vec()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_orders_by_time_then_recording() {
        let mut timeline = Timeline::default();
        timeline.record(30, b"c").unwrap();
        timeline.record(10, b"a").unwrap();
        timeline.record(30, b"d").unwrap();
        timeline.record(20, b"b").unwrap();
        let mut out = Collect::default();
        timeline.drain_into(&mut out).unwrap();
        let order: Vec<u8> = out.0.iter().map(|(_, f)| f[0]).collect();
        assert_eq!(order, b"abcd");
    }
}
