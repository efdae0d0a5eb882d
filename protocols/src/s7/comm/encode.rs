//! Encoding S7comm PDUs: the inverse of [`parse`](super::parse), used by the
//! capture generator and the property tests.
//!
//! The header's parameter and data lengths are computed; every other field is
//! written as given. Bytes the parser skips (the unknown bytes of PI service,
//! PLC stop and block control parameters) are written as Step 7 sends them.

use crate::error::{Error, Layer};

use super::header::{Header, field};
use super::message::Message;
use super::params::{BLOCK_FILENAME_LEN, Param};
use super::types::{Function, Rosctr};
use super::userdata;

/// The seven bytes between a PI service's function code and its parameter block.
const PI_SERVICE_UNKNOWN: [u8; 7] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD];
/// The five bytes between PLC stop's function code and its service name.
const PLC_STOP_UNKNOWN: [u8; 5] = [0x00; 5];

fn too_long(field: &'static str, offset: usize, len: usize) -> Error {
    Error::Invalid {
        layer: Layer::S7comm,
        offset,
        field,
        value: u32::try_from(len).unwrap_or(u32::MAX),
    }
}

/// Appends a length-prefixed string (one length byte).
fn put_string(out: &mut Vec<u8>, field: &'static str, bytes: &[u8]) -> Result<(), Error> {
    let len = u8::try_from(bytes.len()).map_err(|_| too_long(field, out.len(), bytes.len()))?;
    out.push(len);
    out.extend_from_slice(bytes);
    Ok(())
}

/// The file name to write: the given one, else the block's, else empty.
fn filename_of<'a>(
    filename: Option<&'a [u8]>,
    block: Option<super::params::Block>,
    buf: &'a mut [u8; BLOCK_FILENAME_LEN],
) -> &'a [u8] {
    match (filename, block) {
        (Some(name), _) => name,
        (None, Some(block)) => {
            *buf = block.filename();
            buf
        }
        (None, None) => &[],
    }
}

/// Appends the parameter part of `message`.
fn write_param(out: &mut Vec<u8>, rosctr: Rosctr, param: &Param<'_>) -> Result<(), Error> {
    let job = rosctr == Rosctr::JOB;
    match *param {
        Param::Empty => {}
        Param::SetupCommunication {
            max_amq_calling,
            max_amq_called,
            pdu_length,
        } => {
            out.push(Function::SETUP_COMMUNICATION.0);
            out.push(0);
            for value in [max_amq_calling, max_amq_called, pdu_length] {
                out.extend_from_slice(&value.to_be_bytes());
            }
        }
        Param::ReadVar { items } | Param::WriteVar { items } => {
            out.push(param.function().map_or(0, |f| f.0));
            out.push(items.count());
            out.extend_from_slice(items.bytes());
        }
        Param::Download {
            function,
            status,
            error_code,
            filename,
            block,
        } => {
            out.push(function.0);
            out.push(status);
            if job {
                out.extend_from_slice(&error_code.unwrap_or(0).to_be_bytes());
                out.extend_from_slice(&[0; 4]);
                let mut buf = [0; BLOCK_FILENAME_LEN];
                put_string(
                    out,
                    "filename length",
                    filename_of(filename, block, &mut buf),
                )?;
            }
        }
        Param::Upload {
            function,
            status,
            error_code,
            upload_id,
            filename,
            block,
        } => {
            out.push(function.0);
            out.push(status);
            if job || function == Function::START_UPLOAD {
                out.extend_from_slice(&error_code.unwrap_or(0).to_be_bytes());
                out.extend_from_slice(&upload_id.unwrap_or(0).to_be_bytes());
            }
            if job && function == Function::START_UPLOAD {
                let mut buf = [0; BLOCK_FILENAME_LEN];
                put_string(
                    out,
                    "filename length",
                    filename_of(filename, block, &mut buf),
                )?;
            }
        }
        Param::PiService {
            service,
            parameters,
        } => {
            out.push(Function::PI_SERVICE.0);
            out.extend_from_slice(&PI_SERVICE_UNKNOWN);
            if !(service.is_empty() && parameters.is_empty()) {
                let len = u16::try_from(parameters.len())
                    .map_err(|_| too_long("parameter block length", out.len(), parameters.len()))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(parameters);
                put_string(out, "service name length", service)?;
            }
        }
        Param::PlcStop { service } => {
            out.push(Function::PLC_STOP.0);
            out.extend_from_slice(&PLC_STOP_UNKNOWN);
            put_string(out, "service name length", service)?;
        }
        Param::Userdata {
            function,
            syntax_id,
            kind,
            group,
            subfunction,
            sequence,
            data_unit_ref,
            last_data_unit,
            error,
        } => userdata::write_param(
            out,
            function,
            syntax_id,
            kind,
            group,
            subfunction,
            sequence,
            data_unit_ref,
            last_data_unit,
            error,
        ),
        Param::AckFunction {
            function,
            item_count,
        } => {
            out.push(function.0);
            out.extend(item_count);
        }
        Param::Other { function, raw } => {
            out.push(function.0);
            out.extend_from_slice(raw);
        }
    }
    Ok(())
}

