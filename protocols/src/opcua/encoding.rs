//! OPC UA binary encoding (OPC 10000-6 §5.2): the built-in types the service
//! messages are made of, read zero-copy through [`Reader`].
//!
//! All integers are little-endian. A String, ByteString or XmlElement is an
//! `i32` length (-1 = null) and that many bytes; an array is an `i32` count
//! (-1 = null) and that many elements. Counts are checked against
//! [`MAX_ARRAY_LEN`] and the bytes left before anything is allocated, so a
//! hostile count costs nothing.
//!
//! Panic contract: no function here panics, whatever the input.

use core::fmt;

use crate::cursor::Reader;
use crate::error::Error;

/// Arrays longer than this are refused (Invalid): bounds work on hostile input.
pub const MAX_ARRAY_LEN: usize = 4096;

/// Deepest chain of inner DiagnosticInfos followed: real stacks nest one or
/// two; a deeper chain is an attack on recursive decoders.
pub const MAX_DIAGNOSTIC_DEPTH: usize = 16;

/// Reads a String, ByteString or XmlElement: `None` for the null value (-1).
///
/// A negative length other than -1 is Invalid; a length past the end of the
/// buffer is Incomplete.
pub fn read_string<'a>(r: &mut Reader<'a>) -> Result<Option<&'a [u8]>, Error> {
    let len = r.le_i32()?;
    if len == -1 {
        return Ok(None);
    }
    let n = usize::try_from(len).map_err(|_| r.invalid("string length", len as u32, 4))?;
    r.take(n).map(Some)
}

/// Reads an array count: -1 (null) gives 0; any other negative count, or one
/// above [`MAX_ARRAY_LEN`], is Invalid; a count whose elements (each at least
/// `min_element_size` bytes) cannot fit in the bytes left is Incomplete.
pub fn read_array_len(r: &mut Reader<'_>, min_element_size: usize) -> Result<usize, Error> {
    let raw = r.le_i32()?;
    if raw == -1 {
        return Ok(0);
    }
    let count = usize::try_from(raw)
        .ok()
        .filter(|&n| n <= MAX_ARRAY_LEN)
        .ok_or_else(|| r.invalid("array length", raw as u32, 4))?;
    // Every element takes at least one byte, whatever the caller says.
    let bytes = count.saturating_mul(min_element_size.max(1));
    if bytes > r.remaining() {
        return Err(r.incomplete(bytes));
    }
    Ok(count)
}

/// Reads an array of Strings (null elements stay `None`).
pub fn read_string_array<'a>(r: &mut Reader<'a>) -> Result<Vec<Option<&'a [u8]>>, Error> {
    let count = read_array_len(r, 4)?;
    (0..count).map(|_| read_string(r)).collect()
}

/// A NodeId (§5.2.2.9): a namespace index and a numeric, string, GUID or
/// opaque identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeId<'a> {
    /// Numeric identifier (two-byte, four-byte or full encoding).
    Numeric {
        /// Namespace index.
        namespace: u16,
        /// Identifier.
        id: u32,
    },
    /// String identifier (a null string reads as empty).
    String {
        /// Namespace index.
        namespace: u16,
        /// UTF-8 identifier as sent.
        id: &'a [u8],
    },
    /// GUID identifier, in its wire byte order.
    Guid {
        /// Namespace index.
        namespace: u16,
        /// The 16 bytes as sent (Data1..Data3 little-endian, Data4 as is).
        id: [u8; 16],
    },
    /// Opaque (ByteString) identifier (a null ByteString reads as empty).
    Opaque {
        /// Namespace index.
        namespace: u16,
        /// Identifier bytes.
        id: &'a [u8],
    },
}

impl NodeId<'_> {
    /// `Some(id)` only for a numeric id in namespace 0: the form every
    /// standard type, encoding and service id takes.
    pub fn numeric(&self) -> Option<u32> {
        match *self {
            NodeId::Numeric { namespace: 0, id } => Some(id),
            _ => None,
        }
    }
}

/// NodeId encoding byte values (low six bits; the top two are ExpandedNodeId flags).
mod node_encoding {
    pub(super) const TWO_BYTE: u8 = 0x00;
    pub(super) const FOUR_BYTE: u8 = 0x01;
    pub(super) const NUMERIC: u8 = 0x02;
    pub(super) const STRING: u8 = 0x03;
    pub(super) const GUID: u8 = 0x04;
    pub(super) const BYTE_STRING: u8 = 0x05;
    pub(super) const NAMESPACE_URI_FLAG: u8 = 0x80;
    pub(super) const SERVER_INDEX_FLAG: u8 = 0x40;
}

