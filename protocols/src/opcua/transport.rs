//! UA TCP (OPC 10000-6 §7.1): the 8-byte message header that frames every
//! chunk on the wire, and the bodies of the connection messages.
//!
//! ```text
//!  0              3         4                     8
//!  +--------------+---------+---------------------+---------------------+
//!  | message type | chunk   | message size        | body                |
//!  | "HEL" "OPN"… | F/C/A   | (u32 LE, header in) |                     |
//!  +--------------+---------+---------------------+---------------------+
//! ```
//!
//! Panic contract: no function here panics, whatever the input.

use crate::cursor::Reader;
use crate::error::{Error, Layer};
use crate::stream::{Framing, Probe};

use super::encoding::{StatusCode, read_string};

/// Length of the message header: type, chunk type, size.
pub const HEADER_LEN: usize = 8;

/// Largest chunk accepted by the framer (a bigger size field is not OPC UA).
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;

/// The message type: the first three ASCII bytes of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `HEL`: the client opens the connection.
    Hello,
    /// `ACK`: the server accepts it.
    Acknowledge,
    /// `ERR`: either side closes the connection with an error.
    Error,
    /// `RHE`: a server opens a reverse connection.
    ReverseHello,
    /// `OPN`: OpenSecureChannel request or response.
    Open,
    /// `MSG`: a service message on a secure channel.
    Message,
    /// `CLO`: CloseSecureChannel.
    Close,
}

impl MessageType {
    /// Every message type.
    pub const ALL: [MessageType; 7] = [
        MessageType::Hello,
        MessageType::Acknowledge,
        MessageType::Error,
        MessageType::ReverseHello,
        MessageType::Open,
        MessageType::Message,
        MessageType::Close,
    ];

    /// The type of a three-byte code (`b"HEL"` …); `None` for anything else.
    pub fn from_code(code: &[u8]) -> Option<MessageType> {
        MessageType::ALL
            .into_iter()
            .find(|t| t.code().as_bytes() == code)
    }

    /// The three-letter code, as on the wire.
    pub fn code(self) -> &'static str {
        match self {
            MessageType::Hello => "HEL",
            MessageType::Acknowledge => "ACK",
            MessageType::Error => "ERR",
            MessageType::ReverseHello => "RHE",
            MessageType::Open => "OPN",
            MessageType::Message => "MSG",
            MessageType::Close => "CLO",
        }
    }

    /// The smallest valid chunk of this type, header included: the fixed
    /// fields and empty strings. A smaller size field cannot be this type.
    pub fn min_size(self) -> u32 {
        match self {
            // 5 × u32 + endpoint URL length
            MessageType::Hello => 32,
            // 5 × u32
            MessageType::Acknowledge => 28,
            // status + reason length; server URI + endpoint URL lengths
            MessageType::Error | MessageType::ReverseHello => 16,
            // channel id + three asymmetric header lengths + sequence header
            MessageType::Open => 32,
            // channel id + token id + sequence header
            MessageType::Message | MessageType::Close => 24,
        }
    }

    /// Connection messages are never split into chunks: their chunk type is always F.
    fn final_only(self) -> bool {
        matches!(
            self,
            MessageType::Hello
                | MessageType::Acknowledge
                | MessageType::Error
                | MessageType::ReverseHello
        )
    }
}

/// Whether a chunk ends its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkType {
    /// `F`: the final (or only) chunk.
    Final,
    /// `C`: an intermediate chunk; more follow.
    Intermediate,
    /// `A`: the sender aborts the message.
    Abort,
}

impl ChunkType {
    /// The chunk type of its wire byte.
    pub fn from_byte(byte: u8) -> Option<ChunkType> {
        match byte {
            b'F' => Some(ChunkType::Final),
            b'C' => Some(ChunkType::Intermediate),
            b'A' => Some(ChunkType::Abort),
            _ => None,
        }
    }
}

/// A parsed message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message type.
    pub message_type: MessageType,
    /// Chunk type.
    pub chunk_type: ChunkType,
    /// Size of the chunk, header included.
    pub size: u32,
}

/// One framed chunk, borrowing its body from the stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The header.
    pub header: Header,
    /// The `size - 8` bytes after the header.
    pub body: &'a [u8],
}

