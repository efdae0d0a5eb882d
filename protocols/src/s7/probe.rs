//! Content recognition of ISO-on-TCP carrying S7, on any port.
//!
//! [`probe`] accepts a stream whose first bytes are a TPKT (version 3,
//! reserved 0, a length that holds the COTP header) around a COTP TPDU that
//! S7 traffic starts or continues with: a CR, CC or DR, or a class 0 DT whose
//! user data starts like S7comm (0x32 and a known ROSCTR), S7comm-plus (0x72
//! and a known protocol version) or a TLS record (S7-1500 secure sessions).
//! Modbus, HTTP, bare TLS and random bytes fail at the TPKT or COTP checks.
//!
//! Panic contract: no function here panics, whatever the input.

use crate::stream::Probe;

use super::comm::{self, Rosctr};
use super::cotp::{self, PduType};
use super::plus;
use super::tpkt;

/// What a reassembled COTP DT user-data unit carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// S7comm: protocol id 0x32.
    S7comm,
    /// S7comm-plus: protocol id 0x72.
    S7commPlus,
    /// A TLS record (content type 20-23, version 3.1-3.4): a protected S7comm-plus session.
    Tls,
    /// Anything else (an S7comm-plus fragment, or not S7).
    Unknown,
}

impl Payload {
    /// The kind in `snake_case`.
    pub const fn name(self) -> &'static str {
        match self {
            Payload::S7comm => "s7comm",
            Payload::S7commPlus => "s7comm_plus",
            Payload::Tls => "tls",
            Payload::Unknown => "unknown",
        }
    }
}

/// TLS record content types: change_cipher_spec, alert, handshake, application_data.
const TLS_CONTENT_TYPES: core::ops::RangeInclusive<u8> = 0x14..=0x17;
/// Major version byte of every TLS (and SSL 3) record.
const TLS_MAJOR_VERSION: u8 = 0x03;
/// Minor version byte: SSL 3.0 is 0, TLS 1.0-1.3 are 1-4.
const TLS_MINOR_VERSIONS: core::ops::RangeInclusive<u8> = 0x01..=0x04;

/// Classifies a reassembled COTP DT payload by its first bytes.
pub fn classify_payload(user_data: &[u8]) -> Payload {
    match user_data {
        [comm::PROTOCOL_ID, ..] => Payload::S7comm,
        [plus::PROTOCOL_ID, ..] => Payload::S7commPlus,
        [content, TLS_MAJOR_VERSION, minor, ..]
            if TLS_CONTENT_TYPES.contains(content) && TLS_MINOR_VERSIONS.contains(minor) =>
        {
            Payload::Tls
        }
        _ => Payload::Unknown,
    }
}

/// Offset of the COTP length indicator in the stream: right after the TPKT header.
const COTP_START: usize = tpkt::HEADER_LEN;

/// Checks the user data of a class 0 DT starting at `at`: S7comm with a known
/// ROSCTR, S7comm-plus with a known protocol version, or a TLS record header.
fn probe_user_data(buf: &[u8], at: usize) -> Probe {
    let byte = |i: usize| buf.get(at.saturating_add(i)).copied();
    let Some(first) = byte(0) else {
        return Probe::NeedMore;
    };
    let known = |second: Option<u8>, ok: fn(u8) -> bool| match second {
        None => Probe::NeedMore,
        Some(b) if ok(b) => Probe::Match,
        Some(_) => Probe::NoMatch,
    };
    match first {
        comm::PROTOCOL_ID => known(byte(1), |b| Rosctr(b).name().is_some()),
        plus::PROTOCOL_ID => known(byte(1), |b| plus::version_name(b).is_some()),
        t if TLS_CONTENT_TYPES.contains(&t) => match (byte(1), byte(2)) {
            (Some(TLS_MAJOR_VERSION), Some(minor)) if TLS_MINOR_VERSIONS.contains(&minor) => {
                Probe::Match
            }
            (Some(TLS_MAJOR_VERSION), None) | (None, _) => Probe::NeedMore,
            _ => Probe::NoMatch,
        },
        _ => Probe::NoMatch,
    }
}

