//! S7comm conversations: what HMIs and engineering stations ask S7-300/400 CPUs and what the
//! CPUs answer. Every PDU is encoded by `faro_protocols::s7::comm::encode` (userdata data parts
//! by its `write_szl_*`), the COTP and TPKT framing around it by the session; SZL records come
//! from [`crate::szl`]. This module only decides what is said.

use anyhow::{Context, Result, bail};
use faro_protocols::s7::comm::{
    self, Anomalies, AnyItem, Area, Block, BlockType, DataItem, DataTransportSize, Function,
    Header, Item, Items, Message, Param, ReturnCode, Rosctr, SyntaxId, SzlResponse, TransportSize,
    UserdataGroup, UserdataKind, subfunction,
};
use faro_protocols::s7::szl::{
    MODULE_IDENTIFICATION_LEN, OPERATING_MODE_LEN, PROTECTION_INDEX, PROTECTION_LEN, component, id,
    mode_selector,
};

use crate::rng::Rng;
use crate::szl::{self, COMPONENT_IDENTIFICATION_LEN, ModeTransition, Protection, module_index};
use crate::truth::FunctionKey;

/// The service name of PLC stop and of the restart PI service.
pub(crate) const P_PROGRAM: &[u8] = b"P_PROGRAM";
/// The PI service that activates downloaded blocks.
pub(crate) const INSERT: &[u8] = b"_INSE";
/// Bytes between the length and the block bytes of a Download block or Upload Ack_Data.
const BLOCK_DATA_UNKNOWN: [u8; 2] = [0x00, 0xFB];
/// Function status bit: more data follows.
const MORE_FOLLOWS: u8 = 0x01;
/// Largest piece of a block in one Download block or Upload Ack_Data (fits a 240-byte PDU).
pub(crate) const BLOCK_CHUNK: usize = 200;
/// Userdata error of a Read SZL for an SZL id the CPU does not have.
const SZL_NOT_AVAILABLE: u16 = 0xD402;

/// A header with the lengths left for the encoder to fill in.
fn header(rosctr: Rosctr, pdu_ref: u16) -> Header {
    Header {
        rosctr,
        redundancy_id: 0,
        pdu_ref,
        param_len: 0,
        data_len: 0,
        error: rosctr.has_error_fields().then_some((0, 0)),
    }
}

/// What a sensor counts a PDU as: a Job by its parameter function, a userdata request by
/// function group and subfunction; `None` for responses and pushes.
pub(crate) fn request_key(message: &Message<'_>) -> Option<FunctionKey> {
    match (message.header.rosctr, message.param) {
        (Rosctr::JOB, param) => param.function().map(|f| FunctionKey::Code(f.0)),
        (
            Rosctr::USERDATA,
            Param::Userdata {
                kind,
                group,
                subfunction,
                ..
            },
        ) if UserdataKind(kind) == UserdataKind::REQUEST => {
            Some(FunctionKey::Userdata { group, subfunction })
        }
        _ => None,
    }
}

/// Appends one PDU through the project's encoder; returns what a sensor counts it as.
fn encode(
    out: &mut Vec<u8>,
    rosctr: Rosctr,
    pdu_ref: u16,
    param: Param<'_>,
    data: &[u8],
) -> Result<Option<FunctionKey>> {
    let message = Message {
        header: header(rosctr, pdu_ref),
        param,
        data,
        anomalies: Anomalies::empty(),
    };
    comm::encode(out, &message)
        .with_context(|| format!("encoding S7comm {:?} {:?}", rosctr, param.function()))?;
    Ok(request_key(&message))
}

/// A Read SZL userdata parameter: a request (short form) or a response (extended form).
fn read_szl_param(kind: UserdataKind, sequence: u8, error: u16) -> Param<'static> {
    let syntax = if kind == UserdataKind::REQUEST {
        SyntaxId::SHORT
    } else {
        SyntaxId::EXT
    };
    Param::Userdata {
        function: Function::CPU_SERVICES,
        syntax_id: syntax.0,
        kind: kind.0,
        group: UserdataGroup::CPU.0,
        subfunction: subfunction::READ_SZL,
        sequence,
        data_unit_ref: 0,
        last_data_unit: true,
        error,
    }
}

/// `count` elements of `size` in data block `db` from byte `byte` (DB10.DBD20 REAL 4...).
pub(crate) fn db_item(db: u16, byte: u32, size: TransportSize, count: u16) -> AnyItem {
    AnyItem {
        transport_size: size.0,
        length: count,
        db,
        area: Area::DATA_BLOCKS,
        address: byte << 3,
    }
}

/// One bit of a data block (DB11.DBX4.3).
pub(crate) fn db_bit(db: u16, byte: u32, bit: u8) -> AnyItem {
    AnyItem {
        address: (byte << 3) | u32::from(bit & 0x07),
        ..db_item(db, 0, TransportSize::BIT, 1)
    }
}

