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

pub mod comm;
pub mod cotp;
pub mod plus;
pub mod probe;
pub mod szl;
pub mod tpkt;

pub use probe::{Payload, classify_payload, probe};
