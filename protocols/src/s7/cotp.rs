//! COTP (ISO 8073 / X.224): the connection-oriented transport inside TPKT.
//!
//! ```text
//!  0    1          2                                   1+LI
//!  +----+----------+-----------------------------------+----------------+
//!  | LI | type     | fixed part ... | variable part    | user data      |
//!  +----+----------+-----------------------------------+----------------+
//!       <------------------ LI bytes ----------------->
//!
//!  CR / CC:  type | dst-ref (2) | src-ref (2) | class/options | params (code, len, value)*
//!  DR:       type | dst-ref (2) | src-ref (2) | reason        | params
//!  DT (class 0/1): type | EOT (bit 7) + TPDU number (bits 0-6)
//! ```
//!
//! S7 uses class 0: a CR carrying the calling TSAP (parameter 0xC1, Wireshark's
//! `src-tsap`), the called TSAP (0xC2, `dst-tsap`) and the TPDU size (0xC0),
//! a CC answering it, then DT TPDUs whose user data is S7comm, S7comm-plus or TLS.
//!
//! Panic contract: no function here panics, whatever the input.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

/// The COTP header layout, declared once. Offsets are from the start of the TPKT payload.
pub mod field {
    use core::ops::Range;

    /// Length indicator: header length after this byte.
    pub const LENGTH_INDICATOR: usize = 0;
    /// TPDU code in the high nibble (CR/CC: credit in the low nibble).
    pub const PDU_TYPE: usize = 1;
    /// DT (class 0/1): EOT flag (bit 7) and TPDU number (bits 0-6).
    pub const DT_EOT_NUMBER: usize = 2;
    /// CR/CC/DR: destination reference.
    pub const DST_REF: Range<usize> = 2..4;
    /// CR/CC/DR: source reference.
    pub const SRC_REF: Range<usize> = 4..6;
    /// CR/CC: class (high nibble) and options (low nibble). DR: reason.
    pub const CLASS_OPTION: usize = 6;
    /// CR/CC/DR: first byte of the variable part (parameters).
    pub const PARAMETERS: usize = 7;
}

/// Length indicator of a class 0 DT TPDU: type and EOT/number.
pub const DT_LENGTH_INDICATOR: u8 = 2;

/// Smallest length indicator of a CR, CC or DR: type, two references and class (or reason).
pub const CONNECTION_LENGTH_INDICATOR: u8 = 6;

/// Length indicator 255 is reserved by ISO 8073.
const RESERVED_LENGTH_INDICATOR: u8 = 0xFF;

// The layouts are contiguous and agree with the fixed lengths.
const _: () = {
    assert!(field::PDU_TYPE == field::LENGTH_INDICATOR + 1);
    assert!(field::DT_EOT_NUMBER == field::PDU_TYPE + 1);
    assert!(field::DT_EOT_NUMBER == DT_LENGTH_INDICATOR as usize);
    assert!(field::DST_REF.start == field::PDU_TYPE + 1);
    assert!(field::SRC_REF.start == field::DST_REF.end);
    assert!(field::CLASS_OPTION == field::SRC_REF.end);
    assert!(field::PARAMETERS == field::CLASS_OPTION + 1);
    assert!(field::CLASS_OPTION == CONNECTION_LENGTH_INDICATOR as usize);
};

/// EOT flag of a DT TPDU: the last TPDU of a user-data unit.
const EOT: u8 = 0x80;
/// TPDU number bits of a DT TPDU.
const TPDU_NUMBER: u8 = 0x7F;

wire_enum! {
    /// The TPDU code: the high nibble of the type byte (the low nibble is the
    /// credit of a CR/CC, always 0 in class 0).
    PduType(u8) {
        /// Connection request.
        CR = 0xE0 => "connection_request";
        /// Connection confirm.
        CC = 0xD0 => "connection_confirm";
        /// Disconnect request.
        DR = 0x80 => "disconnect_request";
        /// Disconnect confirm.
        DC = 0xC0 => "disconnect_confirm";
        /// Data.
        DT = 0xF0 => "data";
        /// Expedited data.
        ED = 0x10 => "expedited_data";
        /// Data acknowledgement.
        AK = 0x60 => "data_acknowledgement";
        /// Expedited data acknowledgement.
        EA = 0x20 => "expedited_data_acknowledgement";
        /// Reject.
        RJ = 0x50 => "reject";
        /// TPDU error.
        ER = 0x70 => "tpdu_error";
    }
}

