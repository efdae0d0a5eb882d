//! S7comm-plus (protocol id 0x72): the S7-1200/1500 protocol.
//!
//! ```text
//!  header:    0x72 | version | data length (2)            (keep-alive 0xFF: 0x72 | 0xFF | seq | 0)
//!  data:      [V3: digest length (1, = 32) | digest (32)]
//!             opcode | reserved (2) | function (2) | reserved (2) | sequence (2)
//!             | session id (4, requests only) | transport flags | body ...
//!             (notification: opcode | body;  system event 0xFE: body only)
//!  trailer:   0x72 | version | 0x0000                     (absent on all but the last fragment)
//! ```
//!
//! A PDU whose data continues in the next one (a large object split over
//! several COTP units) has no trailer ([`Message::trailer`] false); the next
//! PDUs repeat the header (and in V3 the integrity part) but not the opcode
//! fields: decode those with [`parse_continuation`]. Field positions follow
//! Thomas Wiens' dissector; where the layout is not certain (an unknown
//! opcode, a truncated data part) the fields are `None` rather than guessed.
//! Integrity parts that V1/V2 firmware appends at the end of the data are
//! not separated from the body. [`strings`] pulls identity strings (order
//! numbers, firmware versions, station names) out of a body.
//!
//! Panic contract: no function here panics, whatever the input.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

/// The S7comm-plus protocol identifier, first byte of the header and the trailer.
pub const PROTOCOL_ID: u8 = 0x72;

/// Length of the header: protocol id, version, data length.
pub const HEADER_LEN: usize = 4;

/// Length of the trailer: protocol id, version, zero length.
pub const TRAILER_LEN: usize = 4;

/// Length of the V3 integrity digest.
pub const DIGEST_LEN: u8 = 32;

/// The header layout, declared once. Offsets are from the start of the PDU.
pub mod field {
    use core::ops::Range;

    /// Protocol id, 0x72.
    pub const PROTOCOL_ID: usize = 0;
    /// Protocol version, see [`version`](super::version).
    pub const VERSION: usize = 1;
    /// Length of the data part (not of the trailer).
    pub const DATA_LEN: Range<usize> = 2..4;
    /// Keep-alive (version 0xFF): sequence number.
    pub const KEEP_ALIVE_SEQUENCE: usize = 2;
}

/// The layout of the data part after the opcode. Offsets are from the opcode
/// (in V3, from the byte after the integrity part).
pub mod data_field {
    use core::ops::Range;

    /// Opcode.
    pub const OPCODE: usize = 0;
    /// Reserved.
    pub const RESERVED_1: Range<usize> = 1..3;
    /// Function code.
    pub const FUNCTION: Range<usize> = 3..5;
    /// Reserved.
    pub const RESERVED_2: Range<usize> = 5..7;
    /// Sequence number.
    pub const SEQUENCE: Range<usize> = 7..9;
    /// Session id (requests only).
    pub const SESSION_ID: Range<usize> = 9..13;
    /// Transport flags of a request.
    pub const REQUEST_TRANSPORT_FLAGS: usize = 13;
    /// Transport flags of a response.
    pub const RESPONSE_TRANSPORT_FLAGS: usize = 9;
}

// The layouts are contiguous and agree with the reads in `parse`.
const _: () = {
    assert!(field::VERSION == field::PROTOCOL_ID + 1);
    assert!(field::DATA_LEN.start == field::VERSION + 1);
    assert!(field::DATA_LEN.end == HEADER_LEN);
    assert!(field::KEEP_ALIVE_SEQUENCE == field::DATA_LEN.start);
    assert!(data_field::RESERVED_1.start == data_field::OPCODE + 1);
    assert!(data_field::FUNCTION.start == data_field::RESERVED_1.end);
    assert!(data_field::RESERVED_2.start == data_field::FUNCTION.end);
    assert!(data_field::SEQUENCE.start == data_field::RESERVED_2.end);
    assert!(data_field::SESSION_ID.start == data_field::SEQUENCE.end);
    assert!(data_field::REQUEST_TRANSPORT_FLAGS == data_field::SESSION_ID.end);
    assert!(data_field::RESPONSE_TRANSPORT_FLAGS == data_field::SEQUENCE.end);
};

