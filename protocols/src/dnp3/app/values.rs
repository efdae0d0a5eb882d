//! Typed values of the objects detections and the inventory read: control
//! relay output blocks (g12), analog output blocks (g41), device attributes
//! (g0), time and date (g50), time delay (g52), files (g70), internal
//! indications (g80), octet strings (g110/g111) and Secure Authentication
//! (g120). Everything borrows from the fragment; iterators stop at the first
//! object too short for its fields.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::object::{ObjectHeader, PackedBits, Points};

/// The decoded values of one object header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectValues<'a> {
    /// g12v1 control relay output blocks (and g12v2 pattern control blocks, same layout).
    Crob(Crobs<'a>),
    /// g41v1-v4 analog output blocks.
    AnalogOutput(AnalogOutputs<'a>),
    /// g0 device attribute (the first object of the header; responses carry one per header).
    DeviceAttribute {
        /// The attribute: the variation (242 software version, 247 device name...).
        variation: u8,
        /// Data type code ([`AttributeDataType`]).
        data_type: u8,
        /// The value bytes.
        value: &'a [u8],
    },
    /// g50v1/v3 absolute time, g50v2 time and interval, g50v4 indexed time and long interval.
    Time(Times<'a>),
    /// g52v1 coarse (seconds) or g52v2 fine (milliseconds) time delay.
    Delay(Delay),
    /// g70v2-v8 file objects.
    File(FileObjects<'a>),
    /// g80v1 internal indications written or read as points (index 7: device restart).
    Iin(PackedBits<'a>),
    /// g110/g111 octet string (the first object of the header).
    OctetString(&'a [u8]),
    /// g120 Secure Authentication object (the first object of the header, prefix excluded).
    SecureAuth {
        /// The variation: 1 challenge, 2 reply, 3 aggressive mode, 9 MAC...
        variation: u8,
        /// The object bytes.
        data: &'a [u8],
    },
    /// Known size, not decoded here (or no values: a Read request).
    Other,
}

/// Decodes the values of `header` (the walk calls it for every header).
pub(super) fn decode<'a>(header: &ObjectHeader<'a>) -> ObjectValues<'a> {
    if !header.with_values {
        return ObjectValues::Other;
    }
    let points = header.points();
    let first = || header.points().next().map(|point| point.data);
    match (header.group, header.variation) {
        (12, 1 | 2) => ObjectValues::Crob(Crobs { points }),
        (41, variation @ 1..=4) => ObjectValues::AnalogOutput(AnalogOutputs { points, variation }),
        (0, variation) => match first().and_then(attribute) {
            Some((data_type, value)) => ObjectValues::DeviceAttribute {
                variation,
                data_type,
                value,
            },
            None => ObjectValues::Other,
        },
        (50, variation @ 1..=4) => ObjectValues::Time(Times { points, variation }),
        (52, variation @ 1..=2) => {
            match first().and_then(|data| Reader::new(data, Layer::Dnp3App).le_u16().ok()) {
                Some(value) => ObjectValues::Delay(Delay {
                    fine: variation == 2,
                    value,
                }),
                None => ObjectValues::Other,
            }
        }
        (70, variation @ 2..=8) => ObjectValues::File(FileObjects { points, variation }),
        (80, 1) => header.bits().map_or(ObjectValues::Other, ObjectValues::Iin),
        (110 | 111, _) => first().map_or(ObjectValues::Other, ObjectValues::OctetString),
        (120, variation) => first().map_or(ObjectValues::Other, |data| ObjectValues::SecureAuth {
            variation,
            data,
        }),
        _ => ObjectValues::Other,
    }
}

/// True when the values of `header` are too short for their own fields.
pub(super) fn is_malformed(header: &ObjectHeader<'_>) -> bool {
    let objects = header.points().count();
    match &header.values {
        ObjectValues::Crob(crobs) => crobs.clone().count() != objects,
        ObjectValues::AnalogOutput(outputs) => outputs.clone().count() != objects,
        ObjectValues::Time(times) => times.clone().count() != objects,
        ObjectValues::File(files) => files.clone().count() != objects,
        ObjectValues::Other if header.with_values && header.group == 0 => objects > 0,
        ObjectValues::DeviceAttribute { value, .. } => header
            .points()
            .next()
            .is_some_and(|point| point.data.len() != value.len().saturating_add(2)),
        _ => false,
    }
}

/// Splits a device attribute object into its data type and value.
fn attribute(data: &[u8]) -> Option<(u8, &[u8])> {
    let mut r = Reader::new(data, Layer::Dnp3App);
    let data_type = r.u8().ok()?;
    let length = r.u8().ok()?;
    Some((data_type, r.take(usize::from(length)).ok()?))
}

/// Reads a DNP3 time: milliseconds since 1970-01-01 UTC, 48 bits little-endian.
fn read_time(r: &mut Reader<'_>) -> Result<u64, Error> {
    let low = r.le_u32()?;
    let high = r.le_u16()?;
    Ok(u64::from(high) << 32 | u64::from(low))
}

/// Appends a DNP3 time (the low 48 bits of `ms`).
pub(super) fn write_time(out: &mut Vec<u8>, ms: u64) {
    let bytes = ms.to_le_bytes();
    out.extend_from_slice(bytes.get(..6).unwrap_or_default());
}

wire_enum! {
    /// The operation type of a control code (bits 3-0).
    OpType(u8) {
        /// No operation (only the clear and queue bits act).
        NUL = 0 => "nul";
        /// Pulse on: on for the on-time, then off.
        PULSE_ON = 1 => "pulse_on";
        /// Pulse off: off for the off-time, then on.
        PULSE_OFF = 2 => "pulse_off";
        /// Latch on.
        LATCH_ON = 3 => "latch_on";
        /// Latch off.
        LATCH_OFF = 4 => "latch_off";
    }
}

wire_enum! {
    /// The trip-close code of a control code (bits 7-6).
    TripCloseCode(u8) {
        /// No trip or close: the output itself.
        NUL = 0 => "nul";
        /// Close (the "on" output of a pair).
        CLOSE = 1 => "close";
        /// Trip (the "off" output of a pair).
        TRIP = 2 => "trip";
        /// Reserved.
        RESERVED = 3 => "reserved";
    }
}

wire_enum! {
    /// The status of a control object, echoed in responses (IEEE 1815-2012 table 11-9).
    CommandStatus(u8) {
        /// Accepted, initiated or queued.
        SUCCESS = 0 => "success";
        /// The operate came after the select timed out.
        TIMEOUT = 1 => "timeout";
        /// No matching select before the operate.
        NO_SELECT = 2 => "no_select";
        /// A format error in the control request.
        FORMAT_ERROR = 3 => "format_error";
        /// The operation is not supported for this point.
        NOT_SUPPORTED = 4 => "not_supported";
        /// The queue is full or the point is already active.
        ALREADY_ACTIVE = 5 => "already_active";
        /// A hardware problem.
        HARDWARE_ERROR = 6 => "hardware_error";
        /// The point is in local control.
        LOCAL = 7 => "local";
        /// Too many objects or operations.
        TOO_MANY_OBJS = 8 => "too_many_objs";
        /// Insufficient authorisation.
        NOT_AUTHORIZED = 9 => "not_authorized";
        /// A local automation process inhibits the control.
        AUTOMATION_INHIBIT = 10 => "automation_inhibit";
        /// Processing is limited.
        PROCESSING_LIMITED = 11 => "processing_limited";
        /// The value is out of range.
        OUT_OF_RANGE = 12 => "out_of_range";
        /// Non-participating (a NUL operation on a point that does not take part).
        NON_PARTICIPATING = 126 => "non_participating";
        /// Undefined error.
        UNDEFINED = 127 => "undefined";
    }
}

/// One control relay output block (g12v1), or pattern control block (g12v2).
///
/// ```text
///  control code | count | on-time ms (u32) | off-time ms (u32) | status
///  control code: trip-close (7-6) | clear (5) | queue (4) | operation type (3-0)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Crob {
    /// The point index.
    pub index: u32,
    /// The control code byte.
    pub code: u8,
    /// How many times to repeat the operation.
    pub count: u8,
    /// On-time in milliseconds.
    pub on_ms: u32,
    /// Off-time in milliseconds.
    pub off_ms: u32,
    /// Status: 0 in requests, the outcome in responses (bit 7 reserved).
    pub status: u8,
}

/// Length of a control relay output block.
pub const CROB_LEN: usize = 11;

impl Crob {
    /// The operation type (bits 3-0 of the code).
    pub const fn op_type(&self) -> OpType {
        OpType(self.code & 0x0F)
    }

    /// The trip-close code (bits 7-6).
    pub const fn trip_close(&self) -> TripCloseCode {
        TripCloseCode(self.code >> 6)
    }

    /// The clear bit (bit 5): cancel queued and in-progress operations.
    pub const fn clear(&self) -> bool {
        self.code & 0x20 != 0
    }

    /// The queue bit (bit 4, obsolete).
    pub const fn queue(&self) -> bool {
        self.code & 0x10 != 0
    }

    /// The status code (bit 7 masked).
    pub const fn command_status(&self) -> CommandStatus {
        CommandStatus(self.status & 0x7F)
    }

    /// Appends the eleven bytes of the block (the index is the header's business).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push(self.count);
        out.extend_from_slice(&self.on_ms.to_le_bytes());
        out.extend_from_slice(&self.off_ms.to_le_bytes());
        out.push(self.status);
    }

    fn read(index: u32, data: &[u8]) -> Option<Crob> {
        let mut r = Reader::new(data, Layer::Dnp3App);
        Some(Crob {
            index,
            code: r.u8().ok()?,
            count: r.u8().ok()?,
            on_ms: r.le_u32().ok()?,
            off_ms: r.le_u32().ok()?,
            status: r.u8().ok()?,
        })
    }
}

/// Iterator over the control relay output blocks of a g12v1/v2 header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Crobs<'a> {
    points: Points<'a>,
}