impl PduType {
    /// The TPDU code of a type byte (its high nibble).
    pub const fn of(type_byte: u8) -> PduType {
        PduType(type_byte & 0xF0)
    }
}

/// Parameter codes of the CR/CC variable part (ISO 8073 13.3.4).
pub mod parameter {
    /// TPDU size: a power of two, 7 (128 bytes) to 13 (8192 bytes).
    pub const TPDU_SIZE: u8 = 0xC0;
    /// Calling transport selector (Wireshark: `cotp.src-tsap`).
    pub const CALLING_TSAP: u8 = 0xC1;
    /// Called transport selector (Wireshark: `cotp.dst-tsap`).
    pub const CALLED_TSAP: u8 = 0xC2;
    /// Checksum (class 4).
    pub const CHECKSUM: u8 = 0xC3;
    /// Version number.
    pub const VERSION: u8 = 0xC4;
    /// Additional option selection.
    pub const ADDITIONAL_OPTIONS: u8 = 0xC6;
    /// Preferred maximum TPDU size.
    pub const PREFERRED_TPDU_SIZE: u8 = 0xF0;
}

/// A connection request or confirm: references, class and the parameters S7 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Connection<'a> {
    /// Destination reference (0 in a CR).
    pub dst_ref: u16,
    /// Source reference.
    pub src_ref: u16,
    /// Protocol class, 0 to 4 (high nibble of the class/option byte); S7 uses 0.
    pub class: u8,
    /// Option bits (low nibble of the class/option byte).
    pub options: u8,
    /// Calling TSAP (parameter 0xC1), the initiator's selector; see [`tsap`].
    pub calling_tsap: Option<&'a [u8]>,
    /// Called TSAP (parameter 0xC2), the responder's selector; see [`tsap`].
    pub called_tsap: Option<&'a [u8]>,
    /// TPDU size code (parameter 0xC0): the TPDU holds `1 << code` bytes.
    pub tpdu_size: Option<u8>,
}

impl Connection<'_> {
    /// The TPDU size in bytes, when the parameter is present and in range (7 to 13).
    pub fn tpdu_size_bytes(&self) -> Option<u16> {
        self.tpdu_size
            .filter(|code| (7..=13).contains(code))
            .map(|code| 1u16 << code)
    }
}

/// One decoded COTP TPDU, borrowing from the TPKT payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cotp<'a> {
    /// CR: the initiator opens a connection.
    ConnectionRequest(Connection<'a>),
    /// CC: the responder accepts it.
    ConnectionConfirm(Connection<'a>),
    /// DT: a piece of user data; `eot` marks the last piece of a unit.
    Data {
        /// End of TSDU: this TPDU completes the user-data unit.
        eot: bool,
        /// TPDU number (0 in class 0).
        tpdu_number: u8,
        /// The user data this TPDU carries.
        user_data: &'a [u8],
    },
    /// DR: a side closes the connection.
    DisconnectRequest {
        /// Destination reference.
        dst_ref: u16,
        /// Source reference.
        src_ref: u16,
        /// Reason code (ISO 8073 13.5.3 e).
        reason: u8,
    },
    /// Any other TPDU, undecoded.
    Other {
        /// Its TPDU code.
        pdu_type: PduType,
        /// The header after the length indicator, type byte included.
        header: &'a [u8],
        /// The bytes after the header.
        user_data: &'a [u8],
    },
}

impl Cotp<'_> {
    /// The TPDU code.
    pub fn pdu_type(&self) -> PduType {
        match self {
            Cotp::ConnectionRequest(_) => PduType::CR,
            Cotp::ConnectionConfirm(_) => PduType::CC,
            Cotp::Data { .. } => PduType::DT,
            Cotp::DisconnectRequest { .. } => PduType::DR,
            Cotp::Other { pdu_type, .. } => *pdu_type,
        }
    }
}