fn read_node_id_body<'a>(r: &mut Reader<'a>, encoding: u8) -> Result<NodeId<'a>, Error> {
    use node_encoding::*;
    Ok(match encoding {
        TWO_BYTE => NodeId::Numeric {
            namespace: 0,
            id: u32::from(r.u8()?),
        },
        FOUR_BYTE => NodeId::Numeric {
            namespace: u16::from(r.u8()?),
            id: u32::from(r.le_u16()?),
        },
        NUMERIC => NodeId::Numeric {
            namespace: r.le_u16()?,
            id: r.le_u32()?,
        },
        STRING => NodeId::String {
            namespace: r.le_u16()?,
            id: read_string(r)?.unwrap_or_default(),
        },
        GUID => {
            let namespace = r.le_u16()?;
            let mut id = [0u8; 16];
            id.copy_from_slice(r.take(16)?);
            NodeId::Guid { namespace, id }
        }
        BYTE_STRING => NodeId::Opaque {
            namespace: r.le_u16()?,
            id: read_string(r)?.unwrap_or_default(),
        },
        other => return Err(r.invalid("node id encoding", u32::from(other), 1)),
    })
}

/// Reads a NodeId: encodings 0x00 two-byte, 0x01 four-byte, 0x02 numeric,
/// 0x03 string, 0x04 GUID, 0x05 ByteString. Any other encoding byte (the
/// ExpandedNodeId flags included) is Invalid.
pub fn read_node_id<'a>(r: &mut Reader<'a>) -> Result<NodeId<'a>, Error> {
    let encoding = r.u8()?;
    read_node_id_body(r, encoding)
}

/// A NodeId that may name its namespace by URI and live on another server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpandedNodeId<'a> {
    /// The node id (its namespace index is 0 when a URI is given).
    pub node_id: NodeId<'a>,
    /// Namespace URI, when flag 0x80 is set.
    pub namespace_uri: Option<&'a [u8]>,
    /// Server index, 0 (the local server) unless flag 0x40 is set.
    pub server_index: u32,
}

/// Reads an ExpandedNodeId: a NodeId whose encoding byte may carry flags
/// 0x80 (a namespace URI String follows) and 0x40 (a server index follows).
pub fn read_expanded_node_id<'a>(r: &mut Reader<'a>) -> Result<ExpandedNodeId<'a>, Error> {
    use node_encoding::{NAMESPACE_URI_FLAG, SERVER_INDEX_FLAG};
    let encoding = r.u8()?;
    let node_id = read_node_id_body(r, encoding & !(NAMESPACE_URI_FLAG | SERVER_INDEX_FLAG))?;
    let namespace_uri = if encoding & NAMESPACE_URI_FLAG != 0 {
        read_string(r)?
    } else {
        None
    };
    let server_index = if encoding & SERVER_INDEX_FLAG != 0 {
        r.le_u32()?
    } else {
        0
    };
    Ok(ExpandedNodeId {
        node_id,
        namespace_uri,
        server_index,
    })
}

/// Human-readable text with an optional locale (both may be absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LocalizedText<'a> {
    /// Locale id such as `en-US`, when present.
    pub locale: Option<&'a [u8]>,
    /// The text, when present.
    pub text: Option<&'a [u8]>,
}

/// Reads a LocalizedText: a mask byte (0x01 locale, 0x02 text) and the
/// Strings it announces; other mask bits are ignored, as the spec allows.
pub fn read_localized_text<'a>(r: &mut Reader<'a>) -> Result<LocalizedText<'a>, Error> {
    let mask = r.u8()?;
    let locale = if mask & 0x01 != 0 {
        read_string(r)?
    } else {
        None
    };
    let text = if mask & 0x02 != 0 {
        read_string(r)?
    } else {
        None
    };
    Ok(LocalizedText { locale, text })
}

/// A name qualified by a namespace index (browse names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QualifiedName<'a> {
    /// Namespace index.
    pub namespace: u16,
    /// The name, `None` when null.
    pub name: Option<&'a [u8]>,
}

