//! The parameter part of Job, Ack and Ack_Data PDUs, decoded by function.
//!
//! ```text
//!  setup communication:  0xF0 | reserved | max AmQ calling (2) | max AmQ called (2) | PDU length (2)
//!  read / write var:     0x04/0x05 | item count | items (see `item`)
//!  block control (Job):  func | status | 2 bytes | upload id / 4 bytes | file name length | file name
//!                        (0x1C, 0x1F: status | error code (2) | ...; 0x1E: no file name)
//!  block control (Ack):  func | status [| 2 bytes | upload id (4) | length string (0x1D)]
//!  PI service:           0x28 | 7 bytes | parameter block length (2) | parameters | name length | name
//!  PLC stop:             0x29 | 5 bytes | name length | name
//! ```

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::anomaly::Anomalies;
use super::item::{ItemIter, Items};
use super::types::{BlockType, Function, Rosctr};
use super::userdata;

/// The decoded parameter part of an S7comm PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param<'a> {
    /// No parameter part (an Ack, or a PDU with parameter length 0).
    Empty,
    /// Setup communication, Job and Ack_Data: the negotiated limits.
    SetupCommunication {
        /// Parallel jobs the calling side may have outstanding.
        max_amq_calling: u16,
        /// Parallel jobs the called side may have outstanding.
        max_amq_called: u16,
        /// PDU length, in bytes.
        pdu_length: u16,
    },
    /// Read Var Job: the variables to read.
    ReadVar {
        /// The items.
        items: Items<'a>,
    },
    /// Write Var Job: the variables to write (the values are in the data part).
    WriteVar {
        /// The items.
        items: Items<'a>,
    },
    /// Download functions (0x1A request download, 0x1B download block, 0x1C download ended).
    Download {
        /// The function.
        function: Function,
        /// Function status: bit 0 more data follows, bit 1 error.
        status: u8,
        /// Error code of a Download ended Job (0 when none), `None` elsewhere.
        error_code: Option<u16>,
        /// The file name of a Job (`_0A00001P`), `None` in an Ack_Data.
        filename: Option<&'a [u8]>,
        /// The block the file name names, when it is a PLC block file name.
        block: Option<Block>,
    },
    /// Upload functions (0x1D start upload, 0x1E upload, 0x1F end upload).
    Upload {
        /// The function.
        function: Function,
        /// Function status: bit 0 more data follows, bit 1 error.
        status: u8,
        /// Error code of an End upload Job (0 when none), `None` elsewhere.
        error_code: Option<u16>,
        /// Upload id: Jobs, and the Start upload Ack_Data that assigns it.
        upload_id: Option<u32>,
        /// The file name of a Start upload Job.
        filename: Option<&'a [u8]>,
        /// The block the file name names, when it is a PLC block file name.
        block: Option<Block>,
    },
    /// PI service Job (program invocation: start, insert, delete, compress...).
    PiService {
        /// Service name, e.g. `P_PROGRAM`, `_INSE`, `_DELE`, `_MODU`, `_GARB`.
        service: &'a [u8],
        /// The parameter block (block list of `_INSE`/`_DELE`, see [`pi_blocks`]).
        parameters: &'a [u8],
    },
    /// PLC stop Job.
    PlcStop {
        /// Service name, `P_PROGRAM`.
        service: &'a [u8],
    },
    /// Userdata parameter (ROSCTR 7).
    Userdata {
        /// Head byte: 0x00 CPU services, 0x01 mode transition.
        function: Function,
        /// Syntax id: 0x11 short form, 0x12 extended form (data unit reference, last unit, error).
        syntax_id: u8,
        /// Type, high nibble of the type/group byte: 0 push, 4 request, 8 response
        /// (see [`UserdataKind`](super::UserdataKind)).
        kind: u8,
        /// Function group, low nibble (see [`UserdataGroup`](super::UserdataGroup)).
        group: u8,
        /// Subfunction (see [`subfunction_name`](super::subfunction_name)); in group 0 the mode entered.
        subfunction: u8,
        /// Sequence number.
        sequence: u8,
        /// Data unit reference (extended form; 0 otherwise).
        data_unit_ref: u8,
        /// True unless the extended form says more data units follow.
        last_data_unit: bool,
        /// Error code (extended form; 0 otherwise), see [`ErrorCode`](super::ErrorCode).
        error: u16,
    },
    /// Ack_Data (or Ack) of a function without decoded parameters.
    AckFunction {
        /// The function acknowledged.
        function: Function,
        /// Item count of a Read Var or Write Var Ack_Data.
        item_count: Option<u8>,
    },
    /// Anything else: an unknown function, or a known one too short to decode.
    Other {
        /// The function code (first parameter byte).
        function: Function,
        /// The parameter bytes after the function code.
        raw: &'a [u8],
    },
}

