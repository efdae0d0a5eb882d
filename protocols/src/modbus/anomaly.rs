//! Spec violations of well-framed Modbus messages, as flags the detections read.
//!
//! [`parse`](super::parse) sets the flags it can see in one message;
//! [`response_anomalies`] those that need the request a response answers;
//! the sensor sets [`Anomalies::RESPONSE_WITHOUT_REQUEST`].

use super::message::{Body, Message};
use super::types::FunctionCode;

/// Most coils or discrete inputs one read may ask for (FC 1, 2).
pub const MAX_READ_BITS: u16 = 2000;
/// Most coils one Write Multiple Coils may carry (FC 15).
pub const MAX_WRITE_COILS: u16 = 1968;
/// Most registers one read may ask for (FC 3, 4, and the read half of FC 23).
pub const MAX_READ_REGISTERS: u16 = 125;
/// Most registers one Write Multiple Registers may carry (FC 16).
pub const MAX_WRITE_REGISTERS: u16 = 123;
/// Most registers the write half of Read/Write Multiple Registers may carry (FC 23).
pub const MAX_READ_WRITE_WRITE_REGISTERS: u16 = 121;
/// Most registers a FIFO queue may hold (FC 24).
pub const MAX_FIFO_COUNT: u16 = 31;

named_flags! {
    /// Spec violations found in a well-framed Modbus message.
    Anomalies(u32) {
        /// The MBAP protocol id is not 0.
        BAD_PROTOCOL_ID = 1 << 0 => "bad_protocol_id";
        /// The MBAP length disagrees with what the body says: bytes left over, or a
        /// byte count (or device identification object) running past the end.
        LENGTH_MISMATCH = 1 << 1 => "length_mismatch";
        /// The PDU ends before the fixed fields of its function; the body is `Raw`.
        TRUNCATED_PDU = 1 << 2 => "truncated_pdu";
        /// A public function code the specification does not assign.
        UNASSIGNED_FUNCTION = 1 << 3 => "unassigned_function";
        /// A reserved function code (9, 10, 13, 14, 41, 42, 90, 91, 125–127) or
        /// Diagnostics sub-function (5–9, 19, 21–65535), per Annex A of the specification.
        RESERVED_FUNCTION = 1 << 4 => "reserved_function";
        /// A user-defined function code (65–72, 100–110).
        USER_DEFINED_FUNCTION = 1 << 5 => "user_defined_function";
        /// Function code 0.
        ZERO_FUNCTION = 1 << 6 => "zero_function";
        /// A byte count that does not fit the quantity (write requests; read
        /// responses via [`response_anomalies`]), an odd byte count of registers,
        /// or a byte count that does not split into whole file sub-requests.
        BYTE_COUNT_MISMATCH = 1 << 7 => "byte_count_mismatch";
        /// A quantity outside the range the specification allows for the function.
        QUANTITY_OUT_OF_RANGE = 1 << 8 => "quantity_out_of_range";
        /// A Write Single Coil value other than 0x0000 (off) or 0xFF00 (on).
        INVALID_COIL_VALUE = 1 << 9 => "invalid_coil_value";
        /// An exception code the specification does not define.
        UNKNOWN_EXCEPTION_CODE = 1 << 10 => "unknown_exception_code";
        /// An MEI type other than 13 (CANopen) or 14 (Read Device Identification).
        UNKNOWN_MEI_TYPE = 1 << 11 => "unknown_mei_type";
        /// A response whose function code differs from its request's.
        FUNCTION_MISMATCH = 1 << 12 => "function_mismatch";
        /// A response the sensor could not pair with a request.
        RESPONSE_WITHOUT_REQUEST = 1 << 13 => "response_without_request";
        /// A Write Multiple response echoing another quantity than its request.
        QUANTITY_MISMATCH = 1 << 14 => "quantity_mismatch";
        /// A request with the exception bit set in its function code.
        EXCEPTION_IN_REQUEST = 1 << 15 => "exception_in_request";
        /// A field outside the values the specification allows, where no more
        /// specific flag applies: read device id code, conformity level or
        /// more-follows of FC 43/14, reference type of FC 20/21.
        INVALID_FIELD_VALUE = 1 << 16 => "invalid_field_value";
        /// A start address and quantity that run past address 0xFFFF.
        ADDRESS_OUT_OF_RANGE = 1 << 17 => "address_out_of_range";
        /// An MBAP length above the specification's 254 (an ADU over 260 bytes).
        OVERSIZED_ADU = 1 << 18 => "oversized_adu";
    }
    malformed: [BAD_PROTOCOL_ID, LENGTH_MISMATCH, TRUNCATED_PDU, BYTE_COUNT_MISMATCH, QUANTITY_OUT_OF_RANGE, INVALID_COIL_VALUE, INVALID_FIELD_VALUE, OVERSIZED_ADU];
}