/// Reads a QualifiedName: a u16 namespace index and a String.
pub fn read_qualified_name<'a>(r: &mut Reader<'a>) -> Result<QualifiedName<'a>, Error> {
    Ok(QualifiedName {
        namespace: r.le_u16()?,
        name: read_string(r)?,
    })
}

/// The body of an ExtensionObject, left encoded: its type decides how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionBody<'a> {
    /// No body (encoding byte 0x00).
    None,
    /// Binary-encoded body (0x01); a null ByteString reads as empty.
    Binary(&'a [u8]),
    /// XML-encoded body (0x02); a null XmlElement reads as empty.
    Xml(&'a [u8]),
}

/// A structure carried with its encoding id, so a decoder may skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtensionObject<'a> {
    /// The encoding id of the body (e.g. ns0;i=324 UserNameIdentityToken).
    pub type_id: NodeId<'a>,
    /// The still-encoded body.
    pub body: ExtensionBody<'a>,
}

/// Reads an ExtensionObject: a NodeId, an encoding byte (0 none, 1 binary
/// ByteString, 2 XmlElement; anything else Invalid) and the body.
pub fn read_extension_object<'a>(r: &mut Reader<'a>) -> Result<ExtensionObject<'a>, Error> {
    let type_id = read_node_id(r)?;
    let body = match r.u8()? {
        0x00 => ExtensionBody::None,
        0x01 => ExtensionBody::Binary(read_string(r)?.unwrap_or_default()),
        0x02 => ExtensionBody::Xml(read_string(r)?.unwrap_or_default()),
        other => return Err(r.invalid("extension object encoding", u32::from(other), 1)),
    };
    Ok(ExtensionObject { type_id, body })
}

/// Skips a DiagnosticInfo. Its inner DiagnosticInfo chain is followed in a
/// loop, not by recursion, and refused (Invalid) past
/// [`MAX_DIAGNOSTIC_DEPTH`] levels.
pub fn skip_diagnostic_info(r: &mut Reader<'_>) -> Result<(), Error> {
    for _ in 0..=MAX_DIAGNOSTIC_DEPTH {
        let mask = r.u8()?;
        // SymbolicId, NamespaceUri, LocalizedText, Locale: i32 string-table indexes.
        for bit in [0x01, 0x02, 0x04, 0x08] {
            if mask & bit != 0 {
                r.skip(4)?;
            }
        }
        if mask & 0x10 != 0 {
            read_string(r)?; // AdditionalInfo
        }
        if mask & 0x20 != 0 {
            r.skip(4)?; // InnerStatusCode
        }
        if mask & 0x40 == 0 {
            return Ok(());
        }
    }
    Err(r.invalid("diagnostic info depth", MAX_DIAGNOSTIC_DEPTH as u32 + 1, 1))
}

/// Skips an array of DiagnosticInfos.
pub(crate) fn skip_diagnostic_infos(r: &mut Reader<'_>) -> Result<(), Error> {
    let count = read_array_len(r, 1)?;
    (0..count).try_for_each(|_| skip_diagnostic_info(r))
}

/// Reads a DateTime: raw i64, 100 ns ticks since 1601-01-01 UTC.
pub fn read_datetime(r: &mut Reader<'_>) -> Result<i64, Error> {
    r.le_i64()
}

/// Ticks from 1601-01-01 to 1970-01-01.
const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;
/// Ticks per second.
const TICKS_PER_SECOND: i64 = 10_000_000;
/// 9999-12-31T23:59:59Z in Unix seconds: later DateTimes mean "no end" (§5.2.2.5).
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// A DateTime as Unix seconds; `None` for 0 (the "no time" value) and for
/// anything before 1601 or after 9999, which the spec does not date.
pub fn datetime_to_unix_seconds(ticks: i64) -> Option<i64> {
    if ticks <= 0 {
        return None;
    }
    let seconds = ticks
        .checked_sub(UNIX_EPOCH_TICKS)?
        .div_euclid(TICKS_PER_SECOND);
    (seconds <= MAX_UNIX_SECONDS).then_some(seconds)
}

/// Status codes: the severity is the top two bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StatusCode(pub u32);

