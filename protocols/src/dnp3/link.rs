//! The DNP3 data link layer (IEEE 1815-2012 clause 9): framing, addresses,
//! the control byte and the CRCs.
//!
//! ```text
//!  0       2        3         4             6          8          10
//!  +-------+--------+---------+-------------+----------+----------+------------------------+
//!  | 05 64 | length | control | destination | source   | CRC      | user data in blocks of |
//!  |       |        |         | (u16 LE)    | (u16 LE) | (u16 LE) | 16 bytes, each + CRC   |
//!  +-------+--------+---------+-------------+----------+----------+------------------------+
//!  `length` counts control, destination, source and the user data (5-255),
//!  not the start bytes and not the CRCs; the last block may be shorter.
//! ```
//!
//! Panic contract: no function here panics, whatever the input.

use crate::error::{Error, Layer};
use crate::stream::Framing;

use super::crc;

/// CRC-16/DNP (see [`crc`](mod@super::crc)), re-exported beside the framing it checks.
pub use super::crc::crc;

/// The two start bytes of every frame.
pub const START: [u8; 2] = [0x05, 0x64];

/// Length of the header: start (2), length (1), control (1), destination (2),
/// source (2), CRC (2).
pub const HEADER_LEN: usize = 10;

/// Smallest length field: control and the two addresses, no user data.
pub const MIN_LENGTH: u8 = 5;

/// User data bytes per CRC block.
pub const BLOCK_LEN: usize = 16;

/// Length of a CRC on the wire.
pub const CRC_LEN: usize = 2;

/// Most user data one frame carries: the length field is one byte.
pub const MAX_USER_DATA_LEN: usize = u8::MAX as usize - MIN_LENGTH as usize;

/// Longest frame on the wire: header, 250 bytes of user data and 16 block CRCs.
pub const MAX_FRAME_LEN: usize = frame_len(u8::MAX);

/// The header layout, declared once. Offsets are from the start of the frame.
pub mod field {
    use core::ops::Range;

    /// Start bytes, `05 64`.
    pub const START: Range<usize> = 0..2;
    /// Length of control, addresses and user data.
    pub const LENGTH: usize = 2;
    /// Control byte: DIR, PRM, FCB/FCV or DFC, function.
    pub const CONTROL: usize = 3;
    /// Destination address (little-endian).
    pub const DESTINATION: Range<usize> = 4..6;
    /// Source address (little-endian).
    pub const SOURCE: Range<usize> = 6..8;
    /// CRC of the eight bytes before it (little-endian).
    pub const CRC: Range<usize> = 8..10;
}

// The layout is contiguous, matches the header length, and the length field
// counts exactly the control byte and the addresses.
const _: () = {
    assert!(field::START.start == 0);
    assert!(field::LENGTH == field::START.end);
    assert!(field::CONTROL == field::LENGTH + 1);
    assert!(field::DESTINATION.start == field::CONTROL + 1);
    assert!(field::SOURCE.start == field::DESTINATION.end);
    assert!(field::CRC.start == field::SOURCE.end);
    assert!(field::CRC.end == HEADER_LEN);
    assert!(field::CRC.end - field::CRC.start == CRC_LEN);
    assert!(MIN_LENGTH as usize == field::CRC.start - field::CONTROL);
    assert!(MAX_USER_DATA_LEN == 250);
    assert!(MAX_FRAME_LEN == 292);
};

/// Bytes a frame takes on the wire for a length field of `length` (at least
/// [`MIN_LENGTH`]; smaller values count as [`MIN_LENGTH`]).
pub const fn frame_len(length: u8) -> usize {
    let user = (length as usize).saturating_sub(MIN_LENGTH as usize);
    HEADER_LEN + user + CRC_LEN * user.div_ceil(BLOCK_LEN)
}

/// The function of a link frame: 4 bits whose meaning depends on PRM.
/// Names come from [`LinkFunction::name`] with the frame's PRM bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkFunction(pub u8);