/// Bytes one element of an S7ANY transport size takes; `None` for the types not modelled.
fn element_len(size: TransportSize) -> Option<usize> {
    Some(match size {
        TransportSize::BIT | TransportSize::BYTE | TransportSize::CHAR => 1,
        TransportSize::WORD | TransportSize::INT => 2,
        TransportSize::DWORD | TransportSize::DINT | TransportSize::REAL => 4,
        _ => return None,
    })
}

/// How a data item carrying `size` values is typed, and its length field for `bytes` bytes.
fn data_item_size(size: TransportSize, bytes: usize) -> Result<(DataTransportSize, u16)> {
    let data_size = match size {
        TransportSize::BIT => DataTransportSize::BIT,
        TransportSize::INT => DataTransportSize::INTEGER,
        TransportSize::DINT => DataTransportSize::DINTEGER,
        TransportSize::REAL => DataTransportSize::REAL,
        _ => DataTransportSize::BYTE_WORD_DWORD,
    };
    let length = if size == TransportSize::BIT {
        1
    } else if data_size.length_in_bits() {
        bytes * 8
    } else {
        bytes
    };
    Ok((
        data_size,
        u16::try_from(length).context("data item too long")?,
    ))
}

/// Bytes of value an item addresses (one byte for a bit).
pub(crate) fn item_len(item: &AnyItem) -> Option<usize> {
    let element = element_len(TransportSize(item.transport_size))?;
    if TransportSize(item.transport_size) == TransportSize::BIT {
        return Some(1);
    }
    element.checked_mul(usize::from(item.length))
}

/// A request a client (HMI, engineering station) sends as a Job or userdata request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::enum_variant_names,
    reason = "Request download is the function's name in S7comm"
)]
pub(crate) enum Request {
    /// Setup communication: parallel jobs both ways and the PDU length proposed.
    SetupCommunication {
        max_amq: u16,
        pdu_length: u16,
    },
    ReadVar(Vec<AnyItem>),
    /// Items and the bytes to write into each.
    WriteVar(Vec<(AnyItem, Vec<u8>)>),
    ReadSzl {
        id: u16,
        index: u16,
    },
    PlcStop,
    PiService {
        service: &'static [u8],
        parameters: Vec<u8>,
    },
    RequestDownload(Block),
    StartUpload(Block),
    Upload {
        upload_id: u32,
    },
    EndUpload {
        upload_id: u32,
    },
}

impl Request {
    /// Appends the request PDU; returns what a sensor counts it as.
    pub(crate) fn encode(&self, out: &mut Vec<u8>, pdu_ref: u16) -> Result<Option<FunctionKey>> {
        let job = |out: &mut Vec<u8>, param| encode(out, Rosctr::JOB, pdu_ref, param, &[]);
        match self {
            Request::SetupCommunication {
                max_amq,
                pdu_length,
            } => job(
                out,
                Param::SetupCommunication {
                    max_amq_calling: *max_amq,
                    max_amq_called: *max_amq,
                    pdu_length: *pdu_length,
                },
            ),
            Request::ReadVar(items) => {
                let mut spec = Vec::with_capacity(items.len() * 12);
                let items: Vec<Item<'_>> = items.iter().copied().map(Item::Any).collect();
                Items::write_items(&mut spec, &items);
                let count = u8::try_from(items.len()).context("too many items")?;
                job(
                    out,
                    Param::ReadVar {
                        items: Items::new(count, &spec),
                    },
                )
            }
            Request::WriteVar(writes) => {
                let mut spec = Vec::with_capacity(writes.len() * 12);
                let items: Vec<Item<'_>> =
                    writes.iter().map(|(item, _)| Item::Any(*item)).collect();
                Items::write_items(&mut spec, &items);
                let mut data = Vec::new();
                for (i, (item, value)) in writes.iter().enumerate() {
                    let (transport_size, length) =
                        data_item_size(TransportSize(item.transport_size), value.len())?;
                    DataItem {
                        return_code: ReturnCode::RESERVED,
                        transport_size,
                        length,
                        data: value,
                    }
                    .write(&mut data, i + 1 == writes.len());
                }
                let count = u8::try_from(items.len()).context("too many items")?;
                encode(
                    out,
                    Rosctr::JOB,
                    pdu_ref,
                    Param::WriteVar {
                        items: Items::new(count, &spec),
                    },
                    &data,
                )
            }
            Request::ReadSzl { id, index } => {
                let mut data = Vec::with_capacity(8);
                comm::write_szl_request(&mut data, *id, *index);
                encode(
                    out,
                    Rosctr::USERDATA,
                    pdu_ref,
                    read_szl_param(UserdataKind::REQUEST, 0, 0),
                    &data,
                )
            }
            Request::PlcStop => job(out, Param::PlcStop { service: P_PROGRAM }),
            Request::PiService {
                service,
                parameters,
            } => job(
                out,
                Param::PiService {
                    service,
                    parameters,
                },
            ),
            Request::RequestDownload(block) => job(
                out,
                Param::Download {
                    function: Function::REQUEST_DOWNLOAD,
                    status: 0,
                    error_code: None,
                    filename: None,
                    block: Some(*block),
                },
            ),
            Request::StartUpload(block) => job(
                out,
                Param::Upload {
                    function: Function::START_UPLOAD,
                    status: 0,
                    error_code: None,
                    upload_id: Some(0),
                    filename: None,
                    block: Some(*block),
                },
            ),
            Request::Upload { upload_id } => job(
                out,
                Param::Upload {
                    function: Function::UPLOAD,
                    status: 0,
                    error_code: None,
                    upload_id: Some(*upload_id),
                    filename: None,
                    block: None,
                },
            ),
            Request::EndUpload { upload_id } => job(
                out,
                Param::Upload {
                    function: Function::END_UPLOAD,
                    status: 0,
                    error_code: Some(0),
                    upload_id: Some(*upload_id),
                    filename: None,
                    block: None,
                },
            ),
        }
    }
}