/// Symbolic names of the common codes (OPC 10000-6 StatusCode.csv), keyed by
/// the code's top 16 bits: security, sessions, nodes, timeouts, services,
/// certificates, identity tokens, transport.
const STATUS_NAMES: &[(u32, &str)] = &[
    (0x0000_0000, "Good"),
    (0x4000_0000, "Uncertain"),
    (0x8000_0000, "Bad"),
    (0x8001_0000, "BadUnexpectedError"),
    (0x8002_0000, "BadInternalError"),
    (0x8003_0000, "BadOutOfMemory"),
    (0x8004_0000, "BadResourceUnavailable"),
    (0x8005_0000, "BadCommunicationError"),
    (0x8006_0000, "BadEncodingError"),
    (0x8007_0000, "BadDecodingError"),
    (0x8008_0000, "BadEncodingLimitsExceeded"),
    (0x8009_0000, "BadUnknownResponse"),
    (0x800A_0000, "BadTimeout"),
    (0x800B_0000, "BadServiceUnsupported"),
    (0x800C_0000, "BadShutdown"),
    (0x800D_0000, "BadServerNotConnected"),
    (0x800E_0000, "BadServerHalted"),
    (0x800F_0000, "BadNothingToDo"),
    (0x8010_0000, "BadTooManyOperations"),
    (0x8011_0000, "BadDataTypeIdUnknown"),
    (0x8012_0000, "BadCertificateInvalid"),
    (0x8013_0000, "BadSecurityChecksFailed"),
    (0x8014_0000, "BadCertificateTimeInvalid"),
    (0x8015_0000, "BadCertificateIssuerTimeInvalid"),
    (0x8016_0000, "BadCertificateHostNameInvalid"),
    (0x8017_0000, "BadCertificateUriInvalid"),
    (0x8018_0000, "BadCertificateUseNotAllowed"),
    (0x8019_0000, "BadCertificateIssuerUseNotAllowed"),
    (0x801A_0000, "BadCertificateUntrusted"),
    (0x801B_0000, "BadCertificateRevocationUnknown"),
    (0x801C_0000, "BadCertificateIssuerRevocationUnknown"),
    (0x801D_0000, "BadCertificateRevoked"),
    (0x801E_0000, "BadCertificateIssuerRevoked"),
    (0x801F_0000, "BadUserAccessDenied"),
    (0x8020_0000, "BadIdentityTokenInvalid"),
    (0x8021_0000, "BadIdentityTokenRejected"),
    (0x8022_0000, "BadSecureChannelIdInvalid"),
    (0x8023_0000, "BadInvalidTimestamp"),
    (0x8024_0000, "BadNonceInvalid"),
    (0x8025_0000, "BadSessionIdInvalid"),
    (0x8026_0000, "BadSessionClosed"),
    (0x8027_0000, "BadSessionNotActivated"),
    (0x8028_0000, "BadSubscriptionIdInvalid"),
    (0x802A_0000, "BadRequestHeaderInvalid"),
    (0x802B_0000, "BadTimestampsToReturnInvalid"),
    (0x802C_0000, "BadRequestCancelledByClient"),
    (0x8031_0000, "BadNoCommunication"),
    (0x8032_0000, "BadWaitingForInitialData"),
    (0x8033_0000, "BadNodeIdInvalid"),
    (0x8034_0000, "BadNodeIdUnknown"),
    (0x8035_0000, "BadAttributeIdInvalid"),
    (0x8036_0000, "BadIndexRangeInvalid"),
    (0x8037_0000, "BadIndexRangeNoData"),
    (0x8038_0000, "BadDataEncodingInvalid"),
    (0x8039_0000, "BadDataEncodingUnsupported"),
    (0x803A_0000, "BadNotReadable"),
    (0x803B_0000, "BadNotWritable"),
    (0x803C_0000, "BadOutOfRange"),
    (0x803D_0000, "BadNotSupported"),
    (0x803E_0000, "BadNotFound"),
    (0x803F_0000, "BadObjectDeleted"),
    (0x8040_0000, "BadNotImplemented"),
    (0x8041_0000, "BadMonitoringModeInvalid"),
    (0x8042_0000, "BadMonitoredItemIdInvalid"),
    (0x8043_0000, "BadMonitoredItemFilterInvalid"),
    (0x804A_0000, "BadContinuationPointInvalid"),
    (0x804B_0000, "BadNoContinuationPoints"),
    (0x804C_0000, "BadReferenceTypeIdInvalid"),
    (0x804D_0000, "BadBrowseDirectionInvalid"),
    (0x804E_0000, "BadNodeNotInView"),
    (0x804F_0000, "BadServerUriInvalid"),
    (0x8050_0000, "BadServerNameMissing"),
    (0x8051_0000, "BadDiscoveryUrlMissing"),
    (0x8053_0000, "BadRequestTypeInvalid"),
    (0x8054_0000, "BadSecurityModeRejected"),
    (0x8055_0000, "BadSecurityPolicyRejected"),
    (0x8056_0000, "BadTooManySessions"),
    (0x8057_0000, "BadUserSignatureInvalid"),
    (0x8058_0000, "BadApplicationSignatureInvalid"),
    (0x8059_0000, "BadNoValidCertificates"),
    (0x805A_0000, "BadRequestCancelledByRequest"),
    (0x805B_0000, "BadParentNodeIdInvalid"),
    (0x805C_0000, "BadReferenceNotAllowed"),
    (0x805D_0000, "BadNodeIdRejected"),
    (0x805E_0000, "BadNodeIdExists"),
    (0x805F_0000, "BadNodeClassInvalid"),
    (0x8060_0000, "BadBrowseNameInvalid"),
    (0x8061_0000, "BadBrowseNameDuplicated"),
    (0x8069_0000, "BadNoDeleteRights"),
    (0x8071_0000, "BadHistoryOperationInvalid"),
    (0x8072_0000, "BadHistoryOperationUnsupported"),
    (0x8073_0000, "BadWriteNotSupported"),
    (0x8074_0000, "BadTypeMismatch"),
    (0x8075_0000, "BadMethodInvalid"),
    (0x8076_0000, "BadArgumentsMissing"),
    (0x8077_0000, "BadTooManySubscriptions"),
    (0x8078_0000, "BadTooManyPublishRequests"),
    (0x8079_0000, "BadNoSubscription"),
    (0x807A_0000, "BadSequenceNumberUnknown"),
    (0x807B_0000, "BadMessageNotAvailable"),
    (0x807D_0000, "BadTcpServerTooBusy"),
    (0x807E_0000, "BadTcpMessageTypeInvalid"),
    (0x807F_0000, "BadTcpSecureChannelUnknown"),
    (0x8080_0000, "BadTcpMessageTooLarge"),
    (0x8081_0000, "BadTcpNotEnoughResources"),
    (0x8082_0000, "BadTcpInternalError"),
    (0x8083_0000, "BadTcpEndpointUrlInvalid"),
    (0x8084_0000, "BadRequestInterrupted"),
    (0x8085_0000, "BadRequestTimeout"),
    (0x8086_0000, "BadSecureChannelClosed"),
    (0x8087_0000, "BadSecureChannelTokenUnknown"),
    (0x8088_0000, "BadSequenceNumberInvalid"),
    (0x8089_0000, "BadConfigurationError"),
    (0x808A_0000, "BadNotConnected"),
    (0x808B_0000, "BadDeviceFailure"),
    (0x808C_0000, "BadSensorFailure"),
    (0x808D_0000, "BadOutOfService"),
    (0x80AB_0000, "BadInvalidArgument"),
    (0x80AC_0000, "BadConnectionRejected"),
    (0x80AD_0000, "BadDisconnect"),
    (0x80AE_0000, "BadConnectionClosed"),
    (0x80AF_0000, "BadInvalidState"),
    (0x80B7_0000, "BadMaxConnectionsReached"),
    (0x80B8_0000, "BadRequestTooLarge"),
    (0x80B9_0000, "BadResponseTooLarge"),
    (0x80BE_0000, "BadProtocolVersionUnsupported"),
    (0x80C6_0000, "BadIdentityChangeNotSupported"),
    (0x80DB_0000, "BadTooManyMonitoredItems"),
    (0x80E4_0000, "BadRequestNotAllowed"),
    (0x80E5_0000, "BadTooManyArguments"),
    (0x80E6_0000, "BadSecurityModeInsufficient"),
    (0x80EE_0000, "BadServerTooBusy"),
    (0x810D_0000, "BadCertificateChainIncomplete"),
    (0x810E_0000, "BadLicenseExpired"),
    (0x810F_0000, "BadLicenseLimitsExceeded"),
    (0x8110_0000, "BadLicenseNotAvailable"),
    (0x8111_0000, "BadNotExecutable"),
    (0x8114_0000, "BadCertificatePolicyCheckFailed"),
    (0x002D_0000, "GoodSubscriptionTransferred"),
    (0x002E_0000, "GoodCompletesAsynchronously"),
    (0x002F_0000, "GoodOverload"),
    (0x0030_0000, "GoodClamped"),
    (0x00EF_0000, "GoodPasswordChangeRequired"),
];

