//! Zero-copy, panic-free parsers of the OT wire formats Faro understands.
//!
//! Every parser borrows from the caller's buffer, never panics on any input,
//! returns [`Error`] only when the bytes cannot be the protocol or are
//! incomplete, and reports spec violations of well-framed messages as anomaly
//! flags on the message. Stream-oriented protocols follow the contract in
//! [`stream`]: a framer says how many bytes one PDU consumed, how many more it
//! needs, or that the bytes are not this protocol.
#![warn(missing_docs)]

/// Declares a wire newtype and its named values once: the constants, the list
/// of every named value and the `snake_case` name lookup come from one table,
/// so an unknown value still parses and prints as a number.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $ty:ident($repr:ty) {
            $( $(#[$doc:meta])* $konst:ident = $value:literal => $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(pub $repr);

        impl $ty {
            $( $(#[$doc])* pub const $konst: $ty = $ty($value); )*

            /// Every named value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$konst),*];

            /// The value's name in `snake_case`; `None` for a value no reference names.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }
    };
}

/// Declares a set of bit flags and their `snake_case` names from one table:
/// the `bitflags` type, `names()` (the names of the flags set, in bit order)
/// and `name()` (the name of a single flag); for anomaly flags, optionally the
/// set that means "malformed" (`MALFORMED`, `is_malformed()`).
macro_rules! named_flags {
    (
        $(#[$meta:meta])*
        $ty:ident($repr:ty) {
            $( $(#[doc = $doc:tt])* $flag:ident = $value:expr => $name:literal; )*
        }
        $( malformed: [$($bad:ident),* $(,)?]; )?
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

        $(
            impl $ty {
                /// The flags that say the message's structure is broken
                /// (lengths, counts, sizes), as opposed to unusual but
                /// well-formed content (an unknown or reserved function).
                pub const MALFORMED: $ty = $ty::empty()$(.union($ty::$bad))*;

                /// Whether any flag of [`Self::MALFORMED`] is set.
                pub fn is_malformed(self) -> bool {
                    self.intersects(Self::MALFORMED)
                }
            }
        )?
    };
}

pub mod address;
pub mod cursor;
pub mod dnp3;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod modbus;
pub mod opcua;
pub mod oui;
pub mod s7;
pub mod services;
pub mod stream;
pub mod uplink;

pub use cursor::Reader;
pub use error::{Error, Layer};
pub use stream::{Framing, Probe};