/// Parses the first [`HEADER_LEN`] bytes of `buf`.
///
/// Invalid for an unknown message or chunk type, a connection message
/// (HEL/ACK/ERR/RHE) not marked final, and a size below the type's minimum
/// or above [`MAX_CHUNK_SIZE`]; Incomplete for fewer than 8 bytes.
pub fn parse_header(buf: &[u8]) -> Result<Header, Error> {
    let mut r = Reader::new(buf, Layer::OpcUaTransport);
    let code = r.take(3)?;
    let message_type = MessageType::from_code(code).ok_or_else(|| {
        let value = code.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        r.invalid("message type", value, 3)
    })?;
    let byte = r.u8()?;
    let chunk_type = ChunkType::from_byte(byte)
        .filter(|&c| c == ChunkType::Final || !message_type.final_only())
        .ok_or_else(|| r.invalid("chunk type", u32::from(byte), 1))?;
    let size = r.le_u32()?;
    if size < message_type.min_size() || size > MAX_CHUNK_SIZE {
        return Err(r.invalid("message size", size, 4));
    }
    Ok(Header {
        message_type,
        chunk_type,
        size,
    })
}

/// Whether `buf` starts with a valid header (`Some(true)`), is shorter than a
/// header but every byte fits one (`Some(false)`), or cannot start one (`None`).
fn header_state(buf: &[u8]) -> Option<bool> {
    match buf.get(..HEADER_LEN) {
        Some(head) => parse_header(head).is_ok().then_some(true),
        None => {
            let code_len = buf.len().min(3);
            let code = buf.get(..code_len)?;
            let types = MessageType::ALL
                .into_iter()
                .filter(|t| t.code().as_bytes().starts_with(code));
            let mut fits = false;
            for t in types {
                fits |= match buf.get(3) {
                    None => true,
                    Some(&byte) => ChunkType::from_byte(byte)
                        .is_some_and(|c| c == ChunkType::Final || !t.final_only()),
                };
            }
            // The size bytes of a cut header cannot be judged before they are all there.
            fits.then_some(false)
        }
    }
}

/// Frames one chunk at the start of `buf`.
///
/// [`Framing::NotThisProtocol`] as soon as the bytes present cannot start a
/// valid header; [`Framing::NeedMore`] with the bytes missing to the
/// smallest chunk of the type (or to the header, before the type is known)
/// and, once the header is in, to the announced size.
pub fn frame(buf: &[u8]) -> Framing<Chunk<'_>> {
    if buf.len() < HEADER_LEN {
        if header_state(buf).is_none() {
            return Framing::NotThisProtocol;
        }
        let min = buf
            .get(..3)
            .and_then(MessageType::from_code)
            .map_or(HEADER_LEN, |t| t.min_size() as usize);
        return Framing::NeedMore {
            needed: min.saturating_sub(buf.len()),
        };
    }
    let Ok(header) = parse_header(buf) else {
        return Framing::NotThisProtocol;
    };
    let size = header.size as usize;
    match buf.get(HEADER_LEN..size) {
        Some(body) => Framing::Parsed {
            consumed: size,
            message: Chunk { header, body },
        },
        None => Framing::NeedMore {
            needed: size.saturating_sub(buf.len()),
        },
    }
}

/// Recognises UA TCP by content: [`Probe::Match`] on a valid header in the
/// first 8 bytes, [`Probe::NeedMore`] on fewer bytes that all fit one,
/// [`Probe::NoMatch`] otherwise.
pub fn probe(buf: &[u8]) -> Probe {
    match header_state(buf) {
        Some(true) => Probe::Match,
        Some(false) => Probe::NeedMore,
        None => Probe::NoMatch,
    }
}

/// Resynchronises a stream: the first offset where a valid header starts,
/// or where a header cut by the end of `buf` could start.
pub fn find_chunk(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find(|&at| buf.get(at..).and_then(header_state).is_some())
}

/// Hello (HEL): the client's buffer limits and the endpoint it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello<'a> {
    /// UA TCP protocol version (0).
    pub protocol_version: u32,
    /// Largest chunk the client can receive.
    pub receive_buffer_size: u32,
    /// Largest chunk the client will send.
    pub send_buffer_size: u32,
    /// Largest message the client accepts (0 = no limit).
    pub max_message_size: u32,
    /// Most chunks per message the client accepts (0 = no limit).
    pub max_chunk_count: u32,
    /// The endpoint URL, e.g. `opc.tcp://host:4840`.
    pub endpoint_url: Option<&'a [u8]>,
}

/// Acknowledge (ACK): the server's buffer limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledge {
    /// UA TCP protocol version (0).
    pub protocol_version: u32,
    /// Largest chunk the server can receive.
    pub receive_buffer_size: u32,
    /// Largest chunk the server will send.
    pub send_buffer_size: u32,
    /// Largest message the server accepts (0 = no limit).
    pub max_message_size: u32,
    /// Most chunks per message the server accepts (0 = no limit).
    pub max_chunk_count: u32,
}

