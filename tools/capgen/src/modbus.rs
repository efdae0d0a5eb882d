//! Modbus conversations: requests a client sends and the answers of a PLC with a process image
//! and an identity. Every ADU is encoded by `faro_protocols::modbus::encode`; this module only
//! decides what is said.

use anyhow::{Context, Result};
use faro_protocols::modbus::{
    self, Body, DeviceIdObject, DeviceIdObjects, DiagnosticSubFunction, ExceptionCode,
    FILE_REFERENCE_TYPE, FileRecordRequest, FunctionCode, ReadDeviceIdCode,
};

use crate::rng::Rng;

/// Conformity level 0x82: regular identification, stream and individual access.
const CONFORMITY_REGULAR_INDIVIDUAL: u8 = 0x82;
/// Coil values of Write Single Coil.
const COIL_ON: u16 = 0xFF00;
const COIL_OFF: u16 = 0x0000;
/// Highest record number of a file (spec 6.15: 0x0000 to 0x270F).
const MAX_FILE_RECORD: u16 = 0x270F;

/// One request a client puts on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// FC 1, 2, 3 or 4.
    Read {
        function: FunctionCode,
        start: u16,
        quantity: u16,
    },
    /// FC 5.
    WriteSingleCoil { address: u16, on: bool },
    /// FC 6.
    WriteSingleRegister { address: u16, value: u16 },
    /// FC 15.
    WriteMultipleCoils { start: u16, bits: Vec<bool> },
    /// FC 16.
    WriteMultipleRegisters { start: u16, values: Vec<u16> },
    /// FC 8 with one 16-bit data word.
    Diagnostics { sub_function: u16, data: u16 },
    /// FC 43 / MEI 14.
    ReadDeviceId { code: u8, object_id: u8 },
    /// FC 21 with one sub-request: `values` written from record `record` of file `file`.
    WriteFileRecord {
        file: u16,
        record: u16,
        values: Vec<u16>,
    },
}

impl Request {
    pub(crate) fn function(&self) -> FunctionCode {
        match self {
            Request::Read { function, .. } => *function,
            Request::WriteSingleCoil { .. } => FunctionCode::WRITE_SINGLE_COIL,
            Request::WriteSingleRegister { .. } => FunctionCode::WRITE_SINGLE_REGISTER,
            Request::WriteMultipleCoils { .. } => FunctionCode::WRITE_MULTIPLE_COILS,
            Request::WriteMultipleRegisters { .. } => FunctionCode::WRITE_MULTIPLE_REGISTERS,
            Request::Diagnostics { .. } => FunctionCode::DIAGNOSTICS,
            Request::ReadDeviceId { .. } => FunctionCode::ENCAPSULATED_INTERFACE_TRANSPORT,
            Request::WriteFileRecord { .. } => FunctionCode::WRITE_FILE_RECORD,
        }
    }

    /// Appends the request ADU to `out`; `scratch` holds packed data between calls.
    pub(crate) fn encode(
        &self,
        out: &mut Vec<u8>,
        transaction_id: u16,
        unit_id: u8,
        scratch: &mut Vec<u8>,
    ) -> Result<()> {
        scratch.clear();
        let body = match self {
            Request::Read {
                start, quantity, ..
            } => Body::ReadRequest {
                start: *start,
                quantity: *quantity,
            },
            Request::WriteSingleCoil { address, on } => Body::WriteSingle {
                address: *address,
                value: if *on { COIL_ON } else { COIL_OFF },
            },
            Request::WriteSingleRegister { address, value } => Body::WriteSingle {
                address: *address,
                value: *value,
            },
            Request::WriteMultipleCoils { start, bits } => {
                pack_bits(bits.iter().copied(), scratch);
                Body::WriteMultipleRequest {
                    start: *start,
                    quantity: count_u16(bits.len())?,
                    byte_count: count_u8(scratch.len())?,
                    values: scratch,
                }
            }
            Request::WriteMultipleRegisters { start, values } => {
                pack_registers(values.iter().copied(), scratch);
                Body::WriteMultipleRequest {
                    start: *start,
                    quantity: count_u16(values.len())?,
                    byte_count: count_u8(scratch.len())?,
                    values: scratch,
                }
            }
            Request::Diagnostics { sub_function, data } => {
                scratch.extend_from_slice(&data.to_be_bytes());
                Body::Diagnostics {
                    sub_function: *sub_function,
                    data: scratch,
                }
            }
            Request::ReadDeviceId { code, object_id } => Body::ReadDeviceIdRequest {
                read_device_id_code: *code,
                object_id: *object_id,
            },
            Request::WriteFileRecord {
                file,
                record,
                values,
            } => {
                write_file_record(*file, *record, values, scratch)?;
                Body::ByteCounted {
                    byte_count: count_u8(scratch.len())?,
                    data: scratch,
                }
            }
        };
        encode(out, transaction_id, unit_id, self.function(), &body)
    }
}