/// Decodes the COTP TPDU of a TPKT payload.
///
/// The length indicator is checked against the buffer: a header longer than
/// the payload gives [`Error::Incomplete`]. A length indicator of 0 or 255, one
/// too short for the TPDU's fixed part, or a parameter running past the header
/// gives [`Error::Invalid`]. Unknown parameters are skipped.
pub fn parse(tpkt_payload: &[u8]) -> Result<Cotp<'_>, Error> {
    let mut r = Reader::new(tpkt_payload, Layer::Cotp);
    let li = r.u8()?;
    if li == 0 || li == RESERVED_LENGTH_INDICATOR {
        return Err(r.invalid("length indicator", u32::from(li), 1));
    }
    let mut h = r.sub(usize::from(li))?;
    let header = h.rest();
    let type_byte = h.u8()?;
    let user_data = r.rest();
    let too_short = Error::Invalid {
        layer: Layer::Cotp,
        offset: field::LENGTH_INDICATOR,
        field: "length indicator",
        value: u32::from(li),
    };
    let pdu_type = PduType::of(type_byte);
    match pdu_type {
        PduType::DT => {
            // Class 0/1: EOT/number only. Classes 2-4: destination reference first.
            let eot_number = match li {
                DT_LENGTH_INDICATOR => h.u8()?,
                3 => return Err(too_short),
                _ => {
                    h.skip(2)?;
                    h.u8()?
                }
            };
            Ok(Cotp::Data {
                eot: eot_number & EOT != 0,
                tpdu_number: eot_number & TPDU_NUMBER,
                user_data,
            })
        }
        PduType::CR | PduType::CC | PduType::DR => {
            if li < CONNECTION_LENGTH_INDICATOR {
                return Err(too_short);
            }
            let dst_ref = h.be_u16()?;
            let src_ref = h.be_u16()?;
            let class_option = h.u8()?;
            if pdu_type == PduType::DR {
                return Ok(Cotp::DisconnectRequest {
                    dst_ref,
                    src_ref,
                    reason: class_option,
                });
            }
            let mut connection = Connection {
                dst_ref,
                src_ref,
                class: class_option >> 4,
                options: class_option & 0x0F,
                calling_tsap: None,
                called_tsap: None,
                tpdu_size: None,
            };
            while !h.is_empty() {
                let code = h.u8()?;
                let len = h.u8().map_err(|_| h.invalid("parameter length", 0, 0))?;
                let value = h
                    .take(usize::from(len))
                    .map_err(|_| h.invalid("parameter length", u32::from(len), 1))?;
                match code {
                    parameter::CALLING_TSAP => {
                        connection.calling_tsap.get_or_insert(value);
                    }
                    parameter::CALLED_TSAP => {
                        connection.called_tsap.get_or_insert(value);
                    }
                    parameter::TPDU_SIZE => {
                        if let &[size] = value {
                            connection.tpdu_size.get_or_insert(size);
                        }
                    }
                    _ => {}
                }
            }
            Ok(if pdu_type == PduType::CR {
                Cotp::ConnectionRequest(connection)
            } else {
                Cotp::ConnectionConfirm(connection)
            })
        }
        _ => Ok(Cotp::Other {
            pdu_type,
            header,
            user_data,
        }),
    }
}

wire_enum! {
    /// The connection type in the high byte of an S7 TSAP.
    ConnectionType(u8) {
        /// Programming device (engineering station).
        PG = 0x01 => "pg";
        /// Operator panel (HMI).
        OP = 0x02 => "op";
        /// S7 basic communication (other S7 clients, PUT/GET).
        S7_BASIC = 0x03 => "s7_basic";
    }
}

/// A two-byte S7 TSAP: connection type, then rack and slot of the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tsap {
    /// The TSAP as a big-endian number.
    pub raw: u16,
    /// High byte: connection type (1 PG, 2 OP, 3 S7 basic, others vendor-defined).
    pub connection_type: ConnectionType,
    /// Rack: bits 5-7 of the low byte.
    pub rack: u8,
    /// Slot: bits 0-4 of the low byte.
    pub slot: u8,
}

/// Decodes a two-byte S7 TSAP; `None` for any other length (S7-1200/1500
/// engineering connections use text selectors such as `SIMATIC-ROOT-ES`).
pub fn tsap(bytes: &[u8]) -> Option<Tsap> {
    let &[high, low] = bytes else {
        return None;
    };
    Some(Tsap {
        raw: u16::from_be_bytes([high, low]),
        connection_type: ConnectionType(high),
        rack: low >> 5,
        slot: low & 0x1F,
    })
}

/// Largest length indicator a TPDU may carry (255 is reserved).
const MAX_LENGTH_INDICATOR: usize = 254;

