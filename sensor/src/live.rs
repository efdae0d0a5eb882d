//! Live capture on the monitored interfaces through libpcap.
//!
//! The sensor is passive: it must never put a frame on a monitored
//! interface. [`LiveCapture`] is the only owner of a live libpcap handle in
//! the sensor, and it keeps the handle (and its file descriptor) private,
//! exposing receive-side operations only: read a batch of frames, wait until
//! frames are ready, read the counters. It offers no `sendpacket`, no inject
//! and no way to reach the handle or the packet socket under it, so no code
//! path in the sensor can transmit on a monitored interface. The end-to-end
//! test `tests/tests/live.rs` checks the interface's TX counters while the
//! sensor runs.
//!
//! Every interface is opened with its configured promiscuous mode, snap
//! length, kernel buffer size and BPF filter, in non-blocking mode with a
//! short read timeout (the TPACKET_V3 block retire timeout inside libpcap).
//! All interfaces are read by one thread that polls their descriptors: no
//! frame is copied or queued between capture and the pipeline, so the only
//! buffer is the kernel's capture ring, which libpcap bounds by `buffer_mib`
//! and whose drops it counts (`dropped`).

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use faro_firmware_config::Interface;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::capture::Frame;
use crate::decode::LinkType;
use crate::error::SensorError;
use crate::stats::InterfaceCounters;

/// libpcap's read timeout: how long the kernel may hold frames in a ring
/// block before handing them over (the delay between a frame on the wire and
/// the sensor seeing it when traffic is light).
pub const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// Frames read from one interface before the next is served.
const BATCH: usize = 1024;

/// A cumulative 64-bit count kept from libpcap's 32-bit counters, which wrap.
#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    last: u32,
    total: u64,
}

impl Counter {
    fn advance(&mut self, now: u32) {
        self.total = self
            .total
            .saturating_add(u64::from(now.wrapping_sub(self.last)));
        self.last = now;
    }
}

