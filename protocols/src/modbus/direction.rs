//! Which way an ADU travels, from its bytes alone.
//!
//! Modbus/TCP roles are application roles: the device that opens the TCP
//! connection is usually, but not always, the client (some devices connect
//! out and then answer requests), and a capture may start mid-connection on
//! unfamiliar ports. Request and response layouts differ for most functions,
//! so the bytes themselves say which side is the server.

use super::types::{Direction, FunctionCode, MeiType};
use super::wire::Adu;

/// PDU lengths (function code included) of the fixed-size requests.
mod request_len {
    /// FC 1–4: start address, quantity.
    pub(super) const READ: usize = 5;
    /// FC 7, 11, 12, 17: the function code alone.
    pub(super) const EMPTY: usize = 1;
    /// FC 24: FIFO pointer address.
    pub(super) const READ_FIFO: usize = 3;
    /// FC 43/14: MEI type, read device id code, object id.
    pub(super) const READ_DEVICE_ID: usize = 4;
    /// FC 15, 16: fixed part before the values (start, quantity, byte count).
    pub(super) const WRITE_MULTIPLE_HEAD: usize = 6;
    /// FC 23: fixed part before the values.
    pub(super) const READ_WRITE_HEAD: usize = 10;
}

/// PDU length of a Write Multiple response (start address, quantity).
const WRITE_MULTIPLE_RESPONSE_LEN: usize = 5;

/// Minimum PDU length of a Read Device Identification response: MEI type, code,
/// conformity level, more follows, next object id, number of objects.
const READ_DEVICE_ID_RESPONSE_MIN_LEN: usize = 7;

/// Minimum PDU length of a Read FIFO Queue response (byte count, FIFO count).
const READ_FIFO_RESPONSE_MIN_LEN: usize = 5;

/// `Some(Request)` or `Some(Response)` when the ADU's layout fits only one
/// direction; `None` when both fit (echoing functions such as 5, 6, 8, 22) or
/// neither does.
pub fn direction_hint(adu: &Adu<'_>) -> Option<Direction> {
    let pdu = adu.pdu;
    let function = FunctionCode(*pdu.first()?);
    if function.is_exception() {
        // Only a server raises an exception: function | 0x80 and an exception
        // code (some devices pad it).
        return (pdu.len() >= 2).then_some(Direction::Response);
    }
    let byte_at = |at: usize| pdu.get(at).map(|&b| usize::from(b));
    let (request, response) = match function {
        FunctionCode::READ_COILS | FunctionCode::READ_DISCRETE_INPUTS => (
            pdu.len() == request_len::READ,
            byte_at(1) == Some(pdu.len().wrapping_sub(2)),
        ),
        // Registers are two bytes: a response's byte count is even.
        FunctionCode::READ_HOLDING_REGISTERS | FunctionCode::READ_INPUT_REGISTERS => (
            pdu.len() == request_len::READ,
            byte_at(1).is_some_and(|count| count % 2 == 0 && count == pdu.len().wrapping_sub(2)),
        ),
        FunctionCode::READ_EXCEPTION_STATUS
        | FunctionCode::GET_COMM_EVENT_COUNTER
        | FunctionCode::GET_COMM_EVENT_LOG
        | FunctionCode::REPORT_SERVER_ID => (
            pdu.len() == request_len::EMPTY,
            pdu.len() > request_len::EMPTY,
        ),
        FunctionCode::WRITE_MULTIPLE_COILS | FunctionCode::WRITE_MULTIPLE_REGISTERS => (
            byte_at(request_len::WRITE_MULTIPLE_HEAD - 1)
                == Some(pdu.len().wrapping_sub(request_len::WRITE_MULTIPLE_HEAD)),
            pdu.len() == WRITE_MULTIPLE_RESPONSE_LEN,
        ),
        FunctionCode::READ_WRITE_MULTIPLE_REGISTERS => (
            byte_at(request_len::READ_WRITE_HEAD - 1)
                == Some(pdu.len().wrapping_sub(request_len::READ_WRITE_HEAD)),
            byte_at(1) == Some(pdu.len().wrapping_sub(2)),
        ),
        FunctionCode::READ_FIFO_QUEUE => (
            pdu.len() == request_len::READ_FIFO,
            pdu.len() >= READ_FIFO_RESPONSE_MIN_LEN,
        ),
        FunctionCode::ENCAPSULATED_INTERFACE_TRANSPORT
            if pdu.get(1) == Some(&MeiType::READ_DEVICE_IDENTIFICATION.0) =>
        {
            // Requests are 4 bytes (some clients pad them); a response's header alone is 7.
            (
                (request_len::READ_DEVICE_ID..READ_DEVICE_ID_RESPONSE_MIN_LEN).contains(&pdu.len()),
                pdu.len() >= READ_DEVICE_ID_RESPONSE_MIN_LEN,
            )
        }
        _ => (false, false),
    };
    match (request, response) {
        (true, false) => Some(Direction::Request),
        (false, true) => Some(Direction::Response),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Framing;
    use crate::modbus::frame;

    fn hint(bytes: &[u8]) -> Option<Direction> {
        match frame(bytes) {
            Framing::Parsed { message, .. } => direction_hint(&message),
            other => panic!("not framed: {other:?}"),
        }
    }

    #[test]
    fn read_request_and_response() {
        // tid 1, pid 0, len 6, unit 1 | FC 3, start 0, quantity 2
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2]),
            Some(Direction::Request)
        );
        // tid 1, pid 0, len 7, unit 1 | FC 3, byte count 4, two registers
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2]),
            Some(Direction::Response)
        );
        // Start address 0x03E8: a byte count of 3 would be odd for registers.
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 6, 1, 3, 3, 0xe8, 0, 0x3c]),
            Some(Direction::Request)
        );
        // FC 1 response with byte count 3 has the request's length: ambiguous.
        assert_eq!(hint(&[0, 1, 0, 0, 0, 6, 1, 1, 3, 1, 2, 3]), None);
    }

    #[test]
    fn exceptions_come_from_servers() {
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 3, 1, 0x81, 2]),
            Some(Direction::Response)
        );
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 3, 1, 0x80, 1]),
            Some(Direction::Response)
        );
    }

    #[test]
    fn write_multiple_and_echoes() {
        // FC 16: start 1, quantity 1, byte count 2, value
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 9, 1, 16, 0, 1, 0, 1, 2, 0, 7]),
            Some(Direction::Request)
        );
        // FC 16 response: start 1, quantity 1
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 6, 1, 16, 0, 1, 0, 1]),
            Some(Direction::Response)
        );
        // FC 6 echoes its request.
        assert_eq!(hint(&[0, 1, 0, 0, 0, 6, 1, 6, 0, 1, 0, 7]), None);
    }

    #[test]
    fn device_identification() {
        // FC 43, MEI 14, basic, object 0
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 5, 1, 43, 14, 1, 0]),
            Some(Direction::Request)
        );
        // a padded request
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 6, 1, 43, 14, 3, 1, 0]),
            Some(Direction::Request)
        );
        // response header with no objects
        assert_eq!(
            hint(&[0, 1, 0, 0, 0, 8, 1, 43, 14, 1, 1, 0, 0, 0]),
            Some(Direction::Response)
        );
    }
}