/// Recognises ISO-on-TCP carrying S7 by content (ports are only hints).
///
/// Checks the first TPKT and its COTP TPDU as far as `buf` reaches: version 3,
/// reserved 0, length at least 7 and large enough for the COTP header; then a
/// CR, CC or DR with its fixed part (class 0-4 for CR/CC), or a class 0 DT
/// with user data (see the module documentation). An empty class 0 DT (the
/// seven bytes `03 00 00 07 02 F0 00` Step 7 sends between units) decides
/// nothing: the TPKT after it is checked instead. [`Probe::NeedMore`] while
/// every byte present fits and the deciding bytes are missing. The TPKT need
/// not be complete. Used on the first bytes of a flow and to resynchronise.
pub fn probe(buf: &[u8]) -> Probe {
    let mut rest = buf;
    loop {
        match probe_one(rest) {
            Step::Decided(probe) => return probe,
            Step::EmptyData(length) => match rest.get(length..) {
                Some(next) if !next.is_empty() => rest = next,
                _ => return Probe::NeedMore,
            },
        }
    }
}

/// What the first TPKT of a buffer says.
enum Step {
    /// Match, no match, or too few bytes to tell.
    Decided(Probe),
    /// A complete-looking class 0 DT without user data, `length` bytes long.
    EmptyData(usize),
}