/// Block data of a Download block or Upload Ack_Data: length, two unknown bytes, the piece.
fn block_data(piece: &[u8]) -> Result<Vec<u8>> {
    let mut data = Vec::with_capacity(4 + piece.len());
    let len = u16::try_from(piece.len()).context("block piece too long")?;
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(&BLOCK_DATA_UNKNOWN);
    data.extend_from_slice(piece);
    Ok(data)
}

/// Download block Job: the CPU asks the programming device for the next piece of `block`.
pub(crate) fn download_block_job(
    out: &mut Vec<u8>,
    pdu_ref: u16,
    block: Block,
) -> Result<Option<FunctionKey>> {
    let param = Param::Download {
        function: Function::DOWNLOAD_BLOCK,
        status: 0,
        error_code: None,
        filename: None,
        block: Some(block),
    };
    encode(out, Rosctr::JOB, pdu_ref, param, &[])
}

/// Download ended Job: the CPU tells the programming device it has all of `block`.
pub(crate) fn download_ended_job(
    out: &mut Vec<u8>,
    pdu_ref: u16,
    block: Block,
) -> Result<Option<FunctionKey>> {
    let param = Param::Download {
        function: Function::DOWNLOAD_ENDED,
        status: 0,
        error_code: Some(0),
        filename: None,
        block: Some(block),
    };
    encode(out, Rosctr::JOB, pdu_ref, param, &[])
}

/// The programming device's Ack_Data to a Download block Job: one piece of the block.
pub(crate) fn download_block_ack(
    out: &mut Vec<u8>,
    pdu_ref: u16,
    piece: &[u8],
    more: bool,
) -> Result<Option<FunctionKey>> {
    let param = Param::Download {
        function: Function::DOWNLOAD_BLOCK,
        status: if more { MORE_FOLLOWS } else { 0 },
        error_code: None,
        filename: None,
        block: None,
    };
    encode(out, Rosctr::ACK_DATA, pdu_ref, param, &block_data(piece)?)
}

/// The programming device's Ack_Data to a Download ended Job.
pub(crate) fn download_ended_ack(out: &mut Vec<u8>, pdu_ref: u16) -> Result<Option<FunctionKey>> {
    let param = Param::AckFunction {
        function: Function::DOWNLOAD_ENDED,
        item_count: None,
    };
    encode(out, Rosctr::ACK_DATA, pdu_ref, param, &[])
}

/// A block file as it sits in load memory: a 36-byte header (`pp`, language, type, number,
/// lengths, time stamps), the body, and a 36-byte footer (author, family, name, version,
/// checksum). Plausible rather than loadable: nothing in the pipeline decodes MC7.
pub(crate) fn block_image(block_type: BlockType, number: u16, name: &str, body: &[u8]) -> Vec<u8> {
    const HEADER_LEN: usize = 36;
    const FOOTER_LEN: usize = 36;
    /// Block language of a data block.
    const LANGUAGE_DB: u8 = 0x05;
    let total = HEADER_LEN + body.len() + FOOTER_LEN;
    let mut image = Vec::with_capacity(total);
    image.extend_from_slice(&[0x70, 0x70, 0x01, 0x01, LANGUAGE_DB, block_type.0]);
    image.extend_from_slice(&number.to_be_bytes());
    image.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
    image.extend_from_slice(&0u32.to_be_bytes()); // no know-how protection
    // Code and interface time stamps (ms since midnight, days since 1984-01-01).
    for stamp in [
        [0x02, 0x8F, 0x5C, 0x28, 0x3A, 0x9E],
        [0x02, 0x8F, 0x5C, 0x28, 0x3A, 0x9E],
    ] {
        image.extend_from_slice(&stamp);
    }
    let body_len = u16::try_from(body.len()).unwrap_or(u16::MAX);
    for field in [0u16, 0, 0, body_len] {
        image.extend_from_slice(&field.to_be_bytes());
    }
    image.extend_from_slice(body);
    for text in ["FARO", "PLANT", name] {
        let mut field = [0u8; 8];
        for (slot, byte) in field.iter_mut().zip(text.bytes()) {
            *slot = byte;
        }
        image.extend_from_slice(&field);
    }
    image.push(0x11); // version 1.1
    image.push(0x00);
    let checksum = body
        .iter()
        .fold(0u16, |sum, &b| sum.rotate_left(1) ^ u16::from(b));
    image.extend_from_slice(&checksum.to_be_bytes());
    image.resize(total, 0);
    image
}