impl Iterator for Crobs<'_> {
    type Item = Crob;

    fn next(&mut self) -> Option<Crob> {
        let point = self.points.next()?;
        Crob::read(point.index, point.data)
    }
}

/// The value of an analog output block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AnalogValue {
    /// g41v1: 32-bit integer.
    I32(i32),
    /// g41v2: 16-bit integer.
    I16(i16),
    /// g41v3: single precision.
    F32(f32),
    /// g41v4: double precision.
    F64(f64),
}

impl AnalogValue {
    /// The g41 variation that carries this kind of value.
    pub const fn variation(&self) -> u8 {
        match self {
            AnalogValue::I32(_) => 1,
            AnalogValue::I16(_) => 2,
            AnalogValue::F32(_) => 3,
            AnalogValue::F64(_) => 4,
        }
    }

    /// The value as a double.
    pub fn as_f64(&self) -> f64 {
        match *self {
            AnalogValue::I32(v) => f64::from(v),
            AnalogValue::I16(v) => f64::from(v),
            AnalogValue::F32(v) => f64::from(v),
            AnalogValue::F64(v) => v,
        }
    }
}

/// One analog output block (g41): the value to set and a status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalogOutput {
    /// The point index.
    pub index: u32,
    /// The value.
    pub value: AnalogValue,
    /// Status: 0 in requests, the outcome in responses ([`CommandStatus`]).
    pub status: u8,
}

