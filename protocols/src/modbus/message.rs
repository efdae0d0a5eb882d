//! Decoded Modbus messages: zero-copy bodies borrowing from the stream buffer.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::anomaly::Anomalies;
use super::types::{Access, Direction, ExceptionCode, FunctionCode, Table};
use super::wire::MbapHeader;

/// A decoded Modbus/TCP ADU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The MBAP header.
    pub header: MbapHeader,
    /// The function code, exception bit included.
    pub function: FunctionCode,
    /// Which way the message travels, as given to [`parse`](super::parse).
    pub direction: Direction,
    /// The decoded PDU data.
    pub body: Body<'a>,
    /// Spec violations found in the message.
    pub anomalies: Anomalies,
}

/// The data of a Modbus PDU, decoded according to its function code and direction.
///
/// Each variant belongs to known (function, direction) pairs, listed per
/// variant. Byte counts are kept as sent; the slices next to them hold the
/// bytes the count covers that the PDU actually carries (fewer when the count
/// runs past the end, flagged `LENGTH_MISMATCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// FC 1–4 request: read `quantity` items from `start`.
    ReadRequest {
        /// Starting address.
        start: u16,
        /// Quantity of coils, inputs or registers.
        quantity: u16,
    },
    /// A byte count and the bytes it covers: FC 1–4, 17 and 23 responses,
    /// FC 20 and 21 requests and responses.
    ByteCounted {
        /// Byte count, as sent.
        byte_count: u8,
        /// The bytes the count covers.
        data: &'a [u8],
    },
    /// FC 5 and 6 request and response (echo).
    WriteSingle {
        /// Output or register address.
        address: u16,
        /// Coil value (0xFF00 on, 0x0000 off) or register value.
        value: u16,
    },
    /// FC 15 and 16 request.
    WriteMultipleRequest {
        /// Starting address.
        start: u16,
        /// Quantity of coils or registers.
        quantity: u16,
        /// Byte count, as sent.
        byte_count: u8,
        /// Packed coil bits or big-endian register values.
        values: &'a [u8],
    },
    /// FC 15 and 16 response.
    WriteMultipleResponse {
        /// Starting address, echoed.
        start: u16,
        /// Quantity written.
        quantity: u16,
    },
    /// FC 22 request and response (echo): register = (register AND and_mask) OR (or_mask AND NOT and_mask).
    MaskWrite {
        /// Register address.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// FC 23 request: write registers, then read registers.
    ReadWriteMultipleRequest {
        /// Starting address of the read.
        read_start: u16,
        /// Quantity of registers to read.
        read_quantity: u16,
        /// Starting address of the write.
        write_start: u16,
        /// Quantity of registers to write.
        write_quantity: u16,
        /// Byte count of the write values, as sent.
        byte_count: u8,
        /// Big-endian register values to write.
        values: &'a [u8],
    },
    /// FC 24 request.
    ReadFifoRequest {
        /// FIFO pointer address.
        address: u16,
    },
    /// FC 24 response.
    ReadFifoResponse {
        /// Byte count (FIFO count and values), as sent.
        byte_count: u16,
        /// Number of registers in the queue.
        fifo_count: u16,
        /// Big-endian register values.
        values: &'a [u8],
    },
    /// FC 8 request and response.
    Diagnostics {
        /// Sub-function, see [`DiagnosticSubFunction`](super::DiagnosticSubFunction).
        sub_function: u16,
        /// Sub-function data.
        data: &'a [u8],
    },
    /// FC 7, 11, 12 and 17 request: no data.
    Empty,
    /// FC 7 response.
    ExceptionStatus {
        /// The eight exception status outputs.
        status: u8,
    },
    /// FC 11 response.
    CommEventCounter {
        /// 0xFFFF while a previous command is still processing, else 0.
        status: u16,
        /// Event counter.
        event_count: u16,
    },
    /// FC 12 response.
    CommEventLog {
        /// Byte count (status, counters and events), as sent.
        byte_count: u8,
        /// 0xFFFF while a previous command is still processing, else 0.
        status: u16,
        /// Event counter.
        event_count: u16,
        /// Message counter.
        message_count: u16,
        /// Event bytes, most recent first.
        events: &'a [u8],
    },
    /// FC 43 / MEI 14 request.
    ReadDeviceIdRequest {
        /// Read Device ID code, see [`ReadDeviceIdCode`](super::ReadDeviceIdCode).
        read_device_id_code: u8,
        /// First object to return.
        object_id: u8,
    },
    /// FC 43 / MEI 14 response.
    ReadDeviceIdResponse {
        /// Read Device ID code, echoed.
        read_device_id_code: u8,
        /// Conformity level of the device (0x01–0x03, 0x81–0x83).
        conformity_level: u8,
        /// 0xFF when another transaction is needed for the remaining objects, else 0.
        more_follows: u8,
        /// First object of the next transaction when `more_follows` is 0xFF.
        next_object_id: u8,
        /// Number of objects in this response.
        number_of_objects: u8,
        /// The objects.
        objects: DeviceIdObjects<'a>,
    },
    /// FC 43 request or response with an MEI type other than 14 (13 = CANopen included).
    MeiOther {
        /// MEI type, see [`MeiType`](super::MeiType).
        mei_type: u8,
        /// MEI type specific data.
        data: &'a [u8],
    },
    /// Exception response (function code with bit 7 set).
    Exception {
        /// The exception code.
        code: ExceptionCode,
    },
    /// PDU data of an unknown function, or of a known one too short to decode.
    Raw(&'a [u8]),
}

/// One read or write of a data table that a request makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataAccess {
    /// The table accessed.
    pub table: Table,
    /// Read or write.
    pub access: Access,
    /// First address (for file records: the file number of the first sub-request).
    pub start: u16,
    /// Number of items (for file records: registers over all sub-requests).
    pub count: u16,
}

