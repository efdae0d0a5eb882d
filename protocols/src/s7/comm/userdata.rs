//! Userdata PDUs (ROSCTR 7): the parameter head and the data part, with Read SZL.
//!
//! ```text
//!  parameter:  head (3: 00 01 12) | length (4 or 8) | syntax id (0x11/0x12) | type/group
//!              | subfunction | sequence [| data unit ref | last data unit | error code (2)]
//!  mode transition push: 01 00 10 | 10 | 00 | 00 (type 0, group 0) | mode | 00
//!  data:       return code | transport size | length (2) | payload
//!  Read SZL request payload:   SZL id (2) | index (2)
//!  Read SZL response payload:  SZL id (2) | index (2) | record length (2) | record count (2) | records
//! ```
//!
//! The type/group byte is split as the Wireshark release behind the ground
//! truth does: type in the high nibble (0 push, 4 request, 8 response), group
//! in the low nibble. A mode transition push decodes the same way, as group 0
//! with the mode entered as subfunction.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::anomaly::Anomalies;
use super::params::Param;
use super::types::{DataTransportSize, Function, ReturnCode, SyntaxId};

/// Item count of a userdata parameter head.
const HEAD_ITEM_COUNT: u8 = 0x01;
/// Variable specification type of a userdata parameter head.
const HEAD_SPEC_TYPE: u8 = 0x12;
/// Parameter length byte of the short form (syntax id, type/group, subfunction, sequence).
pub const SHORT_FORM_LEN: u8 = 4;
/// Parameter length byte of the extended form (plus data unit ref, last unit, error code).
pub const EXTENDED_FORM_LEN: u8 = 8;

/// The userdata parameter layout, declared once. Offsets are from the start of the parameter part.
pub mod field {
    use core::ops::Range;

    /// Head byte: function (0x00 CPU services, 0x01 mode transition).
    pub const FUNCTION: usize = 0;
    /// Item count, 1.
    pub const ITEM_COUNT: usize = 1;
    /// Variable specification type, 0x12.
    pub const SPEC_TYPE: usize = 2;
    /// Length of what follows: 4 (short form) or 8 (extended form).
    pub const SPEC_LEN: usize = 3;
    /// Syntax id: 0x11 short, 0x12 extended.
    pub const SYNTAX_ID: usize = 4;
    /// Type (high nibble) and function group (low nibble).
    pub const TYPE_GROUP: usize = 5;
    /// Subfunction.
    pub const SUBFUNCTION: usize = 6;
    /// Sequence number.
    pub const SEQUENCE: usize = 7;
    /// Data unit reference (extended form).
    pub const DATA_UNIT_REF: usize = 8;
    /// Last data unit: 0 yes, 1 more follow (extended form).
    pub const LAST_DATA_UNIT: usize = 9;
    /// Error code (extended form).
    pub const ERROR_CODE: Range<usize> = 10..12;
}

// The layout is contiguous and the length byte counts from the syntax id.
const _: () = {
    assert!(field::ITEM_COUNT == field::FUNCTION + 1);
    assert!(field::SPEC_TYPE == field::ITEM_COUNT + 1);
    assert!(field::SPEC_LEN == field::SPEC_TYPE + 1);
    assert!(field::SYNTAX_ID == field::SPEC_LEN + 1);
    assert!(field::TYPE_GROUP == field::SYNTAX_ID + 1);
    assert!(field::SUBFUNCTION == field::TYPE_GROUP + 1);
    assert!(field::SEQUENCE == field::SUBFUNCTION + 1);
    assert!(field::SEQUENCE + 1 == field::SYNTAX_ID + SHORT_FORM_LEN as usize);
    assert!(field::DATA_UNIT_REF == field::SEQUENCE + 1);
    assert!(field::LAST_DATA_UNIT == field::DATA_UNIT_REF + 1);
    assert!(field::ERROR_CODE.start == field::LAST_DATA_UNIT + 1);
    assert!(field::ERROR_CODE.end == field::SYNTAX_ID + EXTENDED_FORM_LEN as usize);
};

