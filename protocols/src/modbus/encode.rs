//! Encoding ADUs: the inverse of [`frame`](super::frame) and [`parse`](super::parse),
//! used by the capture generator and the property tests.
//!
//! Fields are written as given (byte counts included), so inconsistent
//! messages can be built on purpose; only the MBAP length is computed.
//!
//! Panic contract: nothing here panics; `copy_from_slice` is only called on a
//! slot of exactly two bytes.

use crate::error::{Error, Layer};

use super::message::{Body, DeviceIdObject, FileRecordRequest};
use super::types::{FunctionCode, MeiType};
use super::wire::{MAX_MBAP_LENGTH, MODBUS_PROTOCOL_ID, MbapHeader, field};

/// Appends one ADU with protocol id 0 and the MBAP length of the encoded PDU.
///
/// Fails, leaving `out` as it was, when the PDU is too long for one ADU: an
/// MBAP length above [`MAX_MBAP_LENGTH`] (body over 252 bytes), which
/// [`frame`](super::frame) would reject.
pub fn encode(
    out: &mut Vec<u8>,
    transaction_id: u16,
    unit_id: u8,
    function: FunctionCode,
    body: &Body<'_>,
) -> Result<(), Error> {
    let start = out.len();
    MbapHeader {
        transaction_id,
        protocol_id: MODBUS_PROTOCOL_ID,
        length: 0,
        unit_id,
    }
    .write(out);
    out.push(function.0);
    write_body(out, body);
    let after_length = start.saturating_add(field::LENGTH.end);
    let length = out.len().saturating_sub(after_length);
    let slot = start.saturating_add(field::LENGTH.start)..after_length;
    match (u16::try_from(length), out.get_mut(slot)) {
        (Ok(length), Some(slot)) if length <= MAX_MBAP_LENGTH => {
            slot.copy_from_slice(&length.to_be_bytes());
            Ok(())
        }
        _ => {
            out.truncate(start);
            Err(Error::Invalid {
                layer: Layer::Mbap,
                offset: start.saturating_add(field::LENGTH.start),
                field: "length",
                value: u32::try_from(length).unwrap_or(u32::MAX),
            })
        }
    }
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends the PDU data of `body` (everything after the function code).
pub fn write_body(out: &mut Vec<u8>, body: &Body<'_>) {
    match *body {
        Body::ReadRequest { start, quantity } => {
            put_u16(out, start);
            put_u16(out, quantity);
        }
        Body::ByteCounted { byte_count, data } => {
            out.push(byte_count);
            out.extend_from_slice(data);
        }
        Body::WriteSingle { address, value } => {
            put_u16(out, address);
            put_u16(out, value);
        }
        Body::WriteMultipleRequest {
            start,
            quantity,
            byte_count,
            values,
        } => {
            put_u16(out, start);
            put_u16(out, quantity);
            out.push(byte_count);
            out.extend_from_slice(values);
        }
        Body::WriteMultipleResponse { start, quantity } => {
            put_u16(out, start);
            put_u16(out, quantity);
        }
        Body::MaskWrite {
            address,
            and_mask,
            or_mask,
        } => {
            put_u16(out, address);
            put_u16(out, and_mask);
            put_u16(out, or_mask);
        }
        Body::ReadWriteMultipleRequest {
            read_start,
            read_quantity,
            write_start,
            write_quantity,
            byte_count,
            values,
        } => {
            put_u16(out, read_start);
            put_u16(out, read_quantity);
            put_u16(out, write_start);
            put_u16(out, write_quantity);
            out.push(byte_count);
            out.extend_from_slice(values);
        }
        Body::ReadFifoRequest { address } => put_u16(out, address),
        Body::ReadFifoResponse {
            byte_count,
            fifo_count,
            values,
        } => {
            put_u16(out, byte_count);
            put_u16(out, fifo_count);
            out.extend_from_slice(values);
        }
        Body::Diagnostics { sub_function, data } => {
            put_u16(out, sub_function);
            out.extend_from_slice(data);
        }
        Body::Empty => {}
        Body::ExceptionStatus { status } => out.push(status),
        Body::CommEventCounter {
            status,
            event_count,
        } => {
            put_u16(out, status);
            put_u16(out, event_count);
        }
        Body::CommEventLog {
            byte_count,
            status,
            event_count,
            message_count,
            events,
        } => {
            out.push(byte_count);
            put_u16(out, status);
            put_u16(out, event_count);
            put_u16(out, message_count);
            out.extend_from_slice(events);
        }
        Body::ReadDeviceIdRequest {
            read_device_id_code,
            object_id,
        } => {
            out.push(MeiType::READ_DEVICE_IDENTIFICATION.0);
            out.push(read_device_id_code);
            out.push(object_id);
        }
        Body::ReadDeviceIdResponse {
            read_device_id_code,
            conformity_level,
            more_follows,
            next_object_id,
            number_of_objects,
            objects,
        } => {
            out.push(MeiType::READ_DEVICE_IDENTIFICATION.0);
            out.push(read_device_id_code);
            out.push(conformity_level);
            out.push(more_follows);
            out.push(next_object_id);
            out.push(number_of_objects);
            out.extend_from_slice(objects.as_bytes());
        }
        Body::MeiOther { mei_type, data } => {
            out.push(mei_type);
            out.extend_from_slice(data);
        }
        Body::Exception { code } => out.push(code.0),
        Body::Raw(data) => out.extend_from_slice(data),
    }
}

impl DeviceIdObject<'_> {
    /// Appends the object (id, length, value); a value over 255 bytes is cut to 255.
    pub fn write(&self, out: &mut Vec<u8>) {
        let value = self.value.get(..usize::from(u8::MAX)).unwrap_or(self.value);
        out.push(self.id);
        out.push(u8::try_from(value.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(value);
    }
}

impl FileRecordRequest<'_> {
    /// Appends the sub-request: reference type, file number, record number,
    /// record length, then the record data (empty for FC 20).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.reference_type);
        put_u16(out, self.file_number);
        put_u16(out, self.record_number);
        put_u16(out, self.record_length);
        out.extend_from_slice(self.record_data);
    }
}