/// The data-table accesses of one request (at most two), without allocating.
#[derive(Debug, Clone)]
pub struct Accesses {
    inner: core::iter::Flatten<core::array::IntoIter<Option<DataAccess>, 2>>,
}

impl Iterator for Accesses {
    type Item = DataAccess;

    fn next(&mut self) -> Option<DataAccess> {
        self.inner.next()
    }
}

impl<'a> Message<'a> {
    /// The data-table accesses a request makes: up to two (FC 23 reads and
    /// writes). Empty for responses, exceptions and functions that touch no table.
    ///
    /// FC 5, 15 write coils; FC 6, 16, 22 write holding registers; FC 1–4 read
    /// their table; FC 23 reads then writes holding registers; FC 24 reads the
    /// FIFO pointer register (`count` 1); FC 20, 21 read or write file records,
    /// reported as one access whose `start` is the first sub-request's file
    /// number and `count` the record length summed over all sub-requests (see
    /// [`Message::file_records`] for each sub-request).
    pub fn accesses(&self) -> Accesses {
        let [first, second] = match self.direction {
            Direction::Request => self.request_accesses(),
            Direction::Response => [None, None],
        };
        Accesses {
            inner: [first, second].into_iter().flatten(),
        }
    }

    fn request_accesses(&self) -> [Option<DataAccess>; 2] {
        let one = |table, access, start, count| {
            [
                Some(DataAccess {
                    table,
                    access,
                    start,
                    count,
                }),
                None,
            ]
        };
        let f = self.function;
        match self.body {
            Body::ReadRequest { start, quantity } => match f {
                FunctionCode::READ_COILS => one(Table::Coils, Access::Read, start, quantity),
                FunctionCode::READ_DISCRETE_INPUTS => {
                    one(Table::DiscreteInputs, Access::Read, start, quantity)
                }
                FunctionCode::READ_HOLDING_REGISTERS => {
                    one(Table::HoldingRegisters, Access::Read, start, quantity)
                }
                FunctionCode::READ_INPUT_REGISTERS => {
                    one(Table::InputRegisters, Access::Read, start, quantity)
                }
                _ => [None, None],
            },
            Body::WriteSingle { address, .. } => match f {
                FunctionCode::WRITE_SINGLE_COIL => one(Table::Coils, Access::Write, address, 1),
                FunctionCode::WRITE_SINGLE_REGISTER => {
                    one(Table::HoldingRegisters, Access::Write, address, 1)
                }
                _ => [None, None],
            },
            Body::WriteMultipleRequest {
                start, quantity, ..
            } => match f {
                FunctionCode::WRITE_MULTIPLE_COILS => {
                    one(Table::Coils, Access::Write, start, quantity)
                }
                FunctionCode::WRITE_MULTIPLE_REGISTERS => {
                    one(Table::HoldingRegisters, Access::Write, start, quantity)
                }
                _ => [None, None],
            },
            Body::MaskWrite { address, .. } => {
                one(Table::HoldingRegisters, Access::Write, address, 1)
            }
            Body::ReadWriteMultipleRequest {
                read_start,
                read_quantity,
                write_start,
                write_quantity,
                ..
            } => [
                Some(DataAccess {
                    table: Table::HoldingRegisters,
                    access: Access::Read,
                    start: read_start,
                    count: read_quantity,
                }),
                Some(DataAccess {
                    table: Table::HoldingRegisters,
                    access: Access::Write,
                    start: write_start,
                    count: write_quantity,
                }),
            ],
            Body::ReadFifoRequest { address } => {
                one(Table::HoldingRegisters, Access::Read, address, 1)
            }
            Body::ByteCounted { .. } => {
                let access = match f {
                    FunctionCode::READ_FILE_RECORD => Access::Read,
                    FunctionCode::WRITE_FILE_RECORD => Access::Write,
                    _ => return [None, None],
                };
                let Some(records) = self.file_records() else {
                    return [None, None];
                };
                let mut first_file = None;
                let mut count = 0u16;
                for record in records {
                    first_file.get_or_insert(record.file_number);
                    count = count.saturating_add(record.record_length);
                }
                match first_file {
                    Some(file) => one(Table::FileRecords, access, file, count),
                    None => [None, None],
                }
            }
            _ => [None, None],
        }
    }

