//! Decoding a framed ADU into a [`Message`], flagging spec violations.
//!
//! Infallible and panic-free: a PDU too short for its function's fixed fields
//! becomes [`Body::Raw`] with `TRUNCATED_PDU`; every other violation is a flag.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::anomaly::{
    Anomalies, MAX_FIFO_COUNT, MAX_READ_BITS, MAX_READ_REGISTERS, MAX_READ_WRITE_WRITE_REGISTERS,
    MAX_WRITE_COILS, MAX_WRITE_REGISTERS,
};
use super::message::{Body, DeviceIdObjects, FILE_REFERENCE_TYPE, FileRecordRequests, Message};
use super::types::{
    DiagnosticSubFunction, Direction, ExceptionCode, FunctionClass, FunctionCode, MeiType,
    ReadDeviceIdCode,
};
use super::wire::{Adu, MAX_MBAP_LENGTH, MODBUS_PROTOCOL_ID};

/// Write Single Coil values: ON and OFF.
const COIL_ON: u16 = 0xFF00;
const COIL_OFF: u16 = 0x0000;

/// Fixed fields of a Get Comm Event Log response covered by its byte count:
/// status, event count, message count.
const COMM_EVENT_LOG_FIXED_LEN: usize = 6;

/// Fixed field of a Read FIFO Queue response covered by its byte count: FIFO count.
const FIFO_FIXED_LEN: usize = 2;

/// More-follows values of a Read Device Identification response.
const MORE_FOLLOWS_NO: u8 = 0x00;
const MORE_FOLLOWS_YES: u8 = 0xFF;

/// Decodes a framed ADU travelling in `direction`.
///
/// Always yields a [`Message`]: spec violations are anomaly flags, a body too
/// short to decode is [`Body::Raw`].
pub fn parse(adu: Adu<'_>, direction: Direction) -> Message<'_> {
    let mut anomalies = Anomalies::empty();
    if adu.header.protocol_id != MODBUS_PROTOCOL_ID {
        anomalies |= Anomalies::BAD_PROTOCOL_ID;
    }
    if adu.header.length > MAX_MBAP_LENGTH {
        anomalies |= Anomalies::OVERSIZED_ADU;
    }
    if usize::from(adu.header.length) != adu.pdu.len().saturating_add(1) {
        anomalies |= Anomalies::LENGTH_MISMATCH;
    }
    let mut r = Reader::new(adu.pdu, Layer::Modbus);
    let Ok(code) = r.u8() else {
        return Message {
            header: adu.header,
            function: FunctionCode(0),
            direction,
            body: Body::Raw(&[]),
            anomalies: anomalies | Anomalies::TRUNCATED_PDU,
        };
    };
    let function = FunctionCode(code);
    anomalies |= match function.class() {
        FunctionClass::Public => Anomalies::empty(),
        FunctionClass::UserDefined => Anomalies::USER_DEFINED_FUNCTION,
        FunctionClass::Reserved => Anomalies::RESERVED_FUNCTION,
        FunctionClass::Unassigned => Anomalies::UNASSIGNED_FUNCTION,
        FunctionClass::Zero => Anomalies::ZERO_FUNCTION,
    };
    if function.is_exception() && direction == Direction::Request {
        anomalies |= Anomalies::EXCEPTION_IN_REQUEST;
    }
    let data = r.rest();
    let mut decoder = Decoder {
        r,
        anomalies: Anomalies::empty(),
    };
    let body = match decoder.body(function, direction) {
        Ok(body) => {
            if !decoder.r.is_empty() {
                decoder.anomalies |= Anomalies::LENGTH_MISMATCH;
            }
            anomalies |= decoder.anomalies;
            body
        }
        Err(_) => {
            anomalies |= Anomalies::TRUNCATED_PDU;
            Body::Raw(data)
        }
    };
    Message {
        header: adu.header,
        function,
        direction,
        body,
        anomalies,
    }
}

/// A cursor over the PDU data and the flags raised so far.
struct Decoder<'a> {
    r: Reader<'a>,
    anomalies: Anomalies,
}

impl<'a> Decoder<'a> {
    fn flag_if(&mut self, condition: bool, flag: Anomalies) {
        if condition {
            self.anomalies |= flag;
        }
    }