impl AnalogOutput {
    /// The status code (bit 7 masked).
    pub const fn command_status(&self) -> CommandStatus {
        CommandStatus(self.status & 0x7F)
    }

    /// Appends the value and status bytes (the index is the header's business).
    pub fn write(&self, out: &mut Vec<u8>) {
        match self.value {
            AnalogValue::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
            AnalogValue::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
            AnalogValue::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
            AnalogValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
        }
        out.push(self.status);
    }

    fn read(index: u32, variation: u8, data: &[u8]) -> Option<AnalogOutput> {
        let mut r = Reader::new(data, Layer::Dnp3App);
        let value = match variation {
            1 => AnalogValue::I32(r.le_i32().ok()?),
            2 => AnalogValue::I16(i16::from_le_bytes(r.le_u16().ok()?.to_le_bytes())),
            3 => AnalogValue::F32(f32::from_bits(r.le_u32().ok()?)),
            _ => AnalogValue::F64(f64::from_bits(r.le_u64().ok()?)),
        };
        Some(AnalogOutput {
            index,
            value,
            status: r.u8().ok()?,
        })
    }
}

/// Iterator over the analog output blocks of a g41 header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnalogOutputs<'a> {
    points: Points<'a>,
    variation: u8,
}

impl Iterator for AnalogOutputs<'_> {
    type Item = AnalogOutput;

    fn next(&mut self) -> Option<AnalogOutput> {
        let point = self.points.next()?;
        AnalogOutput::read(point.index, self.variation, point.data)
    }
}

wire_enum! {
    /// The units of a g50v4 interval.
    IntervalUnits(u8) {
        /// The action is not repeated.
        NONE = 0 => "none";
        /// Milliseconds (also the unit of the g50v2 interval).
        MILLISECONDS = 1 => "milliseconds";
        /// Seconds.
        SECONDS = 2 => "seconds";
        /// Minutes.
        MINUTES = 3 => "minutes";
        /// Hours.
        HOURS = 4 => "hours";
        /// Days.
        DAYS = 5 => "days";
        /// Weeks.
        WEEKS = 6 => "weeks";
        /// Months, on the same day of the month.
        MONTHS = 7 => "months";
        /// Months, on the same day of the week counted from the start of the month.
        MONTHS_SAME_DAY_OF_WEEK_FROM_START = 8 => "months_same_day_of_week_from_start";
        /// Months, on the same day of the week counted from the end of the month.
        MONTHS_SAME_DAY_OF_WEEK_FROM_END = 9 => "months_same_day_of_week_from_end";
        /// Seasons.
        SEASONS = 10 => "seasons";
    }
}

/// The repeat interval of a g50v2 or g50v4 time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Number of units.
    pub count: u32,
    /// The unit (milliseconds for g50v2).
    pub units: IntervalUnits,
}

/// One g50 time object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeAndDate {
    /// The point index (g50v4 carries one; otherwise the position).
    pub index: u32,
    /// Milliseconds since 1970-01-01 UTC (48 bits).
    pub timestamp_ms: u64,
    /// The interval of g50v2 and g50v4.
    pub interval: Option<Interval>,
}