/// Bytes of the mode transition head after the function byte, as CPUs send it.
const MODE_TRANSITION_HEAD: [u8; 3] = [0x00, 0x10, 0x10];

/// Decodes a userdata parameter; `r` is just after the function byte.
pub(crate) fn decode_param<'a>(
    function: Function,
    r: &mut Reader<'a>,
    anomalies: &mut Anomalies,
) -> Result<Param<'a>, Error> {
    let item_count = r.u8()?;
    let spec_type = r.u8()?;
    let spec_len = r.u8()?;
    let syntax_id = r.u8()?;
    let type_group = r.u8()?;
    let subfunction = r.u8()?;
    let sequence = r.u8()?;
    let extended = syntax_id == SyntaxId::EXT.0;
    let (data_unit_ref, last_data_unit, error) = if extended {
        (r.u8()?, r.u8()? == 0, r.be_u16()?)
    } else {
        (0, true, 0)
    };
    let expected_head = match function {
        Function::MODE_TRANSITION => [item_count, spec_type, spec_len] == MODE_TRANSITION_HEAD,
        _ => {
            item_count == HEAD_ITEM_COUNT
                && spec_type == HEAD_SPEC_TYPE
                && spec_len
                    == if extended {
                        EXTENDED_FORM_LEN
                    } else {
                        SHORT_FORM_LEN
                    }
        }
    };
    if !expected_head {
        *anomalies |= Anomalies::UNEXPECTED_USERDATA_HEAD;
    }
    Ok(Param::Userdata {
        function,
        syntax_id,
        kind: type_group >> 4,
        group: type_group & 0x0F,
        subfunction,
        sequence,
        data_unit_ref,
        last_data_unit,
        error,
    })
}

/// Appends a userdata parameter: the head for `function` (CPU services or
/// mode transition), then the short form, or the extended form when
/// `syntax_id` is 0x12.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_param(
    out: &mut Vec<u8>,
    function: Function,
    syntax_id: u8,
    kind: u8,
    group: u8,
    subfunction: u8,
    sequence: u8,
    data_unit_ref: u8,
    last_data_unit: bool,
    error: u16,
) {
    out.push(function.0);
    let extended = syntax_id == SyntaxId::EXT.0;
    if function == Function::MODE_TRANSITION {
        out.extend_from_slice(&MODE_TRANSITION_HEAD);
    } else {
        out.extend_from_slice(&[
            HEAD_ITEM_COUNT,
            HEAD_SPEC_TYPE,
            if extended {
                EXTENDED_FORM_LEN
            } else {
                SHORT_FORM_LEN
            },
        ]);
    }
    out.extend_from_slice(&[
        syntax_id,
        (kind << 4) | (group & 0x0F),
        subfunction,
        sequence,
    ]);
    if extended {
        out.push(data_unit_ref);
        out.push(u8::from(!last_data_unit));
        out.extend_from_slice(&error.to_be_bytes());
    }
}

/// Length of the userdata data header: return code, transport size, length.
pub const DATA_HEADER_LEN: usize = 4;

/// The data part of a userdata PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserdataData<'a> {
    /// Return code (0xFF success; 0x0A in an empty request).
    pub return_code: ReturnCode,
    /// Transport size (0x09 octet string in practice).
    pub transport_size: DataTransportSize,
    /// Length field, as sent.
    pub length: u16,
    /// The bytes the length covers (fewer when the data part ends first).
    pub payload: &'a [u8],
}