    /// The `count` bytes a byte count covers, or what is left when it runs past the end.
    fn counted(&mut self, count: usize) -> &'a [u8] {
        match self.r.take(count) {
            Ok(bytes) => bytes,
            Err(_) => {
                self.anomalies |= Anomalies::LENGTH_MISMATCH;
                self.r.take_rest()
            }
        }
    }

    /// Flags a quantity outside `1..=max` and a range running past address 0xFFFF.
    fn check_range(&mut self, start: u16, quantity: u16, max: u16) {
        self.flag_if(
            !(1..=max).contains(&quantity),
            Anomalies::QUANTITY_OUT_OF_RANGE,
        );
        self.flag_if(
            u32::from(start) + u32::from(quantity) > u32::from(u16::MAX) + 1,
            Anomalies::ADDRESS_OUT_OF_RANGE,
        );
    }

    fn body(&mut self, function: FunctionCode, direction: Direction) -> Result<Body<'a>, Error> {
        use Direction::{Request, Response};
        use FunctionCode as F;

        if function.is_exception() {
            let code = ExceptionCode(self.r.u8()?);
            self.flag_if(code.name().is_none(), Anomalies::UNKNOWN_EXCEPTION_CODE);
            return Ok(Body::Exception { code });
        }
        let body = match (function, direction) {
            (
                F::READ_COILS
                | F::READ_DISCRETE_INPUTS
                | F::READ_HOLDING_REGISTERS
                | F::READ_INPUT_REGISTERS,
                Request,
            ) => {
                let start = self.r.be_u16()?;
                let quantity = self.r.be_u16()?;
                let max = match function {
                    F::READ_COILS | F::READ_DISCRETE_INPUTS => MAX_READ_BITS,
                    _ => MAX_READ_REGISTERS,
                };
                self.check_range(start, quantity, max);
                Body::ReadRequest { start, quantity }
            }
            (F::READ_COILS | F::READ_DISCRETE_INPUTS | F::REPORT_SERVER_ID, Response) => {
                self.byte_counted()?
            }
            (
                F::READ_HOLDING_REGISTERS
                | F::READ_INPUT_REGISTERS
                | F::READ_WRITE_MULTIPLE_REGISTERS,
                Response,
            ) => {
                let body = self.byte_counted()?;
                if let Body::ByteCounted { byte_count, .. } = body {
                    self.flag_if(byte_count % 2 != 0, Anomalies::BYTE_COUNT_MISMATCH);
                }
                body
            }
            (F::WRITE_SINGLE_COIL | F::WRITE_SINGLE_REGISTER, _) => {
                let address = self.r.be_u16()?;
                let value = self.r.be_u16()?;
                self.flag_if(
                    function == F::WRITE_SINGLE_COIL && value != COIL_ON && value != COIL_OFF,
                    Anomalies::INVALID_COIL_VALUE,
                );
                Body::WriteSingle { address, value }
            }
            (
                F::READ_EXCEPTION_STATUS
                | F::GET_COMM_EVENT_COUNTER
                | F::GET_COMM_EVENT_LOG
                | F::REPORT_SERVER_ID,
                Request,
            ) => Body::Empty,
            (F::READ_EXCEPTION_STATUS, Response) => Body::ExceptionStatus {
                status: self.r.u8()?,
            },
            (F::DIAGNOSTICS, _) => {
                let sub_function = self.r.be_u16()?;
                self.flag_if(
                    DiagnosticSubFunction(sub_function).is_reserved(),
                    Anomalies::RESERVED_FUNCTION,
                );
                Body::Diagnostics {
                    sub_function,
                    data: self.r.take_rest(),
                }
            }
            (F::GET_COMM_EVENT_COUNTER, Response) => Body::CommEventCounter {
                status: self.r.be_u16()?,
                event_count: self.r.be_u16()?,
            },
            (F::GET_COMM_EVENT_LOG, Response) => {
                let byte_count = self.r.u8()?;
                let status = self.r.be_u16()?;
                let event_count = self.r.be_u16()?;
                let message_count = self.r.be_u16()?;
                let covered = usize::from(byte_count);
                self.flag_if(
                    covered < COMM_EVENT_LOG_FIXED_LEN,
                    Anomalies::LENGTH_MISMATCH,
                );
                let events = self.counted(covered.saturating_sub(COMM_EVENT_LOG_FIXED_LEN));
                Body::CommEventLog {
                    byte_count,
                    status,
                    event_count,
                    message_count,
                    events,
                }
            }
            (F::WRITE_MULTIPLE_COILS | F::WRITE_MULTIPLE_REGISTERS, Request) => {
                let start = self.r.be_u16()?;
                let quantity = self.r.be_u16()?;
                let byte_count = self.r.u8()?;
                let (max, expected) = if function == F::WRITE_MULTIPLE_COILS {
                    (MAX_WRITE_COILS, usize::from(quantity).div_ceil(8))
                } else {
                    (MAX_WRITE_REGISTERS, usize::from(quantity) * 2)
                };
                self.check_range(start, quantity, max);
                self.flag_if(
                    usize::from(byte_count) != expected,
                    Anomalies::BYTE_COUNT_MISMATCH,
                );
                Body::WriteMultipleRequest {
                    start,
                    quantity,
                    byte_count,
                    values: self.counted(usize::from(byte_count)),
                }
            }
            (F::WRITE_MULTIPLE_COILS | F::WRITE_MULTIPLE_REGISTERS, Response) => {
                let start = self.r.be_u16()?;
                let quantity = self.r.be_u16()?;
                let max = if function == F::WRITE_MULTIPLE_COILS {
                    MAX_WRITE_COILS
                } else {
                    MAX_WRITE_REGISTERS
                };
                self.check_range(start, quantity, max);
                Body::WriteMultipleResponse { start, quantity }
            }
            (F::READ_FILE_RECORD, Request) | (F::WRITE_FILE_RECORD, _) => {
                let body = self.byte_counted()?;
                if let Body::ByteCounted { data, .. } = body {
                    self.check_file_requests(data, function == F::WRITE_FILE_RECORD);
                }
                body
            }
            (F::READ_FILE_RECORD, Response) => {
                let body = self.byte_counted()?;
                if let Body::ByteCounted { data, .. } = body {
                    self.check_file_responses(data);
                }
                body
            }
            (F::MASK_WRITE_REGISTER, _) => Body::MaskWrite {
                address: self.r.be_u16()?,
                and_mask: self.r.be_u16()?,
                or_mask: self.r.be_u16()?,
            },
            (F::READ_WRITE_MULTIPLE_REGISTERS, Request) => {
                let read_start = self.r.be_u16()?;
                let read_quantity = self.r.be_u16()?;
                let write_start = self.r.be_u16()?;
                let write_quantity = self.r.be_u16()?;
                let byte_count = self.r.u8()?;
                self.check_range(read_start, read_quantity, MAX_READ_REGISTERS);
                self.check_range(write_start, write_quantity, MAX_READ_WRITE_WRITE_REGISTERS);
                self.flag_if(
                    usize::from(byte_count) != usize::from(write_quantity) * 2,
                    Anomalies::BYTE_COUNT_MISMATCH,
                );
                Body::ReadWriteMultipleRequest {
                    read_start,
                    read_quantity,
                    write_start,
                    write_quantity,
                    byte_count,
                    values: self.counted(usize::from(byte_count)),
                }
            }
            (F::READ_FIFO_QUEUE, Request) => Body::ReadFifoRequest {
                address: self.r.be_u16()?,
            },
            (F::READ_FIFO_QUEUE, Response) => {
                let byte_count = self.r.be_u16()?;
                let fifo_count = self.r.be_u16()?;
                let covered = usize::from(byte_count);
                self.flag_if(covered < FIFO_FIXED_LEN, Anomalies::LENGTH_MISMATCH);
                self.flag_if(
                    fifo_count > MAX_FIFO_COUNT,
                    Anomalies::QUANTITY_OUT_OF_RANGE,
                );
                self.flag_if(
                    covered != FIFO_FIXED_LEN + usize::from(fifo_count) * 2,
                    Anomalies::BYTE_COUNT_MISMATCH,
                );
                Body::ReadFifoResponse {
                    byte_count,
                    fifo_count,
                    values: self.counted(covered.saturating_sub(FIFO_FIXED_LEN)),
                }
            }
            (F::ENCAPSULATED_INTERFACE_TRANSPORT, _) => self.encapsulated(direction)?,
            _ => Body::Raw(self.r.take_rest()),
        };
        Ok(body)
    }

    fn byte_counted(&mut self) -> Result<Body<'a>, Error> {
        let byte_count = self.r.u8()?;
        Ok(Body::ByteCounted {
            byte_count,
            data: self.counted(usize::from(byte_count)),
        })
    }

    /// FC 20 request, FC 21 request and response: whole sub-requests of reference type 6.
    fn check_file_requests(&mut self, data: &[u8], with_data: bool) {
        let mut records = FileRecordRequests::new(data, with_data);
        let mut any = false;
        for record in records.by_ref() {
            any = true;
            self.flag_if(
                record.reference_type != FILE_REFERENCE_TYPE,
                Anomalies::INVALID_FIELD_VALUE,
            );
        }
        self.flag_if(
            records.is_truncated() || !any,
            Anomalies::BYTE_COUNT_MISMATCH,
        );
    }

    /// FC 20 response: sub-responses of (length, reference type 6, record data).
    fn check_file_responses(&mut self, data: &[u8]) {
        let mut r = Reader::new(data, Layer::Modbus);
        let mut whole = !r.is_empty();
        while !r.is_empty() {
            let sub_response = r.u8().and_then(|len| r.sub(usize::from(len)));
            match sub_response.and_then(|mut sub| sub.u8()) {
                Ok(reference_type) => self.flag_if(
                    reference_type != FILE_REFERENCE_TYPE,
                    Anomalies::INVALID_FIELD_VALUE,
                ),
                Err(_) => {
                    whole = false;
                    break;
                }
            }
        }
        self.flag_if(!whole, Anomalies::BYTE_COUNT_MISMATCH);
    }

    /// FC 43: Read Device Identification (MEI 14) or another MEI type.
    fn encapsulated(&mut self, direction: Direction) -> Result<Body<'a>, Error> {
        let mei_type = self.r.u8()?;
        if MeiType(mei_type) != MeiType::READ_DEVICE_IDENTIFICATION {
            self.flag_if(
                MeiType(mei_type).name().is_none(),
                Anomalies::UNKNOWN_MEI_TYPE,
            );
            return Ok(Body::MeiOther {
                mei_type,
                data: self.r.take_rest(),
            });
        }
        let read_device_id_code = self.r.u8()?;
        self.flag_if(
            ReadDeviceIdCode(read_device_id_code).name().is_none(),
            Anomalies::INVALID_FIELD_VALUE,
        );
        if direction == Direction::Request {
            return Ok(Body::ReadDeviceIdRequest {
                read_device_id_code,
                object_id: self.r.u8()?,
            });
        }
        let conformity_level = self.r.u8()?;
        let more_follows = self.r.u8()?;
        let next_object_id = self.r.u8()?;
        let number_of_objects = self.r.u8()?;
        self.flag_if(
            !matches!(conformity_level, 0x01..=0x03 | 0x81..=0x83)
                || !matches!(more_follows, MORE_FOLLOWS_NO | MORE_FOLLOWS_YES),
            Anomalies::INVALID_FIELD_VALUE,
        );
        let objects = DeviceIdObjects::new(self.r.take_rest(), number_of_objects);
        self.flag_if(!objects.is_well_formed(), Anomalies::LENGTH_MISMATCH);
        Ok(Body::ReadDeviceIdResponse {
            read_device_id_code,
            conformity_level,
            more_follows,
            next_object_id,
            number_of_objects,
            objects,
        })
    }
}