/// Declares the primary and secondary function codes once: the constants,
/// the lists and the PRM-dependent name lookup.
macro_rules! link_functions {
    (
        primary { $( $(#[$pdoc:meta])* $pk:ident = $pv:literal => $pn:literal; )* }
        secondary { $( $(#[$sdoc:meta])* $sk:ident = $sv:literal => $sn:literal; )* }
    ) => {
        impl LinkFunction {
            $( $(#[$pdoc])* pub const $pk: LinkFunction = LinkFunction($pv); )*
            $( $(#[$sdoc])* pub const $sk: LinkFunction = LinkFunction($sv); )*

            /// Every named primary function (PRM set: from the initiator of a transaction).
            pub const PRIMARY: &'static [LinkFunction] = &[$(LinkFunction::$pk),*];

            /// Every named secondary function (PRM clear: the answer).
            pub const SECONDARY: &'static [LinkFunction] = &[$(LinkFunction::$sk),*];

            /// The function's name in `snake_case` for a frame with the given
            /// PRM bit; `None` for a code the standard does not define.
            pub const fn name(self, prm: bool) -> Option<&'static str> {
                if prm {
                    match self.0 {
                        $( $pv => Some($pn), )*
                        _ => None,
                    }
                } else {
                    match self.0 {
                        $( $sv => Some($sn), )*
                        _ => None,
                    }
                }
            }
        }
    };
}

link_functions! {
    primary {
        /// Reset link states (the secondary answers ACK).
        RESET_LINK_STATES = 0 => "reset_link_states";
        /// Reset user process (obsolete).
        RESET_USER_PROCESS = 1 => "reset_user_process";
        /// Test link states (the secondary answers ACK).
        TEST_LINK_STATES = 2 => "test_link_states";
        /// Confirmed user data (the secondary answers ACK).
        CONFIRMED_USER_DATA = 3 => "confirmed_user_data";
        /// Unconfirmed user data: the usual carrier of transport segments.
        UNCONFIRMED_USER_DATA = 4 => "unconfirmed_user_data";
        /// Request link status (the secondary answers LINK_STATUS).
        REQUEST_LINK_STATUS = 9 => "request_link_status";
    }
    secondary {
        /// Positive acknowledgement.
        ACK = 0 => "ack";
        /// Negative acknowledgement.
        NACK = 1 => "nack";
        /// Status of the link.
        LINK_STATUS = 11 => "link_status";
        /// Link service not functioning (obsolete).
        NOT_FUNCTIONING = 14 => "not_functioning";
        /// Link service not used or not implemented.
        NOT_SUPPORTED = 15 => "not_supported";
    }
}

/// The control byte of a link frame.
///
/// ```text
///  7     6     5          4          3..0
///  DIR | PRM | FCB (res) | FCV (DFC) | function
/// ```
/// FCB and FCV belong to primary frames (PRM set); secondary frames carry DFC
/// in the FCV position and a reserved bit in the FCB position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Control(pub u8);

impl Control {
    /// DIR: set on frames sent by the master.
    pub const DIR: u8 = 0x80;
    /// PRM: set on primary frames (the initiator of a link transaction).
    pub const PRM: u8 = 0x40;
    /// FCB: frame count bit (primary frames).
    pub const FCB: u8 = 0x20;
    /// FCV: frame count valid (primary frames).
    pub const FCV: u8 = 0x10;
    /// DFC: data flow control (secondary frames), the same bit as FCV.
    pub const DFC: u8 = 0x10;
    /// The function code bits.
    pub const FUNCTION: u8 = 0x0F;

    /// A control byte from its parts (`fcv` is DFC on secondary frames).
    pub const fn new(dir: bool, prm: bool, fcb: bool, fcv: bool, function: LinkFunction) -> Self {
        let mut byte = function.0 & Self::FUNCTION;
        if dir {
            byte |= Self::DIR;
        }
        if prm {
            byte |= Self::PRM;
        }
        if fcb {
            byte |= Self::FCB;
        }
        if fcv {
            byte |= Self::FCV;
        }
        Control(byte)
    }

    /// DIR: true on frames sent by the master, false on frames from an outstation.
    pub const fn dir(self) -> bool {
        self.0 & Self::DIR != 0
    }

    /// PRM: true on primary frames (requests of the link layer), false on secondary ones.
    pub const fn prm(self) -> bool {
        self.0 & Self::PRM != 0
    }

    /// FCB: the frame count bit of a primary frame.
    pub const fn fcb(self) -> bool {
        self.0 & Self::FCB != 0
    }

    /// FCV: the frame count valid bit of a primary frame.
    pub const fn fcv(self) -> bool {
        self.0 & Self::FCV != 0
    }

    /// DFC: the data flow control bit of a secondary frame (the FCV position).
    pub const fn dfc(self) -> bool {
        self.0 & Self::DFC != 0
    }

    /// The function code (low four bits).
    pub const fn function(self) -> LinkFunction {
        LinkFunction(self.0 & Self::FUNCTION)
    }

    /// The function's name for this frame's PRM bit.
    pub const fn function_name(self) -> Option<&'static str> {
        self.function().name(self.prm())
    }

    /// True for primary user data frames (confirmed or unconfirmed): the
    /// frames whose user data is a transport segment.
    pub const fn is_user_data(self) -> bool {
        self.prm()
            && matches!(
                self.function(),
                LinkFunction::CONFIRMED_USER_DATA | LinkFunction::UNCONFIRMED_USER_DATA
            )
    }
}

/// Lowest destination address reserved for broadcast (0xFFFD-0xFFFF).
pub const BROADCAST_ADDRESSES: core::ops::RangeInclusive<u16> = 0xFFFD..=0xFFFF;

/// The link header of a frame (the start bytes and the CRC are implied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Length of control, addresses and user data (5-255).
    pub length: u8,
    /// The control byte.
    pub control: Control,
    /// Destination address.
    pub destination: u16,
    /// Source address.
    pub source: u16,
}

impl Header {
    /// Reads the header from the first [`HEADER_LEN`] bytes of `buf`.
    ///
    /// Fails with [`Error::Incomplete`] on a short buffer, and with
    /// [`Error::Invalid`] on other start bytes (`start`), a header CRC that
    /// does not match (`header crc`, the value found) or a length field
    /// below [`MIN_LENGTH`] (`length`).
    pub fn parse(buf: &[u8]) -> Result<Header, Error> {
        let mut r = crate::cursor::Reader::new(buf, Layer::Dnp3Link);
        let start = r.take(START.len())?;
        if start != START {
            let value = u32::from(u16::from_be_bytes([
                start.first().copied().unwrap_or_default(),
                start.get(1).copied().unwrap_or_default(),
            ]));
            return Err(r.invalid("start", value, START.len()));
        }
        let length = r.u8()?;
        let control = Control(r.u8()?);
        let destination = r.le_u16()?;
        let source = r.le_u16()?;
        let covered = buf.get(..field::CRC.start).unwrap_or_default();
        let found = r.le_u16()?;
        if crc::crc(covered) != found {
            return Err(r.invalid("header crc", u32::from(found), CRC_LEN));
        }
        if length < MIN_LENGTH {
            return Err(Error::Invalid {
                layer: Layer::Dnp3Link,
                offset: field::LENGTH,
                field: "length",
                value: u32::from(length),
            });
        }
        Ok(Header {
            length,
            control,
            destination,
            source,
        })
    }

    /// Appends the header's [`HEADER_LEN`] bytes, its CRC computed (the
    /// length field as given).
    pub fn write(&self, out: &mut Vec<u8>) {
        let [s0, s1] = START;
        let [d0, d1] = self.destination.to_le_bytes();
        let [r0, r1] = self.source.to_le_bytes();
        // The bytes the header CRC covers, in `field` order.
        let head: [u8; field::CRC.start] = [s0, s1, self.length, self.control.0, d0, d1, r0, r1];
        crc::append_with_crc(out, &head);
    }

    /// Bytes of user data the length field announces (CRCs not counted).
    pub const fn user_data_len(&self) -> usize {
        (self.length as usize).saturating_sub(MIN_LENGTH as usize)
    }

    /// Bytes the whole frame takes on the wire.
    pub const fn frame_len(&self) -> usize {
        frame_len(self.length)
    }

    /// True when the destination is one of the broadcast addresses.
    pub fn is_broadcast(&self) -> bool {
        BROADCAST_ADDRESSES.contains(&self.destination)
    }
}

/// The user data of a frame as it is on the wire: blocks of 16 bytes, the
/// last one shorter, each followed by its CRC. Borrowed, never copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserData<'a> {
    raw: &'a [u8],
}

impl<'a> UserData<'a> {
    /// The region as it is on the wire, CRCs included.
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Bytes of user data, CRCs not counted.
    pub fn len(&self) -> usize {
        let blocks = self.raw.len().div_ceil(BLOCK_LEN + CRC_LEN);
        self.raw.len().saturating_sub(CRC_LEN * blocks)
    }

    /// True for a frame without user data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The blocks as they are on the wire: each block's data and its two CRC bytes.
    fn blocks(&self) -> impl Iterator<Item = (&'a [u8], [u8; 2])> + Clone + 'a {
        self.raw.chunks(BLOCK_LEN + CRC_LEN).map(|block| {
            let split = block.len().saturating_sub(CRC_LEN);
            let (data, crc) = block.split_at(split);
            let crc = <[u8; 2]>::try_from(crc).unwrap_or_default();
            (data, crc)
        })
    }

    /// The user data without CRCs, one piece per block (at most 16 bytes each), no copy.
    pub fn chunks(&self) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        self.blocks().map(|(data, _)| data)
    }

    /// Appends the user data without CRCs to `out`.
    pub fn copy_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len());
        for chunk in self.chunks() {
            out.extend_from_slice(chunk);
        }
    }

    /// The first byte of user data (the transport header), if any.
    pub fn first(&self) -> Option<u8> {
        self.chunks()
            .next()
            .and_then(|chunk| chunk.first().copied())
    }

    /// True when every block's CRC matches.
    pub fn crc_ok(&self) -> bool {
        self.blocks().all(|(data, crc)| crc::check(data, crc))
    }

    /// Index of the first block whose CRC does not match.
    pub fn first_bad_block(&self) -> Option<usize> {
        self.blocks().position(|(data, crc)| !crc::check(data, crc))
    }
}

/// One framed link frame, borrowing its user data from the stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame<'a> {
    /// The header (its CRC checked).
    pub header: Header,
    /// The user data with its CRCs, as on the wire.
    pub data: UserData<'a>,
    /// True when every data block's CRC matches; a frame with a bad block
    /// must be counted and dropped, never passed to the transport function.
    pub data_crc_ok: bool,
}

/// Checks what `buf` holds of a header: the start bytes and a length field of
/// at least 5 as far as they are present, the CRC once all ten bytes are.
/// `Some(true)`: a valid header; `Some(false)`: a consistent prefix; `None`: not a header.
fn header_state(buf: &[u8]) -> Option<bool> {
    match buf {
        [first, ..] if *first != START[0] => None,
        [_, second, ..] if *second != START[1] => None,
        [_, _, length, ..] if *length < MIN_LENGTH => None,
        _ if buf.len() < HEADER_LEN => Some(false),
        _ => Header::parse(buf).is_ok().then_some(true),
    }
}

/// Frames one link frame at the start of `buf`.
///
/// Other start bytes, a length field below 5 or a header CRC that does not
/// match give [`Framing::NotThisProtocol`]: the caller resynchronises with
/// [`find_start`]. Data-block CRCs are checked and reported in
/// [`Frame::data_crc_ok`] (the frame is still consumed whole). A short buffer
/// gives [`Framing::NeedMore`] with the exact number of missing bytes once
/// the length field is in `buf`, and the bytes missing to a header before.
pub fn frame(buf: &[u8]) -> Framing<Frame<'_>> {
    if header_state(buf).is_none() {
        return Framing::NotThisProtocol;
    }
    let Some(&length) = buf.get(field::LENGTH) else {
        return Framing::NeedMore {
            needed: HEADER_LEN.saturating_sub(buf.len()),
        };
    };
    let total = frame_len(length);
    let Some(head) = buf.get(..HEADER_LEN) else {
        return Framing::NeedMore {
            needed: total.saturating_sub(buf.len()),
        };
    };
    let Ok(header) = Header::parse(head) else {
        return Framing::NotThisProtocol;
    };
    let Some(raw) = buf.get(HEADER_LEN..total) else {
        return Framing::NeedMore {
            needed: total.saturating_sub(buf.len()),
        };
    };
    let data = UserData { raw };
    Framing::Parsed {
        consumed: total,
        message: Frame {
            header,
            data,
            data_crc_ok: data.crc_ok(),
        },
    }
}

/// Offset of the first `05 64` in `buf` that starts a header with a valid CRC
/// and a length field of at least 5: where to resume after bytes that did not
/// frame. A candidate too close to the end of `buf` for its header to be
/// checked (a consistent prefix of a header, down to a lone trailing `05`)
/// counts too, so a caller that keeps the bytes from there on loses no frame
/// split across segments. `None`: no frame can start anywhere in `buf`.
pub fn find_start(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find(|&at| buf.get(at..).and_then(header_state).is_some())
}

/// Appends one frame: the header with `length` computed from `user_data`
/// (the `length` of `header` is ignored), its CRC, and the user data in
/// 16-byte blocks each followed by its CRC.
///
/// Fails, leaving `out` as it was, when `user_data` is longer than
/// [`MAX_USER_DATA_LEN`].
pub fn encode(out: &mut Vec<u8>, header: &Header, user_data: &[u8]) -> Result<(), Error> {
    let length =
        u8::try_from(user_data.len().saturating_add(usize::from(MIN_LENGTH))).map_err(|_| {
            Error::Invalid {
                layer: Layer::Dnp3Link,
                offset: field::LENGTH,
                field: "length",
                value: u32::try_from(user_data.len()).unwrap_or(u32::MAX),
            }
        })?;
    Header { length, ..*header }.write(out);
    for block in user_data.chunks(BLOCK_LEN) {
        crc::append_with_crc(out, block);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dnp3-opendnp3conf-6.6.2.3.pcap frame 4 (first 10 bytes): a header
    /// announcing no user data, from master 1 to outstation 1025.
    const HEADER_ONLY: [u8; 10] = [
        0x05, 0x64, // start
        0x05, // length: control and addresses only
        0xC4, // DIR, PRM, unconfirmed user data
        0x01, 0x04, // destination 1025
        0x01, 0x00, // source 1
        0x27, 0xB9, // header CRC
    ];

    #[test]
    fn frames_a_header_only_frame() {
        let Framing::Parsed { consumed, message } = frame(&HEADER_ONLY) else {
            panic!("not framed");
        };
        assert_eq!(consumed, 10);
        let h = message.header;
        assert_eq!((h.length, h.destination, h.source), (5, 1025, 1));
        assert!(h.control.dir() && h.control.prm() && !h.control.fcb() && !h.control.fcv());
        assert_eq!(h.control.function(), LinkFunction::UNCONFIRMED_USER_DATA);
        assert_eq!(h.control.function_name(), Some("unconfirmed_user_data"));
        assert!(message.data.is_empty() && message.data_crc_ok);
        let mut out = Vec::new();
        h.write(&mut out);
        assert_eq!(out, HEADER_ONLY);
    }

    #[test]
    fn encodes_blocks_with_crcs_and_frames_them_back() {
        let user: Vec<u8> = (0..40).collect();
        let header = Header {
            length: 0,
            control: Control::new(
                true,
                true,
                false,
                false,
                LinkFunction::UNCONFIRMED_USER_DATA,
            ),
            destination: 10,
            source: 1,
        };
        let mut out = Vec::new();
        encode(&mut out, &header, &user).unwrap();
        assert_eq!(out.len(), 10 + 40 + 2 * 3);
        let Framing::Parsed { consumed, message } = frame(&out) else {
            panic!("not framed");
        };
        assert_eq!(consumed, out.len());
        assert_eq!(message.header.length, 45);
        assert_eq!(message.data.len(), 40);
        assert_eq!(
            message.data.chunks().map(<[u8]>::len).collect::<Vec<_>>(),
            [16, 16, 8]
        );
        let mut copy = Vec::new();
        message.data.copy_to(&mut copy);
        assert_eq!(copy, user);
        assert_eq!(message.data.first(), Some(0));
        assert!(message.data_crc_ok);
        // A flipped data byte is caught by its block's CRC, the frame still consumed.
        out[30] ^= 1;
        let Framing::Parsed { consumed, message } = frame(&out) else {
            panic!("not framed");
        };
        assert_eq!(consumed, out.len());
        assert!(!message.data_crc_ok);
        assert_eq!(message.data.first_bad_block(), Some(1));
    }

    #[test]
    fn need_more_is_exact() {
        let mut out = Vec::new();
        encode(
            &mut out,
            &Header {
                length: 0,
                control: Control(0x44),
                destination: 1,
                source: 2,
            },
            &[1, 2, 3],
        )
        .unwrap();
        assert_eq!(out.len(), 15);
        assert_eq!(frame(&[]), Framing::NeedMore { needed: 10 });
        assert_eq!(frame(&out[..2]), Framing::NeedMore { needed: 8 });
        for n in 3..out.len() {
            assert_eq!(
                frame(&out[..n]),
                Framing::NeedMore { needed: 15 - n },
                "{n}"
            );
        }
    }

    #[test]
    fn rejects_bad_starts_lengths_and_header_crcs() {
        assert_eq!(frame(&[0x06]), Framing::NotThisProtocol);
        assert_eq!(frame(&[0x05, 0x65]), Framing::NotThisProtocol);
        assert_eq!(frame(&[0x05, 0x64, 0x04]), Framing::NotThisProtocol);
        let mut bad = HEADER_ONLY;
        bad[9] ^= 0xFF;
        assert_eq!(frame(&bad), Framing::NotThisProtocol);
        assert!(matches!(
            Header::parse(&bad),
            Err(Error::Invalid {
                field: "header crc",
                offset: 8,
                ..
            })
        ));
        let mut out = Vec::new();
        assert!(
            encode(
                &mut out,
                &Header {
                    length: 0,
                    control: Control(0),
                    destination: 0,
                    source: 0
                },
                &[0; 251]
            )
            .is_err()
        );
        assert!(out.is_empty());
    }

    #[test]
    fn finds_the_next_valid_start() {
        // A full header with a bad CRC, then the start of another.
        let mut stream = vec![0x05, 0x64, 0x05, 0xC4, 0, 0, 0, 0, 0, 0, 0x05, 0x64];
        let at = stream.len() - 2;
        assert_eq!(
            find_start(&stream),
            Some(at),
            "a consistent prefix at the end counts"
        );
        stream.extend_from_slice(&HEADER_ONLY[2..]);
        assert_eq!(find_start(&stream), Some(at));
        assert_eq!(
            find_start(&[0x05, 0x64, 0x05, 0xC4, 0, 0, 0, 0, 0, 0, 1]),
            None
        );
        assert_eq!(find_start(&[1, 2, 0x05]), Some(2));
        assert_eq!(find_start(b"GET / HTTP/1.1"), None);
        assert_eq!(find_start(&[]), None);
    }

    #[test]
    fn secondary_names_depend_on_prm() {
        let ack = Control(0x00);
        assert_eq!(ack.function_name(), Some("ack"));
        assert_eq!(LinkFunction(0).name(true), Some("reset_link_states"));
        assert_eq!(Control(0x0B).function_name(), Some("link_status"));
        assert_eq!(Control(0x4B).function_name(), None);
        assert!(Control(0xC4).is_user_data() && Control(0xC3).is_user_data());
        assert!(!Control(0x04).is_user_data());
        assert_eq!(frame_len(5), 10);
        assert_eq!(frame_len(21), 28);
        assert_eq!(frame_len(22), 31);
    }
}