/// Decodes the header of a userdata data part; `None` when it is shorter than four bytes.
pub fn userdata_data(data: &[u8]) -> Option<UserdataData<'_>> {
    let mut r = Reader::new(data, Layer::S7comm);
    let return_code = ReturnCode(r.u8().ok()?);
    let transport_size = DataTransportSize(r.u8().ok()?);
    let length = r.be_u16().ok()?;
    let payload = match r.take(usize::from(length)) {
        Ok(payload) => payload,
        Err(_) => r.take_rest(),
    };
    Some(UserdataData {
        return_code,
        transport_size,
        length,
        payload,
    })
}

/// Appends a userdata data part: header (length computed, saturated at 65535) and payload.
pub fn write_userdata_data(
    out: &mut Vec<u8>,
    return_code: ReturnCode,
    transport_size: DataTransportSize,
    payload: &[u8],
) {
    out.push(return_code.0);
    out.push(transport_size.0);
    out.extend_from_slice(
        &u16::try_from(payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(payload);
}

/// The SZL id and index a Read SZL request asks for; `None` when the data part is too short.
pub fn szl_request(data: &[u8]) -> Option<(u16, u16)> {
    let payload = userdata_data(data)?.payload;
    let mut r = Reader::new(payload, Layer::S7comm);
    Some((r.be_u16().ok()?, r.be_u16().ok()?))
}

/// A Read SZL response: the partial list header and its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SzlResponse<'a> {
    /// SZL id: module class (bits 12-15), extract number (8-11), partial list number (0-7).
    pub szl_id: u16,
    /// Index of the partial list extract.
    pub index: u16,
    /// Length of one record, in bytes.
    pub record_len: u16,
    /// Number of records, as sent (the data may hold fewer; see [`szl::records`](crate::s7::szl::records)).
    pub record_count: u16,
    /// The record bytes.
    pub records: &'a [u8],
}

/// Length of the SZL partial list header: id, index, record length, record count.
pub const SZL_HEADER_LEN: usize = 8;

/// Decodes the data part of a successful Read SZL response; `None` when the
/// return code is not success or the partial list header is incomplete.
///
/// Only the first data unit of a fragmented response carries the header: do
/// not call this on a continuation (see [`Param::is_userdata_continuation`]).
pub fn szl_response(data: &[u8]) -> Option<SzlResponse<'_>> {
    let ud = userdata_data(data)?;
    if ud.return_code != ReturnCode::SUCCESS {
        return None;
    }
    szl_response_payload(ud.payload)
}

/// Decodes a Read SZL response payload: the userdata data after its
/// four-byte header. For a response split over several data units, pass the
/// payloads of the first unit and its continuations concatenated in order.
pub fn szl_response_payload(payload: &[u8]) -> Option<SzlResponse<'_>> {
    let mut r = Reader::new(payload, Layer::S7comm);
    Some(SzlResponse {
        szl_id: r.be_u16().ok()?,
        index: r.be_u16().ok()?,
        record_len: r.be_u16().ok()?,
        record_count: r.be_u16().ok()?,
        records: r.rest(),
    })
}

/// Appends the data part of a Read SZL request.
pub fn write_szl_request(out: &mut Vec<u8>, szl_id: u16, index: u16) {
    let [id_high, id_low] = szl_id.to_be_bytes();
    let [index_high, index_low] = index.to_be_bytes();
    write_userdata_data(
        out,
        ReturnCode::SUCCESS,
        DataTransportSize::OCTET_STRING,
        &[id_high, id_low, index_high, index_low],
    );
}

/// Appends the data part of a successful Read SZL response.
pub fn write_szl_response(out: &mut Vec<u8>, response: &SzlResponse<'_>) {
    let mut payload = Vec::with_capacity(SZL_HEADER_LEN + response.records.len());
    for field in [
        response.szl_id,
        response.index,
        response.record_len,
        response.record_count,
    ] {
        payload.extend_from_slice(&field.to_be_bytes());
    }
    payload.extend_from_slice(response.records);
    write_userdata_data(
        out,
        ReturnCode::SUCCESS,
        DataTransportSize::OCTET_STRING,
        &payload,
    );
}

