//! The crate's one error type.

use core::fmt;

/// The protocol layer an [`Error`] was raised in.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Modbus application protocol header (MBAP).
    Mbap,
    /// Modbus PDU (function code and data).
    Modbus,
    /// TPKT (RFC 1006), the ISO transport framing over TCP.
    Tpkt,
    /// COTP (ISO 8073) connection-oriented transport.
    Cotp,
    /// S7comm (protocol id 0x32).
    S7comm,
    /// S7comm-plus (protocol id 0x72).
    S7commPlus,
    /// DNP3 data link layer (`05 64` frames, CRC-checked blocks).
    Dnp3Link,
    /// DNP3 application layer (fragments: header, IIN, object headers).
    Dnp3App,
    /// OPC UA TCP transport (message header, Hello, Acknowledge, Error).
    OpcUaTransport,
    /// OPC UA Secure Conversation (security headers, sequence header, chunks).
    OpcUaSecure,
    /// OPC UA binary-encoded service messages.
    OpcUaService,
    /// X.509 certificates (DER).
    X509,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Mbap => "MBAP",
            Layer::Modbus => "Modbus",
            Layer::Tpkt => "TPKT",
            Layer::Cotp => "COTP",
            Layer::S7comm => "S7comm",
            Layer::S7commPlus => "S7comm-plus",
            Layer::Dnp3Link => "DNP3 link",
            Layer::Dnp3App => "DNP3 application",
            Layer::OpcUaTransport => "OPC UA transport",
            Layer::OpcUaSecure => "OPC UA secure conversation",
            Layer::OpcUaService => "OPC UA service",
            Layer::X509 => "X.509",
        })
    }
}

/// Why bytes could not be parsed. Small and `Copy`: it carries the layer, the
/// offset into the parsed buffer and the offending value, never a copy of the data.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer ends before the field at `offset`; `needed` more bytes would complete it.
    #[error("{layer}: truncated at offset {offset}, {needed} more bytes needed")]
    Incomplete {
        /// Layer being parsed.
        layer: Layer,
        /// Offset of the first missing byte.
        offset: usize,
        /// How many more bytes the field needs.
        needed: usize,
    },
    /// A field holds a value that this protocol cannot carry.
    #[error("{layer}: invalid {field} {value:#x} at offset {offset}")]
    Invalid {
        /// Layer being parsed.
        layer: Layer,
        /// Offset of the field.
        offset: usize,
        /// Name of the field, as the specification spells it.
        field: &'static str,
        /// The value found.
        value: u32,
    },
    /// A structure that must fill its buffer left bytes over.
    #[error("{layer}: {count} trailing bytes at offset {offset}")]
    TrailingBytes {
        /// Layer being parsed.
        layer: Layer,
        /// Offset of the first surplus byte.
        offset: usize,
        /// Number of surplus bytes.
        count: usize,
    },
}
