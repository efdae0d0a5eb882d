//! A decoded S7comm PDU and [`parse`].

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::anomaly::Anomalies;
use super::header::Header;
use super::item::{DataItems, data_items};
use super::params::{self, Param};
use super::types::{Function, ReturnCode, Rosctr, UserdataGroup};

/// A decoded S7comm PDU, borrowing from the reassembled COTP user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The header.
    pub header: Header,
    /// The decoded parameter part.
    pub param: Param<'a>,
    /// The data part (`header.data_len` bytes).
    pub data: &'a [u8],
    /// Spec violations found in the PDU.
    pub anomalies: Anomalies,
}

/// Decodes one S7comm PDU: the complete user data of a COTP DT unit (all
/// DT TPDUs up to the one with EOT, concatenated).
///
/// Fails with [`Error::Invalid`] when the protocol id is not 0x32, and with
/// [`Error::Incomplete`] when the header, or the parameter and data parts its
/// lengths announce, run past `pdu`. Everything else is decoded as far as
/// possible and reported in [`Message::anomalies`]; bytes after the data part
/// raise `TRAILING_BYTES`.
pub fn parse(pdu: &[u8]) -> Result<Message<'_>, Error> {
    let mut r = Reader::new(pdu, Layer::S7comm);
    let header = Header::read(&mut r)?;
    let param_bytes = r.take(usize::from(header.param_len))?;
    let data = r.take(usize::from(header.data_len))?;
    let mut anomalies = Anomalies::empty();
    if !r.is_empty() {
        anomalies |= Anomalies::TRAILING_BYTES;
    }
    if header.rosctr.name().is_none() {
        anomalies |= Anomalies::UNKNOWN_ROSCTR;
    }
    if header.redundancy_id != 0 {
        anomalies |= Anomalies::NONZERO_REDUNDANCY_ID;
    }
    let param = params::decode(header.rosctr, param_bytes, &mut anomalies);
    let message = Message {
        header,
        param,
        data,
        anomalies,
    };
    let mut extra = Anomalies::empty();
    if let Param::Userdata { group, .. } = message.param {
        if UserdataGroup(group).name().is_none() {
            extra |= Anomalies::UNKNOWN_USERDATA_GROUP;
        }
    }
    if let (Param::WriteVar { items }, Some(mut values)) = (message.param, message.data_items()) {
        if values.by_ref().count() != usize::from(items.count()) || !values.rest().is_empty() {
            extra |= Anomalies::DATA_ITEM_MISMATCH;
        }
    }
    Ok(Message {
        anomalies: message.anomalies | extra,
        ..message
    })
}

impl<'a> Message<'a> {
    /// The function code of the parameter part.
    pub fn function(&self) -> Option<Function> {
        self.param.function()
    }

    /// The data items of a Write Var Job (the values written) or of a Read Var
    /// Ack_Data (the values read); `None` for other PDUs.
    pub fn data_items(&self) -> Option<DataItems<'a>> {
        match (self.header.rosctr, self.param) {
            (Rosctr::JOB, Param::WriteVar { items }) => Some(data_items(self.data, items.count())),
            (
                Rosctr::ACK_DATA,
                Param::AckFunction {
                    function: Function::READ_VAR,
                    item_count: Some(count),
                },
            ) => Some(data_items(self.data, count)),
            _ => None,
        }
    }
}

/// The per-item return codes of a Read Var or Write Var Ack_Data, in item
/// order; empty for every other PDU. Bounded by the item count and the data.
pub fn return_codes<'a>(message: &Message<'a>) -> ReturnCodes<'a> {
    let inner = match (message.header.rosctr, message.param) {
        (
            Rosctr::ACK_DATA,
            Param::AckFunction {
                function: Function::WRITE_VAR,
                item_count: Some(count),
            },
        ) => Inner::Write(
            message
                .data
                .get(..usize::from(count))
                .unwrap_or(message.data)
                .iter(),
        ),
        _ => match message.data_items() {
            Some(items) if message.header.rosctr == Rosctr::ACK_DATA => Inner::Read(items),
            _ => Inner::Empty,
        },
    };
    ReturnCodes { inner }
}

/// Iterator over the return codes of a response, see [`return_codes`].
#[derive(Debug, Clone)]
pub struct ReturnCodes<'a> {
    inner: Inner<'a>,
}

