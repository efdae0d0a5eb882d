//! The streaming contract between TCP reassembly and the protocol framers.

/// Result of framing one PDU at the start of a byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing<T> {
    /// One PDU was framed; `consumed` bytes of the stream belong to it.
    Parsed {
        /// Bytes the PDU occupies at the start of the buffer.
        consumed: usize,
        /// The framed PDU, borrowing from the buffer.
        message: T,
    },
    /// The buffer holds the start of a PDU; at least `needed` more bytes are required.
    NeedMore {
        /// Minimum number of additional bytes before framing can succeed.
        needed: usize,
    },
    /// The bytes at the start of the buffer cannot be a PDU of this protocol.
    NotThisProtocol,
}

/// Answer of a content probe: does this stream carry the protocol?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The bytes look like this protocol.
    Match,
    /// Too few bytes to tell.
    NeedMore,
    /// The bytes are not this protocol.
    NoMatch,
}