/// The `snake_case` name of a single flag, `None` for no flag or several.
pub fn anomaly_name(flag: Anomalies) -> Option<&'static str> {
    flag.name()
}

/// Bytes a read response must carry for `quantity` items of `function`
/// (FC 1, 2: one bit each, FC 3, 4, 23: two bytes each), `None` for other functions.
pub(crate) fn read_response_byte_count(function: FunctionCode, quantity: u16) -> Option<usize> {
    let quantity = usize::from(quantity);
    match function {
        FunctionCode::READ_COILS | FunctionCode::READ_DISCRETE_INPUTS => Some(quantity.div_ceil(8)),
        FunctionCode::READ_HOLDING_REGISTERS
        | FunctionCode::READ_INPUT_REGISTERS
        | FunctionCode::READ_WRITE_MULTIPLE_REGISTERS => Some(quantity.saturating_mul(2)),
        _ => None,
    }
}

/// Checks a response against the request it answers.
///
/// `FUNCTION_MISMATCH` when the function codes differ (for an exception, the
/// masked code is compared); `BYTE_COUNT_MISMATCH` when a read response's byte
/// count does not fit `request_quantity` (FC 1, 2: ⌈qty/8⌉ bytes; FC 3, 4, 23:
/// 2·qty bytes); `QUANTITY_MISMATCH` when a Write Multiple response echoes
/// another quantity. The response's own flags are not repeated.
pub fn response_anomalies(
    request_function: FunctionCode,
    request_quantity: Option<u16>,
    response: &Message<'_>,
) -> Anomalies {
    let function = response.function;
    if function.code() != request_function.code()
        || (!function.is_exception() && function != request_function)
    {
        return Anomalies::FUNCTION_MISMATCH;
    }
    let Some(quantity) = request_quantity else {
        return Anomalies::empty();
    };
    match response.body {
        Body::ByteCounted { byte_count, .. } => {
            match read_response_byte_count(function, quantity) {
                Some(expected) if expected != usize::from(byte_count) => {
                    Anomalies::BYTE_COUNT_MISMATCH
                }
                _ => Anomalies::empty(),
            }
        }
        Body::WriteMultipleResponse {
            quantity: echoed, ..
        } if echoed != quantity => Anomalies::QUANTITY_MISMATCH,
        _ => Anomalies::empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_flag_names_in_snake_case() {
        assert_eq!(Anomalies::NAMES.len(), Anomalies::all().iter().count());
        for ((flag, name), (bitflags_name, bitflags_flag)) in
            Anomalies::NAMES.iter().zip(Anomalies::all().iter_names())
        {
            assert_eq!(*flag, bitflags_flag);
            assert_eq!(name.to_uppercase(), bitflags_name);
        }
    }

    #[test]
    fn names_of_a_set() {
        let set = Anomalies::BAD_PROTOCOL_ID | Anomalies::QUANTITY_OUT_OF_RANGE;
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["bad_protocol_id", "quantity_out_of_range"]
        );
        assert_eq!(Anomalies::empty().names().count(), 0);
        assert_eq!(
            anomaly_name(Anomalies::LENGTH_MISMATCH),
            Some("length_mismatch")
        );
        assert_eq!(set.name(), None);
        assert_eq!(Anomalies::default(), Anomalies::empty());
    }

    fn response(function: u8, body: Body<'_>) -> Message<'_> {
        Message {
            header: crate::modbus::MbapHeader {
                transaction_id: 1,
                protocol_id: 0,
                length: 0,
                unit_id: 1,
            },
            function: FunctionCode(function),
            direction: crate::modbus::Direction::Response,
            body,
            anomalies: Anomalies::empty(),
        }
    }

    #[test]
    fn response_checks() {
        use crate::modbus::ExceptionCode;
        let bytes = |byte_count| Body::ByteCounted {
            byte_count,
            data: &[],
        };
        let cases = [
            // (request function, request quantity, response, expected)
            (1, Some(19), response(1, bytes(3)), Anomalies::empty()),
            (
                1,
                Some(19),
                response(1, bytes(2)),
                Anomalies::BYTE_COUNT_MISMATCH,
            ),
            (2, Some(8), response(2, bytes(1)), Anomalies::empty()),
            (3, Some(3), response(3, bytes(6)), Anomalies::empty()),
            (
                3,
                Some(3),
                response(3, bytes(4)),
                Anomalies::BYTE_COUNT_MISMATCH,
            ),
            (
                4,
                Some(1),
                response(4, bytes(4)),
                Anomalies::BYTE_COUNT_MISMATCH,
            ),
            (23, Some(6), response(23, bytes(12)), Anomalies::empty()),
            (
                23,
                Some(6),
                response(23, bytes(6)),
                Anomalies::BYTE_COUNT_MISMATCH,
            ),
            (
                3,
                Some(3),
                response(4, bytes(6)),
                Anomalies::FUNCTION_MISMATCH,
            ),
            (3, None, response(3, bytes(6)), Anomalies::empty()),
            (
                3,
                Some(3),
                response(
                    0x83,
                    Body::Exception {
                        code: ExceptionCode(2),
                    },
                ),
                Anomalies::empty(),
            ),
            (
                3,
                Some(3),
                response(
                    0x84,
                    Body::Exception {
                        code: ExceptionCode(2),
                    },
                ),
                Anomalies::FUNCTION_MISMATCH,
            ),
            (
                16,
                Some(2),
                response(
                    16,
                    Body::WriteMultipleResponse {
                        start: 1,
                        quantity: 2,
                    },
                ),
                Anomalies::empty(),
            ),
            (
                16,
                Some(2),
                response(
                    16,
                    Body::WriteMultipleResponse {
                        start: 1,
                        quantity: 3,
                    },
                ),
                Anomalies::QUANTITY_MISMATCH,
            ),
            (17, None, response(17, bytes(3)), Anomalies::empty()),
        ];
        for (function, quantity, message, expected) in cases {
            assert_eq!(
                response_anomalies(FunctionCode(function), quantity, &message),
                expected,
                "{function} {quantity:?} {message:?}"
            );
        }
    }

    #[test]
    fn read_response_sizes() {
        assert_eq!(
            read_response_byte_count(FunctionCode::READ_COILS, 1),
            Some(1)
        );
        assert_eq!(
            read_response_byte_count(FunctionCode::READ_COILS, 8),
            Some(1)
        );
        assert_eq!(
            read_response_byte_count(FunctionCode::READ_COILS, 9),
            Some(2)
        );
        assert_eq!(
            read_response_byte_count(FunctionCode::READ_COILS, 2000),
            Some(250)
        );
        assert_eq!(
            read_response_byte_count(FunctionCode::READ_INPUT_REGISTERS, 125),
            Some(250)
        );
        assert_eq!(
            read_response_byte_count(FunctionCode::WRITE_MULTIPLE_COILS, 8),
            None
        );
    }
}
