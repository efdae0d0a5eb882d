//! MBAP framing: the Modbus/TCP header layout, the framer and the content probe.
//!
//! ```text
//!  0      2      4      6    7        8
//!  +------+------+------+----+--------+------------------+
//!  | tid  | pid  | len  | uid| fcode  | data ...         |
//!  +------+------+------+----+--------+------------------+
//!  <-------- MBAP header ------><----------- PDU ------------>
//!                       <--- `len` bytes: unit id + PDU ---->
//! ```
//!
//! Panic contract: no function here panics, whatever the input.

use core::ops::Range;

use crate::cursor::Reader;
use crate::error::{Error, Layer};
use crate::stream::{Framing, Probe};

use super::direction::direction_hint;
use super::types::{ExceptionCode, FunctionClass, FunctionCode};

/// Length of the MBAP header: transaction id (2), protocol id (2), length (2), unit id (1).
pub const MBAP_HEADER_LEN: usize = 7;

/// Largest MBAP length field: unit id plus a PDU of at most 253 bytes (ADU at most 260 bytes).
pub const MAX_MBAP_LENGTH: u16 = 254;

/// Largest MBAP length field [`frame`] accepts. Real devices exceed the
/// specification's 254 (Modicon controllers send 255 in UMAS exchanges), so
/// framing tolerates more and [`parse`](super::parse) flags `OVERSIZED_ADU`;
/// the bound keeps a corrupt length from swallowing a stream.
pub const MAX_FRAMED_LENGTH: u16 = 1024;

/// Smallest MBAP length field: unit id plus a function code.
pub const MIN_MBAP_LENGTH: u16 = 2;

/// The Modbus protocol identifier; any other value is not Modbus proper.
pub const MODBUS_PROTOCOL_ID: u16 = 0;

/// The MBAP header layout, declared once. Offsets are from the start of the ADU.
pub mod field {
    use core::ops::Range;

    /// Transaction identifier, echoed by the server.
    pub const TRANSACTION_ID: Range<usize> = 0..2;
    /// Protocol identifier, 0 for Modbus.
    pub const PROTOCOL_ID: Range<usize> = 2..4;
    /// Number of following bytes: unit id and PDU.
    pub const LENGTH: Range<usize> = 4..6;
    /// Unit identifier (the serial-line server address behind a gateway).
    pub const UNIT_ID: usize = 6;
    /// First byte of the PDU: the function code.
    pub const FUNCTION_CODE: usize = 7;
}

// The layout is contiguous, matches the header length and the order of the reads in
// `MbapHeader::parse`.
const _: () = {
    assert!(field::TRANSACTION_ID.start == 0);
    assert!(field::PROTOCOL_ID.start == field::TRANSACTION_ID.end);
    assert!(field::LENGTH.start == field::PROTOCOL_ID.end);
    assert!(field::UNIT_ID == field::LENGTH.end);
    assert!(field::FUNCTION_CODE == MBAP_HEADER_LEN);
    assert!(MBAP_HEADER_LEN == field::UNIT_ID + 1);
};

/// Shortest possible ADU: a header whose length field is [`MIN_MBAP_LENGTH`].
const MIN_ADU_LEN: usize = field::LENGTH.end + MIN_MBAP_LENGTH as usize;

/// The MBAP header of a Modbus/TCP ADU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MbapHeader {
    /// Transaction identifier, pairing a response with its request.
    pub transaction_id: u16,
    /// Protocol identifier, 0 for Modbus.
    pub protocol_id: u16,
    /// Number of bytes that follow the length field (unit id and PDU).
    pub length: u16,
    /// Unit identifier.
    pub unit_id: u8,
}

impl MbapHeader {
    /// Reads a header from the first [`MBAP_HEADER_LEN`] bytes of `buf`, without checking values.
    pub fn parse(buf: &[u8]) -> Result<MbapHeader, Error> {
        let mut r = Reader::new(buf, Layer::Mbap);
        Ok(MbapHeader {
            transaction_id: r.be_u16()?,
            protocol_id: r.be_u16()?,
            length: r.be_u16()?,
            unit_id: r.u8()?,
        })
    }

    /// Appends the header's [`MBAP_HEADER_LEN`] bytes to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(&self.protocol_id.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
        out.push(self.unit_id);
    }

    /// Length of the whole ADU this header announces (header up to the length field, plus `length`).
    pub fn adu_len(&self) -> usize {
        field::LENGTH.end + usize::from(self.length)
    }
}

