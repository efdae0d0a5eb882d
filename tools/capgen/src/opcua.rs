//! OPC UA binary, as the generator writes it: UA TCP messages (HEL, ACK, ERR), UA Secure
//! Conversation chunks (OPN with its asymmetric security header, MSG and CLO with the
//! symmetric one, each with a sequence header, messages cut into `C`…`C` `F` chunks), the
//! binary encoding of the built-in types, and the Part 4 service bodies the scenarios send.
//!
//! Written from OPC 10000-4 and OPC 10000-6 on its own, without the sensor's parser, so a
//! capture checks the parser rather than agreeing with it.

use anyhow::{Context, Result};

use crate::capture::{SECOND, START_UNIX_SECONDS};

/// The IANA port of `opc.tcp`.
pub(crate) const PORT: u16 = 4840;
pub(crate) const POLICY_NONE: &str = "http://opcfoundation.org/UA/SecurityPolicy#None";
pub(crate) const POLICY_BASIC128RSA15: &str =
    "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15";
pub(crate) const POLICY_BASIC256SHA256: &str =
    "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
/// Test-only certificates made by `tools/capgen/certs/make.sh`: a client certificate issued by
/// the test CA (`CN=Gateway OPC UA Client`), and the CA's own.
pub(crate) const CLIENT_CERTIFICATE: &[u8] = include_bytes!("../certs/client.der");
pub(crate) const CA_CERTIFICATE: &[u8] = include_bytes!("../certs/ca.der");
/// The transport profile of every endpoint the scenarios offer.
pub(crate) const UATCP_BINARY: &str =
    "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";

/// Message header: type, chunk type, size.
pub(crate) const HEADER_LEN: usize = 8;
/// Symmetric security header (channel id, token id) plus sequence header (sequence number,
/// request id): what a MSG or CLO chunk carries before its piece of the message.
pub(crate) const SYMMETRIC_OVERHEAD: usize = HEADER_LEN + 8 + 8;

/// Binary encoding ids (`…_Encoding_DefaultBinary` of NodeIds.csv).
pub(crate) mod id {
    pub(crate) const ANONYMOUS_IDENTITY_TOKEN: u32 = 321;
    pub(crate) const USER_NAME_IDENTITY_TOKEN: u32 = 324;
    pub(crate) const X509_IDENTITY_TOKEN: u32 = 327;
    pub(crate) const ISSUED_IDENTITY_TOKEN: u32 = 940;
    pub(crate) const OBJECT_ATTRIBUTES: u32 = 354;
    pub(crate) const UPDATE_DATA_DETAILS: u32 = 682;
    pub(crate) const DATA_CHANGE_NOTIFICATION: u32 = 811;
    pub(crate) const SERVICE_FAULT: u32 = 397;
    pub(crate) const FIND_SERVERS_REQUEST: u32 = 422;
    pub(crate) const GET_ENDPOINTS_REQUEST: u32 = 428;
    pub(crate) const OPEN_SECURE_CHANNEL_REQUEST: u32 = 446;
    pub(crate) const CLOSE_SECURE_CHANNEL_REQUEST: u32 = 452;
    pub(crate) const CREATE_SESSION_REQUEST: u32 = 461;
    pub(crate) const ACTIVATE_SESSION_REQUEST: u32 = 467;
    pub(crate) const CLOSE_SESSION_REQUEST: u32 = 473;
    pub(crate) const ADD_NODES_REQUEST: u32 = 488;
    pub(crate) const DELETE_NODES_REQUEST: u32 = 500;
    pub(crate) const BROWSE_REQUEST: u32 = 527;
    pub(crate) const READ_REQUEST: u32 = 631;
    pub(crate) const WRITE_REQUEST: u32 = 673;
    pub(crate) const HISTORY_UPDATE_REQUEST: u32 = 700;
    pub(crate) const CALL_REQUEST: u32 = 712;
    pub(crate) const CREATE_SUBSCRIPTION_REQUEST: u32 = 787;
    pub(crate) const PUBLISH_REQUEST: u32 = 826;

    /// The response's encoding id: three past the request's for every Part 4 service.
    pub(crate) const fn response(request: u32) -> u32 {
        request + 3
    }
}

/// Status codes the scenarios send.
pub(crate) mod status {
    pub(crate) const GOOD: u32 = 0;
    pub(crate) const BAD_USER_ACCESS_DENIED: u32 = 0x801F_0000;
    pub(crate) const BAD_TCP_ENDPOINT_URL_INVALID: u32 = 0x8083_0000;

    /// Good or Uncertain (severity bits 00 or 01).
    pub(crate) const fn is_good_or_uncertain(code: u32) -> bool {
        code >> 31 == 0
    }
}

/// UA TCP message types and their three-letter codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum MessageType {
    Hello,
    Acknowledge,
    Error,
    Open,
    Message,
    Close,
}