/// What an S7 CPU says about itself in SZL 0x0011 and 0x001C, and its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cpu {
    pub(crate) order_number: &'static str,
    /// Module type id (BGTyp).
    pub(crate) module_type: u16,
    /// Hardware version (Ausbg of the module and basic hardware records).
    pub(crate) hardware: u16,
    pub(crate) firmware: [u8; 3],
    pub(crate) module_type_name: &'static str,
    pub(crate) serial_number: &'static str,
    pub(crate) as_name: &'static str,
    pub(crate) module_name: &'static str,
    pub(crate) plant_designation: &'static str,
    pub(crate) copyright: &'static str,
    /// Largest PDU the CPU accepts in Setup communication.
    pub(crate) max_pdu_length: u16,
    /// Parallel jobs the CPU accepts.
    pub(crate) max_amq: u16,
}

impl Cpu {
    /// The identity attributes SZL 0x0011 and 0x001C reveal, named as the report names them.
    pub(crate) fn identity(&self) -> [(&'static str, String); 8] {
        let [major, minor, patch] = self.firmware;
        [
            ("order_number", self.order_number.to_owned()),
            ("firmware_version", format!("V{major}.{minor}.{patch}")),
            ("as_name", self.as_name.to_owned()),
            ("module_name", self.module_name.to_owned()),
            ("plant_designation", self.plant_designation.to_owned()),
            ("copyright", self.copyright.to_owned()),
            ("serial_number", self.serial_number.to_owned()),
            ("module_type_name", self.module_type_name.to_owned()),
        ]
    }
}

/// Operating mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Run,
    Stop,
}

/// SZL 0424 mode ids (bzu-id nibbles).
const MODE_ID_STOP_INTERNAL: u8 = 0x4;
const MODE_ID_STARTUP_COMPLETE_RESTART: u8 = 0x5;
const MODE_ID_RUN: u8 = 0x8;
/// SZL 0424 event ids: STARTUP to RUN, RUN to STOP.
const EVENT_STARTUP_TO_RUN: u16 = 0x4302;
const EVENT_RUN_TO_STOP: u16 = 0x4304;
/// When the CPU last changed mode, 2026-01-05 07:58:12.345 (a Monday), as DATE_AND_TIME.
const LAST_TRANSITION: [u8; 8] = [0x26, 0x01, 0x05, 0x07, 0x58, 0x12, 0x34, 0x52];

/// The data blocks every modelled CPU holds, (number, length in bytes): DB1 set points and DB10
/// process values (REALs), DB11 status bits, DB12 counters (INTs).
const DATA_BLOCKS: [(u16, usize); 4] = [(1, 256), (10, 256), (11, 32), (12, 128)];

/// An S7-300/400 CPU: identity, protection, mode, data blocks, program blocks and the answers it gives.
#[derive(Debug, Clone)]
pub(crate) struct Plc {
    pub(crate) cpu: Cpu,
    pub(crate) protection: Protection,
    mode: Mode,
    data_blocks: Vec<(u16, Vec<u8>)>,
    /// Program blocks in load memory, by type and number.
    blocks: Vec<((BlockType, u32), Vec<u8>)>,
    /// Upload in progress: id, block image, bytes sent.
    upload: Option<(u32, Vec<u8>, usize)>,
    next_upload_id: u32,
    szl_sequence: u8,
    rng: Rng,
}

impl Plc {
    pub(crate) fn new(cpu: Cpu, mut rng: Rng) -> Self {
        let data_blocks = DATA_BLOCKS
            .iter()
            .map(|&(number, len)| {
                let mut bytes = vec![0u8; len];
                match number {
                    // Set points and measurements: REALs between 0 and 500.
                    1 | 10 => {
                        for value in bytes.chunks_exact_mut(4) {
                            let v = rng.below(50_000) as f32 / 100.0;
                            value.copy_from_slice(&v.to_be_bytes());
                        }
                    }
                    // Counters: INTs.
                    12 => {
                        for value in bytes.chunks_exact_mut(2) {
                            let v = rng.range_u16(0, 20_000);
                            value.copy_from_slice(&v.to_be_bytes());
                        }
                    }
                    _ => rng.fill(&mut bytes),
                }
                (number, bytes)
            })
            .collect();
        Self {
            cpu,
            protection: Protection {
                key_switch: 1,
                assigned: 1,
                valid: 1,
                mode_selector: mode_selector::RUN_P,
                startup_switch: 0,
            },
            mode: Mode::Run,
            data_blocks,
            blocks: Vec::new(),
            upload: None,
            next_upload_id: 7,
            szl_sequence: 0,
            rng,
        }
    }