#[derive(Debug, Clone)]
enum Inner<'a> {
    Read(DataItems<'a>),
    Write(core::slice::Iter<'a, u8>),
    Empty,
}

impl Iterator for ReturnCodes<'_> {
    type Item = ReturnCode;

    fn next(&mut self) -> Option<ReturnCode> {
        match &mut self.inner {
            Inner::Read(items) => items.next().map(|item| item.return_code),
            Inner::Write(codes) => codes.next().map(|&code| ReturnCode(code)),
            Inner::Empty => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s7::comm::item::{AnyItem, Item};
    use crate::s7::comm::types::Area;

    /// Write Var Job: one item, DB1.DBB0 BYTE 4, value 00 07 00 04... (snap7).
    const WRITE_JOB: [u8; 36] = [
        0x32, 0x01, 0x00, 0x00, 0x05, 0x00, // S7comm Job, PDU ref 0x0500
        0x00, 0x0E, 0x00, 0x08, // param 14 bytes, data 8 bytes
        0x05, 0x01, // Write Var, 1 item
        0x12, 0x0A, 0x10, 0x08, // S7ANY, transport size REAL
        0x00, 0x01, 0x00, 0x00, // length 1, DB 0
        0x83, 0x00, 0x00, 0x80, // area M, address 16.0
        0x00, 0x07, 0x00, 0x04, // data item: reserved, real, 4 bytes
        0x79, 0xE9, 0xF6, 0x42, // the value
        0xEE, 0xEE, 0xEE, 0xEE, // (not part of the PDU, see below)
    ];

    #[test]
    fn write_var_job() {
        let pdu = &WRITE_JOB[..32];
        let m = parse(pdu).unwrap();
        assert_eq!(m.header.rosctr, Rosctr::JOB);
        assert_eq!(m.header.pdu_ref, 0x0500);
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
        let Param::WriteVar { items } = m.param else {
            panic!("{:?}", m.param)
        };
        assert_eq!(items.count(), 1);
        assert_eq!(
            items.iter().next(),
            Some(Item::Any(AnyItem {
                transport_size: 8,
                length: 1,
                db: 0,
                area: Area::FLAGS,
                address: 0x80
            }))
        );
        let values: Vec<_> = m.data_items().unwrap().collect();
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].data, &[0x79, 0xE9, 0xF6, 0x42]);
        assert_eq!(return_codes(&m).count(), 0);
        // trailing bytes are flagged, not fatal
        let m = parse(&WRITE_JOB).unwrap();
        assert_eq!(m.anomalies, Anomalies::TRAILING_BYTES);
        // lengths past the end fail
        assert!(matches!(
            parse(&WRITE_JOB[..31]),
            Err(Error::Incomplete { needed: 1, .. })
        ));
    }

    #[test]
    fn write_var_ack_data_return_codes() {
        let pdu = [
            0x32, 0x03, 0x00, 0x00, 0x05, 0x00, // Ack_Data, PDU ref 0x0500
            0x00, 0x02, 0x00, 0x02, // param 2, data 2
            0x00, 0x00, // no error
            0x05, 0x02, // Write Var, 2 items
            0xFF, 0x0A, // success, object does not exist
        ];
        let m = parse(&pdu).unwrap();
        assert!(m.anomalies.is_empty());
        assert_eq!(
            m.param,
            Param::AckFunction {
                function: Function::WRITE_VAR,
                item_count: Some(2)
            }
        );
        assert_eq!(
            return_codes(&m).collect::<Vec<_>>(),
            [ReturnCode::SUCCESS, ReturnCode::OBJECT_DOES_NOT_EXIST]
        );
    }

    #[test]
    fn read_var_ack_data_return_codes() {
        let pdu = [
            0x32, 0x03, 0x00, 0x00, 0x00, 0x01, // Ack_Data
            0x00, 0x02, 0x00, 0x0D, // param 2, data 13
            0x00, 0x00, // no error
            0x04, 0x02, // Read Var, 2 items
            0xFF, 0x04, 0x00, 0x08, 0x2A, // success, 8 bits: one byte
            0x00, // fill byte
            0xFF, 0x09, 0x00, 0x03, 0x01, 0x02, 0x03, // success, 3 bytes
        ];
        let m = parse(&pdu).unwrap();
        assert!(m.anomalies.is_empty());
        assert_eq!(
            return_codes(&m).collect::<Vec<_>>(),
            [ReturnCode::SUCCESS, ReturnCode::SUCCESS]
        );
        let values: Vec<_> = m.data_items().unwrap().map(|i| i.data).collect();
        assert_eq!(values, [&[0x2A][..], &[1, 2, 3][..]]);
    }

    #[test]
    fn wrong_protocol_and_short_headers() {
        assert!(matches!(parse(&[0x72, 0x01]), Err(Error::Invalid { .. })));
        assert!(matches!(parse(&[]), Err(Error::Incomplete { .. })));
        // Ack_Data needs the error fields
        assert!(matches!(
            parse(&[0x32, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(Error::Incomplete { needed: 1, .. })
        ));
        // an unknown ROSCTR still parses
        let m = parse(&[0x32, 0x08, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(
            m.anomalies,
            Anomalies::UNKNOWN_ROSCTR | Anomalies::NONZERO_REDUNDANCY_ID
        );
        assert_eq!(m.param, Param::Empty);
    }
}
