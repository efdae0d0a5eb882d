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

/// Declares a set of bit flags and their `snake_case` names from one table:
/// the `bitflags` type, `names()` (the names of the flags set, in bit order)
/// and `name()` (the name of a single flag).
macro_rules! named_flags {
    (
        $(#[$meta:meta])*
        $ty:ident($repr:ty) {
            $( $(#[doc = $doc:tt])* $flag:ident = $value:expr => $name:literal; )*
        }
    ) => {
        bitflags::bitflags! {
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
            pub struct $ty: $repr {
                $( $(#[doc = $doc])* const $flag = $value; )*
            }
        }

        impl $ty {
            /// Every flag with its `snake_case` name, in declaration order.
            pub const NAMES: &'static [($ty, &'static str)] = &[ $( ($ty::$flag, $name), )* ];

            /// The `snake_case` names of the flags set, in declaration order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                Self::NAMES
                    .iter()
                    .filter(move |(flag, _)| self.contains(*flag))
                    .map(|&(_, name)| name)
            }

            /// The `snake_case` name of a single flag, `None` for no flag or several.
            pub fn name(self) -> Option<&'static str> {
                Self::NAMES
                    .iter()
                    .find(|(flag, _)| *flag == self)
                    .map(|&(_, name)| name)
            }
        }
    };
}

pub mod app;
pub mod crc;
pub mod link;
pub mod probe;
pub mod transport;

pub use probe::probe;
