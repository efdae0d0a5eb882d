//! Zero-copy, panic-free parsers of the OT wire formats Faro understands.
//!
//! Every parser borrows from the caller's buffer, never panics on any input,
//! returns [`Error`] only when the bytes cannot be the protocol or are
//! incomplete, and reports spec violations of well-framed messages as anomaly
//! flags on the message. Stream-oriented protocols follow the contract in
//! [`stream`]: a framer says how many bytes one PDU consumed, how many more it
//! needs, or that the bytes are not this protocol.
#![warn(missing_docs)]

pub mod cursor;
pub mod dnp3;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod modbus;
pub mod s7;
pub mod stream;

pub use cursor::Reader;
pub use error::{Error, Layer};
pub use stream::{Framing, Probe};