impl StatusCode {
    /// The operation succeeded.
    pub const GOOD: StatusCode = StatusCode(0);

    /// Severity Good (top two bits 00).
    pub fn is_good(self) -> bool {
        self.0 >> 30 == 0
    }

    /// Severity Uncertain (top two bits 01).
    pub fn is_uncertain(self) -> bool {
        self.0 >> 30 == 1
    }

    /// Severity Bad (top bit set; 11 is reserved and treated as Bad).
    pub fn is_bad(self) -> bool {
        self.0 >> 31 == 1
    }

    /// The symbolic name of a common code, e.g. `"BadTimeout"`. The low 16
    /// bits (info type and flags) do not change the name.
    pub fn name(self) -> Option<&'static str> {
        let code = self.0 & 0xFFFF_0000;
        STATUS_NAMES
            .iter()
            .find(|&&(value, _)| value == code)
            .map(|&(_, name)| name)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

/// The header every request starts with (OPC 10000-4 §7.33).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    /// The session's secret authentication token (a null NodeId before a session exists).
    pub authentication_token: NodeId<'a>,
    /// Client send time, raw DateTime ticks.
    pub timestamp: i64,
    /// Client-chosen handle, echoed in the response.
    pub request_handle: u32,
    /// Diagnostics bit mask the client asks for.
    pub return_diagnostics: u32,
    /// Audit log entry id, when given.
    pub audit_entry_id: Option<&'a [u8]>,
    /// Client timeout hint in milliseconds (0 = none).
    pub timeout_hint: u32,
}