    #[cfg(test)]
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// The id of the upload in progress, as the Start upload Ack_Data gave it.
    pub(crate) fn upload_id(&self) -> Option<u32> {
        self.upload.as_ref().map(|(id, _, _)| *id)
    }

    /// Puts a block image into load memory (after a download).
    pub(crate) fn install(&mut self, block_type: BlockType, number: u32, image: Vec<u8>) {
        self.blocks.retain(|(key, _)| *key != (block_type, number));
        self.blocks.push(((block_type, number), image));
    }

    /// Measurements move a little between polls.
    fn drift(&mut self) {
        let Some((_, values)) = self.data_blocks.iter_mut().find(|(n, _)| *n == 10) else {
            return;
        };
        let count = values.len() / 4;
        let at = usize::try_from(self.rng.below(count as u64)).unwrap_or(0) * 4;
        if let Some(value) = values.get_mut(at..at + 4) {
            let mut word = [0u8; 4];
            word.copy_from_slice(value);
            let v = f32::from_be_bytes(word);
            let step = (self.rng.below(200) as f32 - 100.0) / 1000.0;
            value.copy_from_slice(&(v + step).clamp(0.0, 500.0).to_be_bytes());
        }
    }

    /// The bytes `item` addresses, or the return code that says why not.
    fn slice(&self, item: &AnyItem) -> Result<&[u8], ReturnCode> {
        if item.area != Area::DATA_BLOCKS {
            return Err(ReturnCode::ACCESS_FAULT);
        }
        let len = item_len(item).ok_or(ReturnCode::DATA_TYPE_NOT_SUPPORTED)?;
        let (_, bytes) = self
            .data_blocks
            .iter()
            .find(|(n, _)| *n == item.db)
            .ok_or(ReturnCode::OBJECT_DOES_NOT_EXIST)?;
        let start =
            usize::try_from(item.byte_offset()).map_err(|_| ReturnCode::ADDRESS_OUT_OF_RANGE)?;
        bytes
            .get(start..start + len)
            .ok_or(ReturnCode::ADDRESS_OUT_OF_RANGE)
    }

    fn read_item(&self, item: &AnyItem, out: &mut Vec<u8>, last: bool) -> Result<()> {
        let size = TransportSize(item.transport_size);
        match self.slice(item) {
            Ok(bytes) => {
                let bit;
                let value = if size == TransportSize::BIT {
                    bit = [bytes.first().map_or(0, |b| (b >> item.bit()) & 1)];
                    &bit[..]
                } else {
                    bytes
                };
                let (transport_size, length) = data_item_size(size, value.len())?;
                DataItem {
                    return_code: ReturnCode::SUCCESS,
                    transport_size,
                    length,
                    data: value,
                }
                .write(out, last);
            }
            Err(return_code) => DataItem {
                return_code,
                transport_size: DataTransportSize::NULL,
                length: 0,
                data: &[],
            }
            .write(out, last),
        }
        Ok(())
    }

    fn write_item(&mut self, item: &AnyItem, value: &[u8]) -> ReturnCode {
        let start = match self.slice(item) {
            Ok(bytes) if bytes.len() == value.len() => {
                usize::try_from(item.byte_offset()).unwrap_or(0)
            }
            Ok(_) => return ReturnCode::DATA_TYPE_INCONSISTENT,
            Err(code) => return code,
        };
        let Some((_, bytes)) = self.data_blocks.iter_mut().find(|(n, _)| *n == item.db) else {
            return ReturnCode::OBJECT_DOES_NOT_EXIST;
        };
        let Some(target) = bytes.get_mut(start..start + value.len()) else {
            return ReturnCode::ADDRESS_OUT_OF_RANGE;
        };
        if TransportSize(item.transport_size) == TransportSize::BIT {
            let mask = 1u8 << item.bit();
            for (t, v) in target.iter_mut().zip(value) {
                *t = if *v & 1 != 0 { *t | mask } else { *t & !mask };
            }
        } else {
            target.copy_from_slice(value);
        }
        ReturnCode::SUCCESS
    }