    /// Quantity of a read request (coils, inputs or registers; the read half
    /// of FC 23) or of a write-multiple request, to check the response against.
    pub fn quantity(&self) -> Option<u16> {
        match self.body {
            Body::ReadRequest { quantity, .. } | Body::WriteMultipleRequest { quantity, .. } => {
                Some(quantity)
            }
            Body::ReadWriteMultipleRequest { read_quantity, .. } => Some(read_quantity),
            _ => None,
        }
    }

    /// The sub-requests of a Read File Record request (FC 20) or of a Write
    /// File Record request or response (FC 21); `None` for anything else.
    pub fn file_records(&self) -> Option<FileRecordRequests<'a>> {
        let Body::ByteCounted { data, .. } = self.body else {
            return None;
        };
        match (self.function, self.direction) {
            (FunctionCode::READ_FILE_RECORD, Direction::Request) => {
                Some(FileRecordRequests::new(data, false))
            }
            (FunctionCode::WRITE_FILE_RECORD, _) => Some(FileRecordRequests::new(data, true)),
            _ => None,
        }
    }

    /// The exception code of an exception response.
    pub fn exception_code(&self) -> Option<ExceptionCode> {
        match self.body {
            Body::Exception { code } => Some(code),
            _ => None,
        }
    }
}

/// The reference type every file sub-request carries.
pub const FILE_REFERENCE_TYPE: u8 = 6;

/// One sub-request of a Read File Record (FC 20) or Write File Record (FC 21) PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRecordRequest<'a> {
    /// Reference type, [`FILE_REFERENCE_TYPE`] (6).
    pub reference_type: u8,
    /// File number.
    pub file_number: u16,
    /// Starting record number within the file.
    pub record_number: u16,
    /// Number of 16-bit registers.
    pub record_length: u16,
    /// Register values written (FC 21), empty for FC 20.
    pub record_data: &'a [u8],
}

/// The sub-requests of a file record PDU. Stops at the first truncated one;
/// [`FileRecordRequests::is_truncated`] then says so.
#[derive(Debug, Clone)]
pub struct FileRecordRequests<'a> {
    reader: Reader<'a>,
    with_data: bool,
    truncated: bool,
}

