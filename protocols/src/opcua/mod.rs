//! OPC UA binary: UA TCP transport (Hello, Acknowledge, Error, ReverseHello),
//! UA Secure Conversation (OpenSecureChannel, MSG and CLO chunks with their
//! security and sequence headers), the binary encoding of the Part 4 services
//! the sensor decodes, and the X.509 certificates they carry.

pub mod certificate;
pub mod encoding;
pub mod secure;
pub mod service;
pub mod transport;