#[cfg(test)]
mod tests {
    //! One table test per function code and direction, ADUs commented field by field
    //! (examples after the MODBUS Application Protocol Specification V1.1b3, section 6).

    use super::*;
    use crate::modbus::{DeviceIdObject, MbapHeader, frame};
    use crate::stream::Framing;

    /// Frames `bytes`, which must hold exactly one ADU, and parses it.
    fn parse_one(bytes: &[u8], direction: Direction) -> Message<'_> {
        match frame(bytes) {
            Framing::Parsed { consumed, message } => {
                assert_eq!(consumed, bytes.len(), "one whole ADU");
                parse(message, direction)
            }
            other => panic!("not framed: {other:?}"),
        }
    }

    fn request(bytes: &[u8]) -> Message<'_> {
        parse_one(bytes, Direction::Request)
    }

    fn response(bytes: &[u8]) -> Message<'_> {
        parse_one(bytes, Direction::Response)
    }

    /// Asserts a message decodes to `body` with exactly `anomalies`.
    #[track_caller]
    fn check(message: Message<'_>, function: u8, body: Body<'_>, anomalies: Anomalies) {
        assert_eq!(message.function, FunctionCode(function));
        assert_eq!(message.body, body);
        assert_eq!(message.anomalies, anomalies, "{:?}", message.anomalies);
    }

    const CLEAN: Anomalies = Anomalies::empty();

    #[test]
    fn header_fields() {
        let m = request(&[
            0x12, 0x34, // transaction id
            0x00, 0x00, // protocol id
            0x00, 0x06, // length
            0xFF, // unit id
            0x01, // read coils
            0x00, 0x13, 0x00, 0x13, // start 19, quantity 19
        ]);
        assert_eq!(
            m.header,
            MbapHeader {
                transaction_id: 0x1234,
                protocol_id: 0,
                length: 6,
                unit_id: 0xFF
            }
        );
        assert_eq!(m.direction, Direction::Request);
    }

    #[test]
    fn fc01_read_coils() {
        #[rustfmt::skip]
        let req = [
            0, 1, 0, 0, 0, 6, 1, // MBAP: tid 1, pid 0, length 6, unit 1
            0x01,                // read coils
            0x00, 0x13,          // starting address 19
            0x00, 0x13,          // quantity of coils 19
        ];
        check(
            request(&req),
            1,
            Body::ReadRequest {
                start: 19,
                quantity: 19,
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 1, 0, 0, 0, 6, 1, // MBAP: length 6
            0x01,                // read coils
            0x03,                // byte count: ceil(19 / 8)
            0xCD, 0x6B, 0x05,    // coil status 19..=45
        ];
        check(
            response(&resp),
            1,
            Body::ByteCounted {
                byte_count: 3,
                data: &[0xCD, 0x6B, 0x05],
            },
            CLEAN,
        );
    }

    #[test]
    fn fc02_read_discrete_inputs() {
        #[rustfmt::skip]
        let req = [
            0, 2, 0, 0, 0, 6, 1, // MBAP
            0x02,                // read discrete inputs
            0x00, 0xC4,          // starting address 196
            0x00, 0x16,          // quantity of inputs 22
        ];
        check(
            request(&req),
            2,
            Body::ReadRequest {
                start: 196,
                quantity: 22,
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 2, 0, 0, 0, 6, 1, // MBAP
            0x02,                // read discrete inputs
            0x03,                // byte count
            0xAC, 0xDB, 0x35,    // input status
        ];
        check(
            response(&resp),
            2,
            Body::ByteCounted {
                byte_count: 3,
                data: &[0xAC, 0xDB, 0x35],
            },
            CLEAN,
        );
    }

    #[test]
    fn fc03_read_holding_registers() {
        #[rustfmt::skip]
        let req = [
            0, 3, 0, 0, 0, 6, 1, // MBAP
            0x03,                // read holding registers
            0x00, 0x6B,          // starting address 107
            0x00, 0x03,          // quantity of registers 3
        ];
        check(
            request(&req),
            3,
            Body::ReadRequest {
                start: 107,
                quantity: 3,
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 3, 0, 0, 0, 9, 1,                // MBAP: length 9
            0x03,                               // read holding registers
            0x06,                               // byte count
            0x02, 0x2B, 0x00, 0x00, 0x00, 0x64, // registers 107..=109
        ];
        check(
            response(&resp),
            3,
            Body::ByteCounted {
                byte_count: 6,
                data: &[0x02, 0x2B, 0, 0, 0, 0x64],
            },
            CLEAN,
        );
    }

    #[test]
    fn fc04_read_input_registers() {
        #[rustfmt::skip]
        let req = [
            0, 4, 0, 0, 0, 6, 1, // MBAP
            0x04,                // read input registers
            0x00, 0x08,          // starting address 8
            0x00, 0x01,          // quantity 1
        ];
        check(
            request(&req),
            4,
            Body::ReadRequest {
                start: 8,
                quantity: 1,
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 4, 0, 0, 0, 5, 1, // MBAP
            0x04,                // read input registers
            0x02,                // byte count
            0x00, 0x0A,          // register 8
        ];
        check(
            response(&resp),
            4,
            Body::ByteCounted {
                byte_count: 2,
                data: &[0, 0x0A],
            },
            CLEAN,
        );
    }

    #[test]
    fn read_quantity_limits() {
        #[rustfmt::skip]
        let zero = [
            0, 1, 0, 0, 0, 6, 1, // MBAP
            0x03,                // read holding registers
            0x00, 0x00,          // starting address
            0x00, 0x00,          // quantity 0
        ];
        check(
            request(&zero),
            3,
            Body::ReadRequest {
                start: 0,
                quantity: 0,
            },
            Anomalies::QUANTITY_OUT_OF_RANGE,
        );
        #[rustfmt::skip]
        let too_many = [
            0, 1, 0, 0, 0, 6, 1, // MBAP
            0x03,                // read holding registers
            0x00, 0x00,          // starting address
            0x00, 0x7E,          // quantity 126
        ];
        assert_eq!(
            request(&too_many).anomalies,
            Anomalies::QUANTITY_OUT_OF_RANGE
        );
        #[rustfmt::skip]
        let most_coils = [
            0, 1, 0, 0, 0, 6, 1, // MBAP
            0x01,                // read coils
            0x00, 0x00,          // starting address
            0x07, 0xD0,          // quantity 2000
        ];
        assert_eq!(request(&most_coils).anomalies, CLEAN);
        #[rustfmt::skip]
        let past_the_end = [
            0, 1, 0, 0, 0, 6, 1, // MBAP
            0x04,                // read input registers
            0xFF, 0xF0,          // starting address 65520
            0x00, 0x11,          // quantity 17: last address 65536
        ];
        assert_eq!(
            request(&past_the_end).anomalies,
            Anomalies::ADDRESS_OUT_OF_RANGE
        );
    }

    #[test]
    fn odd_register_byte_count() {
        #[rustfmt::skip]
        let resp = [
            0, 3, 0, 0, 0, 6, 1, // MBAP
            0x03,                // read holding registers
            0x03,                // byte count 3: not whole registers
            0x02, 0x2B, 0x00,    // data
        ];
        assert_eq!(response(&resp).anomalies, Anomalies::BYTE_COUNT_MISMATCH);
    }

    #[test]
    fn fc05_write_single_coil() {
        #[rustfmt::skip]
        let req = [
            0, 5, 0, 0, 0, 6, 1, // MBAP
            0x05,                // write single coil
            0x00, 0xAC,          // output address 172
            0xFF, 0x00,          // output value: ON
        ];
        let body = Body::WriteSingle {
            address: 172,
            value: 0xFF00,
        };
        check(request(&req), 5, body, CLEAN);
        check(response(&req), 5, body, CLEAN);
        #[rustfmt::skip]
        let bad = [
            0, 5, 0, 0, 0, 6, 1, // MBAP
            0x05,                // write single coil
            0x00, 0xAC,          // output address
            0x00, 0x01,          // output value: neither ON nor OFF
        ];
        assert_eq!(request(&bad).anomalies, Anomalies::INVALID_COIL_VALUE);
    }

    #[test]
    fn fc06_write_single_register() {
        #[rustfmt::skip]
        let req = [
            0, 6, 0, 0, 0, 6, 1, // MBAP
            0x06,                // write single register
            0x00, 0x01,          // register address 1
            0x00, 0x03,          // register value 3
        ];
        let body = Body::WriteSingle {
            address: 1,
            value: 3,
        };
        check(request(&req), 6, body, CLEAN);
        check(response(&req), 6, body, CLEAN);
    }

    #[test]
    fn fc07_read_exception_status() {
        let req = [0, 7, 0, 0, 0, 2, 1, /* read exception status */ 0x07];
        check(request(&req), 7, Body::Empty, CLEAN);
        #[rustfmt::skip]
        let resp = [
            0, 7, 0, 0, 0, 3, 1, // MBAP
            0x07,                // read exception status
            0x6D,                // output data
        ];
        check(
            response(&resp),
            7,
            Body::ExceptionStatus { status: 0x6D },
            CLEAN,
        );
    }

    #[test]
    fn fc08_diagnostics() {
        #[rustfmt::skip]
        let req = [
            0, 8, 0, 0, 0, 6, 1, // MBAP
            0x08,                // diagnostics
            0x00, 0x00,          // sub-function: return query data
            0xA5, 0x37,          // data
        ];
        let body = Body::Diagnostics {
            sub_function: 0,
            data: &[0xA5, 0x37],
        };
        check(request(&req), 8, body, CLEAN);
        check(response(&req), 8, body, CLEAN);
        #[rustfmt::skip]
        let listen_only = [
            0, 8, 0, 0, 0, 6, 1, // MBAP
            0x08,                // diagnostics
            0x00, 0x04,          // sub-function: force listen only mode
            0x00, 0x00,          // data
        ];
        assert_eq!(request(&listen_only).anomalies, CLEAN);
        #[rustfmt::skip]
        let reserved = [
            0, 8, 0, 0, 0, 4, 1, // MBAP
            0x08,                // diagnostics
            0x00, 0x13,          // sub-function 19: reserved
        ];
        check(
            request(&reserved),
            8,
            Body::Diagnostics {
                sub_function: 19,
                data: &[],
            },
            Anomalies::RESERVED_FUNCTION,
        );
    }

    #[test]
    fn fc11_get_comm_event_counter() {
        let req = [0, 11, 0, 0, 0, 2, 1, /* get comm event counter */ 0x0B];
        check(request(&req), 11, Body::Empty, CLEAN);
        #[rustfmt::skip]
        let resp = [
            0, 11, 0, 0, 0, 6, 1, // MBAP
            0x0B,                 // get comm event counter
            0xFF, 0xFF,           // status: busy
            0x01, 0x08,           // event count 264
        ];
        check(
            response(&resp),
            11,
            Body::CommEventCounter {
                status: 0xFFFF,
                event_count: 264,
            },
            CLEAN,
        );
    }

    #[test]
    fn fc12_get_comm_event_log() {
        let req = [0, 12, 0, 0, 0, 2, 1, /* get comm event log */ 0x0C];
        check(request(&req), 12, Body::Empty, CLEAN);
        #[rustfmt::skip]
        let resp = [
            0, 12, 0, 0, 0, 11, 1, // MBAP: length 11
            0x0C,                  // get comm event log
            0x08,                  // byte count: 6 + 2 events
            0x00, 0x00,            // status
            0x01, 0x08,            // event count
            0x01, 0x21,            // message count
            0x20, 0x00,            // events
        ];
        check(
            response(&resp),
            12,
            Body::CommEventLog {
                byte_count: 8,
                status: 0,
                event_count: 0x0108,
                message_count: 0x0121,
                events: &[0x20, 0x00],
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let short_count = [
            0, 12, 0, 0, 0, 9, 1, // MBAP
            0x0C,                 // get comm event log
            0x04,                 // byte count 4: less than the fixed fields
            0x00, 0x00, 0x00, 0x01, 0x00, 0x02, // status, event count, message count
        ];
        assert_eq!(response(&short_count).anomalies, Anomalies::LENGTH_MISMATCH);
    }

    #[test]
    fn fc15_write_multiple_coils() {
        #[rustfmt::skip]
        let req = [
            0, 15, 0, 0, 0, 9, 1, // MBAP
            0x0F,                 // write multiple coils
            0x00, 0x13,           // starting address 19
            0x00, 0x0A,           // quantity of outputs 10
            0x02,                 // byte count: ceil(10 / 8)
            0xCD, 0x01,           // outputs value
        ];
        check(
            request(&req),
            15,
            Body::WriteMultipleRequest {
                start: 19,
                quantity: 10,
                byte_count: 2,
                values: &[0xCD, 0x01],
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 15, 0, 0, 0, 6, 1, // MBAP
            0x0F,                 // write multiple coils
            0x00, 0x13,           // starting address
            0x00, 0x0A,           // quantity of outputs
        ];
        check(
            response(&resp),
            15,
            Body::WriteMultipleResponse {
                start: 19,
                quantity: 10,
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let mismatch = [
            0, 15, 0, 0, 0, 8, 1, // MBAP
            0x0F,                 // write multiple coils
            0x00, 0x13,           // starting address
            0x00, 0x0A,           // quantity 10 needs 2 bytes
            0x01,                 // byte count 1
            0xCD,                 // outputs value
        ];
        assert_eq!(request(&mismatch).anomalies, Anomalies::BYTE_COUNT_MISMATCH);
    }

    #[test]
    fn fc16_write_multiple_registers() {
        #[rustfmt::skip]
        let req = [
            0, 16, 0, 0, 0, 11, 1, // MBAP
            0x10,                  // write multiple registers
            0x00, 0x01,            // starting address 1
            0x00, 0x02,            // quantity of registers 2
            0x04,                  // byte count
            0x00, 0x0A, 0x01, 0x02, // register values
        ];
        check(
            request(&req),
            16,
            Body::WriteMultipleRequest {
                start: 1,
                quantity: 2,
                byte_count: 4,
                values: &[0x00, 0x0A, 0x01, 0x02],
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 16, 0, 0, 0, 6, 1, // MBAP
            0x10,                 // write multiple registers
            0x00, 0x01,           // starting address
            0x00, 0x02,           // quantity of registers
        ];
        check(
            response(&resp),
            16,
            Body::WriteMultipleResponse {
                start: 1,
                quantity: 2,
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let runs_past_the_end = [
            0, 16, 0, 0, 0, 9, 1, // MBAP: length 9, two value bytes
            0x10,                 // write multiple registers
            0x00, 0x01,           // starting address
            0x00, 0x02,           // quantity 2
            0x04,                 // byte count 4
            0x00, 0x0A,           // only one register value
        ];
        check(
            request(&runs_past_the_end),
            16,
            Body::WriteMultipleRequest {
                start: 1,
                quantity: 2,
                byte_count: 4,
                values: &[0x00, 0x0A],
            },
            Anomalies::LENGTH_MISMATCH,
        );
        #[rustfmt::skip]
        let too_many = [
            0, 16, 0, 0, 0, 7, 1, // MBAP
            0x10,                 // write multiple registers
            0x00, 0x00,           // starting address
            0x00, 0x7C,           // quantity 124 > 123
            0x00,                 // byte count 0
        ];
        assert_eq!(
            request(&too_many).anomalies,
            Anomalies::QUANTITY_OUT_OF_RANGE | Anomalies::BYTE_COUNT_MISMATCH
        );
    }

    #[test]
    fn fc17_report_server_id() {
        let req = [0, 17, 0, 0, 0, 2, 1, /* report server id */ 0x11];
        check(request(&req), 17, Body::Empty, CLEAN);
        #[rustfmt::skip]
        let resp = [
            0, 17, 0, 0, 0, 6, 1, // MBAP
            0x11,                 // report server id
            0x03,                 // byte count
            0x42,                 // server id
            0xFF,                 // run indicator status: on
            0x07,                 // additional data
        ];
        check(
            response(&resp),
            17,
            Body::ByteCounted {
                byte_count: 3,
                data: &[0x42, 0xFF, 0x07],
            },
            CLEAN,
        );
    }

    #[test]
    fn fc20_read_file_record() {
        #[rustfmt::skip]
        let req = [
            0, 20, 0, 0, 0, 17, 1,    // MBAP: length 17
            0x14,                     // read file record
            0x0E,                     // byte count: two sub-requests
            0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, // type 6, file 4, record 1, length 2
            0x06, 0x00, 0x03, 0x00, 0x09, 0x00, 0x02, // type 6, file 3, record 9, length 2
        ];
        let m = request(&req);
        assert_eq!(m.anomalies, CLEAN);
        assert!(matches!(m.body, Body::ByteCounted { byte_count: 14, .. }));
        let records: Vec<_> = m.file_records().map(Iterator::collect).unwrap_or_default();
        assert_eq!(records.len(), 2);
        assert_eq!((records[1].file_number, records[1].record_number), (3, 9));
        #[rustfmt::skip]
        let resp = [
            0, 20, 0, 0, 0, 15, 1, // MBAP: length 15
            0x14,                  // read file record
            0x0C,                  // response data length
            0x05, 0x06, 0x0D, 0xFE, 0x00, 0x20, // length 5, type 6, two registers
            0x05, 0x06, 0x33, 0xCD, 0x00, 0x40, // length 5, type 6, two registers
        ];
        let m = response(&resp);
        assert_eq!(m.anomalies, CLEAN);
        assert!(matches!(m.body, Body::ByteCounted { byte_count: 12, .. }));
        assert!(m.file_records().is_none());
        #[rustfmt::skip]
        let bad = [
            0, 20, 0, 0, 0, 12, 1, // MBAP
            0x14,                  // read file record
            0x09,                  // byte count: one and a bit sub-requests
            0x07, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, // type 7, file 4, record 1, length 2
            0x06, 0x00,            // type 6, half a file number
        ];
        assert_eq!(
            request(&bad).anomalies,
            Anomalies::BYTE_COUNT_MISMATCH | Anomalies::INVALID_FIELD_VALUE
        );
    }

    #[test]
    fn fc21_write_file_record() {
        #[rustfmt::skip]
        let req = [
            0, 21, 0, 0, 0, 16, 1, // MBAP: length 16
            0x15,                  // write file record
            0x0D,                  // request data length
            0x06, 0x00, 0x04,      // type 6, file 4
            0x00, 0x07,            // record number 7
            0x00, 0x03,            // record length 3
            0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D, // record data
        ];
        let m = request(&req);
        assert_eq!(m.anomalies, CLEAN);
        let records: Vec<_> = m.file_records().map(Iterator::collect).unwrap_or_default();
        assert_eq!(
            records,
            [FileRecordRequestOwned::expect(
                4,
                7,
                3,
                &[0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D]
            )]
        );
        // The response echoes the request.
        let m = response(&req);
        assert_eq!(m.anomalies, CLEAN);
        assert_eq!(m.file_records().map(Iterator::count), Some(1));
    }

    /// Builds the expected sub-request of a file record test.
    struct FileRecordRequestOwned;

    impl FileRecordRequestOwned {
        fn expect(
            file_number: u16,
            record_number: u16,
            record_length: u16,
            record_data: &[u8],
        ) -> crate::modbus::FileRecordRequest<'_> {
            crate::modbus::FileRecordRequest {
                reference_type: 6,
                file_number,
                record_number,
                record_length,
                record_data,
            }
        }
    }

    #[test]
    fn fc22_mask_write_register() {
        #[rustfmt::skip]
        let req = [
            0, 22, 0, 0, 0, 8, 1, // MBAP
            0x16,                 // mask write register
            0x00, 0x04,           // reference address 4
            0x00, 0xF2,           // and mask
            0x00, 0x25,           // or mask
        ];
        let body = Body::MaskWrite {
            address: 4,
            and_mask: 0xF2,
            or_mask: 0x25,
        };
        check(request(&req), 22, body, CLEAN);
        check(response(&req), 22, body, CLEAN);
    }

    #[test]
    fn fc23_read_write_multiple_registers() {
        #[rustfmt::skip]
        let req = [
            0, 23, 0, 0, 0, 17, 1, // MBAP: length 17
            0x17,                  // read/write multiple registers
            0x00, 0x03,            // read starting address 3
            0x00, 0x06,            // quantity to read 6
            0x00, 0x0E,            // write starting address 14
            0x00, 0x03,            // quantity to write 3
            0x06,                  // write byte count
            0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, // write registers values
        ];
        check(
            request(&req),
            23,
            Body::ReadWriteMultipleRequest {
                read_start: 3,
                read_quantity: 6,
                write_start: 14,
                write_quantity: 3,
                byte_count: 6,
                values: &[0, 0xFF, 0, 0xFF, 0, 0xFF],
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 23, 0, 0, 0, 15, 1, // MBAP
            0x17,                  // read/write multiple registers
            0x0C,                  // byte count: 6 registers
            0x00, 0xFE, 0x0A, 0xCD, 0x00, 0x01, 0x00, 0x03, 0x00, 0x0D, 0x00, 0xFF,
        ];
        let m = response(&resp);
        assert_eq!(m.anomalies, CLEAN);
        assert!(matches!(m.body, Body::ByteCounted { byte_count: 12, data } if data.len() == 12));
        #[rustfmt::skip]
        let limits = [
            0, 23, 0, 0, 0, 11, 1, // MBAP
            0x17,                  // read/write multiple registers
            0x00, 0x00, 0x00, 0x7E, // read 126 registers: too many
            0x00, 0x00, 0x00, 0x7A, // write 122 registers: too many
            0x00,                   // byte count 0
        ];
        assert_eq!(
            request(&limits).anomalies,
            Anomalies::QUANTITY_OUT_OF_RANGE | Anomalies::BYTE_COUNT_MISMATCH
        );
    }

    #[test]
    fn fc24_read_fifo_queue() {
        #[rustfmt::skip]
        let req = [
            0, 24, 0, 0, 0, 4, 1, // MBAP
            0x18,                 // read fifo queue
            0x04, 0xDE,           // fifo pointer address 1246
        ];
        check(
            request(&req),
            24,
            Body::ReadFifoRequest { address: 0x04DE },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 24, 0, 0, 0, 10, 1, // MBAP
            0x18,                  // read fifo queue
            0x00, 0x06,            // byte count: fifo count + 2 registers
            0x00, 0x02,            // fifo count
            0x01, 0xB8, 0x12, 0x84, // fifo value registers
        ];
        check(
            response(&resp),
            24,
            Body::ReadFifoResponse {
                byte_count: 6,
                fifo_count: 2,
                values: &[0x01, 0xB8, 0x12, 0x84],
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let too_long = [
            0, 24, 0, 0, 0, 8, 1, // MBAP
            0x18,                 // read fifo queue
            0x00, 0x42,           // byte count 66
            0x00, 0x20,           // fifo count 32 > 31
            0x01, 0xB8,           // one register only
        ];
        assert_eq!(
            response(&too_long).anomalies,
            Anomalies::QUANTITY_OUT_OF_RANGE | Anomalies::LENGTH_MISMATCH
        );
    }

    #[test]
    fn fc43_14_read_device_identification() {
        #[rustfmt::skip]
        let req = [
            0, 43, 0, 0, 0, 5, 1, // MBAP
            0x2B,                 // encapsulated interface transport
            0x0E,                 // MEI type: read device identification
            0x01,                 // read device id code: basic
            0x00,                 // object id: vendor name
        ];
        check(
            request(&req),
            43,
            Body::ReadDeviceIdRequest {
                read_device_id_code: 1,
                object_id: 0,
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let resp = [
            0, 43, 0, 0, 0, 30, 1, // MBAP: length 30
            0x2B,                  // encapsulated interface transport
            0x0E,                  // MEI type
            0x01,                  // read device id code: basic
            0x01,                  // conformity level: basic, stream only
            0x00,                  // more follows: no
            0x00,                  // next object id
            0x03,                  // number of objects
            0x00, 0x06, b'A', b'c', b'm', b'e', b'C', b'o', // vendor name
            0x01, 0x05, b'P', b'L', b'C', b'-', b'1',       // product code
            0x02, 0x05, b'V', b'2', b'.', b'1', b'1',       // revision
        ];
        let m = response(&resp);
        assert_eq!(m.anomalies, CLEAN);
        let Body::ReadDeviceIdResponse {
            read_device_id_code,
            conformity_level,
            more_follows,
            next_object_id,
            number_of_objects,
            objects,
        } = m.body
        else {
            panic!("{:?}", m.body);
        };
        assert_eq!(
            (
                read_device_id_code,
                conformity_level,
                more_follows,
                next_object_id,
                number_of_objects
            ),
            (1, 1, 0, 0, 3)
        );
        let objects: Vec<_> = objects.iter().collect();
        assert_eq!(
            objects,
            [
                DeviceIdObject {
                    id: 0,
                    value: b"AcmeCo"
                },
                DeviceIdObject {
                    id: 1,
                    value: b"PLC-1"
                },
                DeviceIdObject {
                    id: 2,
                    value: b"V2.11"
                },
            ]
        );
    }

    #[test]
    fn fc43_14_truncated_objects_stop_safely() {
        #[rustfmt::skip]
        let resp = [
            0, 43, 0, 0, 0, 16, 1, // MBAP
            0x2B, 0x0E,            // FC 43, MEI 14
            0x02,                  // read device id code: regular
            0x83,                  // conformity level
            0xFF,                  // more follows: yes
            0x04,                  // next object id
            0x03,                  // number of objects: 3 announced
            0x00, 0x02, b'A', b'B', // vendor name
            0x01, 0x09, b'P', b'L', // product code: length 9, two bytes present
        ];
        let m = response(&resp);
        assert_eq!(m.anomalies, Anomalies::LENGTH_MISMATCH);
        let Body::ReadDeviceIdResponse { objects, .. } = m.body else {
            panic!("{:?}", m.body);
        };
        assert!(!objects.is_well_formed());
        let mut iter = objects.iter();
        assert_eq!(
            iter.next(),
            Some(DeviceIdObject {
                id: 0,
                value: b"AB"
            })
        );
        assert_eq!(iter.next(), None);
        assert!(iter.is_truncated());
        assert_eq!(iter.next(), None);
        #[rustfmt::skip]
        let bad_fields = [
            0, 43, 0, 0, 0, 8, 1, // MBAP
            0x2B, 0x0E,           // FC 43, MEI 14
            0x05,                 // read device id code 5: undefined
            0x04,                 // conformity level 4: undefined
            0x01,                 // more follows 1: undefined
            0x00,                 // next object id
            0x00,                 // number of objects
        ];
        assert_eq!(
            response(&bad_fields).anomalies,
            Anomalies::INVALID_FIELD_VALUE
        );
    }

    #[test]
    fn fc43_other_mei_types() {
        #[rustfmt::skip]
        let canopen = [
            0, 43, 0, 0, 0, 5, 1, // MBAP
            0x2B,                 // encapsulated interface transport
            0x0D,                 // MEI type: CANopen general reference
            0x01, 0x02,           // CANopen data
        ];
        check(
            request(&canopen),
            43,
            Body::MeiOther {
                mei_type: 13,
                data: &[1, 2],
            },
            CLEAN,
        );
        #[rustfmt::skip]
        let unknown = [
            0, 43, 0, 0, 0, 3, 1, // MBAP
            0x2B,                 // encapsulated interface transport
            0x0F,                 // MEI type 15: reserved
        ];
        check(
            response(&unknown),
            43,
            Body::MeiOther {
                mei_type: 15,
                data: &[],
            },
            Anomalies::UNKNOWN_MEI_TYPE,
        );
    }

    #[test]
    fn exceptions() {
        #[rustfmt::skip]
        let resp = [
            0, 1, 0, 0, 0, 3, 1, // MBAP
            0x83,                // exception to read holding registers
            0x02,                // illegal data address
        ];
        let m = response(&resp);
        check(
            m,
            0x83,
            Body::Exception {
                code: ExceptionCode::ILLEGAL_DATA_ADDRESS,
            },
            CLEAN,
        );
        assert_eq!(
            m.exception_code(),
            Some(ExceptionCode::ILLEGAL_DATA_ADDRESS)
        );
        for code in [1u8, 2, 3, 4, 5, 6, 8, 0x0A, 0x0B] {
            let resp = [0, 1, 0, 0, 0, 3, 1, 0x90, code];
            assert_eq!(response(&resp).anomalies, CLEAN, "{code}");
        }
        #[rustfmt::skip]
        let unknown = [
            0, 1, 0, 0, 0, 3, 1, // MBAP
            0xAB,                // exception to FC 43
            0x07,                // exception code 7: not defined by V1.1b3
        ];
        check(
            response(&unknown),
            0xAB,
            Body::Exception {
                code: ExceptionCode(7),
            },
            Anomalies::UNKNOWN_EXCEPTION_CODE,
        );
        // An exception without its code.
        let bare = [0, 1, 0, 0, 0, 2, 1, /* exception to FC 3 */ 0x83];
        check(
            response(&bare),
            0x83,
            Body::Raw(&[]),
            Anomalies::TRUNCATED_PDU,
        );
        // Exception code followed by junk.
        let trailing = [0, 1, 0, 0, 0, 4, 1, 0x83, 0x02, 0x99];
        assert_eq!(response(&trailing).anomalies, Anomalies::LENGTH_MISMATCH);
        // A client never sends an exception.
        assert_eq!(request(&resp).anomalies, Anomalies::EXCEPTION_IN_REQUEST);
    }

    #[test]
    fn non_public_function_codes() {
        let cases = [
            (0x00, Anomalies::ZERO_FUNCTION),
            (0x09, Anomalies::RESERVED_FUNCTION),
            (0x5A, Anomalies::RESERVED_FUNCTION),
            (0x41, Anomalies::USER_DEFINED_FUNCTION),
            (0x64, Anomalies::USER_DEFINED_FUNCTION),
            (0x12, Anomalies::UNASSIGNED_FUNCTION),
        ];
        for (function, flag) in cases {
            #[rustfmt::skip]
            let adu = [
                0, 1, 0, 0, 0, 4, 1, // MBAP
                function,            // function code
                0xDE, 0xAD,          // data
            ];
            check(request(&adu), function, Body::Raw(&[0xDE, 0xAD]), flag);
        }
    }

    #[test]
    fn truncated_and_trailing_bodies() {
        #[rustfmt::skip]
        let short = [
            0, 1, 0, 0, 0, 4, 1, // MBAP
            0x03,                // read holding registers
            0x00, 0x6B,          // starting address, quantity missing
        ];
        check(
            request(&short),
            3,
            Body::Raw(&[0x00, 0x6B]),
            Anomalies::TRUNCATED_PDU,
        );
        #[rustfmt::skip]
        let trailing = [
            0, 1, 0, 0, 0, 7, 1, // MBAP
            0x03,                // read holding registers
            0x00, 0x6B,          // starting address
            0x00, 0x03,          // quantity
            0x00,                // one byte too many
        ];
        check(
            request(&trailing),
            3,
            Body::ReadRequest {
                start: 0x6B,
                quantity: 3,
            },
            Anomalies::LENGTH_MISMATCH,
        );
        #[rustfmt::skip]
        let count_past_end = [
            0, 1, 0, 0, 0, 5, 1, // MBAP
            0x03,                // read holding registers
            0x04,                // byte count 4
            0x00, 0x0A,          // two bytes present
        ];
        check(
            response(&count_past_end),
            3,
            Body::ByteCounted {
                byte_count: 4,
                data: &[0x00, 0x0A],
            },
            Anomalies::LENGTH_MISMATCH,
        );
        #[rustfmt::skip]
        let bad_protocol = [
            0, 1, 0xAB, 0xCD, 0, 2, 1, // MBAP: protocol id 0xABCD
            0x07,                      // read exception status
        ];
        check(
            request(&bad_protocol),
            7,
            Body::Empty,
            Anomalies::BAD_PROTOCOL_ID,
        );
    }

    #[test]
    fn hand_built_adus_with_inconsistent_headers() {
        let header = MbapHeader {
            transaction_id: 1,
            protocol_id: 0,
            length: 9,
            unit_id: 1,
        };
        let m = parse(Adu { header, pdu: &[] }, Direction::Request);
        assert_eq!(m.body, Body::Raw(&[]));
        assert_eq!(
            m.anomalies,
            Anomalies::TRUNCATED_PDU | Anomalies::LENGTH_MISMATCH
        );
        let m = parse(
            Adu {
                header,
                pdu: &[0x07],
            },
            Direction::Request,
        );
        assert_eq!(m.body, Body::Empty);
        assert_eq!(m.anomalies, Anomalies::LENGTH_MISMATCH);
    }
}