impl Param<'_> {
    /// True for a userdata parameter that continues a fragmented response: a
    /// data unit reference and the last-unit flag set, as Wireshark reads it.
    /// Such a data part carries no Read SZL header.
    pub fn is_userdata_continuation(&self) -> bool {
        matches!(
            self,
            Param::Userdata {
                data_unit_ref,
                last_data_unit: true,
                ..
            } if *data_unit_ref != 0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_szl_request_and_response_data() {
        // return code 0xFF, octet string, 4 bytes: SZL 0x0011 index 0
        let request = [0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00];
        assert_eq!(szl_request(&request), Some((0x0011, 0x0000)));
        let mut out = Vec::new();
        write_szl_request(&mut out, 0x0011, 0);
        assert_eq!(out, request);
        assert_eq!(szl_request(&request[..7]), None);

        let response = [
            0xFF, 0x09, 0x00, 0x0C, // success, octet string, 12 bytes
            0x01, 0x32, 0x00, 0x04, // SZL 0x0132 index 4
            0x00, 0x02, 0x00, 0x02, // record length 2, two records
            0xAA, 0xBB, 0xCC, 0xDD, // records
        ];
        let szl = szl_response(&response).unwrap();
        assert_eq!((szl.szl_id, szl.index), (0x0132, 4));
        assert_eq!((szl.record_len, szl.record_count), (2, 2));
        assert_eq!(szl.records, &[0xAA, 0xBB, 0xCC, 0xDD]);
        let mut out = Vec::new();
        write_szl_response(&mut out, &szl);
        assert_eq!(out, response);
        // error return code: no SZL
        assert_eq!(szl_response(&[0x0A, 0x00, 0x00, 0x00]), None);
        // length field past the end: what is there
        let short = userdata_data(&[0xFF, 0x09, 0x00, 0x10, 0x01]).unwrap();
        assert_eq!(short.payload, &[0x01]);
    }

    #[test]
    fn parameter_forms() {
        let decode = |bytes: &'static [u8]| {
            let mut r = Reader::new(bytes, Layer::S7comm);
            let function = Function(r.u8().unwrap());
            let mut a = Anomalies::empty();
            let p = decode_param(function, &mut r, &mut a).unwrap();
            assert!(r.is_empty());
            (p, a)
        };
        // Read SZL request, short form
        let (p, a) = decode(&[0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00]);
        assert!(a.is_empty());
        assert_eq!(
            p,
            Param::Userdata {
                function: Function::CPU_SERVICES,
                syntax_id: 0x11,
                kind: 4,
                group: 4,
                subfunction: 1,
                sequence: 0,
                data_unit_ref: 0,
                last_data_unit: true,
                error: 0
            }
        );
        // Response, extended form, more units follow, error 0x0119
        let (p, a) = decode(&[
            0x00, 0x01, 0x12, 0x08, 0x12, 0x85, 0x01, 0x03, 0x07, 0x01, 0x01, 0x19,
        ]);
        assert!(a.is_empty());
        let Param::Userdata {
            kind,
            group,
            data_unit_ref,
            last_data_unit,
            error,
            ..
        } = p
        else {
            panic!()
        };
        assert_eq!((kind, group, data_unit_ref), (8, 5, 7));
        assert!(!last_data_unit);
        assert_eq!(error, 0x0119);
        // Mode transition push: RUN
        let (p, a) = decode(&[0x01, 0x00, 0x10, 0x10, 0x00, 0x00, 0x02, 0x00]);
        assert!(a.is_empty());
        assert!(matches!(
            p,
            Param::Userdata {
                function: Function::MODE_TRANSITION,
                kind: 0,
                group: 0,
                subfunction: 2,
                ..
            }
        ));
        // An odd head is flagged
        let (_, a) = decode(&[0x00, 0x02, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00]);
        assert_eq!(a, Anomalies::UNEXPECTED_USERDATA_HEAD);
    }
}