fn probe_one(buf: &[u8]) -> Step {
    let byte = |i: usize| buf.get(i).copied();
    let decided = Step::Decided;
    match (byte(tpkt::field::VERSION), byte(tpkt::field::RESERVED)) {
        (None, _) | (Some(tpkt::VERSION), None) => return decided(Probe::NeedMore),
        (Some(tpkt::VERSION), Some(0)) => {}
        _ => return decided(Probe::NoMatch),
    }
    let Some(&[high, low]) = buf.get(tpkt::field::LENGTH) else {
        return decided(Probe::NeedMore);
    };
    let length = usize::from(u16::from_be_bytes([high, low]));
    if length < usize::from(tpkt::MIN_LENGTH) {
        return decided(Probe::NoMatch);
    }
    let Some(li) = byte(COTP_START + cotp::field::LENGTH_INDICATOR) else {
        return decided(Probe::NeedMore);
    };
    // The COTP header (length indicator included) must fit in the TPKT.
    let header_end = COTP_START + 1 + usize::from(li);
    if li == 0 || li == 0xFF || header_end > length {
        return decided(Probe::NoMatch);
    }
    let Some(type_byte) = byte(COTP_START + cotp::field::PDU_TYPE) else {
        return decided(Probe::NeedMore);
    };
    decided(match PduType::of(type_byte) {
        PduType::CR | PduType::CC if li >= cotp::CONNECTION_LENGTH_INDICATOR => {
            match byte(COTP_START + cotp::field::CLASS_OPTION) {
                None => Probe::NeedMore,
                Some(class_option) if class_option >> 4 <= 4 => Probe::Match,
                Some(_) => Probe::NoMatch,
            }
        }
        PduType::DR if li >= cotp::CONNECTION_LENGTH_INDICATOR => Probe::Match,
        PduType::DT if li == cotp::DT_LENGTH_INDICATOR => {
            if length == header_end {
                return match byte(cotp::field::DT_EOT_NUMBER + COTP_START) {
                    None => decided(Probe::NeedMore),
                    Some(_) => Step::EmptyData(length),
                };
            }
            probe_user_data(buf, header_end)
        }
        _ => Probe::NoMatch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TPKT + class 0 DT (EOT) + the start of an S7comm Job.
    const S7COMM_JOB: [u8; 9] = [
        0x03, 0x00, 0x00, 0x19, // TPKT, length 25
        0x02, 0xF0, 0x80, // COTP DT, EOT
        0x32, 0x01, // S7comm, ROSCTR Job
    ];

    #[test]
    fn recognises_s7_starts() {
        assert_eq!(probe(&S7COMM_JOB), Probe::Match);
        // S7comm-plus V3
        assert_eq!(
            probe(&[0x03, 0x00, 0x00, 0x40, 0x02, 0xF0, 0x80, 0x72, 0x03]),
            Probe::Match
        );
        // TLS handshake record inside a DT
        assert_eq!(
            probe(&[0x03, 0x00, 0x00, 0x40, 0x02, 0xF0, 0x80, 0x16, 0x03, 0x03]),
            Probe::Match
        );
        // CR, class 0
        assert_eq!(
            probe(&[0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0, 0, 0, 1, 0x00]),
            Probe::Match
        );
        // DR
        assert_eq!(
            probe(&[0x03, 0x00, 0x00, 0x0B, 0x06, 0x80, 0, 1, 0, 2, 0x80]),
            Probe::Match
        );
    }

    #[test]
    fn looks_past_empty_data_tpdus() {
        let empty = [0x03, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x00];
        assert_eq!(probe(&empty), Probe::NeedMore);
        assert_eq!(probe(&[empty, empty].concat()), Probe::NeedMore);
        assert_eq!(probe(&[&empty[..], &S7COMM_JOB].concat()), Probe::Match);
        assert_eq!(
            probe(&[&empty[..], &empty, &S7COMM_JOB[..8]].concat()),
            Probe::NeedMore
        );
    }

    #[test]
    fn needs_more_until_it_can_tell() {
        for n in 0..S7COMM_JOB.len() {
            assert_eq!(probe(&S7COMM_JOB[..n]), Probe::NeedMore, "{n} bytes");
        }
        assert_eq!(
            probe(&[0x03, 0x00, 0x00, 0x40, 0x02, 0xF0, 0x80, 0x16, 0x03]),
            Probe::NeedMore
        );
    }

    #[test]
    fn rejects_other_protocols() {
        let cases: [&[u8]; 9] = [
            // Modbus/TCP read holding registers
            &[
                0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6B, 0x00, 0x03,
            ],
            b"GET / HTTP/1.1\r\n",
            // TLS ClientHello on bare TCP
            &[
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03,
            ],
            // TPKT with a non-zero reserved byte
            &[0x03, 0x01, 0x00, 0x19, 0x02, 0xF0, 0x80, 0x32, 0x01],
            // TPKT length below 7
            &[0x03, 0x00, 0x00, 0x05, 0x02, 0xF0, 0x80],
            // COTP header longer than the TPKT
            &[0x03, 0x00, 0x00, 0x08, 0x11, 0xE0, 0, 0],
            // DT carrying something else
            &[0x03, 0x00, 0x00, 0x19, 0x02, 0xF0, 0x80, 0x47, 0x45],
            // S7comm id with an unknown ROSCTR
            &[0x03, 0x00, 0x00, 0x19, 0x02, 0xF0, 0x80, 0x32, 0x09],
            // an empty DT, then HTTP
            &[0x03, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x00, b'G', b'E', b'T'],
        ];
        for case in cases {
            assert_eq!(probe(case), Probe::NoMatch, "{case:02x?}");
        }
    }

    #[test]
    fn classifies_payloads() {
        assert_eq!(classify_payload(&[0x32, 0x01]), Payload::S7comm);
        assert_eq!(classify_payload(&[0x72, 0x02]), Payload::S7commPlus);
        assert_eq!(classify_payload(&[0x17, 0x03, 0x03, 0x00]), Payload::Tls);
        assert_eq!(classify_payload(&[0x17, 0x03]), Payload::Unknown);
        assert_eq!(classify_payload(&[0x17, 0x03, 0x05]), Payload::Unknown);
        assert_eq!(classify_payload(&[]), Payload::Unknown);
        assert_eq!(Payload::Tls.name(), "tls");
    }
}