impl TimeAndDate {
    /// Appends the object bytes for `variation` (1 and 3: time; 2: time and
    /// millisecond interval; 4: time, interval count and units). A missing
    /// interval is written as zero.
    pub fn write(&self, out: &mut Vec<u8>, variation: u8) {
        write_time(out, self.timestamp_ms);
        let interval = self.interval.unwrap_or(Interval {
            count: 0,
            units: IntervalUnits::NONE,
        });
        if matches!(variation, 2 | 4) {
            out.extend_from_slice(&interval.count.to_le_bytes());
        }
        if variation == 4 {
            out.push(interval.units.0);
        }
    }

    fn read(index: u32, variation: u8, data: &[u8]) -> Option<TimeAndDate> {
        let mut r = Reader::new(data, Layer::Dnp3App);
        let timestamp_ms = read_time(&mut r).ok()?;
        let interval = match variation {
            2 => Some(Interval {
                count: r.le_u32().ok()?,
                units: IntervalUnits::MILLISECONDS,
            }),
            4 => Some(Interval {
                count: r.le_u32().ok()?,
                units: IntervalUnits(r.u8().ok()?),
            }),
            _ => None,
        };
        Some(TimeAndDate {
            index,
            timestamp_ms,
            interval,
        })
    }
}

/// Iterator over the time objects of a g50 header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Times<'a> {
    points: Points<'a>,
    variation: u8,
}

impl Iterator for Times<'_> {
    type Item = TimeAndDate;

    fn next(&mut self) -> Option<TimeAndDate> {
        let point = self.points.next()?;
        TimeAndDate::read(point.index, self.variation, point.data)
    }
}

/// A g52 time delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delay {
    /// True for g52v2 (milliseconds), false for g52v1 (seconds).
    pub fine: bool,
    /// The delay in its unit.
    pub value: u16,
}

impl Delay {
    /// The delay in milliseconds.
    pub const fn millis(&self) -> u32 {
        if self.fine {
            self.value as u32
        } else {
            self.value as u32 * 1000
        }
    }
}

wire_enum! {
    /// The mode of a g70v3 file command.
    FileMode(u16) {
        /// No mode (delete, get info).
        NULL = 0 => "null";
        /// Open for reading.
        READ = 1 => "read";
        /// Open for writing.
        WRITE = 2 => "write";
        /// Open for appending.
        APPEND = 3 => "append";
    }
}

wire_enum! {
    /// The status of a g70v4 or g70v6 file object.
    FileStatus(u8) {
        /// Success.
        SUCCESS = 0 => "success";
        /// Permission denied.
        PERMISSION_DENIED = 1 => "permission_denied";
        /// Invalid mode.
        INVALID_MODE = 2 => "invalid_mode";
        /// File not found.
        FILE_NOT_FOUND = 3 => "file_not_found";
        /// File locked.
        FILE_LOCKED = 4 => "file_locked";
        /// Too many files open.
        TOO_MANY_OPEN = 5 => "too_many_open";
        /// Invalid handle.
        INVALID_HANDLE = 6 => "invalid_handle";
        /// Write block size.
        WRITE_BLOCK_SIZE = 7 => "write_block_size";
        /// Communication lost.
        COMM_LOST = 8 => "comm_lost";
        /// Cannot abort.
        CANNOT_ABORT = 9 => "cannot_abort";
        /// File not opened.
        NOT_OPENED = 16 => "not_opened";
        /// Handle expired.
        HANDLE_EXPIRED = 17 => "handle_expired";
        /// Buffer overrun.
        BUFFER_OVERRUN = 18 => "buffer_overrun";
        /// Fatal error.
        FATAL = 19 => "fatal";
        /// Block out of sequence.
        BLOCK_SEQUENCE = 20 => "block_sequence";
        /// Undefined error.
        UNDEFINED = 255 => "undefined";
    }
}

/// Fixed part of a g70v3 file command, before the file name.
pub const FILE_COMMAND_FIXED_LEN: usize = 26;
/// Fixed part of a g70v7 file descriptor, before the file name.
pub const FILE_DESCRIPTOR_FIXED_LEN: usize = 20;
/// Fixed part of a g70v2 file authentication object, before the user name and password.
pub const FILE_AUTHENTICATION_FIXED_LEN: usize = 12;
/// Bit 31 of a g70v5/v6 block number: the last block.
pub const LAST_BLOCK: u32 = 0x8000_0000;

/// A g70v3 file command: open, delete, get info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileCommand<'a> {
    /// The file name (not checked for encoding).
    pub name: &'a [u8],
    /// Time of creation, milliseconds since 1970 (meaningful when writing).
    pub created_ms: u64,
    /// Permissions (Unix-style bits: owner, group, world).
    pub permissions: u16,
    /// Authentication key from an earlier authenticate-file exchange.
    pub authentication_key: u32,
    /// File size (writing, appending).
    pub file_size: u32,
    /// Operational mode.
    pub mode: FileMode,
    /// Maximum block size.
    pub max_block_size: u16,
    /// Request id, echoed in the status.
    pub request_id: u16,
}