/// Appends one ADU through the project's encoder.
fn encode(
    out: &mut Vec<u8>,
    transaction_id: u16,
    unit_id: u8,
    function: FunctionCode,
    body: &Body<'_>,
) -> Result<()> {
    modbus::encode(out, transaction_id, unit_id, function, body)
        .with_context(|| format!("encoding Modbus function {}", function.0))?;
    Ok(())
}

fn count_u16(n: usize) -> Result<u16> {
    u16::try_from(n).context("quantity does not fit a u16")
}

fn count_u8(n: usize) -> Result<u8> {
    u8::try_from(n).context("byte count does not fit a u8")
}

/// Coils packed LSB first, eight per byte (spec 6.1).
fn pack_bits(bits: impl Iterator<Item = bool>, out: &mut Vec<u8>) {
    for (i, bit) in bits.enumerate() {
        if i % 8 == 0 {
            out.push(0);
        }
        if bit && let Some(last) = out.last_mut() {
            *last |= 1 << (i % 8);
        }
    }
}

fn pack_registers(values: impl Iterator<Item = u16>, out: &mut Vec<u8>) {
    for value in values {
        out.extend_from_slice(&value.to_be_bytes());
    }
}

/// One FC 21 sub-request (spec 6.15: reference type 6, file number, record number, record
/// length, then the registers), as the request carries it and the response echoes it.
fn write_file_record(file: u16, record: u16, values: &[u16], out: &mut Vec<u8>) -> Result<()> {
    let mut data = Vec::with_capacity(values.len() * 2);
    pack_registers(values.iter().copied(), &mut data);
    FileRecordRequest {
        reference_type: FILE_REFERENCE_TYPE,
        file_number: file,
        record_number: record,
        record_length: count_u16(values.len())?,
        record_data: &data,
    }
    .write(out);
    Ok(())
}

/// What a device says about itself in Read Device Identification (FC 43 / MEI 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) vendor_name: &'static str,
    pub(crate) product_code: &'static str,
    pub(crate) revision: &'static str,
    pub(crate) vendor_url: &'static str,
    pub(crate) product_name: &'static str,
    pub(crate) model_name: &'static str,
}

impl Identity {
    /// Objects 0–2 (basic) or 0–5 (regular), skipping empty optional ones.
    fn objects(&self, code: u8) -> impl Iterator<Item = (u8, &'static str)> {
        let basic = [
            (0u8, self.vendor_name),
            (1, self.product_code),
            (2, self.revision),
        ];
        let regular = [
            (3u8, self.vendor_url),
            (4, self.product_name),
            (5, self.model_name),
        ];
        let take_regular = ReadDeviceIdCode(code) != ReadDeviceIdCode::BASIC;
        basic.into_iter().chain(
            regular
                .into_iter()
                .filter(move |(_, text)| take_regular && !text.is_empty()),
        )
    }
}

/// Size of each table of the process image; addresses at or past it raise exception 2.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) coils: u16,
    pub(crate) discrete_inputs: u16,
    pub(crate) holding_registers: u16,
    pub(crate) input_registers: u16,
}

impl Limits {
    pub(crate) const DEFAULT: Limits = Limits {
        coils: 2048,
        discrete_inputs: 2048,
        holding_registers: 4096,
        input_registers: 1024,
    };
}

/// A Modbus server: process image, identity, and the answers it gives.
#[derive(Debug, Clone)]
pub(crate) struct Plc {
    pub(crate) identity: Identity,
    coils: Vec<bool>,
    discrete_inputs: Vec<bool>,
    holding_registers: Vec<u16>,
    input_registers: Vec<u16>,
    rng: Rng,
    scratch: Vec<u8>,
}

impl Plc {
    pub(crate) fn new(identity: Identity, limits: Limits, mut rng: Rng) -> Self {
        let bits = |n: u16, rng: &mut Rng| (0..n).map(|_| rng.chance(30)).collect::<Vec<_>>();
        let coils = bits(limits.coils, &mut rng);
        let discrete_inputs = bits(limits.discrete_inputs, &mut rng);
        // Holding registers: set points and counters (0–1500). Input registers: measurements in
        // tenths of an engineering unit (20.0–900.0), drifting a little on every read.
        let holding_registers = (0..limits.holding_registers)
            .map(|_| rng.range_u16(0, 1500))
            .collect();
        let input_registers = (0..limits.input_registers)
            .map(|_| rng.range_u16(200, 9000))
            .collect();
        Self {
            identity,
            coils,
            discrete_inputs,
            holding_registers,
            input_registers,
            rng,
            scratch: Vec::with_capacity(256),
        }
    }

