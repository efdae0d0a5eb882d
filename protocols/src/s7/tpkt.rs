//! TPKT (RFC 1006): the four-byte header that frames ISO transport TPDUs on TCP.
//!
//! ```text
//!  0         1          2            4
//!  +---------+----------+------------+---------------------------+
//!  | version | reserved | length     | COTP header + user data   |
//!  |   3     |    0     | (u16 BE)   |                           |
//!  +---------+----------+------------+---------------------------+
//!  <------------------- `length` bytes, header included ---------->
//! ```
//!
//! Panic contract: no function here panics, whatever the input.

use crate::error::{Error, Layer};
use crate::stream::Framing;

/// Length of the TPKT header: version, reserved, length.
pub const HEADER_LEN: usize = 4;

/// The only TPKT version (RFC 1006).
pub const VERSION: u8 = 3;

/// Smallest length field [`frame`] accepts: the header and the shortest COTP
/// TPDU (a class 0 data TPDU: length indicator, type, EOT/number).
pub const MIN_LENGTH: u16 = 7;

/// The TPKT header layout, declared once. Offsets are from the start of the frame.
pub mod field {
    use core::ops::Range;

    /// Version, always 3.
    pub const VERSION: usize = 0;
    /// Reserved, 0.
    pub const RESERVED: usize = 1;
    /// Length of the whole frame, header included (big-endian).
    pub const LENGTH: Range<usize> = 2..4;
}

// The layout is contiguous and matches the header length.
const _: () = {
    assert!(field::VERSION == 0);
    assert!(field::RESERVED == field::VERSION + 1);
    assert!(field::LENGTH.start == field::RESERVED + 1);
    assert!(field::LENGTH.end == HEADER_LEN);
    assert!(MIN_LENGTH as usize > HEADER_LEN);
};

/// One framed TPKT, borrowing its payload from the stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tpkt<'a> {
    /// The length field: header plus payload.
    pub length: u16,
    /// The COTP header and user data: `length - 4` bytes.
    pub payload: &'a [u8],
}

/// Frames one TPKT at the start of `buf`.
///
/// A first byte other than 3, or a length field below [`MIN_LENGTH`], gives
/// [`Framing::NotThisProtocol`]; the reserved byte is not checked (the
/// [`probe`](super::probe()) is strict about it). A short buffer gives
/// [`Framing::NeedMore`] with the exact number of missing bytes once the
/// length field is in `buf`, and the bytes missing to the shortest frame before.
pub fn frame(buf: &[u8]) -> Framing<Tpkt<'_>> {
    if buf.get(field::VERSION).is_some_and(|&v| v != VERSION) {
        return Framing::NotThisProtocol;
    }
    let Some(&[high, low]) = buf.get(field::LENGTH) else {
        return Framing::NeedMore {
            needed: usize::from(MIN_LENGTH).saturating_sub(buf.len()),
        };
    };
    let length = u16::from_be_bytes([high, low]);
    if length < MIN_LENGTH {
        return Framing::NotThisProtocol;
    }
    let total = usize::from(length);
    match buf.get(HEADER_LEN..total) {
        Some(payload) => Framing::Parsed {
            consumed: total,
            message: Tpkt { length, payload },
        },
        None => Framing::NeedMore {
            needed: total.saturating_sub(buf.len()),
        },
    }
}

/// Largest payload one TPKT carries: the length field is 16 bits.
pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize - HEADER_LEN;

/// Appends one TPKT around `payload` (a COTP header and its user data).
///
/// Fails, leaving `out` as it was, when the payload is longer than [`MAX_PAYLOAD_LEN`].
pub fn encode(out: &mut Vec<u8>, payload: &[u8]) -> Result<(), Error> {
    let length = payload
        .len()
        .checked_add(HEADER_LEN)
        .and_then(|total| u16::try_from(total).ok())
        .ok_or(Error::Invalid {
            layer: Layer::Tpkt,
            offset: field::LENGTH.start,
            field: "length",
            value: u32::try_from(payload.len()).unwrap_or(u32::MAX),
        })?;
    out.push(VERSION);
    out.push(0);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TPKT around a COTP data TPDU carrying a 2-byte S7comm fragment.
    const FRAME: [u8; 9] = [
        0x03, // version
        0x00, // reserved
        0x00, 0x09, // length: 9 bytes, header included
        0x02, // COTP length indicator
        0xF0, // COTP DT
        0x80, // EOT, TPDU number 0
        0x32, 0x01, // user data
    ];

    #[test]
    fn frames_one_tpkt_and_leaves_the_rest() {
        let mut stream = FRAME.to_vec();
        stream.extend_from_slice(&[0x03, 0x00]);
        let Framing::Parsed { consumed, message } = frame(&stream) else {
            panic!("not framed");
        };
        assert_eq!(consumed, 9);
        assert_eq!(message.length, 9);
        assert_eq!(message.payload, &FRAME[4..]);
    }

    #[test]
    fn short_buffers_need_exact_byte_counts() {
        assert_eq!(frame(&[]), Framing::NeedMore { needed: 7 });
        assert_eq!(frame(&FRAME[..1]), Framing::NeedMore { needed: 6 });
        assert_eq!(frame(&FRAME[..3]), Framing::NeedMore { needed: 4 });
        assert_eq!(frame(&FRAME[..4]), Framing::NeedMore { needed: 5 });
        assert_eq!(frame(&FRAME[..8]), Framing::NeedMore { needed: 1 });
    }

    #[test]
    fn rejects_other_versions_and_short_lengths() {
        assert_eq!(frame(&[0x04]), Framing::NotThisProtocol);
        assert_eq!(frame(&[0x00, 0x01, 0x00, 0x00]), Framing::NotThisProtocol);
        assert_eq!(frame(&[0x03, 0x00, 0x00, 0x06]), Framing::NotThisProtocol);
        assert_eq!(frame(&[0x03, 0x00, 0x00, 0x00]), Framing::NotThisProtocol);
    }

    #[test]
    fn encode_is_the_inverse_of_frame() {
        let mut out = Vec::new();
        encode(&mut out, &FRAME[4..]).unwrap();
        assert_eq!(out, FRAME);
        let mut out = vec![0xAA];
        assert!(encode(&mut out, &vec![0; MAX_PAYLOAD_LEN + 1]).is_err());
        assert_eq!(out, [0xAA]);
        encode(&mut out, &vec![0; MAX_PAYLOAD_LEN]).unwrap();
        assert_eq!(out.len(), 1 + usize::from(u16::MAX));
    }
}