/// Protocol versions (second header byte).
pub mod version {
    /// V1: early S7-1200 firmware.
    pub const V1: u8 = 0x01;
    /// V2: S7-1200/1500, session key legitimation.
    pub const V2: u8 = 0x02;
    /// V3: with an integrity part (HMAC digest) before the data.
    pub const V3: u8 = 0x03;
    /// System event (extended keep-alive, TIA V14 and later).
    pub const SYSTEM_EVENT: u8 = 0xFE;
    /// Keep-alive.
    pub const KEEP_ALIVE: u8 = 0xFF;
}

/// The `snake_case` name of a protocol version.
pub const fn version_name(version: u8) -> Option<&'static str> {
    match version {
        version::V1 => Some("v1"),
        version::V2 => Some("v2"),
        version::V3 => Some("v3"),
        version::SYSTEM_EVENT => Some("system_event"),
        version::KEEP_ALIVE => Some("keep_alive"),
        _ => None,
    }
}

wire_enum! {
    /// The opcode: first byte of the data part.
    Opcode(u8) {
        /// Response, as seen from V13 HMIs on cyclic data.
        RESPONSE2 = 0x02 => "response2";
        /// Request.
        REQUEST = 0x31 => "request";
        /// Response.
        RESPONSE = 0x32 => "response";
        /// Notification (subscription data pushed by the PLC).
        NOTIFICATION = 0x33 => "notification";
    }
}

wire_enum! {
    /// The function code of a request or response.
    Function(u16) {
        /// Error.
        ERROR = 0x04B1 => "error";
        /// Explore the object tree.
        EXPLORE = 0x04BB => "explore";
        /// Create an object (sessions, subscriptions, downloads).
        CREATE_OBJECT = 0x04CA => "create_object";
        /// Delete an object.
        DELETE_OBJECT = 0x04D4 => "delete_object";
        /// Set a variable (attribute), e.g. the operating state.
        SET_VARIABLE = 0x04F2 => "set_variable";
        /// Get a variable (old S7-1200 firmware).
        GET_VARIABLE = 0x04FC => "get_variable";
        /// Add a link.
        ADD_LINK = 0x0506 => "add_link";
        /// Remove a link.
        REMOVE_LINK = 0x051A => "remove_link";
        /// Get a link.
        GET_LINK = 0x0524 => "get_link";
        /// Set several variables (writes).
        SET_MULTI_VARIABLES = 0x0542 => "set_multi_variables";
        /// Get several variables (reads).
        GET_MULTI_VARIABLES = 0x054C => "get_multi_variables";
        /// Begin a sequence (of a download).
        BEGIN_SEQUENCE = 0x0556 => "begin_sequence";
        /// End a sequence.
        END_SEQUENCE = 0x0560 => "end_sequence";
        /// Invoke a method.
        INVOKE = 0x056B => "invoke";
        /// Set a variable, substreamed (block download).
        SET_VAR_SUBSTREAMED = 0x057C => "set_var_substreamed";
        /// Get a variable, substreamed (block upload).
        GET_VAR_SUBSTREAMED = 0x0586 => "get_var_substreamed";
        /// Get variables' addresses.
        GET_VARIABLES_ADDRESS = 0x0590 => "get_variables_address";
        /// Abort.
        ABORT = 0x059A => "abort";
        /// Error (second code).
        ERROR_2 = 0x05A9 => "error_2";
        /// Initialise TLS inside the session (TIA V17, firmware 2.9).
        INIT_SSL = 0x05B3 => "init_ssl";
    }
}

/// The `snake_case` name of a function code.
pub const fn function_name(function: u16) -> Option<&'static str> {
    Function(function).name()
}