impl Param<'_> {
    /// The function code of the parameter part, `None` when it is empty.
    pub fn function(&self) -> Option<Function> {
        match *self {
            Param::Empty => None,
            Param::SetupCommunication { .. } => Some(Function::SETUP_COMMUNICATION),
            Param::ReadVar { .. } => Some(Function::READ_VAR),
            Param::WriteVar { .. } => Some(Function::WRITE_VAR),
            Param::Download { function, .. }
            | Param::Upload { function, .. }
            | Param::Userdata { function, .. }
            | Param::AckFunction { function, .. }
            | Param::Other { function, .. } => Some(function),
            Param::PiService { .. } => Some(Function::PI_SERVICE),
            Param::PlcStop { .. } => Some(Function::PLC_STOP),
        }
    }
}

/// A PLC block named by a block control file name: `_0A00001P` is DB 1, passive file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Block {
    /// File identifier: `_` complete module, `$` module header for upload.
    pub file_id: u8,
    /// Block type (two ASCII hex digits on the wire).
    pub block_type: BlockType,
    /// Block number (five ASCII digits on the wire).
    pub number: u32,
    /// Destination file system: `P` passive, `A` active, `B` both.
    pub destination: u8,
}

/// Length of a PLC block file name: identifier, type (2), number (5), file system.
pub const BLOCK_FILENAME_LEN: usize = 9;

impl Block {
    /// Decodes a PLC block file name; `None` for any other name (NC file names).
    ///
    /// Follows Wireshark: nine bytes, identifier `_` or `$`, a block type
    /// between `08` and `0F`, five decimal digits, any file system byte.
    pub fn parse(filename: &[u8]) -> Option<Block> {
        let &[file_id, t0, t1, n0, n1, n2, n3, n4, destination] = filename else {
            return None;
        };
        if file_id != b'_' && file_id != b'$' {
            return None;
        }
        let block_type = BlockType::from_ascii([t0, t1])?;
        if !(BlockType::OB.0..=BlockType::SFB.0).contains(&block_type.0) {
            return None;
        }
        let mut number = 0u32;
        for digit in [n0, n1, n2, n3, n4] {
            let d = char::from(digit).to_digit(10)?;
            number = number * 10 + d;
        }
        Some(Block {
            file_id,
            block_type,
            number,
            destination,
        })
    }

    /// The nine-byte file name of the block (the number modulo 100000).
    pub fn filename(&self) -> [u8; BLOCK_FILENAME_LEN] {
        let [t0, t1] = self.block_type.to_ascii();
        let n = self.number % 100_000;
        let digit = |div: u32| b'0' + u8::try_from(n / div % 10).unwrap_or(0);
        [
            self.file_id,
            t0,
            t1,
            digit(10_000),
            digit(1_000),
            digit(100),
            digit(10),
            digit(1),
            self.destination,
        ]
    }
}

/// The blocks a `_INSE` or `_DELE` PI service names: a count, a reserved byte,
/// then eight bytes per block (type, number, file system, without identifier).
/// `None` when `parameters` does not have that shape.
pub fn pi_blocks(parameters: &[u8]) -> Option<impl Iterator<Item = Block> + '_> {
    let mut r = Reader::new(parameters, Layer::S7comm);
    let count = r.u8().ok()?;
    r.skip(1).ok()?;
    let list = r.take(usize::from(count).checked_mul(8)?).ok()?;
    Some(list.chunks_exact(8).filter_map(|chunk| {
        let mut name = [b'_'; BLOCK_FILENAME_LEN];
        for (slot, byte) in name.iter_mut().skip(1).zip(chunk) {
            *slot = *byte;
        }
        Block::parse(&name)
    }))
}

/// Decodes a parameter part, adding the spec violations it finds to `anomalies`.
pub(crate) fn decode<'a>(rosctr: Rosctr, param: &'a [u8], anomalies: &mut Anomalies) -> Param<'a> {
    let mut r = Reader::new(param, Layer::S7comm);
    let Ok(code) = r.u8() else {
        return Param::Empty;
    };
    let function = Function(code);
    let raw = r.rest();
    let mut d = Decoder {
        r,
        anomalies: Anomalies::empty(),
    };
    let decoded = match rosctr {
        Rosctr::USERDATA => userdata::decode_param(function, &mut d.r, &mut d.anomalies),
        Rosctr::JOB => d.job(function),
        _ => d.ack(function),
    };
    match decoded {
        Ok(param) => {
            if !d.r.is_empty() {
                d.anomalies |= Anomalies::PARAM_LENGTH_MISMATCH;
            }
            *anomalies |= d.anomalies;
            if function.name().is_none() && !matches!(param, Param::Userdata { .. }) {
                *anomalies |= Anomalies::UNKNOWN_FUNCTION;
            }
            param
        }
        Err(_) => {
            *anomalies |= Anomalies::TRUNCATED_PARAM;
            if function.name().is_none() {
                *anomalies |= Anomalies::UNKNOWN_FUNCTION;
            }
            Param::Other { function, raw }
        }
    }
}