impl MessageType {
    pub(crate) const ALL: [MessageType; 6] = [
        MessageType::Hello,
        MessageType::Acknowledge,
        MessageType::Error,
        MessageType::Open,
        MessageType::Message,
        MessageType::Close,
    ];

    pub(crate) fn code(self) -> &'static str {
        match self {
            MessageType::Hello => "HEL",
            MessageType::Acknowledge => "ACK",
            MessageType::Error => "ERR",
            MessageType::Open => "OPN",
            MessageType::Message => "MSG",
            MessageType::Close => "CLO",
        }
    }
}

/// MessageSecurityMode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Mode {
    None = 1,
    Sign = 2,
    SignAndEncrypt = 3,
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Sign => "sign",
            Mode::SignAndEncrypt => "sign_and_encrypt",
        }
    }
}

/// UserTokenType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TokenType {
    Anonymous = 0,
    UserName = 1,
    Certificate = 2,
    IssuedToken = 3,
}

impl TokenType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TokenType::Anonymous => "anonymous",
            TokenType::UserName => "user_name",
            TokenType::Certificate => "certificate",
            TokenType::IssuedToken => "issued_token",
        }
    }
}

/// A NodeId, written in the most compact encoding that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node<'a> {
    Numeric(u16, u32),
    String(u16, &'a str),
    Opaque(u16, &'a [u8]),
}

/// A Variant value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Boolean(bool),
    Int32(i32),
    UInt32(u32),
    Float(f32),
    Double(f64),
    String(&'a str),
    DoubleArray(&'a [f64]),
}

/// An ApplicationDescription.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Application<'a> {
    pub(crate) uri: &'a str,
    pub(crate) product_uri: &'a str,
    pub(crate) name: &'a str,
    /// ApplicationType: 0 server, 1 client.
    pub(crate) kind: u32,
    pub(crate) discovery_urls: &'a [&'a str],
}

/// An EndpointDescription.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint<'a> {
    pub(crate) url: &'a str,
    pub(crate) server: Application<'a>,
    pub(crate) certificate: Option<&'a [u8]>,
    pub(crate) mode: Mode,
    pub(crate) policy: &'a str,
    pub(crate) tokens: &'a [TokenType],
    pub(crate) security_level: u8,
}

/// The user identity of ActivateSession.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Identity<'a> {
    Anonymous,
    UserName {
        user: &'a str,
        password: &'a [u8],
        encryption: Option<&'a str>,
    },
    /// X.509 and issued tokens: encoded (and tested) for completeness; no scenario sends one yet.
    #[allow(dead_code)]
    Certificate(&'a [u8]),
    #[allow(dead_code)]
    Issued {
        token: &'a [u8],
        encryption: Option<&'a str>,
    },
}

impl Identity<'_> {
    pub(crate) fn token_type(&self) -> TokenType {
        match self {
            Identity::Anonymous => TokenType::Anonymous,
            Identity::UserName { .. } => TokenType::UserName,
            Identity::Certificate(_) => TokenType::Certificate,
            Identity::Issued { .. } => TokenType::IssuedToken,
        }
    }

    /// A user name and password sent with no encryption algorithm: readable on the wire.
    pub(crate) fn cleartext_password(&self) -> bool {
        matches!(
            self,
            Identity::UserName {
                encryption: None,
                ..
            }
        )
    }
}

/// DateTime of a generator timestamp: 100 ns ticks since 1601-01-01.
pub(crate) fn datetime(at: u64) -> i64 {
    const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;
    let micros = START_UNIX_SECONDS * SECOND + at;
    i64::try_from(micros)
        .unwrap_or(i64::MAX / 10)
        .saturating_mul(10)
        .saturating_add(UNIX_EPOCH_TICKS)
}