named_flags! {
    /// Spec violations found in an S7comm-plus PDU.
    Anomalies(u32) {
        /// A protocol version other than 1, 2, 3, 0xFE and 0xFF.
        UNKNOWN_VERSION = 1 << 0 => "unknown_version";
        /// An opcode other than 0x31, 0x32, 0x33 and 0x02; the data is not decoded.
        UNKNOWN_OPCODE = 1 << 1 => "unknown_opcode";
        /// A function code the dissector does not name.
        UNKNOWN_FUNCTION = 1 << 2 => "unknown_function";
        /// A V3 integrity part whose digest length is not 32.
        BAD_DIGEST_LENGTH = 1 << 3 => "bad_digest_length";
        /// The data part ends inside the integrity part or the opcode fields.
        TRUNCATED_DATA = 1 << 4 => "truncated_data";
        /// Four bytes after the data that are not `72 <version> 00 00`.
        BAD_TRAILER = 1 << 5 => "bad_trailer";
        /// Bytes after the trailer, or one to three bytes where a trailer would be.
        TRAILING_BYTES = 1 << 6 => "trailing_bytes";
    }
    malformed: [BAD_DIGEST_LENGTH, BAD_TRAILER, TRAILING_BYTES];
}

/// A decoded S7comm-plus PDU, borrowing from the reassembled COTP user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Message<'a> {
    /// Protocol version, see [`version`].
    pub protocol_version: u8,
    /// Data length field (0 for a keep-alive).
    pub data_len: u16,
    /// Opcode; `None` for system events, keep-alives, continuations and unknown opcodes.
    pub opcode: Option<Opcode>,
    /// Function code of a request or response (see [`Function`], [`function_name`]).
    pub function: Option<u16>,
    /// Sequence number of a request or response (of a keep-alive: its one-byte sequence).
    pub sequence: Option<u16>,
    /// Session id of a request.
    pub session_id: Option<u32>,
    /// Transport flags of a request or response.
    pub transport_flags: Option<u8>,
    /// The data after the fields above, trailer excluded.
    pub body: &'a [u8],
    /// True when a V3 integrity part with a 32-byte digest precedes the data.
    pub integrity_protected: bool,
    /// The V3 integrity digest.
    pub digest: Option<&'a [u8]>,
    /// True when the PDU ends with a trailer: the last (or only) fragment of its data.
    pub trailer: bool,
    /// Spec violations found in the PDU.
    pub anomalies: Anomalies,
}

impl Message<'_> {
    /// The opcode's function as a [`Function`].
    pub fn function_code(&self) -> Option<Function> {
        self.function.map(Function)
    }
}

/// Decodes one S7comm-plus PDU: the complete user data of a COTP DT unit.
///
/// Fails with [`Error::Invalid`] when the protocol id is not 0x72, and with
/// [`Error::Incomplete`] when the header, or the data part its length
/// announces, runs past `pdu`. A data part too short for its integrity part
/// or opcode fields is flagged `TRUNCATED_DATA`, with the fields it holds.
pub fn parse(pdu: &[u8]) -> Result<Message<'_>, Error> {
    parse_with(pdu, false)
}

/// Decodes a PDU that continues the data of the previous one (which had no
/// trailer): header, trailer and V3 integrity part as [`parse`] does, the
/// rest of the data as `body`, no opcode fields.
pub fn parse_continuation(pdu: &[u8]) -> Result<Message<'_>, Error> {
    parse_with(pdu, true)
}

