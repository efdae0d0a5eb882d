//! The S7comm header: ten bytes, twelve for Ack and Ack_Data.
//!
//! ```text
//!  0     1        2             4         6           8          10     11    12
//!  +-----+--------+-------------+---------+-----------+----------+------+------+
//!  | 0x32| ROSCTR | redundancy  | PDU ref | param len | data len | err  | err  |
//!  |     |        | id (0)      |         |           |          | class| code |
//!  +-----+--------+-------------+---------+-----------+----------+------+------+
//!                                                                <- Ack, Ack_Data ->
//! ```

use crate::cursor::Reader;
use crate::error::Error;

use super::types::{ErrorClass, ErrorCode, Rosctr};

/// The S7comm protocol identifier, first byte of every PDU.
pub const PROTOCOL_ID: u8 = 0x32;

/// Header length of Job and Userdata PDUs.
pub const HEADER_LEN: usize = 10;

/// Header length of Ack and Ack_Data PDUs (error class and code added).
pub const ACK_HEADER_LEN: usize = 12;

/// The header layout, declared once. Offsets are from the start of the PDU.
pub mod field {
    use core::ops::Range;

    /// Protocol id, 0x32.
    pub const PROTOCOL_ID: usize = 0;
    /// PDU type.
    pub const ROSCTR: usize = 1;
    /// Redundancy identification, 0.
    pub const REDUNDANCY_ID: Range<usize> = 2..4;
    /// PDU reference, echoed by the response.
    pub const PDU_REF: Range<usize> = 4..6;
    /// Length of the parameter part.
    pub const PARAM_LEN: Range<usize> = 6..8;
    /// Length of the data part.
    pub const DATA_LEN: Range<usize> = 8..10;
    /// Error class (Ack and Ack_Data only).
    pub const ERROR_CLASS: usize = 10;
    /// Error code (Ack and Ack_Data only).
    pub const ERROR_CODE: usize = 11;
}

// The layout is contiguous and agrees with the header lengths and with the
// order of the reads in `Header::read`.
const _: () = {
    assert!(field::PROTOCOL_ID == 0);
    assert!(field::ROSCTR == field::PROTOCOL_ID + 1);
    assert!(field::REDUNDANCY_ID.start == field::ROSCTR + 1);
    assert!(field::PDU_REF.start == field::REDUNDANCY_ID.end);
    assert!(field::PARAM_LEN.start == field::PDU_REF.end);
    assert!(field::DATA_LEN.start == field::PARAM_LEN.end);
    assert!(field::DATA_LEN.end == HEADER_LEN);
    assert!(field::ERROR_CLASS == HEADER_LEN);
    assert!(field::ERROR_CODE + 1 == ACK_HEADER_LEN);
};

/// The S7comm header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// The PDU type.
    pub rosctr: Rosctr,
    /// Redundancy identification (0 in practice).
    pub redundancy_id: u16,
    /// PDU reference: pairs a response with its request.
    pub pdu_ref: u16,
    /// Length of the parameter part, as sent.
    pub param_len: u16,
    /// Length of the data part, as sent.
    pub data_len: u16,
    /// Error class and code: present for Ack and Ack_Data, `None` otherwise.
    pub error: Option<(u8, u8)>,
}

impl Header {
    /// Reads the header at the cursor: 10 bytes, 12 for Ack and Ack_Data.
    /// Fails on another protocol id or a short buffer.
    pub fn read(r: &mut Reader<'_>) -> Result<Header, Error> {
        let protocol_id = r.u8()?;
        if protocol_id != PROTOCOL_ID {
            return Err(r.invalid("protocol id", u32::from(protocol_id), 1));
        }
        let rosctr = Rosctr(r.u8()?);
        let redundancy_id = r.be_u16()?;
        let pdu_ref = r.be_u16()?;
        let param_len = r.be_u16()?;
        let data_len = r.be_u16()?;
        let error = if rosctr.has_error_fields() {
            Some((r.u8()?, r.u8()?))
        } else {
            None
        };
        Ok(Header {
            rosctr,
            redundancy_id,
            pdu_ref,
            param_len,
            data_len,
            error,
        })
    }

    /// Length of this header on the wire.
    pub fn encoded_len(&self) -> usize {
        if self.rosctr.has_error_fields() {
            ACK_HEADER_LEN
        } else {
            HEADER_LEN
        }
    }

    /// The error class, when the header carries one.
    pub fn error_class(&self) -> Option<ErrorClass> {
        self.error.map(|(class, _)| ErrorClass(class))
    }

    /// The error class and code as one 16-bit code (0x8104: service not
    /// implemented), when the header carries them.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.error
            .map(|(class, code)| ErrorCode(u16::from_be_bytes([class, code])))
    }

    /// True when the header reports an error (class or code not zero).
    pub fn is_error(&self) -> bool {
        self.error
            .is_some_and(|(class, code)| class != 0 || code != 0)
    }

    /// Appends the header; for Ack and Ack_Data the error fields (0, 0 when `None`).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_ID);
        out.push(self.rosctr.0);
        out.extend_from_slice(&self.redundancy_id.to_be_bytes());
        out.extend_from_slice(&self.pdu_ref.to_be_bytes());
        out.extend_from_slice(&self.param_len.to_be_bytes());
        out.extend_from_slice(&self.data_len.to_be_bytes());
        if self.rosctr.has_error_fields() {
            let (class, code) = self.error.unwrap_or_default();
            out.push(class);
            out.push(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Layer;

    #[test]
    fn ack_data_header_carries_error_fields() {
        let bytes = [
            0x32, // protocol id
            0x03, // Ack_Data
            0x00, 0x00, // redundancy id
            0x04, 0x00, // PDU reference 0x0400
            0x00, 0x02, // parameter length
            0x00, 0x05, // data length
            0x81, 0x04, // error class 0x81, code 0x04
        ];
        let mut r = Reader::new(&bytes, Layer::S7comm);
        let h = Header::read(&mut r).unwrap();
        assert!(r.is_empty());
        assert_eq!(h.rosctr, Rosctr::ACK_DATA);
        assert_eq!((h.pdu_ref, h.param_len, h.data_len), (0x0400, 2, 5));
        assert_eq!(h.error, Some((0x81, 0x04)));
        assert_eq!(h.error_code(), Some(ErrorCode::SERVICE_NOT_IMPLEMENTED));
        assert_eq!(h.error_class(), Some(ErrorClass::APPLICATION_RELATIONSHIP));
        assert!(h.is_error());
        assert_eq!(h.encoded_len(), ACK_HEADER_LEN);
        let mut out = Vec::new();
        h.write(&mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn job_header_has_no_error_fields_and_wrong_ids_fail() {
        let bytes = [0x32, 0x01, 0, 0, 0, 1, 0, 8, 0, 0];
        let h = Header::read(&mut Reader::new(&bytes, Layer::S7comm)).unwrap();
        assert_eq!(h.error, None);
        assert!(!h.is_error());
        assert_eq!(h.encoded_len(), HEADER_LEN);
        let other = [0x33, 0x01, 0, 0, 0, 1, 0, 8, 0, 0];
        assert!(matches!(
            Header::read(&mut Reader::new(&other, Layer::S7comm)),
            Err(Error::Invalid { offset: 0, .. })
        ));
        assert!(matches!(
            Header::read(&mut Reader::new(&bytes[..9], Layer::S7comm)),
            Err(Error::Incomplete { needed: 1, .. })
        ));
    }
}