/// Reads a RequestHeader; its additionalHeader ExtensionObject is skipped.
pub fn read_request_header<'a>(r: &mut Reader<'a>) -> Result<RequestHeader<'a>, Error> {
    let header = RequestHeader {
        authentication_token: read_node_id(r)?,
        timestamp: read_datetime(r)?,
        request_handle: r.le_u32()?,
        return_diagnostics: r.le_u32()?,
        audit_entry_id: read_string(r)?,
        timeout_hint: r.le_u32()?,
    };
    read_extension_object(r)?;
    Ok(header)
}

/// The header every response starts with (OPC 10000-4 §7.34).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHeader {
    /// Server send time, raw DateTime ticks.
    pub timestamp: i64,
    /// The request's handle.
    pub request_handle: u32,
    /// The service-level result.
    pub service_result: StatusCode,
}

/// Reads a ResponseHeader; the service diagnostics, string table and
/// additionalHeader are skipped.
pub fn read_response_header(r: &mut Reader<'_>) -> Result<ResponseHeader, Error> {
    let header = ResponseHeader {
        timestamp: read_datetime(r)?,
        request_handle: r.le_u32()?,
        service_result: StatusCode(r.le_u32()?),
    };
    skip_diagnostic_info(r)?;
    read_string_array(r)?;
    read_extension_object(r)?;
    Ok(header)
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
    use crate::error::Layer;

    fn reader(bytes: &[u8]) -> Reader<'_> {
        Reader::new(bytes, Layer::OpcUaService)
    }

    #[test]
    fn strings_null_empty_and_truncated() {
        let mut r = reader(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 2, 0, 0, 0, b'o', b'k']);
        assert_eq!(read_string(&mut r), Ok(None));
        assert_eq!(read_string(&mut r), Ok(Some(&b""[..])));
        assert_eq!(read_string(&mut r), Ok(Some(&b"ok"[..])));
        assert!(r.is_empty());
        // Length 5 with 1 byte left.
        assert!(matches!(
            read_string(&mut reader(&[5, 0, 0, 0, b'x'])),
            Err(Error::Incomplete { needed: 4, .. })
        ));
        // -2 is not a length.
        assert!(matches!(
            read_string(&mut reader(&[0xFE, 0xFF, 0xFF, 0xFF])),
            Err(Error::Invalid {
                field: "string length",
                ..
            })
        ));
    }

    #[test]
    fn array_lengths_are_bounded() {
        assert_eq!(read_array_len(&mut reader(&[0xFF; 4]), 4), Ok(0));
        // 2 strings need at least 8 bytes: only 4 left.
        assert!(matches!(
            read_array_len(&mut reader(&[2, 0, 0, 0, 0, 0, 0, 0]), 4),
            Err(Error::Incomplete { .. })
        ));
        // Above MAX_ARRAY_LEN.
        let mut big = 4097u32.to_le_bytes().to_vec();
        big.resize(64 * 1024, 0);
        assert!(matches!(
            read_array_len(&mut reader(&big), 1),
            Err(Error::Invalid {
                field: "array length",
                ..
            })
        ));
        assert!(matches!(
            read_array_len(&mut reader(&[0xFE, 0xFF, 0xFF, 0xFF]), 1),
            Err(Error::Invalid { .. })
        ));
        let strings = [2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, b'a'];
        assert_eq!(
            read_string_array(&mut reader(&strings)),
            Ok(vec![None, Some(&b"a"[..])])
        );
    }

    #[test]
    fn node_ids_in_every_encoding() {
        let bytes = [
            0x00, 0x55, // two-byte: i=85
            0x01, 0x00, 0xBE, 0x01, // four-byte: ns0;i=446
            0x02, 0x02, 0x00, 0x78, 0x56, 0x34, 0x12, // numeric: ns2;i=0x12345678
            0x03, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, b'h', b'i', // string: ns1;s=hi
            0x04, 0x03, 0x00, // guid in ns3 ...
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // ... its 16 bytes
            0x05, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0xAA, // opaque: ns4;b=qg==
        ];
        let mut r = reader(&bytes);
        assert_eq!(read_node_id(&mut r).unwrap().numeric(), Some(85));
        assert_eq!(read_node_id(&mut r).unwrap().numeric(), Some(446));
        let n = read_node_id(&mut r).unwrap();
        assert_eq!(
            n,
            NodeId::Numeric {
                namespace: 2,
                id: 0x1234_5678
            }
        );
        assert_eq!(n.numeric(), None);
        assert_eq!(
            read_node_id(&mut r).unwrap(),
            NodeId::String {
                namespace: 1,
                id: b"hi"
            }
        );
        assert!(matches!(
            read_node_id(&mut r).unwrap(),
            NodeId::Guid { namespace: 3, id } if id[15] == 16
        ));
        assert_eq!(
            read_node_id(&mut r).unwrap(),
            NodeId::Opaque {
                namespace: 4,
                id: &[0xAA]
            }
        );
        assert!(r.is_empty());
        assert!(matches!(
            read_node_id(&mut reader(&[0x06, 0, 0])),
            Err(Error::Invalid {
                field: "node id encoding",
                ..
            })
        ));
        // The ExpandedNodeId flags are not a plain NodeId.
        assert!(read_node_id(&mut reader(&[0x80, 0x01])).is_err());
    }

    #[test]
    fn expanded_node_id_with_uri_and_server() {
        let bytes = [
            0xC0, 0x2A, // two-byte i=42, both flags
            0x03, 0x00, 0x00, 0x00, b'u', b'r', b'n', // namespace URI "urn"
            0x07, 0x00, 0x00, 0x00, // server index 7
        ];
        let e = read_expanded_node_id(&mut reader(&bytes)).unwrap();
        assert_eq!(e.node_id.numeric(), Some(42));
        assert_eq!(e.namespace_uri, Some(&b"urn"[..]));
        assert_eq!(e.server_index, 7);
    }

    #[test]
    fn text_names_and_extension_objects() {
        let bytes = [
            0x03, // locale and text
            0x02, 0x00, 0x00, 0x00, b'e', b'n', // locale "en"
            0x01, 0x00, 0x00, 0x00, b'X', // text "X"
            0x00, // neither
            0x01, 0x00, 0x01, 0x00, 0x00, 0x00, b'N', // ns1 "N"
            0x01, 0x00, 0x44, 0x01, // type id ns0;i=324
            0x01, 0x02, 0x00, 0x00, 0x00, 0xAB, 0xCD, // binary body of 2 bytes
            0x00, 0x00, 0x00, // null type id, no body
        ];
        let mut r = reader(&bytes);
        let t = read_localized_text(&mut r).unwrap();
        assert_eq!((t.locale, t.text), (Some(&b"en"[..]), Some(&b"X"[..])));
        assert_eq!(
            read_localized_text(&mut r).unwrap(),
            LocalizedText::default()
        );
        let q = read_qualified_name(&mut r).unwrap();
        assert_eq!((q.namespace, q.name), (1, Some(&b"N"[..])));
        let e = read_extension_object(&mut r).unwrap();
        assert_eq!(e.type_id.numeric(), Some(324));
        assert_eq!(e.body, ExtensionBody::Binary(&[0xAB, 0xCD]));
        let e = read_extension_object(&mut r).unwrap();
        assert_eq!(
            (e.type_id.numeric(), e.body),
            (Some(0), ExtensionBody::None)
        );
        assert!(r.is_empty());
        assert!(read_extension_object(&mut reader(&[0, 0, 3])).is_err());
    }

    #[test]
    fn diagnostic_info_depth_is_bounded() {
        // Symbolic id, additional info "x", inner status, then an inner info with nothing.
        let bytes = [0x71, 1, 0, 0, 0, 1, 0, 0, 0, b'x', 0, 0, 0x34, 0x80, 0x00];
        let mut r = reader(&bytes);
        skip_diagnostic_info(&mut r).unwrap();
        assert!(r.is_empty());
        let deep = vec![0x40u8; MAX_DIAGNOSTIC_DEPTH];
        let mut ok = deep.clone();
        ok.push(0);
        assert!(skip_diagnostic_info(&mut reader(&ok)).is_ok());
        let mut too_deep = deep;
        too_deep.extend_from_slice(&[0x40, 0]);
        assert!(matches!(
            skip_diagnostic_info(&mut reader(&too_deep)),
            Err(Error::Invalid { .. })
        ));
        // A million nested infos: refused without recursion.
        assert!(skip_diagnostic_info(&mut reader(&vec![0x40; 1 << 20])).is_err());
    }

    #[test]
    fn datetimes_and_status_codes() {
        assert_eq!(datetime_to_unix_seconds(0), None);
        assert_eq!(datetime_to_unix_seconds(-1), None);
        assert_eq!(datetime_to_unix_seconds(UNIX_EPOCH_TICKS), Some(0));
        // 2021-08-20T00:00:00Z
        assert_eq!(
            datetime_to_unix_seconds(UNIX_EPOCH_TICKS + 1_629_417_600 * TICKS_PER_SECOND),
            Some(1_629_417_600)
        );
        assert_eq!(datetime_to_unix_seconds(i64::MAX), None);
        assert!(StatusCode::GOOD.is_good());
        let timeout = StatusCode(0x800A_0000);
        assert!(timeout.is_bad() && !timeout.is_good() && !timeout.is_uncertain());
        assert_eq!(timeout.to_string(), "BadTimeout");
        assert_eq!(StatusCode(0x8079_0000).name(), Some("BadNoSubscription"));
        assert!(StatusCode(0x40BC_0000).is_uncertain());
        assert_eq!(StatusCode(0x8FFF_0001).to_string(), "0x8FFF0001");
        assert_eq!(StatusCode(0).to_string(), "Good");
    }

    #[test]
    fn request_and_response_headers() {
        let request = [
            0x00, 0x00, // null authentication token
            0, 0, 0, 0, 0, 0, 0, 0, // timestamp
            0x01, 0x00, 0x00, 0x00, // request handle 1
            0x00, 0x00, 0x00, 0x00, // return diagnostics
            0xFF, 0xFF, 0xFF, 0xFF, // audit entry id: null
            0x10, 0x27, 0x00, 0x00, // timeout hint 10000
            0x00, 0x00, 0x00, // additional header: null
        ];
        let h = read_request_header(&mut reader(&request)).unwrap();
        assert_eq!((h.request_handle, h.timeout_hint), (1, 10_000));
        assert_eq!(h.authentication_token.numeric(), Some(0));
        let response = [
            1, 0, 0, 0, 0, 0, 0, 0, // timestamp 1
            0x01, 0x00, 0x00, 0x00, // request handle 1
            0x00, 0x00, 0x79, 0x80, // BadNoSubscription
            0x00, // no diagnostics
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // string table [""]
            0x00, 0x00, 0x00, // additional header: null
        ];
        let mut r = reader(&response);
        let h = read_response_header(&mut r).unwrap();
        assert_eq!(h.service_result.name(), Some("BadNoSubscription"));
        assert!(r.is_empty());
        for n in 0..response.len() {
            assert!(read_response_header(&mut reader(&response[..n])).is_err());
        }
    }
}