fn parse_with(pdu: &[u8], continuation: bool) -> Result<Message<'_>, Error> {
    let mut r = Reader::new(pdu, Layer::S7commPlus);
    let id = r.u8()?;
    if id != PROTOCOL_ID {
        return Err(r.invalid("protocol id", u32::from(id), 1));
    }
    let protocol_version = r.u8()?;
    let mut m = Message {
        protocol_version,
        data_len: 0,
        opcode: None,
        function: None,
        sequence: None,
        session_id: None,
        transport_flags: None,
        body: &[],
        integrity_protected: false,
        digest: None,
        trailer: false,
        anomalies: Anomalies::empty(),
    };
    if version_name(protocol_version).is_none() {
        m.anomalies |= Anomalies::UNKNOWN_VERSION;
    }
    if protocol_version == version::KEEP_ALIVE {
        m.sequence = Some(u16::from(r.u8()?));
        r.skip(1)?;
        if !r.is_empty() {
            m.anomalies |= Anomalies::TRAILING_BYTES;
        }
        return Ok(m);
    }
    m.data_len = r.be_u16()?;
    let mut d = r.sub(usize::from(m.data_len))?;
    let rest = r.rest();
    if rest.len() >= TRAILER_LEN {
        // Wireshark's rule: four or more bytes after the data are a trailer.
        m.trailer = true;
        if !matches!(rest, [id, v, 0, 0, ..] if *id == PROTOCOL_ID && *v == protocol_version) {
            m.anomalies |= Anomalies::BAD_TRAILER;
        }
        if rest.len() > TRAILER_LEN {
            m.anomalies |= Anomalies::TRAILING_BYTES;
        }
    } else if !rest.is_empty() {
        m.anomalies |= Anomalies::TRAILING_BYTES;
    }
    if protocol_version == version::SYSTEM_EVENT {
        m.body = d.take_rest();
        return Ok(m);
    }
    if protocol_version == version::V3 {
        match d.u8() {
            Ok(DIGEST_LEN) => match d.take(usize::from(DIGEST_LEN)) {
                Ok(digest) => {
                    m.digest = Some(digest);
                    m.integrity_protected = true;
                }
                Err(_) => {
                    m.anomalies |= Anomalies::TRUNCATED_DATA;
                    m.body = d.take_rest();
                    return Ok(m);
                }
            },
            Ok(_) => m.anomalies |= Anomalies::BAD_DIGEST_LENGTH,
            Err(_) => {
                m.anomalies |= Anomalies::TRUNCATED_DATA;
                return Ok(m);
            }
        }
    }
    if continuation {
        m.body = d.take_rest();
        return Ok(m);
    }
    let data = d.rest();
    if decode_opcode_fields(&mut d, &mut m).is_err() {
        m.anomalies |= Anomalies::TRUNCATED_DATA;
    }
    m.body = if m.opcode.is_some() {
        d.take_rest()
    } else {
        data
    };
    Ok(m)
}

/// Reads the opcode and, for requests and responses, the fields after it
/// into `m`, stopping at the first that does not fit.
fn decode_opcode_fields(d: &mut Reader<'_>, m: &mut Message<'_>) -> Result<(), Error> {
    let opcode = Opcode(d.peek_u8()?);
    if opcode.name().is_none() {
        m.anomalies |= Anomalies::UNKNOWN_OPCODE;
        return Ok(());
    }
    d.skip(1)?;
    m.opcode = Some(opcode);
    if opcode == Opcode::NOTIFICATION {
        return Ok(());
    }
    d.skip(2)?;
    let function = d.be_u16()?;
    m.function = Some(function);
    if Function(function).name().is_none() {
        m.anomalies |= Anomalies::UNKNOWN_FUNCTION;
    }
    d.skip(2)?;
    m.sequence = Some(d.be_u16()?);
    if opcode == Opcode::REQUEST {
        m.session_id = Some(d.be_u32()?);
    }
    m.transport_flags = Some(d.u8()?);
    Ok(())
}

/// Appends one S7comm-plus PDU built from `message`: header (data length
/// computed), for V3 the integrity part when `digest` is set, the opcode
/// fields that are set (a request's session id and every response's
/// transport flags default to 0), the body, and a trailer when
/// `message.trailer`. A keep-alive is its four bytes. `data_len` and
/// `anomalies` are ignored.
///
/// Fails, leaving `out` as it was, when the data part is longer than 65535
/// bytes or the digest longer than 255.
pub fn encode(out: &mut Vec<u8>, message: &Message<'_>) -> Result<(), Error> {
    let start = out.len();
    let version = message.protocol_version;
    out.push(PROTOCOL_ID);
    out.push(version);
    if version == version::KEEP_ALIVE {
        let [_, sequence] = message.sequence.unwrap_or(0).to_be_bytes();
        out.push(sequence);
        out.push(0);
        return Ok(());
    }
    out.extend_from_slice(&[0, 0]);
    let data_start = out.len();
    let fail = |out: &mut Vec<u8>, field: &'static str, value: usize| {
        out.truncate(start);
        Err(Error::Invalid {
            layer: Layer::S7commPlus,
            offset: field::DATA_LEN.start,
            field,
            value: u32::try_from(value).unwrap_or(u32::MAX),
        })
    };
    if let Some(digest) = message.digest {
        let Ok(len) = u8::try_from(digest.len()) else {
            return fail(out, "digest length", digest.len());
        };
        out.push(len);
        out.extend_from_slice(digest);
    }
    if let Some(opcode) = message.opcode {
        out.push(opcode.0);
        if opcode != Opcode::NOTIFICATION {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&message.function.unwrap_or(0).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&message.sequence.unwrap_or(0).to_be_bytes());
            if opcode == Opcode::REQUEST {
                out.extend_from_slice(&message.session_id.unwrap_or(0).to_be_bytes());
            }
            out.push(message.transport_flags.unwrap_or(0));
        }
    }
    out.extend_from_slice(message.body);
    let data_len = out.len().saturating_sub(data_start);
    let Ok(len) = u16::try_from(data_len) else {
        return fail(out, "data length", data_len);
    };
    if let Some(slot) = out.get_mut(start + field::DATA_LEN.start..data_start) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
    if message.trailer {
        out.extend_from_slice(&[PROTOCOL_ID, version, 0, 0]);
    }
    Ok(())
}