impl<'a> FileRecordRequests<'a> {
    /// The sub-requests in `data`; `with_data` for FC 21, whose sub-requests carry record data.
    pub fn new(data: &'a [u8], with_data: bool) -> Self {
        FileRecordRequests {
            reader: Reader::new(data, Layer::Modbus),
            with_data,
            truncated: false,
        }
    }

    /// True once iteration stopped on a sub-request running past the end.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    fn read(&mut self) -> Result<FileRecordRequest<'a>, Error> {
        let r = &mut self.reader;
        let reference_type = r.u8()?;
        let file_number = r.be_u16()?;
        let record_number = r.be_u16()?;
        let record_length = r.be_u16()?;
        let record_data = if self.with_data {
            r.take(usize::from(record_length).saturating_mul(2))?
        } else {
            &[]
        };
        Ok(FileRecordRequest {
            reference_type,
            file_number,
            record_number,
            record_length,
            record_data,
        })
    }
}

impl<'a> Iterator for FileRecordRequests<'a> {
    type Item = FileRecordRequest<'a>;

    fn next(&mut self) -> Option<FileRecordRequest<'a>> {
        if self.reader.is_empty() {
            return None;
        }
        match self.read() {
            Ok(record) => Some(record),
            Err(_) => {
                self.truncated = true;
                self.reader.take_rest();
                None
            }
        }
    }
}

/// A Report Server ID response (FC 17) as the specification lays out its
/// data: a device-specific server id, the run indicator status (0x00 off,
/// 0xFF on) and device-specific additional data.
///
/// The specification does not say how long the server id is. The run
/// indicator is taken to be the first 0x00 or 0xFF byte after the first
/// byte: most devices send a one-byte id (libmodbus: `B4 FF "LMB3.1.10"`),
/// some a text id before it. Without such a byte, all of the data is the
/// server id and the run indicator is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerIdReport<'a> {
    /// The server id (device specific).
    pub server_id: &'a [u8],
    /// Run indicator status: `Some(true)` on (0xFF), `Some(false)` off (0x00).
    pub run_indicator: Option<bool>,
    /// Additional data (device specific), after the run indicator.
    pub additional_data: &'a [u8],
}

impl<'a> ServerIdReport<'a> {
    /// Splits the data of an FC 17 response (the bytes its byte count covers).
    pub fn split(data: &'a [u8]) -> Self {
        let indicator = data
            .iter()
            .skip(1)
            .position(|&b| b == 0x00 || b == 0xFF)
            .and_then(|at| data.split_at_checked(at + 1));
        if let Some((server_id, rest)) = indicator {
            if let Some((&status, additional_data)) = rest.split_first() {
                return ServerIdReport {
                    server_id,
                    run_indicator: Some(status == 0xFF),
                    additional_data,
                };
            }
        }
        ServerIdReport {
            server_id: data,
            run_indicator: None,
            additional_data: &[],
        }
    }
}

/// One object of a Read Device Identification response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceIdObject<'a> {
    /// Object id, see [`device_id_object_name`](super::device_id_object_name).
    pub id: u8,
    /// Object value (ASCII strings for ids 0–6).
    pub value: &'a [u8],
}

/// The object list of a Read Device Identification response, undecoded until iterated.
///
/// Holds every PDU byte after the number of objects; iteration yields up to
/// the declared number of objects and stops safely at the first truncated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceIdObjects<'a> {
    bytes: &'a [u8],
    count: u8,
}

impl<'a> DeviceIdObjects<'a> {
    /// The list of `count` objects encoded in `bytes` (id, length, value each).
    pub const fn new(bytes: &'a [u8], count: u8) -> Self {
        DeviceIdObjects { bytes, count }
    }

    /// The encoded objects, as carried by the PDU.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The declared number of objects.
    pub const fn count(&self) -> u8 {
        self.count
    }