/// Error (ERR): why the connection is being closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMessage<'a> {
    /// The error status code.
    pub error: StatusCode,
    /// Free-text reason, when given.
    pub reason: Option<&'a [u8]>,
}

/// ReverseHello (RHE): a server behind a firewall connecting out to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReverseHello<'a> {
    /// The server's application URI.
    pub server_uri: Option<&'a [u8]>,
    /// The endpoint URL the client should use.
    pub endpoint_url: Option<&'a [u8]>,
}

/// The five u32 limits HEL and ACK share.
fn limits(r: &mut Reader<'_>) -> Result<[u32; 5], Error> {
    Ok([
        r.le_u32()?,
        r.le_u32()?,
        r.le_u32()?,
        r.le_u32()?,
        r.le_u32()?,
    ])
}

/// Parses a Hello body (`Chunk::body` of a HEL chunk). Bytes after the URL are ignored.
pub fn parse_hello(body: &[u8]) -> Result<Hello<'_>, Error> {
    let mut r = Reader::new(body, Layer::OpcUaTransport);
    let [
        protocol_version,
        receive_buffer_size,
        send_buffer_size,
        max_message_size,
        max_chunk_count,
    ] = limits(&mut r)?;
    Ok(Hello {
        protocol_version,
        receive_buffer_size,
        send_buffer_size,
        max_message_size,
        max_chunk_count,
        endpoint_url: read_string(&mut r)?,
    })
}

/// Parses an Acknowledge body.
pub fn parse_acknowledge(body: &[u8]) -> Result<Acknowledge, Error> {
    let mut r = Reader::new(body, Layer::OpcUaTransport);
    let [
        protocol_version,
        receive_buffer_size,
        send_buffer_size,
        max_message_size,
        max_chunk_count,
    ] = limits(&mut r)?;
    Ok(Acknowledge {
        protocol_version,
        receive_buffer_size,
        send_buffer_size,
        max_message_size,
        max_chunk_count,
    })
}

/// Parses an Error body.
pub fn parse_error(body: &[u8]) -> Result<ErrorMessage<'_>, Error> {
    let mut r = Reader::new(body, Layer::OpcUaTransport);
    Ok(ErrorMessage {
        error: StatusCode(r.le_u32()?),
        reason: read_string(&mut r)?,
    })
}