    /// Appends the response ADU to `request`. Reads and writes outside the image get exception 2
    /// (illegal data address).
    pub(crate) fn answer(
        &mut self,
        request: &Request,
        transaction_id: u16,
        unit_id: u8,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let function = request.function();
        self.scratch.clear();
        let body = match request {
            Request::Read {
                function,
                start,
                quantity,
            } => {
                let Some(range) = self.readable(*function, *start, *quantity) else {
                    return exception(
                        out,
                        transaction_id,
                        unit_id,
                        *function,
                        ExceptionCode::ILLEGAL_DATA_ADDRESS,
                    );
                };
                self.drift(*function, range.clone());
                match *function {
                    FunctionCode::READ_COILS => {
                        pack_bits(
                            self.coils.get(range).unwrap_or_default().iter().copied(),
                            &mut self.scratch,
                        );
                    }
                    FunctionCode::READ_DISCRETE_INPUTS => pack_bits(
                        self.discrete_inputs
                            .get(range)
                            .unwrap_or_default()
                            .iter()
                            .copied(),
                        &mut self.scratch,
                    ),
                    FunctionCode::READ_HOLDING_REGISTERS => pack_registers(
                        self.holding_registers
                            .get(range)
                            .unwrap_or_default()
                            .iter()
                            .copied(),
                        &mut self.scratch,
                    ),
                    _ => pack_registers(
                        self.input_registers
                            .get(range)
                            .unwrap_or_default()
                            .iter()
                            .copied(),
                        &mut self.scratch,
                    ),
                }
                Body::ByteCounted {
                    byte_count: count_u8(self.scratch.len())?,
                    data: &self.scratch,
                }
            }
            Request::WriteSingleCoil { address, on } => {
                let Some(coil) = self.coils.get_mut(usize::from(*address)) else {
                    return exception(
                        out,
                        transaction_id,
                        unit_id,
                        function,
                        ExceptionCode::ILLEGAL_DATA_ADDRESS,
                    );
                };
                *coil = *on;
                Body::WriteSingle {
                    address: *address,
                    value: if *on { COIL_ON } else { COIL_OFF },
                }
            }
            Request::WriteSingleRegister { address, value } => {
                let Some(register) = self.holding_registers.get_mut(usize::from(*address)) else {
                    return exception(
                        out,
                        transaction_id,
                        unit_id,
                        function,
                        ExceptionCode::ILLEGAL_DATA_ADDRESS,
                    );
                };
                *register = *value;
                Body::WriteSingle {
                    address: *address,
                    value: *value,
                }
            }
            Request::WriteMultipleCoils { start, bits } => {
                let begin = usize::from(*start);
                let Some(target) = self.coils.get_mut(begin..begin + bits.len()) else {
                    return exception(
                        out,
                        transaction_id,
                        unit_id,
                        function,
                        ExceptionCode::ILLEGAL_DATA_ADDRESS,
                    );
                };
                target.copy_from_slice(bits);
                Body::WriteMultipleResponse {
                    start: *start,
                    quantity: count_u16(bits.len())?,
                }
            }
            Request::WriteMultipleRegisters { start, values } => {
                let begin = usize::from(*start);
                let Some(target) = self.holding_registers.get_mut(begin..begin + values.len())
                else {
                    return exception(
                        out,
                        transaction_id,
                        unit_id,
                        function,
                        ExceptionCode::ILLEGAL_DATA_ADDRESS,
                    );
                };
                target.copy_from_slice(values);
                Body::WriteMultipleResponse {
                    start: *start,
                    quantity: count_u16(values.len())?,
                }
            }
            Request::Diagnostics { sub_function, data } => {
                if DiagnosticSubFunction(*sub_function) != DiagnosticSubFunction::RETURN_QUERY_DATA
                {
                    return exception(
                        out,
                        transaction_id,
                        unit_id,
                        function,
                        ExceptionCode::ILLEGAL_FUNCTION,
                    );
                }
                self.scratch.extend_from_slice(&data.to_be_bytes());
                Body::Diagnostics {
                    sub_function: *sub_function,
                    data: &self.scratch,
                }
            }
            Request::ReadDeviceId { code, .. } => {
                let mut number_of_objects = 0u8;
                for (id, text) in self.identity.objects(*code) {
                    DeviceIdObject {
                        id,
                        value: text.as_bytes(),
                    }
                    .write(&mut self.scratch);
                    number_of_objects += 1;
                }
                Body::ReadDeviceIdResponse {
                    read_device_id_code: *code,
                    conformity_level: CONFORMITY_REGULAR_INDIVIDUAL,
                    more_follows: 0,
                    next_object_id: 0,
                    number_of_objects,
                    objects: DeviceIdObjects::new(&self.scratch, number_of_objects),
                }
            }
            Request::WriteFileRecord {
                file,
                record,
                values,
            } => {
                // File 0 does not exist; records run 0 to 9999 (spec 6.15).
                let last = usize::from(*record) + values.len().saturating_sub(1);
                if *file == 0 || last > usize::from(MAX_FILE_RECORD) {
                    return exception(
                        out,
                        transaction_id,
                        unit_id,
                        function,
                        ExceptionCode::ILLEGAL_DATA_ADDRESS,
                    );
                }
                // The normal response is an echo of the request.
                write_file_record(*file, *record, values, &mut self.scratch)?;
                Body::ByteCounted {
                    byte_count: count_u8(self.scratch.len())?,
                    data: &self.scratch,
                }
            }
        };
        encode(out, transaction_id, unit_id, function, &body)
    }