fn encode_connection(
    out: &mut Vec<u8>,
    type_byte: u8,
    connection: &Connection<'_>,
) -> Result<(), Error> {
    let start = out.len();
    out.push(0); // length indicator, filled in below
    out.push(type_byte);
    out.extend_from_slice(&connection.dst_ref.to_be_bytes());
    out.extend_from_slice(&connection.src_ref.to_be_bytes());
    out.push((connection.class << 4) | (connection.options & 0x0F));
    let size = connection.tpdu_size.map(|size| [size]);
    let params = [
        (
            parameter::TPDU_SIZE,
            size.as_ref().map(|size| size.as_slice()),
        ),
        (parameter::CALLING_TSAP, connection.calling_tsap),
        (parameter::CALLED_TSAP, connection.called_tsap),
    ];
    for (code, value) in params {
        let Some(value) = value else { continue };
        let Ok(len) = u8::try_from(value.len()) else {
            let offset = out.len().saturating_sub(start);
            out.truncate(start);
            return Err(Error::Invalid {
                layer: Layer::Cotp,
                offset,
                field: "parameter length",
                value: u32::try_from(value.len()).unwrap_or(u32::MAX),
            });
        };
        out.push(code);
        out.push(len);
        out.extend_from_slice(value);
    }
    let li = out.len().saturating_sub(start).saturating_sub(1);
    match (u8::try_from(li), out.get_mut(start)) {
        (Ok(li), Some(slot)) if usize::from(li) <= MAX_LENGTH_INDICATOR => {
            *slot = li;
            Ok(())
        }
        _ => {
            out.truncate(start);
            Err(Error::Invalid {
                layer: Layer::Cotp,
                offset: field::LENGTH_INDICATOR,
                field: "length indicator",
                value: u32::try_from(li).unwrap_or(u32::MAX),
            })
        }
    }
}

/// Appends a CR TPDU (credit 0): references, class/options, then the TPDU
/// size, calling and called TSAP parameters that are present, in that order.
///
/// Fails, leaving `out` as it was, when a TSAP is longer than 255 bytes or the
/// header longer than 254.
pub fn encode_cr(out: &mut Vec<u8>, connection: &Connection<'_>) -> Result<(), Error> {
    encode_connection(out, PduType::CR.0, connection)
}

/// Appends a CC TPDU, laid out as [`encode_cr`] does.
pub fn encode_cc(out: &mut Vec<u8>, connection: &Connection<'_>) -> Result<(), Error> {
    encode_connection(out, PduType::CC.0, connection)
}

/// Appends a class 0 DT TPDU (TPDU number 0) carrying `payload`.
pub fn encode_dt(out: &mut Vec<u8>, eot: bool, payload: &[u8]) {
    out.push(DT_LENGTH_INDICATOR);
    out.push(PduType::DT.0);
    out.push(if eot { EOT } else { 0 });
    out.extend_from_slice(payload);
}