/// One g70 file object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileObject<'a> {
    /// g70v2: user name and an authentication key; the password is not exposed.
    Authentication {
        /// The user name.
        user_name: &'a [u8],
        /// Length of the password field (the password itself is never kept).
        password_len: u16,
        /// The authentication key field.
        authentication_key: u32,
    },
    /// g70v3 file command.
    Command(FileCommand<'a>),
    /// g70v4 file command status.
    CommandStatus {
        /// File handle.
        handle: u32,
        /// File size.
        file_size: u32,
        /// Maximum block size.
        max_block_size: u16,
        /// Request id of the command.
        request_id: u16,
        /// Outcome.
        status: FileStatus,
        /// Optional text.
        text: &'a [u8],
    },
    /// g70v5 file transport: one block of file data.
    Transport {
        /// File handle.
        handle: u32,
        /// Block number (bit 31 cleared).
        block: u32,
        /// True on the last block.
        last: bool,
        /// The file data.
        data: &'a [u8],
    },
    /// g70v6 file transport status.
    TransportStatus {
        /// File handle.
        handle: u32,
        /// Block number (bit 31 cleared).
        block: u32,
        /// True on the last block.
        last: bool,
        /// Outcome.
        status: FileStatus,
        /// Optional text.
        text: &'a [u8],
    },
    /// g70v7 file descriptor (a directory entry, or get-info's answer).
    Descriptor {
        /// The file name.
        name: &'a [u8],
        /// File type: 0 directory, 1 simple file.
        file_type: u16,
        /// File size.
        file_size: u32,
        /// Time of creation, milliseconds since 1970.
        created_ms: u64,
        /// Permissions.
        permissions: u16,
        /// Request id.
        request_id: u16,
    },
    /// g70v8 file specification string.
    Specification(&'a [u8]),
}

/// The `size` bytes at `offset` of `object`, when they lie after its fixed part.
fn string_at(object: &[u8], offset: u16, size: u16, fixed: usize) -> Option<&[u8]> {
    let start = usize::from(offset);
    if start < fixed {
        return None;
    }
    object.get(start..start.checked_add(usize::from(size))?)
}

impl<'a> FileObject<'a> {
    /// Decodes a g70 object of `variation` (2-8); `None` when it is too short.
    pub fn read(variation: u8, data: &'a [u8]) -> Option<FileObject<'a>> {
        let mut r = Reader::new(data, Layer::Dnp3App);
        Some(match variation {
            2 => {
                let user_offset = r.le_u16().ok()?;
                let user_size = r.le_u16().ok()?;
                let _password_offset = r.le_u16().ok()?;
                let password_len = r.le_u16().ok()?;
                let authentication_key = r.le_u32().ok()?;
                FileObject::Authentication {
                    user_name: string_at(
                        data,
                        user_offset,
                        user_size,
                        FILE_AUTHENTICATION_FIXED_LEN,
                    )?,
                    password_len,
                    authentication_key,
                }
            }
            3 => {
                let name_offset = r.le_u16().ok()?;
                let name_size = r.le_u16().ok()?;
                let created_ms = read_time(&mut r).ok()?;
                let permissions = r.le_u16().ok()?;
                let authentication_key = r.le_u32().ok()?;
                let file_size = r.le_u32().ok()?;
                let mode = FileMode(r.le_u16().ok()?);
                let max_block_size = r.le_u16().ok()?;
                let request_id = r.le_u16().ok()?;
                FileObject::Command(FileCommand {
                    name: string_at(data, name_offset, name_size, FILE_COMMAND_FIXED_LEN)?,
                    created_ms,
                    permissions,
                    authentication_key,
                    file_size,
                    mode,
                    max_block_size,
                    request_id,
                })
            }
            4 => FileObject::CommandStatus {
                handle: r.le_u32().ok()?,
                file_size: r.le_u32().ok()?,
                max_block_size: r.le_u16().ok()?,
                request_id: r.le_u16().ok()?,
                status: FileStatus(r.u8().ok()?),
                text: r.take_rest(),
            },
            5 | 6 => {
                let handle = r.le_u32().ok()?;
                let block = r.le_u32().ok()?;
                let last = block & LAST_BLOCK != 0;
                let block = block & !LAST_BLOCK;
                if variation == 5 {
                    FileObject::Transport {
                        handle,
                        block,
                        last,
                        data: r.take_rest(),
                    }
                } else {
                    FileObject::TransportStatus {
                        handle,
                        block,
                        last,
                        status: FileStatus(r.u8().ok()?),
                        text: r.take_rest(),
                    }
                }
            }
            7 => {
                let name_offset = r.le_u16().ok()?;
                let name_size = r.le_u16().ok()?;
                let file_type = r.le_u16().ok()?;
                let file_size = r.le_u32().ok()?;
                let created_ms = read_time(&mut r).ok()?;
                let permissions = r.le_u16().ok()?;
                let request_id = r.le_u16().ok()?;
                FileObject::Descriptor {
                    name: string_at(data, name_offset, name_size, FILE_DESCRIPTOR_FIXED_LEN)?,
                    file_type,
                    file_size,
                    created_ms,
                    permissions,
                    request_id,
                }
            }
            8 => FileObject::Specification(data),
            _ => return None,
        })
    }

    /// The file name or specification the object carries, if any.
    pub const fn name(&self) -> Option<&'a [u8]> {
        match *self {
            FileObject::Command(FileCommand { name, .. })
            | FileObject::Descriptor { name, .. }
            | FileObject::Specification(name) => Some(name),
            _ => None,
        }
    }
}

impl FileCommand<'_> {
    /// Appends the object bytes (without a size prefix); the name offset is
    /// the fixed part's length, the name size saturates at 65535.
    pub fn write(&self, out: &mut Vec<u8>) {
        let name_size = u16::try_from(self.name.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&(FILE_COMMAND_FIXED_LEN as u16).to_le_bytes());
        out.extend_from_slice(&name_size.to_le_bytes());
        write_time(out, self.created_ms);
        out.extend_from_slice(&self.permissions.to_le_bytes());
        out.extend_from_slice(&self.authentication_key.to_le_bytes());
        out.extend_from_slice(&self.file_size.to_le_bytes());
        out.extend_from_slice(&self.mode.0.to_le_bytes());
        out.extend_from_slice(&self.max_block_size.to_le_bytes());
        out.extend_from_slice(&self.request_id.to_le_bytes());
        out.extend_from_slice(self.name.get(..usize::from(name_size)).unwrap_or_default());
    }
}