/// One monitored interface, open for receiving only.
pub struct LiveCapture {
    name: String,
    // Private on purpose: see the module documentation. Never add an
    // accessor that hands this handle or its descriptor out.
    capture: pcap::Capture<pcap::Active>,
    link: LinkType,
    received: Counter,
    dropped: Counter,
    if_dropped: Counter,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("name", &self.name)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl LiveCapture {
    /// Opens `interface` as configured. Needs CAP_NET_RAW (and CAP_NET_ADMIN
    /// for promiscuous mode on some drivers).
    pub fn open(interface: &Interface) -> Result<Self, SensorError> {
        let name = interface.name.as_str();
        let error = |reason: String| SensorError::Interface {
            interface: name.to_owned(),
            reason,
        };
        let buffer_bytes = i32::try_from(u64::from(interface.buffer_mib) * 1024 * 1024)
            .map_err(|_| error(format!("buffer_mib {} is too large", interface.buffer_mib)))?;
        let snaplen = i32::try_from(interface.snaplen)
            .map_err(|_| error(format!("snaplen {} is too large", interface.snaplen)))?;
        let timeout_ms = i32::try_from(READ_TIMEOUT.as_millis()).unwrap_or(100);
        let inactive = pcap::Capture::from_device(name)
            .map_err(|e| error(reason(&e, name)))?
            .promisc(interface.promiscuous)
            .snaplen(snaplen)
            .buffer_size(buffer_bytes)
            .timeout(timeout_ms)
            .precision(pcap::Precision::Nano);
        let mut capture = inactive.open().map_err(|e| error(open_reason(&e, name)))?;
        if let Some(bpf) = &interface.bpf {
            capture
                .filter(bpf, true)
                .map_err(|e| error(format!("BPF filter `{bpf}`: {}", reason(&e, name))))?;
        }
        let linktype = capture.get_datalink();
        let link = LinkType::from_linktype(linktype.0).ok_or_else(|| {
            error(format!(
                "unsupported link type {} ({}); supported: Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback",
                linktype.get_name().unwrap_or_else(|_| "unknown".into()),
                linktype.0
            ))
        })?;
        let capture = capture.setnonblock().map_err(|e| error(reason(&e, name)))?;
        Ok(LiveCapture {
            name: name.to_owned(),
            capture,
            link,
            received: Counter::default(),
            dropped: Counter::default(),
            if_dropped: Counter::default(),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The link type of every frame read from this interface.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// Hands up to `max` frames that are ready to `each`; returns how many
    /// (0: none ready now).
    pub fn read_batch(
        &mut self,
        max: usize,
        mut each: impl FnMut(LinkType, &Frame<'_>),
    ) -> Result<usize, SensorError> {
        let link = self.link;
        self.capture
            .dispatch(Some(max.max(1)), |packet| each(link, &Frame::of(&packet)))
            .map_err(|e| SensorError::InterfaceRead {
                interface: self.name.clone(),
                reason: reason(&e, &self.name),
            })
    }

    /// libpcap's counters since the interface was opened. Call it at least
    /// once per 2^32 packets so the 32-bit counters are followed across
    /// their wrap.
    pub fn counters(&mut self) -> Result<InterfaceCounters, SensorError> {
        let stat = self
            .capture
            .stats()
            .map_err(|e| SensorError::InterfaceRead {
                interface: self.name.clone(),
                reason: reason(&e, &self.name),
            })?;
        self.received.advance(stat.received);
        self.dropped.advance(stat.dropped);
        self.if_dropped.advance(stat.if_dropped);
        Ok(InterfaceCounters {
            interface: self.name.clone(),
            received: self.received.total,
            dropped: self.dropped.total,
            if_dropped: self.if_dropped.total,
        })
    }
}

/// The monitored interfaces, read by one thread.
#[derive(Debug)]
pub struct LiveCaptures {
    captures: Vec<LiveCapture>,
}

impl LiveCaptures {
    /// Opens every interface; fails on the first that cannot be opened.
    pub fn open(interfaces: &[Interface]) -> Result<Self, SensorError> {
        let captures = interfaces
            .iter()
            .map(LiveCapture::open)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LiveCaptures { captures })
    }

    /// The interface names, in configuration order.
    pub fn names(&self) -> Vec<&str> {
        self.captures.iter().map(LiveCapture::name).collect()
    }

    /// Waits until an interface has frames ready, `other` is readable, or
    /// `timeout` has passed.
    pub fn wait(&self, other: BorrowedFd<'_>, timeout: Duration) -> Result<(), SensorError> {
        let mut fds: Vec<PollFd<'_>> = self
            .captures
            .iter()
            .map(|c| PollFd::new(c.capture.as_fd(), PollFlags::POLLIN))
            .collect();
        fds.push(PollFd::new(other, PollFlags::POLLIN));
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
            Err(e) => Err(SensorError::InterfaceRead {
                interface: self.names().join(","),
                reason: format!("poll: {e}"),
            }),
        }
    }

    /// Reads one batch from each interface in turn, handing every frame to
    /// `each`; returns how many frames there were (0: none ready).
    pub fn read(
        &mut self,
        mut each: impl FnMut(LinkType, &Frame<'_>),
    ) -> Result<usize, SensorError> {
        let mut total = 0;
        for capture in &mut self.captures {
            total += capture.read_batch(BATCH, &mut each)?;
        }
        Ok(total)
    }

    /// The counters of every interface, in configuration order.
    pub fn counters(&mut self) -> Result<Vec<InterfaceCounters>, SensorError> {
        self.captures
            .iter_mut()
            .map(LiveCapture::counters)
            .collect()
    }
}

/// libpcap's message without the interface name it often repeats.
fn reason(e: &pcap::Error, name: &str) -> String {
    let text = match e {
        pcap::Error::PcapError(msg) => msg.clone(),
        other => other.to_string(),
    };
    text.strip_prefix(name)
        .map(|rest| rest.trim_start_matches(':').trim().to_owned())
        .unwrap_or(text)
}

/// Why an interface could not be opened, with what to do about missing
/// privileges.
fn open_reason(e: &pcap::Error, name: &str) -> String {
    let text = reason(e, name);
    let lower = text.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        format!(
            "{text}: capturing needs CAP_NET_RAW and CAP_NET_ADMIN (start as root, which drops to the sensor's user after opening, or give the service those ambient capabilities)"
        )
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_follow_the_32_bit_wrap() {
        let mut c = Counter::default();
        c.advance(u32::MAX - 1);
        c.advance(3);
        assert_eq!(c.total, u64::from(u32::MAX) + 4);
        c.advance(3);
        assert_eq!(c.total, u64::from(u32::MAX) + 4);
    }

    #[test]
    fn a_missing_interface_is_named_with_the_reason() {
        let interface = Interface {
            name: "faro-nosuch0".into(),
            bpf: None,
            snaplen: Interface::DEFAULT_SNAPLEN,
            buffer_mib: 1,
            promiscuous: false,
        };
        let e = LiveCapture::open(&interface).map(|_| ()).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("interface faro-nosuch0: "), "{text}");
    }
}