    /// The records of SZL `id`/`index`, appended to `out`; returns (record length, count), or
    /// `None` for a list this CPU does not have.
    fn szl(&self, szl_id: u16, index: u16, out: &mut Vec<u8>) -> Result<Option<(usize, usize)>> {
        let cpu = &self.cpu;
        Ok(Some(match (szl_id, index) {
            (id::MODULE_IDENTIFICATION, 0) => {
                for record in [module_index::MODULE, module_index::BASIC_HARDWARE] {
                    szl::module_identification(
                        out,
                        record,
                        cpu.order_number,
                        cpu.module_type,
                        cpu.hardware,
                        1,
                    )?;
                }
                let [major, minor, patch] = cpu.firmware;
                szl::module_identification(
                    out,
                    module_index::BASIC_FIRMWARE,
                    "",
                    cpu.module_type,
                    u16::from_be_bytes([b'V', major]),
                    u16::from_be_bytes([minor, patch]),
                )?;
                (MODULE_IDENTIFICATION_LEN, 3)
            }
            (id::COMPONENT_IDENTIFICATION, 0) => {
                let records = [
                    (component::AUTOMATION_SYSTEM_NAME, cpu.as_name),
                    (component::MODULE_NAME, cpu.module_name),
                    (component::PLANT_DESIGNATION, cpu.plant_designation),
                    (component::COPYRIGHT, cpu.copyright),
                    (component::SERIAL_NUMBER, cpu.serial_number),
                    (component::MODULE_TYPE_NAME, cpu.module_type_name),
                ];
                for (index, text) in records {
                    szl::component_identification(out, index, text)?;
                }
                (COMPONENT_IDENTIFICATION_LEN, records.len())
            }
            (id::COMMUNICATION_STATUS, PROTECTION_INDEX) => {
                szl::protection(out, &self.protection);
                (PROTECTION_LEN, 1)
            }
            (id::CURRENT_MODE_TRANSITION, 0) => {
                let (event_id, requested, previous) = match self.mode {
                    Mode::Run => (
                        EVENT_STARTUP_TO_RUN,
                        MODE_ID_RUN,
                        MODE_ID_STARTUP_COMPLETE_RESTART,
                    ),
                    Mode::Stop => (EVENT_RUN_TO_STOP, MODE_ID_STOP_INTERNAL, MODE_ID_RUN),
                };
                szl::mode_transition(
                    out,
                    &ModeTransition {
                        event_id,
                        requested,
                        previous,
                        startup_info: [0x00, 0x03, 0x01, 0x03],
                        time: LAST_TRANSITION,
                    },
                );
                (OPERATING_MODE_LEN, 1)
            }
            _ => return Ok(None),
        }))
    }