/// Iterator over the objects of a g70 header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileObjects<'a> {
    points: Points<'a>,
    variation: u8,
}

impl<'a> Iterator for FileObjects<'a> {
    type Item = FileObject<'a>;

    fn next(&mut self) -> Option<FileObject<'a>> {
        let point = self.points.next()?;
        FileObject::read(self.variation, point.data)
    }
}

wire_enum! {
    /// The data type of a device attribute value.
    AttributeDataType(u8) {
        /// Visible string (ASCII).
        VSTR = 1 => "vstr";
        /// Unsigned integer, little-endian, 1-8 bytes.
        UINT = 2 => "uint";
        /// Signed integer, little-endian, 1-8 bytes.
        INT = 3 => "int";
        /// Floating point, 4 or 8 bytes.
        FLT = 4 => "flt";
        /// Octet string.
        OSTR = 5 => "ostr";
        /// Bit string.
        BSTR = 6 => "bstr";
        /// DNP3 time (6 bytes).
        TIME = 7 => "time";
        /// Unicode string (UTF-8).
        UNCD = 8 => "uncd";
        /// List of (variation, properties) pairs: the answer to variation 255.
        U8BS8LIST = 254 => "u8bs8list";
        /// Extended list of (variation, properties) pairs.
        U8BS8EXLIST = 255 => "u8bs8exlist";
    }
}