/// One framed Modbus/TCP ADU, borrowing its PDU from the stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adu<'a> {
    /// The MBAP header.
    pub header: MbapHeader,
    /// Function code and data: `header.length - 1` bytes.
    pub pdu: &'a [u8],
}

/// Reads the big-endian `u16` at `range` (two bytes) of `buf`, if present.
fn be_u16_at(buf: &[u8], range: Range<usize>) -> Option<u16> {
    let mut r = Reader::new(buf.get(range)?, Layer::Mbap);
    r.be_u16().ok()
}

/// Frames one ADU at the start of `buf`.
///
/// Accepts any protocol id (a non-zero one becomes an anomaly in
/// [`parse`](super::parse)). A length field below [`MIN_MBAP_LENGTH`] or above
/// [`MAX_FRAMED_LENGTH`] gives [`Framing::NotThisProtocol`]. A short buffer gives
/// [`Framing::NeedMore`] with the exact number of missing bytes once the length
/// field is in `buf`, and the bytes missing to the shortest ADU before that.
pub fn frame(buf: &[u8]) -> Framing<Adu<'_>> {
    let Some(length) = be_u16_at(buf, field::LENGTH) else {
        return Framing::NeedMore {
            needed: MIN_ADU_LEN.saturating_sub(buf.len()),
        };
    };
    if !(MIN_MBAP_LENGTH..=MAX_FRAMED_LENGTH).contains(&length) {
        return Framing::NotThisProtocol;
    }
    let total = field::LENGTH.end + usize::from(length);
    let (Ok(header), Some(pdu)) = (MbapHeader::parse(buf), buf.get(MBAP_HEADER_LEN..total)) else {
        return Framing::NeedMore {
            needed: total.saturating_sub(buf.len()),
        };
    };
    Framing::Parsed {
        consumed: total,
        message: Adu { header, pdu },
    }
}

/// Checks the bytes of `buf` that fall in an MBAP header and function code:
/// protocol id 0, a length field in range, a plausible function code. Returns
/// [`Probe::NeedMore`] when every byte present fits but the function code is missing.
fn probe_header(buf: &[u8]) -> Probe {
    for (offset, &byte) in buf.iter().enumerate().take(field::FUNCTION_CODE + 1) {
        let fits = match offset {
            o if field::PROTOCOL_ID.contains(&o) => byte == 0,
            // High byte of the length field: at most MAX_MBAP_LENGTH < 256.
            o if o == field::LENGTH.start => byte == 0,
            o if field::LENGTH.contains(&o) => {
                (MIN_MBAP_LENGTH..=MAX_MBAP_LENGTH).contains(&u16::from(byte))
            }
            // Any function code: scanners send 0 and devices answer it with 0x80;
            // the protocol id and length bytes are strict enough.
            _ => true,
        };
        if !fits {
            return Probe::NoMatch;
        }
    }
    if buf.len() > field::FUNCTION_CODE {
        Probe::Match
    } else {
        Probe::NeedMore
    }
}

/// Recognises Modbus/TCP by content (ports are only hints).
///
/// The first ADU must have protocol id 0 and a length field of 2–254 (the
/// specification's bound, stricter than [`frame`]'s); it must be complete; bytes after it must start a plausible MBAP header or be a prefix
/// of one. Used on the first bytes of a flow and to resynchronise after a gap.
pub fn probe(buf: &[u8]) -> Probe {
    match probe_header(buf) {
        Probe::Match => {}
        other => return other,
    }
    match frame(buf) {
        Framing::Parsed { consumed, .. } => match buf.get(consumed..) {
            Some(rest) if !rest.is_empty() => match probe_header(rest) {
                Probe::NoMatch => Probe::NoMatch,
                Probe::Match | Probe::NeedMore => Probe::Match,
            },
            _ => Probe::Match,
        },
        Framing::NeedMore { .. } => Probe::NeedMore,
        Framing::NotThisProtocol => Probe::NoMatch,
    }
}

/// Offset of the first byte of `buf` where an ADU could start ([`probe`] does
/// not rule it out): where to resume after a gap or bad framing.
pub fn find_boundary(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find(|&at| {
        buf.get(at..)
            .is_some_and(|rest| probe(rest) != Probe::NoMatch)
    })
}