    /// The objects, in order.
    pub fn iter(&self) -> DeviceIdObjectIter<'a> {
        DeviceIdObjectIter {
            reader: Reader::new(self.bytes, Layer::Modbus),
            remaining: self.count,
            truncated: false,
        }
    }

    /// True when the bytes hold exactly the declared number of objects, none truncated.
    pub fn is_well_formed(&self) -> bool {
        let mut iter = self.iter();
        iter.by_ref().for_each(drop);
        !iter.truncated && iter.reader.is_empty()
    }
}

impl<'a> IntoIterator for DeviceIdObjects<'a> {
    type Item = DeviceIdObject<'a>;
    type IntoIter = DeviceIdObjectIter<'a>;

    fn into_iter(self) -> DeviceIdObjectIter<'a> {
        self.iter()
    }
}

/// Iterator over [`DeviceIdObjects`].
#[derive(Debug, Clone)]
pub struct DeviceIdObjectIter<'a> {
    reader: Reader<'a>,
    remaining: u8,
    truncated: bool,
}

impl DeviceIdObjectIter<'_> {
    /// True once iteration stopped on an object running past the end.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl<'a> Iterator for DeviceIdObjectIter<'a> {
    type Item = DeviceIdObject<'a>;

    fn next(&mut self) -> Option<DeviceIdObject<'a>> {
        self.remaining = self.remaining.checked_sub(1)?;
        let r = &mut self.reader;
        let object = (|| {
            let id = r.u8()?;
            let len = r.u8()?;
            let value = r.take(usize::from(len))?;
            Ok::<_, Error>(DeviceIdObject { id, value })
        })();
        match object {
            Ok(object) => Some(object),
            Err(_) => {
                self.truncated = true;
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.remaining)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_id_report_splits_at_the_run_indicator() {
        use super::ServerIdReport;
        // libmodbus: id 0xB4, run indicator on, "LMB" and its version.
        let report = ServerIdReport::split(b"\xb4\xffLMB3.1.10");
        assert_eq!(report.server_id, b"\xb4");
        assert_eq!(report.run_indicator, Some(true));
        assert_eq!(report.additional_data, b"LMB3.1.10");
        // An id of 0x00 is the id, not the indicator.
        let report = ServerIdReport::split(&[0x00, 0x00, 0x07]);
        assert_eq!(
            (
                report.server_id,
                report.run_indicator,
                report.additional_data
            ),
            (&[0x00][..], Some(false), &[0x07][..])
        );
        // A text id, then the indicator.
        let report = ServerIdReport::split(b"PLC-7\xff");
        assert_eq!(report.server_id, b"PLC-7");
        assert_eq!(report.run_indicator, Some(true));
        assert!(report.additional_data.is_empty());
        // No indicator: all id.
        for data in [&b""[..], b"\xff", b"\x42\x07"] {
            let report = ServerIdReport::split(data);
            assert_eq!(report.server_id, data);
            assert_eq!(report.run_indicator, None);
        }
    }

    use super::*;
    use crate::modbus::{encode, frame, parse};
    use crate::stream::Framing;

    /// Encodes `body` under `function` and parses it back in `direction`.
    fn round(function: FunctionCode, body: Body<'_>, direction: Direction) -> (Vec<u8>, Anomalies) {
        let mut out = Vec::new();
        encode(&mut out, 1, 1, function, &body).unwrap();
        let anomalies = match frame(&out) {
            Framing::Parsed { message, .. } => parse(message, direction).anomalies,
            other => panic!("{other:?}"),
        };
        (out, anomalies)
    }

    fn message(function: FunctionCode, body: Body<'_>, direction: Direction) -> Message<'_> {
        Message {
            header: MbapHeader {
                transaction_id: 1,
                protocol_id: 0,
                length: 0,
                unit_id: 1,
            },
            function,
            direction,
            body,
            anomalies: Anomalies::empty(),
        }
    }

    fn access(table: Table, access: Access, start: u16, count: u16) -> DataAccess {
        DataAccess {
            table,
            access,
            start,
            count,
        }
    }

    #[test]
    fn request_accesses() {
        use Access::{Read, Write};
        use Direction::Request;
        use Table::*;
        let read = |start, quantity| Body::ReadRequest { start, quantity };
        let cases: [(FunctionCode, Body<'_>, &[DataAccess]); 11] = [
            (
                FunctionCode::READ_COILS,
                read(1, 2),
                &[access(Coils, Read, 1, 2)],
            ),
            (
                FunctionCode::READ_DISCRETE_INPUTS,
                read(3, 4),
                &[access(DiscreteInputs, Read, 3, 4)],
            ),
            (
                FunctionCode::READ_HOLDING_REGISTERS,
                read(5, 6),
                &[access(HoldingRegisters, Read, 5, 6)],
            ),
            (
                FunctionCode::READ_INPUT_REGISTERS,
                read(7, 8),
                &[access(InputRegisters, Read, 7, 8)],
            ),
            (
                FunctionCode::WRITE_SINGLE_COIL,
                Body::WriteSingle {
                    address: 9,
                    value: 0xFF00,
                },
                &[access(Coils, Write, 9, 1)],
            ),
            (
                FunctionCode::WRITE_SINGLE_REGISTER,
                Body::WriteSingle {
                    address: 10,
                    value: 7,
                },
                &[access(HoldingRegisters, Write, 10, 1)],
            ),
            (
                FunctionCode::WRITE_MULTIPLE_COILS,
                Body::WriteMultipleRequest {
                    start: 11,
                    quantity: 9,
                    byte_count: 2,
                    values: &[0, 1],
                },
                &[access(Coils, Write, 11, 9)],
            ),
            (
                FunctionCode::WRITE_MULTIPLE_REGISTERS,
                Body::WriteMultipleRequest {
                    start: 12,
                    quantity: 1,
                    byte_count: 2,
                    values: &[0, 1],
                },
                &[access(HoldingRegisters, Write, 12, 1)],
            ),
            (
                FunctionCode::MASK_WRITE_REGISTER,
                Body::MaskWrite {
                    address: 13,
                    and_mask: 0,
                    or_mask: 1,
                },
                &[access(HoldingRegisters, Write, 13, 1)],
            ),
            (
                FunctionCode::READ_WRITE_MULTIPLE_REGISTERS,
                Body::ReadWriteMultipleRequest {
                    read_start: 14,
                    read_quantity: 2,
                    write_start: 15,
                    write_quantity: 1,
                    byte_count: 2,
                    values: &[0, 1],
                },
                &[
                    access(HoldingRegisters, Read, 14, 2),
                    access(HoldingRegisters, Write, 15, 1),
                ],
            ),
            (
                FunctionCode::READ_FIFO_QUEUE,
                Body::ReadFifoRequest { address: 16 },
                &[access(HoldingRegisters, Read, 16, 1)],
            ),
        ];
        for (function, body, expected) in cases {
            let m = message(function, body, Request);
            assert_eq!(m.accesses().collect::<Vec<_>>(), expected, "{function:?}");
            // A response with the same body touches nothing.
            let m = message(function, body, Direction::Response);
            assert_eq!(m.accesses().count(), 0, "{function:?}");
        }
        let (_, anomalies) = round(FunctionCode::READ_COILS, read(1, 2), Request);
        assert_eq!(anomalies, Anomalies::empty());
    }

    #[test]
    fn no_accesses() {
        let cases = [
            (FunctionCode::READ_EXCEPTION_STATUS, Body::Empty),
            (
                FunctionCode::DIAGNOSTICS,
                Body::Diagnostics {
                    sub_function: 0,
                    data: &[],
                },
            ),
            (
                FunctionCode(0x83),
                Body::Exception {
                    code: ExceptionCode(2),
                },
            ),
            (FunctionCode(0x41), Body::Raw(&[1, 2, 3, 4])),
            (
                FunctionCode::ENCAPSULATED_INTERFACE_TRANSPORT,
                Body::ReadDeviceIdRequest {
                    read_device_id_code: 1,
                    object_id: 0,
                },
            ),
        ];
        for (function, body) in cases {
            let m = message(function, body, Direction::Request);
            assert_eq!(m.accesses().count(), 0, "{function:?}");
            assert_eq!(m.quantity(), None);
        }
    }

    #[test]
    fn file_record_accesses() {
        let mut data = Vec::new();
        for (file_number, record_length) in [(4u16, 2u16), (3, 5)] {
            FileRecordRequest {
                reference_type: FILE_REFERENCE_TYPE,
                file_number,
                record_number: 1,
                record_length,
                record_data: &[],
            }
            .write(&mut data);
        }
        let body = Body::ByteCounted {
            byte_count: 14,
            data: &data,
        };
        let m = message(FunctionCode::READ_FILE_RECORD, body, Direction::Request);
        assert_eq!(
            m.accesses().collect::<Vec<_>>(),
            [access(Table::FileRecords, Access::Read, 4, 7)]
        );
        let (_, anomalies) = round(FunctionCode::READ_FILE_RECORD, body, Direction::Request);
        assert_eq!(anomalies, Anomalies::empty());
        // The same body under another function touches no file.
        let m = message(
            FunctionCode::READ_HOLDING_REGISTERS,
            body,
            Direction::Request,
        );
        assert_eq!(m.accesses().count(), 0);
        assert!(m.file_records().is_none());
    }

    #[test]
    fn quantities() {
        let m = message(
            FunctionCode::READ_COILS,
            Body::ReadRequest {
                start: 0,
                quantity: 17,
            },
            Direction::Request,
        );
        assert_eq!(m.quantity(), Some(17));
        let m = message(
            FunctionCode::WRITE_MULTIPLE_REGISTERS,
            Body::WriteMultipleRequest {
                start: 0,
                quantity: 3,
                byte_count: 6,
                values: &[0; 6],
            },
            Direction::Request,
        );
        assert_eq!(m.quantity(), Some(3));
        let m = message(
            FunctionCode::READ_WRITE_MULTIPLE_REGISTERS,
            Body::ReadWriteMultipleRequest {
                read_start: 0,
                read_quantity: 4,
                write_start: 0,
                write_quantity: 1,
                byte_count: 2,
                values: &[0; 2],
            },
            Direction::Request,
        );
        assert_eq!(m.quantity(), Some(4));
    }

    #[test]
    fn device_id_objects_write_and_iterate() {
        let mut bytes = Vec::new();
        let objects = [
            DeviceIdObject {
                id: 0,
                value: b"Acme",
            },
            DeviceIdObject {
                id: 0x80,
                value: b"",
            },
        ];
        for object in &objects {
            object.write(&mut bytes);
        }
        let list = DeviceIdObjects::new(&bytes, 2);
        assert!(list.is_well_formed());
        assert_eq!(list.into_iter().collect::<Vec<_>>(), objects);
        assert_eq!(list.as_bytes(), bytes.as_slice());
        // Fewer objects declared than present: the rest is left over.
        assert!(!DeviceIdObjects::new(&bytes, 1).is_well_formed());
        assert_eq!(DeviceIdObjects::new(&bytes, 1).iter().count(), 1);
        // More declared than present.
        assert!(!DeviceIdObjects::new(&bytes, 3).is_well_formed());
        assert_eq!(DeviceIdObjects::new(&bytes, 3).iter().count(), 2);
        // A value over 255 bytes is cut.
        let long = [b'x'; 300];
        let mut out = Vec::new();
        DeviceIdObject {
            id: 1,
            value: &long,
        }
        .write(&mut out);
        assert_eq!(out.len(), 257);
        assert!(DeviceIdObjects::new(&out, 1).is_well_formed());
    }

    #[test]
    fn encode_refuses_oversized_pdus() {
        let data = [0u8; 252];
        let mut out = vec![0xAA];
        let body = Body::Raw(&data);
        assert!(encode(&mut out, 1, 1, FunctionCode(0x41), &body).is_ok());
        assert_eq!(out.len(), 1 + 7 + 1 + 252);
        assert!(matches!(
            frame(out.get(1..).unwrap_or_default()),
            Framing::Parsed { consumed: 260, .. }
        ));
        let data = [0u8; 253];
        let mut out = vec![0xAA];
        let body = Body::Raw(&data);
        assert!(encode(&mut out, 1, 1, FunctionCode(0x41), &body).is_err());
        assert_eq!(out, [0xAA]);
    }
}