wire_enum! {
    /// Device attribute variations of group 0 (IEEE 1815-2012 table 11-2), set 0.
    AttributeVariation(u8) {
        /// Configuration id.
        CONFIG_ID = 196 => "config_id";
        /// Configuration version.
        CONFIG_VERSION = 197 => "config_version";
        /// Configuration build date.
        CONFIG_BUILD_DATE = 198 => "config_build_date";
        /// Configuration last change date.
        CONFIG_LAST_CHANGE_DATE = 199 => "config_last_change_date";
        /// Configuration digest.
        CONFIG_DIGEST = 200 => "config_digest";
        /// Configuration digest algorithm.
        CONFIG_DIGEST_ALGORITHM = 201 => "config_digest_algorithm";
        /// Master resource id (mRID).
        MASTER_RESOURCE_ID = 202 => "master_resource_id";
        /// Device location altitude.
        LOCATION_ALTITUDE = 203 => "location_altitude";
        /// Device location longitude.
        LOCATION_LONGITUDE = 204 => "location_longitude";
        /// Device location latitude.
        LOCATION_LATITUDE = 205 => "location_latitude";
        /// User-assigned secondary operator name.
        SECONDARY_OPERATOR_NAME = 206 => "secondary_operator_name";
        /// User-assigned primary operator name.
        PRIMARY_OPERATOR_NAME = 207 => "primary_operator_name";
        /// User-assigned system name.
        SYSTEM_NAME = 208 => "system_name";
        /// Secure Authentication version.
        SECURE_AUTHENTICATION_VERSION = 209 => "secure_authentication_version";
        /// Number of security statistics per association.
        SECURITY_STATISTICS = 210 => "security_statistics";
        /// Identification of user-specific attributes.
        USER_SPECIFIC_ATTRIBUTES = 211 => "user_specific_attributes";
        /// Number of master-defined data set prototypes.
        MASTER_DATA_SET_PROTOTYPES = 212 => "master_data_set_prototypes";
        /// Number of outstation-defined data set prototypes.
        OUTSTATION_DATA_SET_PROTOTYPES = 213 => "outstation_data_set_prototypes";
        /// Number of master-defined data sets.
        MASTER_DATA_SETS = 214 => "master_data_sets";
        /// Number of outstation-defined data sets.
        OUTSTATION_DATA_SETS = 215 => "outstation_data_sets";
        /// Maximum binary output objects per request.
        MAX_BINARY_OUTPUTS_PER_REQUEST = 216 => "max_binary_outputs_per_request";
        /// Local timing accuracy.
        LOCAL_TIMING_ACCURACY = 217 => "local_timing_accuracy";
        /// Duration of time accuracy.
        TIME_ACCURACY_DURATION = 218 => "time_accuracy_duration";
        /// Support for analog output events.
        ANALOG_OUTPUT_EVENTS = 219 => "analog_output_events";
        /// Maximum analog output index.
        MAX_ANALOG_OUTPUT_INDEX = 220 => "max_analog_output_index";
        /// Number of analog outputs.
        ANALOG_OUTPUTS = 221 => "analog_outputs";
        /// Support for binary output events.
        BINARY_OUTPUT_EVENTS = 222 => "binary_output_events";
        /// Maximum binary output index.
        MAX_BINARY_OUTPUT_INDEX = 223 => "max_binary_output_index";
        /// Number of binary outputs.
        BINARY_OUTPUTS = 224 => "binary_outputs";
        /// Support for frozen counter events.
        FROZEN_COUNTER_EVENTS = 225 => "frozen_counter_events";
        /// Support for frozen counters.
        FROZEN_COUNTERS = 226 => "frozen_counters";
        /// Support for counter events.
        COUNTER_EVENTS = 227 => "counter_events";
        /// Maximum counter index.
        MAX_COUNTER_INDEX = 228 => "max_counter_index";
        /// Number of counters.
        COUNTERS = 229 => "counters";
        /// Support for frozen analog inputs.
        FROZEN_ANALOG_INPUTS = 230 => "frozen_analog_inputs";
        /// Support for analog input events.
        ANALOG_INPUT_EVENTS = 231 => "analog_input_events";
        /// Maximum analog input index.
        MAX_ANALOG_INPUT_INDEX = 232 => "max_analog_input_index";
        /// Number of analog inputs.
        ANALOG_INPUTS = 233 => "analog_inputs";
        /// Support for double-bit binary input events.
        DOUBLE_BIT_INPUT_EVENTS = 234 => "double_bit_input_events";
        /// Maximum double-bit binary input index.
        MAX_DOUBLE_BIT_INPUT_INDEX = 235 => "max_double_bit_input_index";
        /// Number of double-bit binary inputs.
        DOUBLE_BIT_INPUTS = 236 => "double_bit_inputs";
        /// Support for binary input events.
        BINARY_INPUT_EVENTS = 237 => "binary_input_events";
        /// Maximum binary input index.
        MAX_BINARY_INPUT_INDEX = 238 => "max_binary_input_index";
        /// Number of binary inputs.
        BINARY_INPUTS = 239 => "binary_inputs";
        /// Maximum transmit fragment size.
        MAX_TRANSMIT_FRAGMENT_SIZE = 240 => "max_transmit_fragment_size";
        /// Maximum receive fragment size.
        MAX_RECEIVE_FRAGMENT_SIZE = 241 => "max_receive_fragment_size";
        /// Device manufacturer's software version.
        SOFTWARE_VERSION = 242 => "software_version";
        /// Device manufacturer's hardware version.
        HARDWARE_VERSION = 243 => "hardware_version";
        /// User-assigned owner name.
        OWNER_NAME = 244 => "owner_name";
        /// User-assigned location name.
        LOCATION_NAME = 245 => "location_name";
        /// User-assigned id code.
        USER_ASSIGNED_ID = 246 => "user_assigned_id";
        /// User-assigned device name.
        DEVICE_NAME = 247 => "device_name";
        /// Device serial number.
        SERIAL_NUMBER = 248 => "serial_number";
        /// DNP3 subset and conformance.
        SUBSET_AND_CONFORMANCE = 249 => "subset_and_conformance";
        /// Device manufacturer's product name and model.
        PRODUCT_NAME_AND_MODEL = 250 => "product_name_and_model";
        /// Device manufacturer's name.
        MANUFACTURER_NAME = 252 => "manufacturer_name";
        /// Non-specific all attributes request.
        ALL_ATTRIBUTES = 254 => "all_attributes";
        /// List of attribute variations.
        LIST_OF_ATTRIBUTE_VARIATIONS = 255 => "list_of_attribute_variations";
    }
}