    /// The image range a read may return, or `None` past the end of the table.
    fn readable(
        &self,
        function: FunctionCode,
        start: u16,
        quantity: u16,
    ) -> Option<std::ops::Range<usize>> {
        let len = match function {
            FunctionCode::READ_COILS => self.coils.len(),
            FunctionCode::READ_DISCRETE_INPUTS => self.discrete_inputs.len(),
            FunctionCode::READ_HOLDING_REGISTERS => self.holding_registers.len(),
            _ => self.input_registers.len(),
        };
        let range = usize::from(start)..usize::from(start) + usize::from(quantity);
        (range.end <= len).then_some(range)
    }

    /// Measurements move a little between polls; inputs toggle now and then.
    fn drift(&mut self, function: FunctionCode, range: std::ops::Range<usize>) {
        match function {
            FunctionCode::READ_INPUT_REGISTERS => {
                for value in self.input_registers.get_mut(range).unwrap_or_default() {
                    let step = self.rng.below(7) as u16;
                    *value = value
                        .saturating_add(step)
                        .saturating_sub(3)
                        .clamp(100, 9900);
                }
            }
            FunctionCode::READ_DISCRETE_INPUTS => {
                for bit in self.discrete_inputs.get_mut(range).unwrap_or_default() {
                    if self.rng.chance(2) {
                        *bit = !*bit;
                    }
                }
            }
            _ => {}
        }
    }
}

/// Appends an exception response: the function code with bit 7 set and the exception code.
pub(crate) fn exception(
    out: &mut Vec<u8>,
    transaction_id: u16,
    unit_id: u8,
    function: FunctionCode,
    code: ExceptionCode,
) -> Result<()> {
    encode(
        out,
        transaction_id,
        unit_id,
        function.to_exception(),
        &Body::Exception { code },
    )
}

#[cfg(test)]
mod tests {
    use faro_protocols::Framing;
    use faro_protocols::modbus::{Anomalies, Direction, response_anomalies};

    use super::*;
    use crate::scenario::sample;

    /// The one ADU at the start of `bytes`, parsed as sent in `direction`.
    fn parse(bytes: &[u8], direction: Direction) -> modbus::Message<'_> {
        let Framing::Parsed { consumed, message } = modbus::frame(bytes) else {
            panic!("no ADU in {bytes:02x?}");
        };
        assert_eq!(consumed, bytes.len());
        modbus::parse(message, direction)
    }

    #[test]
    fn write_file_record_is_answered_with_its_echo() {
        let request = Request::WriteFileRecord {
            file: 4,
            record: 1,
            values: vec![0x06AF, 0x04BE, 0x100D],
        };
        let mut scratch = Vec::new();
        let mut sent = Vec::new();
        request.encode(&mut sent, 7, 1, &mut scratch).unwrap();
        // Spec 6.15's example but for record 1: byte count 13, reference type 6, file 4, length 3.
        assert_eq!(
            &sent[7..],
            [
                0x15, 0x0D, 0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x03, 0x06, 0xAF, 0x04, 0xBE, 0x10,
                0x0D
            ]
        );
        let parsed = parse(&sent, Direction::Request);
        assert_eq!(parsed.anomalies, Anomalies::empty());
        let records: Vec<_> = parsed.file_records().unwrap().collect();
        assert_eq!(records.len(), 1);
        assert_eq!((records[0].file_number, records[0].record_number), (4, 1));

        let mut plc = Plc::new(sample::identity(0), Limits::DEFAULT, Rng::new(1));
        let mut answer = Vec::new();
        plc.answer(&request, 7, 1, &mut answer).unwrap();
        assert_eq!(answer, sent);
        let response = parse(&answer, Direction::Response);
        assert_eq!(response.anomalies, Anomalies::empty());
        assert_eq!(
            response_anomalies(request.function(), parsed.quantity(), &response),
            Anomalies::empty()
        );

        // File 0 does not exist.
        let nowhere = Request::WriteFileRecord {
            file: 0,
            record: 1,
            values: vec![1],
        };
        answer.clear();
        plc.answer(&nowhere, 8, 1, &mut answer).unwrap();
        assert_eq!(&answer[7..], [0x95, 0x02]);
    }
}
