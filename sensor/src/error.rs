//! The sensor crate's one error type.

use std::path::PathBuf;

/// What stopped the sensor from reading an input.
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
}