/// Appends a DR TPDU without parameters.
pub fn encode_dr(out: &mut Vec<u8>, dst_ref: u16, src_ref: u16, reason: u8) {
    out.push(CONNECTION_LENGTH_INDICATOR);
    out.push(PduType::DR.0);
    out.extend_from_slice(&dst_ref.to_be_bytes());
    out.extend_from_slice(&src_ref.to_be_bytes());
    out.push(reason);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CR as Step 7 sends it to a CPU in rack 0, slot 2.
    const CONNECTION_REQUEST: [u8; 18] = [
        0x11, // length indicator: 17 header bytes follow
        0xE0, // CR, credit 0
        0x00, 0x00, // destination reference
        0x00, 0x01, // source reference
        0x00, // class 0, no options
        0xC1, 0x02, 0x01, 0x00, // calling TSAP: PG, rack 0 slot 0
        0xC2, 0x02, 0x01, 0x02, // called TSAP: PG, rack 0 slot 2
        0xC0, 0x01, 0x0A, // TPDU size 1024
    ];

    #[test]
    fn connection_request_with_tsaps() {
        let Ok(Cotp::ConnectionRequest(c)) = parse(&CONNECTION_REQUEST) else {
            panic!("not a CR");
        };
        assert_eq!(c.dst_ref, 0);
        assert_eq!(c.src_ref, 1);
        assert_eq!((c.class, c.options), (0, 0));
        assert_eq!(c.calling_tsap, Some(&[0x01, 0x00][..]));
        assert_eq!(c.called_tsap, Some(&[0x01, 0x02][..]));
        assert_eq!(c.tpdu_size, Some(0x0A));
        assert_eq!(c.tpdu_size_bytes(), Some(1024));
        let called = tsap(&[0x01, 0x02]).unwrap();
        assert_eq!(called.raw, 0x0102);
        assert_eq!(called.connection_type, ConnectionType::PG);
        assert_eq!((called.rack, called.slot), (0, 2));
        assert_eq!(tsap(&[0x03, 0x23]).map(|t| (t.rack, t.slot)), Some((1, 3)));
        assert_eq!(tsap(b"SIMATIC-ROOT-ES"), None);
    }

    #[test]
    fn encode_cr_matches_the_layout_and_round_trips() {
        let c = Connection {
            dst_ref: 0,
            src_ref: 1,
            class: 0,
            options: 0,
            calling_tsap: Some(&[0x01, 0x00]),
            called_tsap: Some(&[0x01, 0x02]),
            tpdu_size: Some(0x0A),
        };
        let mut out = Vec::new();
        encode_cr(&mut out, &c).unwrap();
        assert_eq!(parse(&out), Ok(Cotp::ConnectionRequest(c)));
        out.clear();
        encode_cc(&mut out, &c).unwrap();
        assert_eq!(parse(&out), Ok(Cotp::ConnectionConfirm(c)));
        let long = [0u8; 256];
        let mut out = vec![0xAA];
        let bad = Connection {
            calling_tsap: Some(&long),
            ..c
        };
        assert!(encode_cr(&mut out, &bad).is_err());
        assert_eq!(out, [0xAA]);
    }

    #[test]
    fn data_and_disconnect() {
        // DT, EOT, TPDU 0, then S7comm bytes
        assert_eq!(
            parse(&[0x02, 0xF0, 0x80, 0x32, 0x01]),
            Ok(Cotp::Data {
                eot: true,
                tpdu_number: 0,
                user_data: &[0x32, 0x01]
            })
        );
        // DT without EOT (more follows), TPDU 5
        assert_eq!(
            parse(&[0x02, 0xF0, 0x05]),
            Ok(Cotp::Data {
                eot: false,
                tpdu_number: 5,
                user_data: &[]
            })
        );
        let mut out = Vec::new();
        encode_dr(&mut out, 0x0001, 0x4431, 0x80);
        assert_eq!(
            parse(&out),
            Ok(Cotp::DisconnectRequest {
                dst_ref: 1,
                src_ref: 0x4431,
                reason: 0x80
            })
        );
        out.clear();
        encode_dt(&mut out, false, &[1, 2]);
        assert_eq!(out, [0x02, 0xF0, 0x00, 1, 2]);
    }

    #[test]
    fn other_tpdus_keep_their_header() {
        // DC: destination and source reference
        let dc = [0x05, 0xC0, 0x00, 0x01, 0x00, 0x02];
        assert_eq!(
            parse(&dc),
            Ok(Cotp::Other {
                pdu_type: PduType::DC,
                header: &dc[1..],
                user_data: &[]
            })
        );
        assert_eq!(PduType::DC.name(), Some("disconnect_confirm"));
        assert_eq!(PduType::of(0xE3), PduType::CR);
        assert_eq!(PduType(0x30).name(), None);
    }

    #[test]
    fn bad_length_indicators() {
        assert!(matches!(parse(&[]), Err(Error::Incomplete { .. })));
        assert!(matches!(parse(&[0x00]), Err(Error::Invalid { .. })));
        assert!(matches!(parse(&[0xFF, 0xF0]), Err(Error::Invalid { .. })));
        // header runs past the buffer
        assert_eq!(
            parse(&[0x06, 0xE0, 0x00]),
            Err(Error::Incomplete {
                layer: Layer::Cotp,
                offset: 3,
                needed: 4
            })
        );
        // CR too short for its fixed part
        assert!(matches!(
            parse(&[0x03, 0xE0, 0x00, 0x00]),
            Err(Error::Invalid { .. })
        ));
        // DT with LI 3
        assert!(matches!(
            parse(&[0x03, 0xF0, 0x00, 0x80]),
            Err(Error::Invalid { .. })
        ));
        // parameter longer than the header
        assert!(matches!(
            parse(&[0x09, 0xE0, 0, 0, 0, 1, 0, 0xC1, 0x05, 0x01]),
            Err(Error::Invalid { .. })
        ));
    }
}
