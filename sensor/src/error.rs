//! The sensor crate's one error type.

use std::path::PathBuf;

/// What stopped the sensor from reading an input: a capture file or a live
/// interface.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    /// The capture file could not be opened or is not a capture libpcap reads.
    #[error("{}: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why, in one line.
        reason: String,
    },
    /// The capture's link type is not one the sensor decodes.
    #[error("{}: unsupported link type {name} ({code}); supported: Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback", path.display())]
    UnsupportedLinkType {
        /// The file.
        path: PathBuf,
        /// libpcap's name of the link type.
        name: String,
        /// The LINKTYPE_ value.
        code: i32,
    },
    /// Reading stopped part-way through the file (truncated or corrupt).
    #[error("{}: read error after {packets} packets: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Packets read before the error; they were analysed.
        packets: u64,
        /// Why, in one line.
        reason: String,
    },
    /// A live interface could not be opened for capture (missing, no
    /// privileges, a BPF filter libpcap refused, an unsupported link type).
    #[error("interface {interface}: {reason}")]
    Interface {
        /// The interface name.
        interface: String,
        /// Why, in one line.
        reason: String,
    },
    /// Reading a live interface failed (it went away, or libpcap failed).
    #[error("interface {interface}: read error: {reason}")]
    InterfaceRead {
        /// The interface name.
        interface: String,
        /// Why, in one line.
        reason: String,
    },
    /// The running sensor's status file could not be read.
    #[error("{}: {reason}", path.display())]
    Status {
        /// The status file.
        path: PathBuf,
        /// Why, in one line.
        reason: String,
    },
}