/// Parses a ReverseHello body.
pub fn parse_reverse_hello(body: &[u8]) -> Result<ReverseHello<'_>, Error> {
    let mut r = Reader::new(body, Layer::OpcUaTransport);
    Ok(ReverseHello {
        server_uri: read_string(&mut r)?,
        endpoint_url: read_string(&mut r)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    /// A Hello for `opc.tcp://h:4840` (16 bytes): 8 + 20 + 4 + 16 = 48.
    const HELLO: [u8; 48] = [
        b'H', b'E', b'L', b'F', // type, final
        0x30, 0x00, 0x00, 0x00, // size 48
        0x00, 0x00, 0x00, 0x00, // protocol version 0
        0x00, 0x00, 0x01, 0x00, // receive buffer 65536
        0x00, 0x00, 0x01, 0x00, // send buffer 65536
        0x00, 0x00, 0x00, 0x01, // max message 16 MiB
        0x00, 0x00, 0x00, 0x00, // max chunk count: no limit
        0x10, 0x00, 0x00, 0x00, // URL length 16
        b'o', b'p', b'c', b'.', b't', b'c', b'p', b':', b'/', b'/', b'h', b':', b'4', b'8', b'4',
        b'0',
    ];

    #[test]
    fn frames_and_parses_a_hello() {
        let mut stream = HELLO.to_vec();
        stream.extend_from_slice(b"ACKF");
        let Framing::Parsed { consumed, message } = frame(&stream) else {
            panic!("not framed");
        };
        assert_eq!(consumed, 48);
        assert_eq!(message.header.message_type, MessageType::Hello);
        assert_eq!(message.header.chunk_type, ChunkType::Final);
        let hello = parse_hello(message.body).unwrap();
        assert_eq!(hello.receive_buffer_size, 65536);
        assert_eq!(hello.max_message_size, 16 * 1024 * 1024);
        assert_eq!(hello.endpoint_url, Some(&b"opc.tcp://h:4840"[..]));
        assert_eq!(probe(&stream), Probe::Match);
        // The next chunk is cut: NeedMore, and find_chunk finds it.
        assert_eq!(frame(&stream[48..]), Framing::NeedMore { needed: 24 });
        assert_eq!(find_chunk(&stream[1..]), Some(47));
    }

    #[test]
    fn short_buffers_need_more() {
        assert_eq!(frame(&[]), Framing::NeedMore { needed: 8 });
        assert_eq!(frame(b"H"), Framing::NeedMore { needed: 7 });
        assert_eq!(frame(b"HEL"), Framing::NeedMore { needed: 29 });
        assert_eq!(frame(&HELLO[..8]), Framing::NeedMore { needed: 40 });
        assert_eq!(frame(&HELLO[..47]), Framing::NeedMore { needed: 1 });
        for n in 0..HEADER_LEN {
            assert_eq!(probe(&HELLO[..n]), Probe::NeedMore, "{n}");
        }
    }

    #[test]
    fn not_this_protocol_on_bad_type_or_size() {
        let cases: [&[u8]; 9] = [
            b"GET / HTTP/1.1\r\n",
            b"HEX",
            b"HELC", // a hello is never chunked
            b"MSGX",
            &[b'H', b'E', b'L', b'F', 0x07, 0, 0, 0], // size below the header
            &[b'H', b'E', b'L', b'F', 0x1F, 0, 0, 0], // below the smallest hello
            &[b'M', b'S', b'G', b'F', 0x01, 0, 0, 0x01], // 16 MiB + 1
            &[0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0, 0], // TPKT
            &[0x05, 0x64, 0x05, 0xC4, 0x01, 0x04, 0x01, 0x00], // DNP3
        ];
        for case in cases {
            assert_eq!(frame(case), Framing::NotThisProtocol, "{case:02x?}");
            assert_eq!(probe(case), Probe::NoMatch, "{case:02x?}");
        }
        assert!(matches!(
            parse_header(&[b'M', b'S', b'G', b'F', 0x01, 0, 0, 0x01]),
            Err(Error::Invalid {
                field: "message size",
                ..
            })
        ));
        assert!(matches!(
            parse_header(b"XYZF\x20\0\0\0"),
            Err(Error::Invalid {
                field: "message type",
                value: 0x58595A,
                ..
            })
        ));
        // MSG may be intermediate or aborted; exactly 16 MiB is allowed.
        assert!(parse_header(&[b'M', b'S', b'G', b'C', 0, 0, 0, 0x01]).is_ok());
        assert!(parse_header(&[b'O', b'P', b'N', b'A', 0x20, 0, 0, 0]).is_ok());
    }

    #[test]
    fn find_chunk_after_garbage_and_at_a_cut_header() {
        let mut stream = b"\x00garbage MS".to_vec();
        stream.extend_from_slice(&HELLO);
        // "MS" followed by "HEL" is not a header; the hello at 11 is.
        assert_eq!(find_chunk(&stream), Some(11));
        assert_eq!(find_chunk(b"junk"), None);
        assert_eq!(find_chunk(b"junkCL"), Some(4));
        assert_eq!(find_chunk(b"junkCLOF\x18\0"), Some(4));
        assert_eq!(find_chunk(b"junkCLOX"), None);
        assert_eq!(find_chunk(b""), None);
    }

    #[test]
    fn parses_ack_err_and_rhe() {
        let ack = [
            0, 0, 0, 0, // version
            0, 0, 1, 0, 0, 0, 1, 0, // buffers 65536
            0, 0, 0, 1, 0, 0, 0, 0,
        ];
        let a = parse_acknowledge(&ack).unwrap();
        assert_eq!((a.send_buffer_size, a.max_chunk_count), (65536, 0));
        assert!(parse_acknowledge(&ack[..19]).is_err());
        let err = [
            0x00, 0x00, 0x7E, 0x80, // BadTcpMessageTypeInvalid
            0x03, 0x00, 0x00, 0x00, b'b', b'a', b'd',
        ];
        let e = parse_error(&err).unwrap();
        assert_eq!(e.error.name(), Some("BadTcpMessageTypeInvalid"));
        assert_eq!(e.reason, Some(&b"bad"[..]));
        let rhe = [
            0x03, 0x00, 0x00, 0x00, b'u', b'r', b'n', // server URI
            0xFF, 0xFF, 0xFF, 0xFF, // endpoint URL: null
        ];
        let r = parse_reverse_hello(&rhe).unwrap();
        assert_eq!((r.server_uri, r.endpoint_url), (Some(&b"urn"[..]), None));
    }

    #[test]
    fn codes_round_trip() {
        for t in MessageType::ALL {
            assert_eq!(MessageType::from_code(t.code().as_bytes()), Some(t));
        }
        assert_eq!(MessageType::from_code(b"HE"), None);
    }
}