    /// Appends the Ack_Data (or userdata response) to `request`, which carried `pdu_ref`.
    pub(crate) fn answer(
        &mut self,
        request: &Request,
        pdu_ref: u16,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let ack = |out: &mut Vec<u8>, param, data: &[u8]| {
            encode(out, Rosctr::ACK_DATA, pdu_ref, param, data).map(|_| ())
        };
        let plain = |function| Param::AckFunction {
            function,
            item_count: None,
        };
        match request {
            Request::SetupCommunication {
                max_amq,
                pdu_length,
            } => {
                let amq = (*max_amq).min(self.cpu.max_amq);
                let param = Param::SetupCommunication {
                    max_amq_calling: amq,
                    max_amq_called: amq,
                    pdu_length: (*pdu_length).min(self.cpu.max_pdu_length),
                };
                ack(out, param, &[])
            }
            Request::ReadVar(items) => {
                self.drift();
                let mut data = Vec::with_capacity(128);
                for (i, item) in items.iter().enumerate() {
                    self.read_item(item, &mut data, i + 1 == items.len())?;
                }
                let count = u8::try_from(items.len()).context("too many items")?;
                ack(
                    out,
                    Param::AckFunction {
                        function: Function::READ_VAR,
                        item_count: Some(count),
                    },
                    &data,
                )
            }
            Request::WriteVar(writes) => {
                let codes: Vec<u8> = writes
                    .iter()
                    .map(|(item, value)| self.write_item(item, value).0)
                    .collect();
                let count = u8::try_from(writes.len()).context("too many items")?;
                ack(
                    out,
                    Param::AckFunction {
                        function: Function::WRITE_VAR,
                        item_count: Some(count),
                    },
                    &codes,
                )
            }
            Request::ReadSzl { id: szl_id, index } => {
                self.szl_sequence = self.szl_sequence.wrapping_add(1);
                let sequence = self.szl_sequence;
                let mut records = Vec::with_capacity(256);
                let mut data = Vec::with_capacity(256);
                let error = match self.szl(*szl_id, *index, &mut records)? {
                    Some((record_len, count)) => {
                        comm::write_szl_response(
                            &mut data,
                            &SzlResponse {
                                szl_id: *szl_id,
                                index: *index,
                                record_len: u16::try_from(record_len).context("record length")?,
                                record_count: u16::try_from(count).context("record count")?,
                                records: &records,
                            },
                        );
                        0
                    }
                    None => {
                        comm::write_userdata_data(
                            &mut data,
                            ReturnCode::OBJECT_DOES_NOT_EXIST,
                            DataTransportSize::NULL,
                            &[],
                        );
                        SZL_NOT_AVAILABLE
                    }
                };
                let param = read_szl_param(UserdataKind::RESPONSE, sequence, error);
                encode(out, Rosctr::USERDATA, pdu_ref, param, &data).map(|_| ())
            }
            Request::PlcStop => {
                self.mode = Mode::Stop;
                ack(out, plain(Function::PLC_STOP), &[])
            }
            Request::PiService { service, .. } => {
                if *service == P_PROGRAM {
                    self.mode = Mode::Run;
                }
                ack(out, plain(Function::PI_SERVICE), &[])
            }
            Request::RequestDownload(_) => ack(out, plain(Function::REQUEST_DOWNLOAD), &[]),
            Request::StartUpload(block) => {
                let key = (block.block_type, block.number);
                let Some((_, image)) = self.blocks.iter().find(|(k, _)| *k == key) else {
                    bail!("upload of a block the PLC does not hold: {block:?}");
                };
                let upload_id = self.next_upload_id;
                self.next_upload_id = self.next_upload_id.wrapping_add(1);
                self.upload = Some((upload_id, image.clone(), 0));
                let param = Param::Upload {
                    function: Function::START_UPLOAD,
                    status: 0,
                    error_code: None,
                    upload_id: Some(upload_id),
                    filename: None,
                    block: None,
                };
                ack(out, param, &[])
            }
            Request::Upload { upload_id } => {
                let Some((id, image, sent)) = &mut self.upload else {
                    bail!("upload without start");
                };
                if id != upload_id {
                    bail!("upload id {upload_id} is not {id}");
                }
                let end = (*sent + BLOCK_CHUNK).min(image.len());
                let piece = image.get(*sent..end).context("upload piece")?;
                let more = end < image.len();
                let data = block_data(piece)?;
                *sent = end;
                let param = Param::Upload {
                    function: Function::UPLOAD,
                    status: if more { MORE_FOLLOWS } else { 0 },
                    error_code: None,
                    upload_id: None,
                    filename: None,
                    block: None,
                };
                ack(out, param, &data)
            }
            Request::EndUpload { .. } => {
                self.upload = None;
                ack(out, plain(Function::END_UPLOAD), &[])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use faro_protocols::s7::szl::{self as szl_records, SzlRecord};

    use super::*;

    fn cpu() -> Cpu {
        Cpu {
            order_number: "6ES7 315-2EH14-0AB0",
            module_type: 0x00C0,
            hardware: 4,
            firmware: [3, 2, 6],
            module_type_name: "CPU 315-2 PN/DP",
            serial_number: "S C-C2UR28922012",
            as_name: "PLANT-A",
            module_name: "PLC_A",
            plant_designation: "MIXING",
            copyright: "Original Siemens Equipment",
            max_pdu_length: 240,
            max_amq: 3,
        }
    }

    fn exchange(plc: &mut Plc, request: &Request) -> (Vec<u8>, Vec<u8>, Option<FunctionKey>) {
        let mut req = Vec::new();
        let key = request.encode(&mut req, 0x0102).unwrap();
        let mut resp = Vec::new();
        plc.answer(request, 0x0102, &mut resp).unwrap();
        for pdu in [&req, &resp] {
            let m = comm::parse(pdu).unwrap();
            assert!(m.anomalies.is_empty(), "{:?} {pdu:02x?}", m.anomalies);
            assert_eq!(m.header.pdu_ref, 0x0102);
            assert!(pdu.len() <= 240, "{} bytes", pdu.len());
        }
        (req, resp, key)
    }

    #[test]
    fn reads_and_writes_round_trip_through_the_project_parser() {
        let mut plc = Plc::new(cpu(), Rng::new(1));
        let items = vec![
            db_item(10, 0, TransportSize::REAL, 4),
            db_bit(11, 2, 5),
            db_item(12, 8, TransportSize::INT, 3),
            db_item(99, 0, TransportSize::BYTE, 1),
        ];
        let (_, resp, key) = exchange(&mut plc, &Request::ReadVar(items));
        assert_eq!(key, Some(FunctionKey::Code(4)));
        let m = comm::parse(&resp).unwrap();
        let codes: Vec<_> = comm::return_codes(&m).collect();
        assert_eq!(
            codes,
            [
                ReturnCode::SUCCESS,
                ReturnCode::SUCCESS,
                ReturnCode::SUCCESS,
                ReturnCode::OBJECT_DOES_NOT_EXIST
            ]
        );
        let lens: Vec<usize> = m.data_items().unwrap().map(|i| i.data.len()).collect();
        assert_eq!(lens, [16, 1, 6, 0]);

        let write = Request::WriteVar(vec![
            (
                db_item(1, 4, TransportSize::REAL, 1),
                42.5f32.to_be_bytes().to_vec(),
            ),
            (db_bit(11, 0, 3), vec![1]),
        ]);
        let (req, resp, key) = exchange(&mut plc, &write);
        assert_eq!(key, Some(FunctionKey::Code(5)));
        assert_eq!(comm::parse(&req).unwrap().data_items().unwrap().count(), 2);
        let m = comm::parse(&resp).unwrap();
        assert!(comm::return_codes(&m).all(|c| c == ReturnCode::SUCCESS));
        let (_, resp, _) = exchange(
            &mut plc,
            &Request::ReadVar(vec![db_item(1, 4, TransportSize::REAL, 1)]),
        );
        let m = comm::parse(&resp).unwrap();
        assert_eq!(
            m.data_items().unwrap().next().unwrap().data,
            42.5f32.to_be_bytes()
        );
    }

    #[test]
    fn read_szl_answers_decode_to_the_identity() {
        let mut plc = Plc::new(cpu(), Rng::new(1));
        let mut texts = Vec::new();
        for (szl_id, index) in [(0x0011, 0), (0x001C, 0), (0x0132, 4), (0x0424, 0)] {
            let (_, resp, key) = exchange(&mut plc, &Request::ReadSzl { id: szl_id, index });
            assert_eq!(
                key,
                Some(FunctionKey::Userdata {
                    group: 4,
                    subfunction: 1
                })
            );
            let m = comm::parse(&resp).unwrap();
            let szl = comm::szl_response(m.data).unwrap();
            assert_eq!((szl.szl_id, szl.index), (szl_id, index));
            for record in szl_records::records(&szl) {
                match record {
                    SzlRecord::ModuleIdentification {
                        index: 1,
                        order_number,
                        ..
                    } => {
                        texts.push(szl_records::trim(order_number).to_vec());
                    }
                    SzlRecord::ComponentIdentification { text, .. } => {
                        texts.push(szl_records::trim(text).to_vec());
                    }
                    SzlRecord::Protection {
                        mode_selector,
                        protection_level_param,
                        ..
                    } => {
                        assert_eq!((mode_selector, protection_level_param), (2, 1));
                    }
                    SzlRecord::OperatingMode { requested_mode, .. } => {
                        assert_eq!(requested_mode, MODE_ID_RUN);
                    }
                    _ => {}
                }
            }
        }
        for expected in ["6ES7 315-2EH14-0AB0", "S C-C2UR28922012", "CPU 315-2 PN/DP"] {
            assert!(texts.iter().any(|t| t == expected.as_bytes()), "{expected}");
        }
        // An SZL the CPU does not have: an error, not a panic.
        let (_, resp, _) = exchange(
            &mut plc,
            &Request::ReadSzl {
                id: 0x0D91,
                index: 0,
            },
        );
        let m = comm::parse(&resp).unwrap();
        assert!(matches!(
            m.param,
            Param::Userdata {
                error: SZL_NOT_AVAILABLE,
                ..
            }
        ));
    }

    #[test]
    fn control_jobs_and_block_transfers() {
        let mut plc = Plc::new(cpu(), Rng::new(1));
        let (_, _, key) = exchange(&mut plc, &Request::PlcStop);
        assert_eq!(key, Some(FunctionKey::Code(0x29)));
        assert_eq!(plc.mode(), Mode::Stop);
        let db1 = Block::parse(b"_0A00001P").unwrap();
        let (req, _, key) = exchange(&mut plc, &Request::RequestDownload(db1));
        assert_eq!(key, Some(FunctionKey::Code(0x1A)));
        assert!(matches!(
            comm::parse(&req).unwrap().param,
            Param::Download { block: Some(b), .. } if b == db1
        ));
        let image = block_image(BlockType::DB, 1, "SETPOINT", &[7; 300]);
        plc.install(BlockType::DB, 1, image.clone());
        let db1_active = Block::parse(b"_0A00001A").unwrap();
        let (_, resp, _) = exchange(&mut plc, &Request::StartUpload(db1_active));
        let Param::Upload {
            upload_id: Some(id),
            ..
        } = comm::parse(&resp).unwrap().param
        else {
            panic!()
        };
        let mut uploaded = Vec::new();
        loop {
            let (_, resp, key) = exchange(&mut plc, &Request::Upload { upload_id: id });
            assert_eq!(key, Some(FunctionKey::Code(0x1E)));
            let m = comm::parse(&resp).unwrap();
            uploaded.extend_from_slice(&m.data[4..]);
            let Param::Upload { status, .. } = m.param else {
                panic!()
            };
            if status & MORE_FOLLOWS == 0 {
                break;
            }
        }
        assert_eq!(uploaded, image);
        exchange(&mut plc, &Request::EndUpload { upload_id: id });
        let start = Request::PiService {
            service: P_PROGRAM,
            parameters: Vec::new(),
        };
        let (_, _, key) = exchange(&mut plc, &start);
        assert_eq!(key, Some(FunctionKey::Code(0x28)));
        assert_eq!(plc.mode(), Mode::Run);

        let mut out = Vec::new();
        assert_eq!(
            download_block_job(&mut out, 9, db1).unwrap(),
            Some(FunctionKey::Code(0x1B))
        );
        out.clear();
        assert_eq!(
            download_ended_job(&mut out, 9, db1).unwrap(),
            Some(FunctionKey::Code(0x1C))
        );
        out.clear();
        assert_eq!(
            download_block_ack(&mut out, 9, &image[..200], true).unwrap(),
            None
        );
        let m = comm::parse(&out).unwrap();
        assert!(m.anomalies.is_empty());
        assert!(matches!(m.param, Param::Download { status: 1, .. }));
    }
}