/// A PDU found mid-segment counts only if it is unmistakable: a public
/// function whose layout fits a request or a response, or an exception of
/// exactly a public function code and a defined exception code.
fn plausible_first_pdu(pdu: &[u8]) -> bool {
    let Some(&code) = pdu.first() else {
        return false;
    };
    let function = FunctionCode(code);
    let public = FunctionCode(function.code()).class() == FunctionClass::Public;
    if function.is_exception() {
        return public
            && pdu.len() == 2
            && pdu
                .get(1)
                .is_some_and(|&c| ExceptionCode(c).name().is_some());
    }
    let adu = Adu {
        header: MbapHeader {
            transaction_id: 0,
            protocol_id: MODBUS_PROTOCOL_ID,
            length: 0,
            unit_id: 0,
        },
        pdu,
    };
    public && direction_hint(&adu).is_some()
}

/// Offset of a complete ADU ending exactly at the end of `buf`, for
/// recognising a stream picked up in the middle of a PDU (the segment ends
/// one PDU and carries the next whole). Much stricter than [`find_boundary`],
/// because other protocols' payloads contain Modbus-like runs of zeros: the
/// ADU must satisfy [`probe`], use a public function code (or be an
/// exception), and have a layout that fits a request or a response.
pub fn find_adu(buf: &[u8]) -> Option<usize> {
    (1..buf.len()).find(|&at| {
        let Some(rest) = buf.get(at..) else {
            return false;
        };
        if probe(rest) != Probe::Match {
            return false;
        }
        match frame(rest) {
            Framing::Parsed { consumed, message } => {
                consumed == rest.len() && plausible_first_pdu(message.pdu)
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read Holding Registers request, transaction 1, unit 0x11, 3 registers from 0x006B.
    const READ_REQUEST: [u8; 12] = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x06, // length: unit id + 5 PDU bytes
        0x11, // unit id
        0x03, // function code: read holding registers
        0x00, 0x6B, // starting address
        0x00, 0x03, // quantity of registers
    ];

    /// The response: 3 registers, 6 bytes.
    const READ_RESPONSE: [u8; 15] = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x09, // length: unit id + 8 PDU bytes
        0x11, // unit id
        0x03, // function code
        0x06, // byte count
        0x02, 0x2B, 0x00, 0x00, 0x00, 0x64, // register values
    ];

    #[test]
    fn frames_one_adu() {
        let mut stream = READ_REQUEST.to_vec();
        stream.extend_from_slice(&READ_RESPONSE);
        let Framing::Parsed { consumed, message } = frame(&stream) else {
            panic!("not framed");
        };
        assert_eq!(consumed, 12);
        assert_eq!(
            message.header,
            MbapHeader {
                transaction_id: 1,
                protocol_id: 0,
                length: 6,
                unit_id: 0x11
            }
        );
        assert_eq!(message.pdu, &[0x03, 0x00, 0x6B, 0x00, 0x03]);
        assert_eq!(message.header.adu_len(), 12);
    }

    #[test]
    fn short_buffers_need_exact_byte_counts() {
        assert_eq!(frame(&[]), Framing::NeedMore { needed: 8 });
        assert_eq!(frame(&READ_REQUEST[..5]), Framing::NeedMore { needed: 3 });
        assert_eq!(frame(&READ_REQUEST[..6]), Framing::NeedMore { needed: 6 });
        assert_eq!(frame(&READ_REQUEST[..11]), Framing::NeedMore { needed: 1 });
    }

    #[test]
    fn rejects_out_of_range_lengths() {
        // length 1: unit id without function code
        assert_eq!(
            frame(&[0, 1, 0, 0, 0, 1, 0x11, 3]),
            Framing::NotThisProtocol
        );
        // length 1025: past what framing tolerates
        assert_eq!(frame(&[0, 1, 0, 0, 0x04, 0x01]), Framing::NotThisProtocol);
        // length 255: framed (a real Modicon sends it), flagged by parse
        assert_eq!(
            frame(&[0, 1, 0, 0, 0, 255]),
            Framing::NeedMore { needed: 255 }
        );
        // length 0
        assert_eq!(frame(&[0, 1, 0, 0, 0, 0]), Framing::NotThisProtocol);
    }

    #[test]
    fn accepts_any_protocol_id() {
        let adu = [0, 1, 0x12, 0x34, 0, 2, 1, 7];
        let Framing::Parsed { message, .. } = frame(&adu) else {
            panic!("not framed");
        };
        assert_eq!(message.header.protocol_id, 0x1234);
        assert_eq!(probe(&adu), Probe::NoMatch);
    }

    #[test]
    fn header_round_trips() {
        let header = MbapHeader {
            transaction_id: 0xBEEF,
            protocol_id: 0,
            length: 6,
            unit_id: 0xFF,
        };
        let mut out = Vec::new();
        header.write(&mut out);
        assert_eq!(out.len(), MBAP_HEADER_LEN);
        assert_eq!(MbapHeader::parse(&out), Ok(header));
    }

    #[test]
    fn probe_accepts_polling() {
        assert_eq!(probe(&READ_REQUEST), Probe::Match);
        assert_eq!(probe(&READ_RESPONSE), Probe::Match);
        let mut pipelined = READ_REQUEST.to_vec();
        pipelined.extend_from_slice(&READ_REQUEST);
        assert_eq!(probe(&pipelined), Probe::Match);
        // The start of a second request is enough.
        assert_eq!(probe(&pipelined[..15]), Probe::Match);
        // Exception response: illegal data address.
        assert_eq!(probe(&[0, 1, 0, 0, 0, 3, 0x11, 0x83, 0x02]), Probe::Match);
    }

    #[test]
    fn probe_waits_for_a_whole_adu() {
        assert_eq!(probe(&[]), Probe::NeedMore);
        for len in 1..READ_REQUEST.len() {
            assert_eq!(probe(&READ_REQUEST[..len]), Probe::NeedMore, "{len}");
        }
    }

    #[test]
    fn probe_rejects_other_protocols() {
        let cases: [&[u8]; 7] = [
            b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n",
            b"POST /cgi-bin/x HTTP/1.0\r\n\r\n",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"HTTP/1.1 200 OK\r\n",
            // TLS 1.2 ClientHello record header and start of the handshake
            &[
                0x16, 0x03, 0x01, 0x00, 0xF1, 0x01, 0x00, 0x00, 0xED, 0x03, 0x03, 0x5A,
            ],
            // random bytes
            &[
                0x9C, 0x41, 0xE7, 0x02, 0x88, 0x13, 0x5D, 0xF0, 0x3A, 0x6B, 0x11, 0xC4,
            ],
            // S7comm over TPKT/COTP connection request
            &[
                0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC0,
            ],
        ];
        for case in cases {
            assert_eq!(probe(case), Probe::NoMatch, "{case:02x?}");
        }
        // Rejected from the first wrong byte on, not after waiting.
        assert_eq!(probe(b"GE"), Probe::NeedMore);
        assert_eq!(probe(b"GET"), Probe::NoMatch);
    }

    #[test]
    fn finds_an_adu_after_the_tail_of_another() {
        let mut stream = READ_RESPONSE[9..].to_vec(); // the end of a cut PDU
        stream.extend_from_slice(&READ_REQUEST);
        assert_eq!(find_adu(&stream), Some(6));
        // The loose search may stop earlier, where a header could begin.
        assert!(find_boundary(&stream).is_some_and(|at| at <= 6));
        assert_eq!(find_adu(&[0u8; 64]), None);
        // An ONC RPC portmapper call seen on port 502: a Modbus-like run of
        // zeros in the middle ("00 00 00 00 00 02 00 01") is not an ADU.
        let rpc = [
            0x80, 0x00, 0x00, 0x28, 0x7e, 0x86, 0xab, 0x4a, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0x86,
            0xa3, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(find_adu(&rpc), None);
        assert_eq!(find_adu(b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n"), None);
    }

    #[test]
    fn probe_accepts_zero_function_and_rejects_garbage_after_the_adu() {
        // A scanner's function 0 and the device's exception 0x80 are Modbus too.
        assert_eq!(probe(&[0, 1, 0, 0, 0, 2, 1, 0x00]), Probe::Match);
        assert_eq!(probe(&[0, 1, 0, 0, 0, 3, 1, 0x80, 0x01]), Probe::Match);
        let mut stream = READ_REQUEST.to_vec();
        stream.extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert_eq!(probe(&stream), Probe::NoMatch);
    }
}