/// Appends one S7comm PDU: the header of `message` with the parameter and
/// data lengths computed, the encoded parameter part, then `message.data`.
/// `message.anomalies` and the header's length fields are ignored.
///
/// Fails, leaving `out` as it was, when a string or the parameter or data
/// part is too long for its length field.
pub fn encode(out: &mut Vec<u8>, message: &Message<'_>) -> Result<(), Error> {
    let start = out.len();
    let header = message.header;
    header.write(out);
    let param_start = out.len();
    if let Err(e) = write_param(out, header.rosctr, &message.param) {
        out.truncate(start);
        return Err(e);
    }
    let param_len = out.len().saturating_sub(param_start);
    let lengths = (u16::try_from(param_len), u16::try_from(message.data.len()));
    let (Ok(param_len), Ok(data_len)) = lengths else {
        out.truncate(start);
        return Err(too_long(
            "length",
            field::PARAM_LEN.start,
            param_len.max(message.data.len()),
        ));
    };
    out.extend_from_slice(message.data);
    let fixed = Header {
        param_len,
        data_len,
        ..header
    };
    let mut head = Vec::with_capacity(header.encoded_len());
    fixed.write(&mut head);
    if let Some(slot) = out.get_mut(start..param_start) {
        slot.copy_from_slice(&head);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s7::comm::{Anomalies, parse};

    fn round_trip(message: Message<'_>) {
        let mut out = Vec::new();
        encode(&mut out, &message).unwrap();
        let parsed = parse(&out).unwrap();
        assert_eq!(parsed.anomalies, Anomalies::empty(), "{out:02x?}");
        assert_eq!(parsed.param, message.param, "{out:02x?}");
        assert_eq!(parsed.data, message.data);
        assert_eq!(parsed.header.pdu_ref, message.header.pdu_ref);
    }

    fn header(rosctr: Rosctr) -> Header {
        Header {
            rosctr,
            redundancy_id: 0,
            pdu_ref: 0x0102,
            param_len: 0,
            data_len: 0,
            error: rosctr.has_error_fields().then_some((0, 0)),
        }
    }

    #[test]
    fn setup_communication_bytes() {
        let m = Message {
            header: header(Rosctr::JOB),
            param: Param::SetupCommunication {
                max_amq_calling: 1,
                max_amq_called: 1,
                pdu_length: 480,
            },
            data: &[],
            anomalies: Anomalies::empty(),
        };
        let mut out = Vec::new();
        encode(&mut out, &m).unwrap();
        assert_eq!(
            out,
            [
                0x32, 0x01, 0x00, 0x00, 0x01, 0x02, 0x00, 0x08, 0x00, 0x00, // header
                0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0, // setup communication
            ]
        );
        round_trip(m);
    }

    #[test]
    fn control_functions_round_trip() {
        let block = super::super::params::Block::parse(b"_0800001P");
        for (rosctr, param) in [
            (
                Rosctr::JOB,
                Param::PlcStop {
                    service: b"P_PROGRAM",
                },
            ),
            (
                Rosctr::JOB,
                Param::PiService {
                    service: b"_INSE",
                    parameters: b"\x01\x000800001P",
                },
            ),
            (
                Rosctr::JOB,
                Param::Download {
                    function: Function::REQUEST_DOWNLOAD,
                    status: 0,
                    error_code: None,
                    filename: Some(b"_0800001P"),
                    block,
                },
            ),
            (
                Rosctr::JOB,
                Param::Upload {
                    function: Function::END_UPLOAD,
                    status: 0,
                    error_code: Some(0),
                    upload_id: Some(7),
                    filename: None,
                    block: None,
                },
            ),
            (
                Rosctr::ACK_DATA,
                Param::Upload {
                    function: Function::START_UPLOAD,
                    status: 0,
                    error_code: None,
                    upload_id: Some(7),
                    filename: None,
                    block: None,
                },
            ),
            (
                Rosctr::ACK_DATA,
                Param::AckFunction {
                    function: Function::PLC_STOP,
                    item_count: None,
                },
            ),
        ] {
            round_trip(Message {
                header: header(rosctr),
                param,
                data: &[],
                anomalies: Anomalies::empty(),
            });
        }
    }

    #[test]
    fn too_long_strings_fail_cleanly() {
        let long = [b'x'; 256];
        let m = Message {
            header: header(Rosctr::JOB),
            param: Param::PlcStop { service: &long },
            data: &[],
            anomalies: Anomalies::empty(),
        };
        let mut out = vec![1, 2];
        assert!(encode(&mut out, &m).is_err());
        assert_eq!(out, [1, 2]);
    }
}