/// Shortest printable run [`strings`] yields.
pub const MIN_STRING_LEN: usize = 6;

/// The runs of at least [`MIN_STRING_LEN`] printable ASCII bytes (0x20-0x7E)
/// in `body`: identity strings such as `1;6ES7 215-1AG40-0XB0;V4.2`, `SIMATIC`
/// names and station names, for the inventory.
pub fn strings(body: &[u8]) -> Strings<'_> {
    Strings { rest: body }
}

/// Iterator over printable runs, see [`strings`].
#[derive(Debug, Clone)]
pub struct Strings<'a> {
    rest: &'a [u8],
}

fn printable(byte: &u8) -> bool {
    (0x20..=0x7E).contains(byte)
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let start = self.rest.iter().position(printable)?;
            let tail = self.rest.get(start..)?;
            let len = tail
                .iter()
                .position(|b| !printable(b))
                .unwrap_or(tail.len());
            let (run, after) = tail.split_at_checked(len)?;
            self.rest = after;
            if run.len() >= MIN_STRING_LEN {
                return Some(run);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// V1 CreateObject request (S7-1200): header, opcode fields, body, trailer.
    const V1_REQUEST: [u8; 26] = [
        0x72, 0x01, 0x00, 0x12, // header: V1, 18 data bytes
        0x31, // opcode: request
        0x00, 0x00, // reserved
        0x04, 0xCA, // function: CreateObject
        0x00, 0x00, // reserved
        0x00, 0x01, // sequence 1
        0x00, 0x00, 0x01, 0x20, // session id 0x120
        0x36, // transport flags
        0xA1, 0x00, 0x00, 0x00, // body: start of object...
        0x72, 0x01, 0x00, 0x00, // trailer
    ];

    #[test]
    fn v1_request() {
        let m = parse(&V1_REQUEST).unwrap();
        assert_eq!(m.protocol_version, version::V1);
        assert_eq!(m.data_len, 18);
        assert_eq!(m.opcode, Some(Opcode::REQUEST));
        assert_eq!(m.function, Some(0x04CA));
        assert_eq!(m.function_code(), Some(Function::CREATE_OBJECT));
        assert_eq!(m.sequence, Some(1));
        assert_eq!(m.session_id, Some(0x120));
        assert_eq!(m.transport_flags, Some(0x36));
        assert_eq!(m.body, &[0xA1, 0, 0, 0]);
        assert!(m.trailer);
        assert!(!m.integrity_protected);
        assert!(m.anomalies.is_empty());
        let mut out = Vec::new();
        encode(&mut out, &m).unwrap();
        assert_eq!(out, V1_REQUEST);
    }

    #[test]
    fn v3_response_with_integrity() {
        let mut pdu = vec![0x72, 0x03, 0x00, 0x00]; // header, length filled below
        pdu.push(0x20); // digest length 32
        pdu.extend_from_slice(&[0xAB; 32]); // digest
        pdu.extend_from_slice(&[
            0x32, // opcode: response
            0x00, 0x00, // reserved
            0x05, 0x42, // SetMultiVariables
            0x00, 0x00, // reserved
            0x00, 0x07, // sequence 7
            0x00, // transport flags
            0x00, // body: return value 0
        ]);
        let len = u16::try_from(pdu.len() - HEADER_LEN).unwrap();
        pdu[2..4].copy_from_slice(&len.to_be_bytes());
        pdu.extend_from_slice(&[0x72, 0x03, 0x00, 0x00]);
        let m = parse(&pdu).unwrap();
        assert!(m.integrity_protected);
        assert_eq!(m.digest, Some(&[0xAB; 32][..]));
        assert_eq!(m.opcode, Some(Opcode::RESPONSE));
        assert_eq!(m.function, Some(Function::SET_MULTI_VARIABLES.0));
        assert_eq!(m.sequence, Some(7));
        assert_eq!(m.session_id, None);
        assert_eq!(m.body, &[0x00]);
        assert!(m.anomalies.is_empty());
        let mut out = Vec::new();
        encode(&mut out, &m).unwrap();
        assert_eq!(out, pdu);
        // the next fragment of a split PDU: no opcode fields
        let c = parse_continuation(&pdu).unwrap();
        assert_eq!(c.opcode, None);
        assert_eq!(c.body.first(), Some(&0x32));
    }

    #[test]
    fn notification_keep_alive_system_event() {
        // V2 notification without trailer (first fragment)
        let pdu = [0x72, 0x02, 0x00, 0x03, 0x33, 0x00, 0x00];
        let m = parse(&pdu).unwrap();
        assert_eq!(m.opcode, Some(Opcode::NOTIFICATION));
        assert_eq!((m.function, m.sequence, m.session_id), (None, None, None));
        assert!(!m.trailer);
        assert_eq!(m.body, &[0, 0]);
        // keep-alive with sequence 5
        let m = parse(&[0x72, 0xFF, 0x05, 0x00]).unwrap();
        assert_eq!(m.sequence, Some(5));
        let mut out = Vec::new();
        encode(&mut out, &m).unwrap();
        assert_eq!(out, [0x72, 0xFF, 0x05, 0x00]);
        // system event: body only
        let m = parse(&[0x72, 0xFE, 0x00, 0x02, 0x00, 0x01]).unwrap();
        assert_eq!((m.opcode, m.body), (None, &[0, 1][..]));
    }

    #[test]
    fn anomalies_and_errors() {
        assert!(matches!(parse(&[0x32, 0x01]), Err(Error::Invalid { .. })));
        assert_eq!(
            parse(&[0x72, 0x01, 0x00, 0x05, 0x31]),
            Err(Error::Incomplete {
                layer: Layer::S7commPlus,
                offset: 5,
                needed: 4
            })
        );
        // unknown opcode: no fields, whole data as body
        let m = parse(&[0x72, 0x02, 0x00, 0x02, 0x44, 0x01]).unwrap();
        assert_eq!(m.opcode, None);
        assert_eq!(m.body, &[0x44, 0x01]);
        assert_eq!(m.anomalies, Anomalies::UNKNOWN_OPCODE);
        // truncated request: function known, the rest not
        let m = parse(&[0x72, 0x02, 0x00, 0x06, 0x31, 0, 0, 0x05, 0x4C, 0]).unwrap();
        assert_eq!(m.function, Some(0x054C));
        assert_eq!(m.sequence, None);
        assert_eq!(m.anomalies, Anomalies::TRUNCATED_DATA);
        // bad digest length, bad trailer
        let m = parse(&[0x72, 0x03, 0x00, 0x02, 0x10, 0x33, 1, 2, 3, 4]).unwrap();
        assert_eq!(
            m.anomalies,
            Anomalies::BAD_DIGEST_LENGTH | Anomalies::BAD_TRAILER
        );
        assert_eq!(m.opcode, Some(Opcode::NOTIFICATION));
        assert!(m.trailer);
        assert_eq!(Anomalies::BAD_TRAILER.name(), Some("bad_trailer"));
        assert_eq!(Anomalies::NAMES.len(), Anomalies::all().iter().count());
    }

    #[test]
    fn printable_strings() {
        let body = b"\x00\x15\x1a1;6ES7 215-1AG40-0XB0;V4.2\x00abc\x01S7-1200 station_1";
        let found: Vec<_> = strings(body).collect();
        assert_eq!(
            found,
            [
                &b"1;6ES7 215-1AG40-0XB0;V4.2"[..],
                &b"S7-1200 station_1"[..]
            ]
        );
        assert_eq!(strings(b"short\x00").count(), 0);
        assert_eq!(strings(b"exactly").count(), 1);
        assert_eq!(function_name(0x056B), Some("invoke"));
        assert_eq!(version_name(0xFE), Some("system_event"));
    }
}