/// Length or count as the i32 the encoding writes.
fn len_i32(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// The binary encoding of the built-in types, appended to a buffer.
pub(crate) trait Put {
    fn byte(&mut self, value: u8);
    fn boolean(&mut self, value: bool);
    fn uint16(&mut self, value: u16);
    fn uint32(&mut self, value: u32);
    fn int32(&mut self, value: i32);
    fn int64(&mut self, value: i64);
    fn double(&mut self, value: f64);
    /// String; `None` is the null string.
    fn string(&mut self, value: Option<&str>);
    /// ByteString; `None` is the null ByteString.
    fn bytes(&mut self, value: Option<&[u8]>);
    fn array_len(&mut self, len: usize);
    fn node(&mut self, node: Node<'_>);
    fn expanded_node(&mut self, node: Node<'_>);
    fn localized_text(&mut self, locale: Option<&str>, text: &str);
    fn qualified_name(&mut self, namespace: u16, name: &str);
    /// A null ExtensionObject (no type, no body).
    fn null_extension(&mut self);
    /// An ExtensionObject with a binary body of encoding id `type_id` (namespace 0).
    fn extension(&mut self, type_id: u32, body: &[u8]);
    fn variant(&mut self, value: &Value<'_>);
    /// DataValue with a value and both timestamps.
    fn data_value(&mut self, value: &Value<'_>, at: u64);
    /// An empty DiagnosticInfo array (-1 would do too; servers send 0).
    fn no_diagnostics(&mut self);
    fn application(&mut self, application: &Application<'_>);
    fn endpoint(&mut self, endpoint: &Endpoint<'_>);
    /// SignatureData with a null algorithm and signature (unsigned channels).
    fn no_signature(&mut self);
}

impl Put for Vec<u8> {
    fn byte(&mut self, value: u8) {
        self.push(value);
    }

    fn boolean(&mut self, value: bool) {
        self.push(u8::from(value));
    }

    fn uint16(&mut self, value: u16) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn uint32(&mut self, value: u32) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn int32(&mut self, value: i32) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn int64(&mut self, value: i64) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn double(&mut self, value: f64) {
        self.extend_from_slice(&value.to_le_bytes());
    }

    fn string(&mut self, value: Option<&str>) {
        self.bytes(value.map(str::as_bytes));
    }

    fn bytes(&mut self, value: Option<&[u8]>) {
        match value {
            Some(bytes) => {
                self.int32(len_i32(bytes.len()));
                self.extend_from_slice(bytes);
            }
            None => self.int32(-1),
        }
    }

    fn array_len(&mut self, len: usize) {
        self.int32(len_i32(len));
    }

    fn node(&mut self, node: Node<'_>) {
        match node {
            Node::Numeric(0, id) if id <= 0xFF => {
                self.push(0x00);
                self.push(id as u8);
            }
            Node::Numeric(namespace, id) if namespace <= 0xFF && id <= 0xFFFF => {
                self.push(0x01);
                self.push(namespace as u8);
                self.uint16(id as u16);
            }
            Node::Numeric(namespace, id) => {
                self.push(0x02);
                self.uint16(namespace);
                self.uint32(id);
            }
            Node::String(namespace, id) => {
                self.push(0x03);
                self.uint16(namespace);
                self.string(Some(id));
            }
            Node::Opaque(namespace, id) => {
                self.push(0x05);
                self.uint16(namespace);
                self.bytes(Some(id));
            }
        }
    }

    fn expanded_node(&mut self, node: Node<'_>) {
        // No namespace URI, no server index: the flags stay clear.
        self.node(node);
    }

    fn localized_text(&mut self, locale: Option<&str>, text: &str) {
        self.push(if locale.is_some() { 0x03 } else { 0x02 });
        if let Some(locale) = locale {
            self.string(Some(locale));
        }
        self.string(Some(text));
    }

    fn qualified_name(&mut self, namespace: u16, name: &str) {
        self.uint16(namespace);
        self.string(Some(name));
    }

    fn null_extension(&mut self) {
        self.node(Node::Numeric(0, 0));
        self.push(0x00);
    }

    fn extension(&mut self, type_id: u32, body: &[u8]) {
        self.node(Node::Numeric(0, type_id));
        self.push(0x01);
        self.bytes(Some(body));
    }

    fn variant(&mut self, value: &Value<'_>) {
        match value {
            Value::Boolean(v) => {
                self.push(1);
                self.boolean(*v);
            }
            Value::Int32(v) => {
                self.push(6);
                self.int32(*v);
            }
            Value::UInt32(v) => {
                self.push(7);
                self.uint32(*v);
            }
            Value::Float(v) => {
                self.push(10);
                self.extend_from_slice(&v.to_le_bytes());
            }
            Value::Double(v) => {
                self.push(11);
                self.double(*v);
            }
            Value::String(v) => {
                self.push(12);
                self.string(Some(v));
            }
            Value::DoubleArray(values) => {
                self.push(11 | 0x80);
                self.array_len(values.len());
                for v in *values {
                    self.double(*v);
                }
            }
        }
    }

    fn data_value(&mut self, value: &Value<'_>, at: u64) {
        // Value, source timestamp, server timestamp.
        self.push(0x01 | 0x04 | 0x08);
        self.variant(value);
        self.int64(datetime(at.saturating_sub(1_000)));
        self.int64(datetime(at));
    }

    fn no_diagnostics(&mut self) {
        self.array_len(0);
    }

    fn application(&mut self, application: &Application<'_>) {
        self.string(Some(application.uri));
        self.string(Some(application.product_uri));
        self.localized_text(Some("en"), application.name);
        self.uint32(application.kind);
        self.string(None);
        self.string(None);
        self.array_len(application.discovery_urls.len());
        for url in application.discovery_urls {
            self.string(Some(url));
        }
    }

    fn endpoint(&mut self, endpoint: &Endpoint<'_>) {
        self.string(Some(endpoint.url));
        self.application(&endpoint.server);
        self.bytes(endpoint.certificate);
        self.uint32(endpoint.mode as u32);
        self.string(Some(endpoint.policy));
        self.array_len(endpoint.tokens.len());
        for token in endpoint.tokens {
            let policy_id = match token {
                TokenType::Anonymous => "anonymous",
                TokenType::UserName => "username",
                TokenType::Certificate => "certificate",
                TokenType::IssuedToken => "issued",
            };
            self.string(Some(policy_id));
            self.uint32(*token as u32);
            self.string(None);
            self.string(None);
            // The token is protected by the endpoint's own policy.
            self.string(None);
        }
        self.string(Some(UATCP_BINARY));
        self.byte(endpoint.security_level);
    }

    fn no_signature(&mut self) {
        self.string(None);
        self.bytes(None);
    }
}

/// Appends a message header for a chunk of `body_len` bytes after the header.
fn header(out: &mut Vec<u8>, message_type: MessageType, chunk: u8, body_len: usize) -> Result<()> {
    let size = u32::try_from(HEADER_LEN + body_len).context("chunk size")?;
    out.extend_from_slice(message_type.code().as_bytes());
    out.push(chunk);
    out.uint32(size);
    Ok(())
}

/// HEL: protocol version 0, the client's buffer sizes and limits, the endpoint URL.
pub(crate) fn hello(
    out: &mut Vec<u8>,
    receive_buffer: u32,
    send_buffer: u32,
    endpoint_url: &str,
) -> Result<()> {
    let mut body = Vec::with_capacity(24 + endpoint_url.len());
    body.uint32(0);
    body.uint32(receive_buffer);
    body.uint32(send_buffer);
    body.uint32(0); // max message size: no limit
    body.uint32(0); // max chunk count: no limit
    body.string(Some(endpoint_url));
    header(out, MessageType::Hello, b'F', body.len())?;
    out.extend_from_slice(&body);
    Ok(())
}

/// ACK: protocol version 0 and the server's revised buffer sizes and limits.
pub(crate) fn acknowledge(out: &mut Vec<u8>, receive_buffer: u32, send_buffer: u32) -> Result<()> {
    header(out, MessageType::Acknowledge, b'F', 20)?;
    out.uint32(0);
    out.uint32(receive_buffer);
    out.uint32(send_buffer);
    out.uint32(16 * 1024 * 1024);
    out.uint32(5000);
    Ok(())
}

/// ERR: the status code and a reason.
pub(crate) fn error(out: &mut Vec<u8>, code: u32, reason: &str) -> Result<()> {
    header(out, MessageType::Error, b'F', 8 + reason.len())?;
    out.uint32(code);
    out.string(Some(reason));
    Ok(())
}

/// The asymmetric security header of an OPN chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asymmetric<'a> {
    pub(crate) policy: &'a str,
    pub(crate) sender_certificate: Option<&'a [u8]>,
    pub(crate) receiver_thumbprint: Option<&'a [u8]>,
}

/// One OPN chunk (always final): channel id, asymmetric header, then `rest` as is (the
/// sequence header and the message, or their ciphertext).
pub(crate) fn open_chunk(
    out: &mut Vec<u8>,
    channel_id: u32,
    security: &Asymmetric<'_>,
    rest: &[u8],
) -> Result<()> {
    let mut body = Vec::with_capacity(64 + rest.len());
    body.uint32(channel_id);
    body.string(Some(security.policy));
    body.bytes(security.sender_certificate);
    body.bytes(security.receiver_thumbprint);
    body.extend_from_slice(rest);
    header(out, MessageType::Open, b'F', body.len())?;
    out.extend_from_slice(&body);
    Ok(())
}

/// A sequence header followed by a message: the plaintext `rest` of a None OPN chunk.
pub(crate) fn sequenced(sequence_number: u32, request_id: u32, message: &[u8]) -> Vec<u8> {
    let mut rest = Vec::with_capacity(8 + message.len());
    rest.uint32(sequence_number);
    rest.uint32(request_id);
    rest.extend_from_slice(message);
    rest
}

/// The symmetric security header of MSG and CLO chunks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Symmetric {
    pub(crate) channel_id: u32,
    pub(crate) token_id: u32,
}

/// `message` in MSG (or CLO) chunks of at most `max_chunk` bytes each: intermediate `C`
/// chunks, then a final `F`, every one with the symmetric header, the next sequence number
/// and `request_id`. Returns the number of chunks.
pub(crate) fn symmetric_chunks(
    out: &mut Vec<u8>,
    message_type: MessageType,
    security: Symmetric,
    sequence_number: &mut u32,
    request_id: u32,
    message: &[u8],
    max_chunk: usize,
) -> Result<usize> {
    let room = max_chunk
        .checked_sub(SYMMETRIC_OVERHEAD)
        .filter(|&room| room > 0)
        .context("chunk size below the chunk overhead")?;
    let pieces: Vec<&[u8]> = if message.is_empty() {
        vec![message]
    } else {
        message.chunks(room).collect()
    };
    let last = pieces.len() - 1;
    for (i, piece) in pieces.iter().enumerate() {
        let chunk = if i == last { b'F' } else { b'C' };
        header(out, message_type, chunk, 16 + piece.len())?;
        out.uint32(security.channel_id);
        out.uint32(security.token_id);
        out.uint32(*sequence_number);
        out.uint32(request_id);
        out.extend_from_slice(piece);
        *sequence_number = sequence_number.wrapping_add(1);
    }
    Ok(pieces.len())
}

/// A chunk whose body after the symmetric header is opaque (encrypted) bytes.
pub(crate) fn opaque_chunk(
    out: &mut Vec<u8>,
    message_type: MessageType,
    security: Symmetric,
    ciphertext: &[u8],
) -> Result<()> {
    header(out, message_type, b'F', 8 + ciphertext.len())?;
    out.uint32(security.channel_id);
    out.uint32(security.token_id);
    out.extend_from_slice(ciphertext);
    Ok(())
}

/// RequestHeader fields that vary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestHeader<'a> {
    pub(crate) authentication_token: Node<'a>,
    pub(crate) at: u64,
    pub(crate) handle: u32,
}

pub(crate) fn request_header(out: &mut Vec<u8>, header: &RequestHeader<'_>) {
    out.node(header.authentication_token);
    out.int64(datetime(header.at));
    out.uint32(header.handle);
    out.uint32(0); // return diagnostics
    out.string(None); // audit entry id
    out.uint32(10_000); // timeout hint, ms
    out.null_extension();
}

pub(crate) fn response_header(out: &mut Vec<u8>, at: u64, handle: u32, service_result: u32) {
    out.int64(datetime(at));
    out.uint32(handle);
    out.uint32(service_result);
    out.byte(0); // service diagnostics: empty DiagnosticInfo
    out.array_len(0); // string table
    out.null_extension();
}

/// The bodies of the services, after their request or response header.
pub(crate) mod body {
    use super::{Application, Endpoint, Identity, Mode, Node, Put, Value, datetime, id};

    pub(crate) fn open_request(out: &mut Vec<u8>, mode: Mode, nonce: Option<&[u8]>) {
        out.uint32(0); // client protocol version
        out.uint32(0); // request type: issue
        out.uint32(mode as u32);
        out.bytes(nonce);
        out.uint32(3_600_000); // requested lifetime, ms
    }

    pub(crate) fn open_response(
        out: &mut Vec<u8>,
        channel_id: u32,
        token_id: u32,
        at: u64,
        nonce: Option<&[u8]>,
    ) {
        out.uint32(0);
        out.uint32(channel_id);
        out.uint32(token_id);
        out.int64(datetime(at));
        out.uint32(3_600_000);
        out.bytes(nonce);
    }

    pub(crate) fn get_endpoints_request(out: &mut Vec<u8>, url: &str) {
        out.string(Some(url));
        out.array_len(0);
        out.array_len(0);
    }

    pub(crate) fn endpoints(out: &mut Vec<u8>, endpoints: &[Endpoint<'_>]) {
        out.array_len(endpoints.len());
        for endpoint in endpoints {
            out.endpoint(endpoint);
        }
    }

    pub(crate) fn find_servers_request(out: &mut Vec<u8>, url: &str) {
        out.string(Some(url));
        out.array_len(0);
        out.array_len(0);
    }

    pub(crate) fn find_servers_response(out: &mut Vec<u8>, servers: &[Application<'_>]) {
        out.array_len(servers.len());
        for server in servers {
            out.application(server);
        }
    }

    pub(crate) struct CreateSession<'a> {
        pub(crate) client: Application<'a>,
        pub(crate) server_uri: &'a str,
        pub(crate) endpoint_url: &'a str,
        pub(crate) session_name: &'a str,
        pub(crate) nonce: Option<&'a [u8]>,
        pub(crate) certificate: Option<&'a [u8]>,
    }

    pub(crate) fn create_session_request(out: &mut Vec<u8>, request: &CreateSession<'_>) {
        out.application(&request.client);
        out.string(Some(request.server_uri));
        out.string(Some(request.endpoint_url));
        out.string(Some(request.session_name));
        out.bytes(request.nonce);
        out.bytes(request.certificate);
        out.double(1_200_000.0); // requested session timeout, ms
        out.uint32(0x0100_0000); // max response message size
    }

    pub(crate) fn create_session_response(
        out: &mut Vec<u8>,
        session_id: Node<'_>,
        authentication_token: Node<'_>,
        nonce: &[u8],
        certificate: Option<&[u8]>,
        endpoints: &[Endpoint<'_>],
    ) {
        out.node(session_id);
        out.node(authentication_token);
        out.double(1_200_000.0);
        out.bytes(Some(nonce));
        out.bytes(certificate);
        self::endpoints(out, endpoints);
        out.array_len(0); // server software certificates
        out.no_signature();
        out.uint32(0x0100_0000); // max request message size
    }

    pub(crate) fn activate_session_request(out: &mut Vec<u8>, identity: &Identity<'_>) {
        out.no_signature(); // client signature
        out.array_len(0); // client software certificates
        out.array_len(1);
        out.string(Some("en"));
        let mut token = Vec::with_capacity(64);
        let type_id = match identity {
            Identity::Anonymous => {
                token.string(Some("anonymous"));
                id::ANONYMOUS_IDENTITY_TOKEN
            }
            Identity::UserName {
                user,
                password,
                encryption,
            } => {
                token.string(Some("username"));
                token.string(Some(user));
                token.bytes(Some(password));
                token.string(*encryption);
                id::USER_NAME_IDENTITY_TOKEN
            }
            Identity::Certificate(certificate) => {
                token.string(Some("certificate"));
                token.bytes(Some(certificate));
                id::X509_IDENTITY_TOKEN
            }
            Identity::Issued {
                token: data,
                encryption,
            } => {
                token.string(Some("issued"));
                token.bytes(Some(data));
                token.string(*encryption);
                id::ISSUED_IDENTITY_TOKEN
            }
        };
        out.extension(type_id, &token);
        out.no_signature(); // user token signature
    }

    pub(crate) fn activate_session_response(out: &mut Vec<u8>, nonce: &[u8]) {
        out.bytes(Some(nonce));
        out.array_len(0);
        out.no_diagnostics();
    }

    /// Read of the Value attribute (13) of `nodes`.
    pub(crate) fn read_request(out: &mut Vec<u8>, nodes: &[Node<'_>]) {
        out.double(0.0); // max age
        out.uint32(2); // timestamps to return: both
        out.array_len(nodes.len());
        for node in nodes {
            out.node(*node);
            out.uint32(13);
            out.string(None);
            out.qualified_name(0, "");
        }
    }

    pub(crate) fn read_response(out: &mut Vec<u8>, values: &[Value<'_>], at: u64) {
        out.array_len(values.len());
        for value in values {
            out.data_value(value, at);
        }
        out.no_diagnostics();
    }

    pub(crate) fn browse_request(out: &mut Vec<u8>, node: Node<'_>) {
        out.node(Node::Numeric(0, 0)); // view: the whole address space
        out.int64(0);
        out.uint32(0);
        out.uint32(100); // max references per node
        out.array_len(1);
        out.node(node);
        out.uint32(0); // forward
        out.node(Node::Numeric(0, 33)); // HierarchicalReferences
        out.boolean(true);
        out.uint32(0);
        out.uint32(0x3F);
    }

    /// References to `children` (name, node), all Variables of BaseDataVariableType.
    pub(crate) fn browse_response(out: &mut Vec<u8>, children: &[(&str, Node<'_>)]) {
        out.array_len(1);
        out.uint32(super::status::GOOD);
        out.bytes(None);
        out.array_len(children.len());
        for (name, node) in children {
            out.node(Node::Numeric(0, 47)); // HasComponent
            out.boolean(true);
            out.expanded_node(*node);
            out.qualified_name(2, name);
            out.localized_text(None, name);
            out.uint32(2); // NodeClass Variable
            out.expanded_node(Node::Numeric(0, 63));
        }
        out.no_diagnostics();
    }

    pub(crate) fn create_subscription_request(out: &mut Vec<u8>, interval_ms: f64) {
        out.double(interval_ms);
        out.uint32(10_000);
        out.uint32(10);
        out.uint32(0);
        out.boolean(true);
        out.byte(0);
    }

    pub(crate) fn create_subscription_response(
        out: &mut Vec<u8>,
        subscription_id: u32,
        interval_ms: f64,
    ) {
        out.uint32(subscription_id);
        out.double(interval_ms);
        out.uint32(10_000);
        out.uint32(10);
    }

    /// Publish acknowledging `acknowledged` notifications of `subscription_id`.
    pub(crate) fn publish_request(out: &mut Vec<u8>, subscription_id: u32, acknowledged: &[u32]) {
        out.array_len(acknowledged.len());
        for sequence in acknowledged {
            out.uint32(subscription_id);
            out.uint32(*sequence);
        }
    }

    /// A data change notification of `changes` (client handle, value).
    pub(crate) fn publish_response(
        out: &mut Vec<u8>,
        subscription_id: u32,
        sequence: u32,
        changes: &[(u32, Value<'_>)],
        at: u64,
    ) {
        out.uint32(subscription_id);
        out.array_len(1);
        out.uint32(sequence);
        out.boolean(false);
        out.uint32(sequence);
        out.int64(datetime(at));
        let mut notification = Vec::with_capacity(32 * changes.len());
        notification.array_len(changes.len());
        for (handle, value) in changes {
            notification.uint32(*handle);
            notification.data_value(value, at);
        }
        notification.no_diagnostics();
        out.array_len(1);
        out.extension(id::DATA_CHANGE_NOTIFICATION, &notification);
        out.array_len(0);
        out.no_diagnostics();
    }

    pub(crate) fn write_request(out: &mut Vec<u8>, node: Node<'_>, value: &Value<'_>, at: u64) {
        out.array_len(1);
        out.node(node);
        out.uint32(13);
        out.string(None);
        out.data_value(value, at);
    }

    /// The per-operation status codes of Write, DeleteNodes and similar responses.
    pub(crate) fn status_results(out: &mut Vec<u8>, results: &[u32]) {
        out.array_len(results.len());
        for result in results {
            out.uint32(*result);
        }
        out.no_diagnostics();
    }

    pub(crate) fn call_request(
        out: &mut Vec<u8>,
        object: Node<'_>,
        method: Node<'_>,
        arguments: &[Value<'_>],
    ) {
        out.array_len(1);
        out.node(object);
        out.node(method);
        out.array_len(arguments.len());
        for argument in arguments {
            out.variant(argument);
        }
    }

    pub(crate) fn call_response(out: &mut Vec<u8>, outputs: &[Value<'_>]) {
        out.array_len(1);
        out.uint32(super::status::GOOD);
        out.array_len(0);
        out.no_diagnostics();
        out.array_len(outputs.len());
        for output in outputs {
            out.variant(output);
        }
        out.no_diagnostics();
    }

    pub(crate) fn close_session_request(out: &mut Vec<u8>) {
        out.boolean(true); // delete subscriptions
    }

    /// AddNodes of one Object under `parent`.
    pub(crate) fn add_nodes_request(
        out: &mut Vec<u8>,
        parent: Node<'_>,
        node: Node<'_>,
        name: &str,
    ) {
        out.array_len(1);
        out.expanded_node(parent);
        out.node(Node::Numeric(0, 35)); // Organizes
        out.expanded_node(node);
        out.qualified_name(2, name);
        out.uint32(1); // NodeClass Object
        let mut attributes = Vec::with_capacity(32 + name.len());
        attributes.uint32(0x40); // specified: display name
        attributes.localized_text(None, name);
        attributes.localized_text(None, "");
        attributes.uint32(0);
        attributes.uint32(0);
        attributes.byte(0);
        out.extension(id::OBJECT_ATTRIBUTES, &attributes);
        out.expanded_node(Node::Numeric(0, 58)); // BaseObjectType
    }

    pub(crate) fn add_nodes_response(out: &mut Vec<u8>, added: Node<'_>) {
        out.array_len(1);
        out.uint32(super::status::GOOD);
        out.node(added);
        out.no_diagnostics();
    }

    pub(crate) fn delete_nodes_request(out: &mut Vec<u8>, node: Node<'_>) {
        out.array_len(1);
        out.node(node);
        out.boolean(true);
    }

    /// HistoryUpdate replacing `values` of `node` (UpdateDataDetails).
    pub(crate) fn history_update_request(
        out: &mut Vec<u8>,
        node: Node<'_>,
        values: &[Value<'_>],
        at: u64,
    ) {
        let mut details = Vec::with_capacity(32 * values.len());
        details.node(node);
        details.uint32(3); // PerformUpdateType Replace
        details.array_len(values.len());
        for value in values {
            details.data_value(value, at);
        }
        out.array_len(1);
        out.extension(id::UPDATE_DATA_DETAILS, &details);
    }

    pub(crate) fn history_update_response(out: &mut Vec<u8>, operations: usize) {
        out.array_len(1);
        out.uint32(super::status::GOOD);
        out.array_len(operations);
        for _ in 0..operations {
            out.uint32(super::status::GOOD);
        }
        out.no_diagnostics();
        out.no_diagnostics();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    /// Walks chunks: (type, chunk type, size) of each, checking sizes add up.
    fn walk(mut bytes: &[u8]) -> Vec<(String, u8, usize)> {
        let mut chunks = Vec::new();
        while !bytes.is_empty() {
            let size = u32_at(bytes, 4) as usize;
            chunks.push((
                String::from_utf8(bytes[..3].to_vec()).unwrap(),
                bytes[3],
                size,
            ));
            bytes = &bytes[size..];
        }
        chunks
    }

    #[test]
    fn hello_acknowledge_error_sizes() {
        let mut out = Vec::new();
        hello(&mut out, 8192, 8192, "opc.tcp://10.20.1.10:4840").unwrap();
        assert_eq!(out.len(), 8 + 20 + 4 + 25);
        acknowledge(&mut out, 8192, 8192).unwrap();
        error(&mut out, status::BAD_TCP_ENDPOINT_URL_INVALID, "bad").unwrap();
        let chunks = walk(&out);
        assert_eq!(
            chunks,
            vec![
                ("HEL".to_owned(), b'F', 57),
                ("ACK".to_owned(), b'F', 28),
                ("ERR".to_owned(), b'F', 19)
            ]
        );
        assert_eq!(&out[8 + 20..8 + 24], &25i32.to_le_bytes());
    }

    #[test]
    fn messages_are_chunked_within_the_limit() {
        let security = Symmetric {
            channel_id: 7,
            token_id: 1,
        };
        for (len, max, expected) in [
            (0, 8192, 1),
            (100, 8192, 1),
            (8168, 8192, 1),
            (8169, 8192, 2),
            (20_000, 8192, 3),
        ] {
            let message: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = Vec::new();
            let mut sequence = 51;
            let count = symmetric_chunks(
                &mut out,
                MessageType::Message,
                security,
                &mut sequence,
                9,
                &message,
                max,
            )
            .unwrap();
            assert_eq!(count, expected, "{len}");
            assert_eq!(sequence, 51 + expected as u32);
            let chunks = walk(&out);
            assert_eq!(chunks.len(), expected);
            assert_eq!(out.len(), len + expected * SYMMETRIC_OVERHEAD);
            let mut offset = 0;
            let mut reassembled = Vec::new();
            for (i, (kind, chunk, size)) in chunks.iter().enumerate() {
                assert_eq!(kind, "MSG");
                assert!(*size <= max);
                assert_eq!(*chunk, if i + 1 == expected { b'F' } else { b'C' });
                assert_eq!(u32_at(&out, offset + 8), 7);
                assert_eq!(u32_at(&out, offset + 16), 51 + i as u32);
                assert_eq!(u32_at(&out, offset + 20), 9);
                reassembled.extend_from_slice(&out[offset + SYMMETRIC_OVERHEAD..offset + size]);
                offset += size;
            }
            assert_eq!(reassembled, message);
        }
        assert!(
            symmetric_chunks(
                &mut Vec::new(),
                MessageType::Message,
                security,
                &mut 0,
                0,
                b"x",
                SYMMETRIC_OVERHEAD
            )
            .is_err()
        );
    }

    #[test]
    fn open_chunk_carries_the_asymmetric_header() {
        let mut out = Vec::new();
        let security = Asymmetric {
            policy: POLICY_NONE,
            sender_certificate: None,
            receiver_thumbprint: None,
        };
        open_chunk(&mut out, 0, &security, &sequenced(1, 2, b"abc")).unwrap();
        assert_eq!(walk(&out), vec![("OPN".to_owned(), b'F', out.len())]);
        let policy_len = POLICY_NONE.len();
        assert_eq!(u32_at(&out, 12) as usize, policy_len);
        assert_eq!(&out[16..16 + policy_len], POLICY_NONE.as_bytes());
        // Null certificate and thumbprint, then the sequence header.
        assert_eq!(u32_at(&out, 16 + policy_len), u32::MAX);
        assert_eq!(u32_at(&out, 20 + policy_len), u32::MAX);
        assert_eq!(u32_at(&out, 24 + policy_len), 1);
        assert_eq!(&out[out.len() - 3..], b"abc");
    }

    #[test]
    fn node_ids_use_the_compact_encodings() {
        let mut out = Vec::new();
        out.node(Node::Numeric(0, 85));
        out.node(Node::Numeric(0, id::READ_REQUEST));
        out.node(Node::Numeric(2, 70_000));
        out.node(Node::String(2, "Tag"));
        assert_eq!(
            out,
            [
                &[0x00, 85][..],
                &[0x01, 0, 0x77, 0x02],
                &[0x02, 2, 0, 0x70, 0x11, 0x01, 0x00],
                &[0x03, 2, 0, 3, 0, 0, 0, b'T', b'a', b'g'],
            ]
            .concat()
        );
    }

    #[test]
    fn identity_tokens_are_extension_objects_with_their_ids() {
        let cases = [
            (Identity::Anonymous, id::ANONYMOUS_IDENTITY_TOKEN),
            (
                Identity::UserName {
                    user: "op",
                    password: b"pw",
                    encryption: None,
                },
                id::USER_NAME_IDENTITY_TOKEN,
            ),
            (Identity::Certificate(b"der"), id::X509_IDENTITY_TOKEN),
            (
                Identity::Issued {
                    token: b"jwt",
                    encryption: None,
                },
                id::ISSUED_IDENTITY_TOKEN,
            ),
        ];
        for (identity, type_id) in cases {
            let mut out = Vec::new();
            body::activate_session_request(&mut out, &identity);
            // Signature (8), software certificates (4), locales (4 + 4 + 2), then the token.
            let token = &out[22..];
            if type_id <= 0xFF {
                assert_eq!(&token[..2], &[0x00, type_id as u8]);
            } else {
                assert_eq!(token[0], 0x01);
                assert_eq!(u16::from_le_bytes([token[2], token[3]]) as u32, type_id);
            }
        }
    }

    #[test]
    fn datetime_counts_from_1601() {
        // 2026-01-05T08:00:00Z.
        assert_eq!(datetime(0), (1_767_600_000 + 11_644_473_600) * 10_000_000);
        assert!(status::is_good_or_uncertain(0x4000_0000));
        assert!(!status::is_good_or_uncertain(
            status::BAD_USER_ACCESS_DENIED
        ));
        assert_eq!(id::response(id::READ_REQUEST), 634);
    }
}