/// A device attribute value interpreted by its data type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttributeValue<'a> {
    /// VSTR or UNCD that is valid UTF-8 (trailing NULs removed).
    Text(&'a str),
    /// UINT of 1-8 bytes.
    Unsigned(u64),
    /// INT of 1-8 bytes.
    Signed(i64),
    /// FLT of 4 or 8 bytes.
    Float(f64),
    /// TIME: milliseconds since 1970.
    Time(u64),
    /// Anything else, or a value whose length does not fit its type.
    Bytes(&'a [u8]),
}

/// Interprets a device attribute value by its data type.
pub fn attribute_value(data_type: u8, value: &[u8]) -> AttributeValue<'_> {
    let integer = |value: &[u8]| -> Option<[u8; 8]> {
        if value.is_empty() || value.len() > 8 {
            return None;
        }
        let mut bytes = [0u8; 8];
        bytes.get_mut(..value.len())?.copy_from_slice(value);
        Some(bytes)
    };
    let parsed = match AttributeDataType(data_type) {
        AttributeDataType::VSTR | AttributeDataType::UNCD => core::str::from_utf8(value)
            .ok()
            .map(|text| AttributeValue::Text(text.trim_end_matches('\0'))),
        AttributeDataType::UINT => {
            integer(value).map(|bytes| AttributeValue::Unsigned(u64::from_le_bytes(bytes)))
        }
        AttributeDataType::INT => integer(value).map(|bytes| {
            let shift = 64 - 8 * value.len() as u32;
            AttributeValue::Signed(
                i64::from_le_bytes(bytes)
                    .wrapping_shl(shift)
                    .wrapping_shr(shift),
            )
        }),
        AttributeDataType::FLT => match value.len() {
            4 => Reader::new(value, Layer::Dnp3App)
                .le_u32()
                .ok()
                .map(|bits| AttributeValue::Float(f64::from(f32::from_bits(bits)))),
            8 => Reader::new(value, Layer::Dnp3App)
                .le_u64()
                .ok()
                .map(|bits| AttributeValue::Float(f64::from_bits(bits))),
            _ => None,
        },
        AttributeDataType::TIME if value.len() == 6 => {
            read_time(&mut Reader::new(value, Layer::Dnp3App))
                .ok()
                .map(AttributeValue::Time)
        }
        _ => None,
    };
    parsed.unwrap_or(AttributeValue::Bytes(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crob_bits() {
        let crob = Crob {
            index: 3,
            code: 0x81,
            count: 1,
            on_ms: 1000,
            off_ms: 0,
            status: 0x84,
        };
        assert_eq!(crob.op_type(), OpType::PULSE_ON);
        assert_eq!(crob.trip_close(), TripCloseCode::TRIP);
        assert!(!crob.clear() && !crob.queue());
        assert_eq!(crob.command_status(), CommandStatus::NOT_SUPPORTED);
        let mut out = Vec::new();
        crob.write(&mut out);
        assert_eq!(out.len(), CROB_LEN);
        assert_eq!(Crob::read(3, &out), Some(crob));
        assert_eq!(Crob::read(3, &out[..10]), None);
    }

    #[test]
    fn attribute_values() {
        assert_eq!(
            attribute_value(1, b"RTU-7\0"),
            AttributeValue::Text("RTU-7")
        );
        assert_eq!(
            attribute_value(2, &[0x00, 0x08]),
            AttributeValue::Unsigned(2048)
        );
        assert_eq!(attribute_value(3, &[0xFE]), AttributeValue::Signed(-2));
        assert_eq!(
            attribute_value(4, &1.5f32.to_le_bytes()),
            AttributeValue::Float(1.5)
        );
        assert_eq!(attribute_value(2, &[0; 9]), AttributeValue::Bytes(&[0; 9]));
        assert_eq!(attribute_value(1, &[0xFF]), AttributeValue::Bytes(&[0xFF]));
        assert_eq!(AttributeVariation(247).name(), Some("device_name"));
    }

    #[test]
    fn file_command_round_trips_and_checks_its_name() {
        let command = FileCommand {
            name: b"/cfg/settings.xml",
            created_ms: 0x0123_4567_89AB,
            permissions: 0o644,
            authentication_key: 0,
            file_size: 1234,
            mode: FileMode::WRITE,
            max_block_size: 1024,
            request_id: 7,
        };
        let mut out = Vec::new();
        command.write(&mut out);
        assert_eq!(out.len(), FILE_COMMAND_FIXED_LEN + 17);
        assert_eq!(
            FileObject::read(3, &out),
            Some(FileObject::Command(command))
        );
        assert_eq!(FileObject::read(3, &out[..30]), None);
        out[0] = 2; // name offset inside the fixed part
        assert_eq!(FileObject::read(3, &out), None);
        assert_eq!(
            Delay {
                fine: false,
                value: 2
            }
            .millis(),
            2000
        );
    }
}
