//! DNP3 (IEEE 1815): the data link layer, the transport function and the
//! application layer, as seen on TCP or UDP (port 20000 by convention, any
//! port in practice).
//!
//! A TCP stream or UDP datagram carries [`link`] frames: `05 64`, a header
//! with its own CRC, then user data in 16-byte blocks each followed by a CRC.
//! The CRC-stripped user data of a frame is one [`transport`] segment: a
//! one-byte header (FIN, FIR, sequence) and a piece of an application
//! fragment. [`transport::Reassembler`] joins the segments of one direction of
//! one link-address pair into fragments, which [`app::parse`] decodes: the
//! application control, the function code, the IIN of responses and the
//! object headers with their values.
//!
//! | module | holds |
//! |---|---|
//! | [`crc`] | CRC-16/DNP, table built at compile time |
//! | [`link`] | link header layout, [`link::Control`], [`link::frame`], [`link::find_start`], [`link::encode`] |
//! | [`transport`] | segment header, [`transport::split`], [`transport::Reassembler`], [`transport::segments`] |
//! | [`probe`](mod@probe) | content recognition on any port, TCP or UDP |
//! | [`app`] | application header, function codes, IIN, object headers, object catalogue, typed values, encoders |
//!
//! References (facts only): IEEE 1815-2012; Wireshark's `packet-dnp.c` (the
//! dissector behind the ground truth); opendnp3. Names follow the standard,
//! in `snake_case`.
//!
//! Panic contract: no function in this module panics, whatever the input.

pub mod app;
pub mod crc;
pub mod link;
pub mod probe;
pub mod transport;

pub use probe::probe;