/// A cursor over the parameter bytes after the function code, and the flags raised.
struct Decoder<'a> {
    r: Reader<'a>,
    anomalies: Anomalies,
}

impl<'a> Decoder<'a> {
    fn items(&mut self) -> Result<Items<'a>, Error> {
        let count = self.r.u8()?;
        let items = Items::new(count, self.r.take_rest());
        let mut iter: ItemIter<'a> = items.iter();
        let decoded = iter.by_ref().count();
        if decoded != usize::from(count) {
            self.anomalies |= Anomalies::ITEM_COUNT_MISMATCH;
        } else if !iter.rest().is_empty() {
            self.anomalies |= Anomalies::PARAM_LENGTH_MISMATCH;
        }
        if items
            .iter()
            .any(|item| !matches!(item, super::item::Item::Any(_)))
        {
            self.anomalies |= Anomalies::NON_S7ANY_ITEM;
        }
        Ok(items)
    }

    fn setup(&mut self) -> Result<Param<'a>, Error> {
        self.r.skip(1)?;
        Ok(Param::SetupCommunication {
            max_amq_calling: self.r.be_u16()?,
            max_amq_called: self.r.be_u16()?,
            pdu_length: self.r.be_u16()?,
        })
    }

    fn filename(&mut self) -> Result<(&'a [u8], Option<Block>), Error> {
        let len = self.r.u8()?;
        let name = self.r.take(usize::from(len))?;
        let block = Block::parse(name);
        if block.is_none() && name.first() == Some(&b'_') {
            self.anomalies |= Anomalies::INVALID_FILENAME;
        }
        Ok((name, block))
    }

    fn job(&mut self, function: Function) -> Result<Param<'a>, Error> {
        Ok(match function {
            Function::SETUP_COMMUNICATION => self.setup()?,
            Function::READ_VAR => Param::ReadVar {
                items: self.items()?,
            },
            Function::WRITE_VAR => Param::WriteVar {
                items: self.items()?,
            },
            Function::REQUEST_DOWNLOAD | Function::DOWNLOAD_BLOCK | Function::DOWNLOAD_ENDED => {
                let status = self.r.u8()?;
                let error_code = if function == Function::DOWNLOAD_ENDED {
                    Some(self.r.be_u16()?)
                } else {
                    self.r.skip(2)?;
                    None
                };
                self.r.skip(4)?;
                let (filename, block) = self.filename()?;
                if function == Function::REQUEST_DOWNLOAD {
                    // Part 2: length, '1', load memory length (6), MC7 code length (6).
                    let _ = self.r.take_rest();
                }
                Param::Download {
                    function,
                    status,
                    error_code,
                    filename: Some(filename),
                    block,
                }
            }
            Function::START_UPLOAD | Function::UPLOAD | Function::END_UPLOAD => {
                let status = self.r.u8()?;
                let error_code = if function == Function::END_UPLOAD {
                    Some(self.r.be_u16()?)
                } else {
                    self.r.skip(2)?;
                    None
                };
                let upload_id = Some(self.r.be_u32()?);
                let (filename, block) = if function == Function::START_UPLOAD {
                    let (name, block) = self.filename()?;
                    (Some(name), block)
                } else {
                    (None, None)
                };
                Param::Upload {
                    function,
                    status,
                    error_code,
                    upload_id,
                    filename,
                    block,
                }
            }
            Function::PI_SERVICE => {
                self.r.skip(7)?;
                if self.r.is_empty() {
                    Param::PiService {
                        service: &[],
                        parameters: &[],
                    }
                } else {
                    let len = self.r.be_u16()?;
                    let parameters = self.r.take(usize::from(len))?;
                    let name_len = self.r.u8()?;
                    Param::PiService {
                        service: self.r.take(usize::from(name_len))?,
                        parameters,
                    }
                }
            }
            Function::PLC_STOP => {
                self.r.skip(5)?;
                let len = self.r.u8()?;
                Param::PlcStop {
                    service: self.r.take(usize::from(len))?,
                }
            }
            _ => Param::Other {
                function,
                raw: self.r.take_rest(),
            },
        })
    }

    fn ack(&mut self, function: Function) -> Result<Param<'a>, Error> {
        Ok(match function {
            Function::SETUP_COMMUNICATION => self.setup()?,
            Function::READ_VAR | Function::WRITE_VAR => Param::AckFunction {
                function,
                item_count: Some(self.r.u8()?),
            },
            Function::START_UPLOAD => {
                let status = self.r.u8()?;
                self.r.skip(2)?;
                let upload_id = Some(self.r.be_u32()?);
                // Length of the complete module as an ASCII string (absent on NC uploads).
                if !self.r.is_empty() {
                    let len = self.r.u8()?;
                    self.r.skip(usize::from(len))?;
                }
                Param::Upload {
                    function,
                    status,
                    error_code: None,
                    upload_id,
                    filename: None,
                    block: None,
                }
            }
            f if f.is_block_control() && !self.r.is_empty() => {
                let status = self.r.u8()?;
                if f.is_download() {
                    Param::Download {
                        function,
                        status,
                        error_code: None,
                        filename: None,
                        block: None,
                    }
                } else {
                    Param::Upload {
                        function,
                        status,
                        error_code: None,
                        upload_id: None,
                        filename: None,
                        block: None,
                    }
                }
            }
            _ if self.r.is_empty() => Param::AckFunction {
                function,
                item_count: None,
            },
            _ => Param::Other {
                function,
                raw: self.r.take_rest(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_filenames() {
        assert_eq!(
            Block::parse(b"_0A00001P"),
            Some(Block {
                file_id: b'_',
                block_type: BlockType::DB,
                number: 1,
                destination: b'P'
            })
        );
        let ob1 = Block::parse(b"_0800001A").unwrap();
        assert_eq!((ob1.block_type, ob1.number), (BlockType::OB, 1));
        assert_eq!(ob1.filename(), *b"_0800001A");
        assert_eq!(
            Block::parse(b"_0B00000A").unwrap().block_type,
            BlockType::SDB
        );
        assert_eq!(Block::parse(b"_0A0000XP"), None);
        assert_eq!(Block::parse(b"_0100001P"), None);
        assert_eq!(Block::parse(b"/file.mpf"), None);
        assert_eq!(Block::parse(b"_0A00001"), None);
    }

    #[test]
    fn pi_service_block_lists() {
        // _INSE parameters: 1 block, reserved, "0C00007P" (FC 7)
        let params = b"\x01\x000C00007P";
        let blocks: Vec<_> = pi_blocks(params).unwrap().collect();
        assert_eq!(blocks.len(), 1);
        assert_eq!((blocks[0].block_type, blocks[0].number), (BlockType::FC, 7));
        assert!(pi_blocks(b"\x02\x000C00007P").is_none());
        assert!(pi_blocks(b"").is_none());
    }

    fn job(param: &[u8]) -> (Param<'_>, Anomalies) {
        let mut anomalies = Anomalies::empty();
        let p = decode(Rosctr::JOB, param, &mut anomalies);
        (p, anomalies)
    }

    #[test]
    fn job_parameters() {
        // PLC stop: 0x29, five unknown bytes, name length 9, "P_PROGRAM"
        let (p, a) = job(b"\x29\x00\x00\x00\x00\x00\x09P_PROGRAM");
        assert_eq!(
            p,
            Param::PlcStop {
                service: b"P_PROGRAM"
            }
        );
        assert!(a.is_empty());
        // PI service: seven unknown bytes, 2 parameter bytes "C ", name "P_PROGRAM" (start)
        let (p, a) = job(b"\x28\x00\x00\x00\x00\x00\x00\xfd\x00\x02C \x09P_PROGRAM");
        assert_eq!(
            p,
            Param::PiService {
                service: b"P_PROGRAM",
                parameters: b"C "
            }
        );
        assert!(a.is_empty());
        // Start upload of SDB 0: status, 2 bytes, upload id 0, name
        let (p, a) = job(b"\x1d\x00\x00\x00\x00\x00\x00\x00\x09_0B00000A");
        let Param::Upload {
            function,
            upload_id,
            block: Some(block),
            ..
        } = p
        else {
            panic!("{p:?}");
        };
        assert_eq!(function, Function::START_UPLOAD);
        assert_eq!(upload_id, Some(0));
        assert_eq!(block.block_type, BlockType::SDB);
        assert!(a.is_empty());
        // Truncated setup communication
        let (p, a) = job(b"\xf0\x00\x00\x01");
        assert_eq!(
            p,
            Param::Other {
                function: Function::SETUP_COMMUNICATION,
                raw: b"\x00\x00\x01"
            }
        );
        assert_eq!(a, Anomalies::TRUNCATED_PARAM);
        // Unknown function
        let (p, a) = job(b"\x42\x01");
        assert_eq!(
            p,
            Param::Other {
                function: Function(0x42),
                raw: b"\x01"
            }
        );
        assert_eq!(a, Anomalies::UNKNOWN_FUNCTION);
    }
}
