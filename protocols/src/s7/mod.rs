//! Siemens S7 over ISO-on-TCP: TPKT, COTP, S7comm and S7comm-plus.
//!
//! The layers nest: a TCP stream carries [`tpkt`] frames (RFC 1006), each
//! holding one [`cotp`] TPDU (ISO 8073, class 0). Data TPDUs carry user data
//! that may span several TPDUs (the last one has EOT set); once reassembled,
//! [`probe::classify_payload`] says whether it is [`comm`] (S7comm, protocol
//! id 0x32), [`plus`] (S7comm-plus, 0x72) or TLS (S7-1500 secure sessions).
//! [`szl`] decodes the System Status List records that Read SZL responses
//! return, for the inventory.
//!
//! | module | holds |
//! |---|---|
//! | [`tpkt`] | TPKT header layout, [`tpkt::frame`], [`tpkt::encode`] |
//! | [`cotp`] | TPDU types, [`cotp::parse`], TSAPs, encoders |
//! | [`probe`](mod@probe) | content recognition on any port, payload classification |
//! | [`comm`] | S7comm header, parameters, items, userdata, Read SZL, encoder |
//! | [`szl`] | SZL records: module and component identification, protection, mode |
//! | [`plus`] | S7comm-plus header, integrity part, opcode, function, strings |
//!
//! References (facts only): RFC 1006 and ISO 8073 for TPKT/COTP; Wireshark's
//! `packet-s7comm.c` and `packet-s7comm_szl_ids.c`; Thomas Wiens'
//! `packet-s7comm_plus.c`. Names are theirs, in `snake_case`.
//!
//! Panic contract: no function in this module panics, whatever the input.

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

pub mod comm;
pub mod cotp;
pub mod plus;
pub mod probe;
pub mod szl;
pub mod tpkt;

pub use probe::{Payload, classify_payload, probe};
