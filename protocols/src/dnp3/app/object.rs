//! Object headers (IEEE 1815-2012 clause 4.2.2.7): group, variation,
//! qualifier, range, and the objects that follow.
//!
//! ```text
//!  group | variation | qualifier | range (0, 1, 2, 4 or 8 bytes) | objects ...
//!  qualifier:  bit 7 reserved | bits 6-4 prefix code | bits 3-0 range code
//!  object:     [prefix: index or size, 1/2/4 bytes] value (size from the catalogue)
//! ```
//!
//! [`Objects`] walks the headers of a fragment lazily and without copying.
//! How far the objects of a header reach comes from the qualifier, the range,
//! the catalogue ([`object_kind`]) and the function: requests such as Read
//! name objects without their values. Where the size cannot be known the
//! header is still reported, its `data` is the rest of the fragment, and the
//! walk ends with an anomaly.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::anomaly::Anomalies;
use super::catalog::{ObjectKind, object_kind, object_name};
use super::function::FunctionCode;
use super::values::{self, ObjectValues};

wire_enum! {
    /// An object-header qualifier; the named values are those in common use
    /// ([`Qualifier::prefix`] and [`Qualifier::range_code`] decode any).
    Qualifier(u8) {
        /// 1-byte start and stop indices.
        START_STOP_8 = 0x00 => "start_stop_8";
        /// 2-byte start and stop indices.
        START_STOP_16 = 0x01 => "start_stop_16";
        /// 4-byte start and stop indices.
        START_STOP_32 = 0x02 => "start_stop_32";
        /// No range: all objects of the type.
        ALL_OBJECTS = 0x06 => "all_objects";
        /// 1-byte count, no prefix.
        COUNT_8 = 0x07 => "count_8";
        /// 2-byte count, no prefix.
        COUNT_16 = 0x08 => "count_16";
        /// 4-byte count, no prefix.
        COUNT_32 = 0x09 => "count_32";
        /// 1-byte count, each object prefixed with a 1-byte index.
        INDEX_8_COUNT_8 = 0x17 => "index_8_count_8";
        /// 2-byte count, each object prefixed with a 2-byte index.
        INDEX_16_COUNT_16 = 0x28 => "index_16_count_16";
        /// 4-byte count, each object prefixed with a 4-byte index.
        INDEX_32_COUNT_32 = 0x39 => "index_32_count_32";
        /// Free format: 1-byte count, each object prefixed with a 2-byte size.
        FREE_FORMAT = 0x5B => "free_format";
    }
}

/// What precedes each object: nothing, its index, or its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// No prefix: indices follow from the range.
    None,
    /// An index of this many bytes (1, 2 or 4).
    Index(u8),
    /// An object size of this many bytes (1, 2 or 4).
    Size(u8),
    /// Prefix code 7, reserved.
    Reserved,
}

impl Prefix {
    /// Bytes the prefix takes before each object (0 for none or reserved).
    pub const fn width(self) -> usize {
        match self {
            Prefix::Index(w) | Prefix::Size(w) => w as usize,
            Prefix::None | Prefix::Reserved => 0,
        }
    }
}

impl Qualifier {
    /// The object prefix (bits 6-4).
    pub const fn prefix(self) -> Prefix {
        match (self.0 >> 4) & 0x07 {
            0 => Prefix::None,
            1 => Prefix::Index(1),
            2 => Prefix::Index(2),
            3 => Prefix::Index(4),
            4 => Prefix::Size(1),
            5 => Prefix::Size(2),
            6 => Prefix::Size(4),
            _ => Prefix::Reserved,
        }
    }

    /// The range specifier code (bits 3-0).
    pub const fn range_code(self) -> u8 {
        self.0 & 0x0F
    }

    /// True when the qualifier is one [`Objects`] can walk: bit 7 clear, a
    /// defined prefix, and a range code of 0-2, 6-9 or 0xB (the virtual
    /// address codes 3-5 and the reserved codes end the walk).
    pub const fn is_supported(self) -> bool {
        self.0 & 0x80 == 0
            && !matches!(self.prefix(), Prefix::Reserved)
            && matches!(self.range_code(), 0x0..=0x2 | 0x6..=0x9 | 0xB)
    }

    /// Bytes of the range field for this qualifier (0 when unsupported).
    pub const fn range_len(self) -> usize {
        match self.range_code() {
            0x0 => 2,
            0x1 => 4,
            0x2 => 8,
            0x7 | 0xB => 1,
            0x8 => 2,
            0x9 => 4,
            _ => 0,
        }
    }
}

/// The range field of an object header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Range {
    /// Start and stop indices, both included (range codes 0-2).
    StartStop {
        /// First index.
        start: u32,
        /// Last index.
        stop: u32,
    },
    /// A count of objects (range codes 7-9 and 0xB, free format).
    Count(u32),
    /// No range: all objects (range code 6).
    All,
    /// A range code Faro does not walk (virtual addresses 3-5, reserved codes);
    /// the value is the range code.
    Other(u8),
}

impl Range {
    /// Number of objects the range announces: `None` for a start above its
    /// stop and for [`Range::Other`]; 0 for [`Range::All`].
    pub const fn count(&self) -> Option<u64> {
        match *self {
            Range::StartStop { start, stop } if start <= stop => {
                Some(stop as u64 - start as u64 + 1)
            }
            Range::StartStop { .. } | Range::Other(_) => None,
            Range::Count(n) => Some(n as u64),
            Range::All => Some(0),
        }
    }

    /// Index of the object at `position` when objects carry no index prefix:
    /// start + position for start-stop ranges, the position otherwise.
    pub const fn index_at(&self, position: u32) -> u32 {
        match *self {
            Range::StartStop { start, .. } => start.wrapping_add(position),
            _ => position,
        }
    }

    /// Reads the range field for `qualifier` at the cursor.
    fn read(r: &mut Reader<'_>, qualifier: Qualifier) -> Result<Range, Error> {
        Ok(match qualifier.range_code() {
            0x0 => Range::StartStop {
                start: u32::from(r.u8()?),
                stop: u32::from(r.u8()?),
            },
            0x1 => Range::StartStop {
                start: u32::from(r.le_u16()?),
                stop: u32::from(r.le_u16()?),
            },
            0x2 => Range::StartStop {
                start: r.le_u32()?,
                stop: r.le_u32()?,
            },
            0x6 => Range::All,
            0x7 | 0xB => Range::Count(u32::from(r.u8()?)),
            0x8 => Range::Count(u32::from(r.le_u16()?)),
            0x9 => Range::Count(r.le_u32()?),
            code => Range::Other(code),
        })
    }

    /// Appends the range field as `qualifier` lays it out. Fails, leaving
    /// `out` as it was, when the range does not fit the qualifier (a value
    /// too wide, a start-stop range for a count qualifier, or the reverse).
    pub fn write(&self, out: &mut Vec<u8>, qualifier: Qualifier) -> Result<(), Error> {
        let invalid = |value: u32| Error::Invalid {
            layer: Layer::Dnp3App,
            offset: out.len(),
            field: "range",
            value,
        };
        let narrow8 = |v: u32| u8::try_from(v).map_err(|_| invalid(v));
        let narrow16 = |v: u32| u16::try_from(v).map_err(|_| invalid(v));
        match (*self, qualifier.range_code()) {
            (Range::StartStop { start, stop }, 0x0) => {
                out.extend_from_slice(&[narrow8(start)?, narrow8(stop)?]);
            }
            (Range::StartStop { start, stop }, 0x1) => {
                let (start, stop) = (narrow16(start)?, narrow16(stop)?);
                out.extend_from_slice(&start.to_le_bytes());
                out.extend_from_slice(&stop.to_le_bytes());
            }
            (Range::StartStop { start, stop }, 0x2) => {
                out.extend_from_slice(&start.to_le_bytes());
                out.extend_from_slice(&stop.to_le_bytes());
            }
            (Range::All, 0x6) => {}
            (Range::Count(n), 0x7 | 0xB) => out.push(narrow8(n)?),
            (Range::Count(n), 0x8) => out.extend_from_slice(&narrow16(n)?.to_le_bytes()),
            (Range::Count(n), 0x9) => out.extend_from_slice(&n.to_le_bytes()),
            (Range::Other(code), found) if code == found => {}
            _ => return Err(invalid(u32::from(qualifier.0))),
        }
        Ok(())
    }
}

/// One object header and the objects that follow it, borrowed from the fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectHeader<'a> {
    /// Object group.
    pub group: u8,
    /// Variation (0: any variation).
    pub variation: u8,
    /// Qualifier byte; [`Qualifier`] decodes it.
    pub qualifier: u8,
    /// The range field.
    pub range: Range,
    /// The objects after the range field: prefixes and values. When the walk
    /// had to stop at this header (unknown size, truncation, unsupported
    /// qualifier), the rest of the fragment.
    pub data: &'a [u8],
    /// The values decoded for the objects the detections and the inventory read.
    pub values: ObjectValues<'a>,
    /// True when the objects carry values; false for the headers of Read,
    /// the freezes, Assign Class and Enable/Disable Unsolicited, whose `data`
    /// holds at most index prefixes.
    pub with_values: bool,
}

impl<'a> ObjectHeader<'a> {
    /// Group and variation as one number, `group << 8 | variation` (tshark's `dnp3.al.obj`).
    pub const fn object(&self) -> u16 {
        u16::from_be_bytes([self.group, self.variation])
    }

    /// The catalogue's name for the group/variation.
    pub const fn name(&self) -> Option<&'static str> {
        object_name(self.group, self.variation)
    }

    /// The catalogue's kind for the group/variation.
    pub const fn kind(&self) -> Option<ObjectKind> {
        object_kind(self.group, self.variation)
    }

    /// The qualifier as a wire value.
    pub const fn qualifier(&self) -> Qualifier {
        Qualifier(self.qualifier)
    }

    /// The object prefix.
    pub const fn prefix(&self) -> Prefix {
        self.qualifier().prefix()
    }

    /// The number of objects the range announces (see [`Range::count`]).
    pub const fn count(&self) -> Option<u64> {
        self.range.count()
    }

    /// The objects one by one, with their indices. Objects that occupy no
    /// bytes (a range named in a Read, class data) are not enumerated: the
    /// range says which they are. Bit-packed values come from [`Self::bits`].
    pub fn points(&self) -> Points<'a> {
        let policy = Policy::of(self.group, self.variation, self.prefix(), self.with_values);
        let count = match policy {
            Policy::Packed(_) | Policy::Unknown => 0,
            Policy::Constant(0) if self.prefix() == Prefix::None => 0,
            _ => self.count().unwrap_or(0),
        };
        Points {
            data: self.data,
            offset: 0,
            policy,
            prefix: self.prefix(),
            range: self.range,
            position: 0,
            count,
        }
    }

    /// The bit-packed values of g1v1, g3v1, g10v1, g12v3 and g80v1 (no
    /// prefix, with values); `None` for other objects.
    pub fn bits(&self) -> Option<PackedBits<'a>> {
        match Policy::of(self.group, self.variation, self.prefix(), self.with_values) {
            Policy::Packed(bits_per_point) => Some(PackedBits {
                range: self.range,
                count: self.count().unwrap_or(0),
                bits_per_point,
                bytes: self.data,
                position: 0,
            }),
            _ => None,
        }
    }

    /// Appends the header and its objects as they were on the wire. Fails,
    /// leaving `out` as it was, when the range does not fit the qualifier.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        out.extend_from_slice(&[self.group, self.variation, self.qualifier]);
        if let Err(error) = self.range.write(out, self.qualifier()) {
            out.truncate(start);
            return Err(error);
        }
        out.extend_from_slice(self.data);
        Ok(())
    }
}

/// How the objects of one header occupy the wire, once the function, the
/// catalogue and the prefix are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Policy {
    /// The same number of value bytes per object (after any index prefix).
    Constant(usize),
    /// Bit-packed values, this many bits per point, no prefix.
    Packed(u8),
    /// A device attribute: data type, length, value.
    Attribute,
    /// The size prefix gives each object's size; `Some(n)`: the catalogue expects `n`.
    SizePrefixed(Option<usize>),
    /// The size cannot be known.
    Unknown,
}

impl Policy {
    const fn of(group: u8, variation: u8, prefix: Prefix, with_values: bool) -> Policy {
        let kind = object_kind(group, variation);
        if let Prefix::Size(_) = prefix {
            let expected = match kind {
                Some(ObjectKind::Fixed(n)) if with_values => Some(n as usize),
                _ => None,
            };
            return Policy::SizePrefixed(expected);
        }
        if !with_values {
            return Policy::Constant(0);
        }
        let indexed = matches!(prefix, Prefix::Index(_));
        match kind {
            Some(ObjectKind::Fixed(n)) => Policy::Constant(n as usize),
            Some(ObjectKind::NoValue) => Policy::Constant(0),
            // An index prefix before a bit-packed point: one byte per point.
            Some(ObjectKind::Packed(_)) if indexed => Policy::Constant(1),
            Some(ObjectKind::Packed(bits)) => Policy::Packed(bits),
            Some(ObjectKind::Attribute) => Policy::Attribute,
            Some(ObjectKind::SizedByVariation) => Policy::Constant(variation as usize),
            Some(ObjectKind::AnyVariation | ObjectKind::FreeFormat) | None => Policy::Unknown,
        }
    }
}

/// Why the walk could not measure the objects of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The objects run past the end of the fragment.
    Truncated,
    /// Their size cannot be known.
    Unknown,
}

/// One object of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Point<'a> {
    /// The object's index: its index prefix, else derived from the range.
    /// For size-prefixed objects, the position in the header.
    pub index: u32,
    /// The object's value bytes (prefix excluded).
    pub data: &'a [u8],
}

/// Reads a little-endian prefix of `width` bytes.
fn read_prefix(r: &mut Reader<'_>, width: u8) -> Result<u32, Error> {
    match width {
        1 => r.u8().map(u32::from),
        2 => r.le_u16().map(u32::from),
        _ => r.le_u32(),
    }
}

/// Reads one object at the cursor: its prefix and value bytes.
fn read_point<'a>(
    r: &mut Reader<'a>,
    policy: Policy,
    prefix: Prefix,
    range: Range,
    position: u32,
) -> Result<Point<'a>, Error> {
    let (index, size) = match prefix {
        Prefix::Index(width) => (read_prefix(r, width)?, None),
        Prefix::Size(width) => (range.index_at(position), Some(read_prefix(r, width)?)),
        Prefix::None | Prefix::Reserved => (range.index_at(position), None),
    };
    let len = match (policy, size) {
        (_, Some(size)) => usize::try_from(size).unwrap_or(usize::MAX),
        (Policy::Constant(n), None) => n,
        (Policy::Attribute, None) => {
            let length = r.rest().get(1).copied().ok_or_else(|| r.incomplete(2))?;
            2 + usize::from(length)
        }
        (Policy::Packed(_) | Policy::SizePrefixed(_) | Policy::Unknown, None) => 0,
    };
    Ok(Point {
        index,
        data: r.take(len)?,
    })
}

/// Measures the objects of one header at the start of `rest`: how many bytes
/// they take, and any size mismatch.
fn measure(
    rest: &[u8],
    policy: Policy,
    prefix: Prefix,
    range: Range,
    count: u64,
) -> (Result<usize, Stop>, Anomalies) {
    let width = prefix.width() as u64;
    let fits = |total: Option<u64>| match total.and_then(|t| usize::try_from(t).ok()) {
        Some(total) if total <= rest.len() => Ok(total),
        _ => Err(Stop::Truncated),
    };
    match policy {
        _ if count == 0 => (Ok(0), Anomalies::empty()),
        Policy::Constant(n) => {
            let total = (n as u64)
                .checked_add(width)
                .and_then(|each| each.checked_mul(count));
            (fits(total), Anomalies::empty())
        }
        Policy::Packed(bits) => {
            let total = count.checked_mul(u64::from(bits)).map(|b| b.div_ceil(8));
            (fits(total), Anomalies::empty())
        }
        Policy::Unknown => (Err(Stop::Unknown), Anomalies::empty()),
        Policy::Attribute | Policy::SizePrefixed(_) => {
            // Every object takes at least one byte (a prefix, or an
            // attribute's type and length), so the walk ends within `rest`.
            let mut r = Reader::new(rest, Layer::Dnp3App);
            let mut anomalies = Anomalies::empty();
            let mut position = 0u32;
            for _ in 0..count {
                match read_point(&mut r, policy, prefix, range, position) {
                    Ok(point) => {
                        if let Policy::SizePrefixed(Some(expected)) = policy {
                            if point.data.len() != expected {
                                anomalies |= Anomalies::OBJECT_SIZE_MISMATCH;
                            }
                        }
                    }
                    Err(_) => return (Err(Stop::Truncated), anomalies),
                }
                position = position.wrapping_add(1);
            }
            (Ok(rest.len().saturating_sub(r.remaining())), anomalies)
        }
    }
}

/// Iterator over the objects of one header, from [`ObjectHeader::points`].
/// Stops at the count or at the first object that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Points<'a> {
    data: &'a [u8],
    offset: usize,
    policy: Policy,
    prefix: Prefix,
    range: Range,
    position: u64,
    count: u64,
}

impl<'a> Iterator for Points<'a> {
    type Item = Point<'a>;

    fn next(&mut self) -> Option<Point<'a>> {
        let rest = self.data.get(self.offset..).unwrap_or_default();
        if self.position >= self.count || rest.is_empty() {
            return None;
        }
        let position = u32::try_from(self.position).unwrap_or(u32::MAX);
        let mut r = Reader::new(rest, Layer::Dnp3App);
        match read_point(&mut r, self.policy, self.prefix, self.range, position) {
            Ok(point) => {
                self.position += 1;
                self.offset = self.data.len().saturating_sub(r.remaining());
                Some(point)
            }
            Err(_) => {
                self.position = self.count;
                None
            }
        }
    }
}

/// Bit-packed values (g1v1, g3v1 two bits per point, g10v1, g12v3, g80v1):
/// yields each point's index and value, least significant bits first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackedBits<'a> {
    range: Range,
    count: u64,
    bits_per_point: u8,
    bytes: &'a [u8],
    position: u64,
}

impl<'a> PackedBits<'a> {
    /// The packed bytes.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bits per point: 1, or 2 for double-bit inputs.
    pub const fn bits_per_point(&self) -> u8 {
        self.bits_per_point
    }
}

impl Iterator for PackedBits<'_> {
    type Item = (u32, u8);

    fn next(&mut self) -> Option<(u32, u8)> {
        if self.position >= self.count {
            return None;
        }
        let bits = u64::from(self.bits_per_point.clamp(1, 8));
        let bit = self.position.checked_mul(bits)?;
        let byte = self.bytes.get(usize::try_from(bit / 8).ok()?)?;
        let mask = (1u16 << bits) - 1;
        let value = (u16::from(*byte) >> (bit % 8)) & mask;
        let position = u32::try_from(self.position).ok()?;
        self.position += 1;
        Some((
            self.range.index_at(position),
            u8::try_from(value).unwrap_or(0),
        ))
    }
}

/// The object headers of a fragment: the bytes after the application header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Objects<'a> {
    function: FunctionCode,
    bytes: &'a [u8],
}

impl<'a> Objects<'a> {
    /// The objects of a fragment with `function`, from the bytes after its header.
    pub const fn new(function: FunctionCode, bytes: &'a [u8]) -> Objects<'a> {
        Objects { function, bytes }
    }

    /// The bytes after the application header.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// True when the fragment carries no object header.
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The function that decides whether objects carry values.
    pub const fn function(&self) -> FunctionCode {
        self.function
    }

    /// The object headers, in order.
    pub fn iter(&self) -> ObjectIter<'a> {
        ObjectIter {
            r: Reader::new(self.bytes, Layer::Dnp3App),
            function: self.function,
            anomalies: Anomalies::empty(),
            done: false,
        }
    }

    /// The anomalies a full walk of the headers finds.
    pub fn anomalies(&self) -> Anomalies {
        let mut iter = self.iter();
        let mut malformed = false;
        for header in iter.by_ref() {
            malformed |= values::is_malformed(&header);
        }
        if malformed {
            iter.anomalies | Anomalies::MALFORMED_OBJECT
        } else {
            iter.anomalies
        }
    }
}

impl<'a> IntoIterator for Objects<'a> {
    type Item = ObjectHeader<'a>;
    type IntoIter = ObjectIter<'a>;

    fn into_iter(self) -> ObjectIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Objects`]: yields each header with its objects; ends at
/// the end of the fragment or at the first header whose objects cannot be
/// measured (reported, then the walk stops: see [`ObjectIter::anomalies`]).
#[derive(Debug, Clone)]
pub struct ObjectIter<'a> {
    r: Reader<'a>,
    function: FunctionCode,
    anomalies: Anomalies,
    done: bool,
}

impl<'a> ObjectIter<'a> {
    /// The anomalies found so far (after the last header yielded).
    pub const fn anomalies(&self) -> Anomalies {
        self.anomalies
    }

    /// Bytes not walked yet.
    pub fn rest(&self) -> &'a [u8] {
        self.r.rest()
    }

    /// Ends the walk with `anomaly`, yielding a header whose data is the rest.
    fn stop(&mut self, anomaly: Anomalies) {
        self.anomalies |= anomaly;
        self.done = true;
    }

    fn read(&mut self) -> Option<ObjectHeader<'a>> {
        // A header cut short is not consumed: `rest` keeps it.
        let start = self.r.clone();
        let (Ok(group), Ok(variation), Ok(qualifier)) = (self.r.u8(), self.r.u8(), self.r.u8())
        else {
            self.r = start;
            self.stop(Anomalies::TRUNCATED_OBJECT);
            return None;
        };
        if object_kind(group, variation).is_none() {
            self.anomalies |= Anomalies::UNKNOWN_OBJECT;
        }
        let q = Qualifier(qualifier);
        let with_values = self.function.carries_values(group);
        let header = |range: Range, data: &'a [u8]| {
            let mut header = ObjectHeader {
                group,
                variation,
                qualifier,
                range,
                data,
                values: ObjectValues::Other,
                with_values,
            };
            header.values = values::decode(&header);
            header
        };
        if !q.is_supported() {
            self.stop(Anomalies::UNSUPPORTED_QUALIFIER);
            return Some(header(Range::Other(q.range_code()), self.r.take_rest()));
        }
        let Ok(range) = Range::read(&mut self.r, q) else {
            self.r = start;
            self.stop(Anomalies::TRUNCATED_OBJECT);
            return None;
        };
        let Some(count) = range.count() else {
            self.stop(Anomalies::INVALID_RANGE);
            return Some(header(range, self.r.take_rest()));
        };
        let policy = Policy::of(group, variation, q.prefix(), with_values);
        let (measured, anomalies) = measure(self.r.rest(), policy, q.prefix(), range, count);
        self.anomalies |= anomalies;
        match measured {
            Ok(len) => match self.r.take(len) {
                Ok(data) => Some(header(range, data)),
                Err(_) => {
                    self.stop(Anomalies::TRUNCATED_OBJECT);
                    Some(header(range, self.r.take_rest()))
                }
            },
            Err(Stop::Truncated) => {
                self.stop(Anomalies::TRUNCATED_OBJECT);
                Some(header(range, self.r.take_rest()))
            }
            Err(Stop::Unknown) => {
                self.stop(Anomalies::UNKNOWN_OBJECT_LENGTH);
                Some(header(range, self.r.take_rest()))
            }
        }
    }
}

impl<'a> Iterator for ObjectIter<'a> {
    type Item = ObjectHeader<'a>;

    fn next(&mut self) -> Option<ObjectHeader<'a>> {
        if self.done || self.r.is_empty() {
            self.done = true;
            return None;
        }
        self.read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(function: FunctionCode, bytes: &[u8]) -> (Vec<ObjectHeader<'_>>, Anomalies) {
        let mut iter = Objects::new(function, bytes).iter();
        let headers: Vec<_> = iter.by_ref().collect();
        (headers, iter.anomalies())
    }

    #[test]
    fn read_request_headers_carry_no_values() {
        let bytes = [
            0x3C, 0x02, 0x06, // class 1 data, all
            0x3C, 0x03, 0x06, // class 2 data, all
            0x1E, 0x02, 0x17, 0x02, 0x03, 0x07, // g30v2, 2 indices: 3, 7
            0x01, 0x00, 0x00, 0x00, 0x09, // g1v0, start 0 stop 9
        ];
        let (headers, anomalies) = walk(FunctionCode::READ, &bytes);
        assert!(anomalies.is_empty(), "{anomalies:?}");
        assert_eq!(
            headers.iter().map(ObjectHeader::object).collect::<Vec<_>>(),
            [0x3C02, 0x3C03, 0x1E02, 0x0100]
        );
        assert_eq!(headers[2].range, Range::Count(2));
        assert_eq!(headers[2].data, [0x03, 0x07]);
        assert_eq!(
            headers[2].points().map(|p| p.index).collect::<Vec<_>>(),
            [3, 7]
        );
        assert_eq!(headers[3].range, Range::StartStop { start: 0, stop: 9 });
        assert_eq!(headers[3].points().count(), 0);
        assert!(!headers[0].with_values);
    }

    #[test]
    fn response_values_are_measured_from_the_catalogue() {
        let bytes = [
            0x01, 0x01, 0x00, 0x00, 0x09, 0xFF, 0x02, // g1v1 points 0-9 packed: 2 bytes
            0x1E, 0x04, 0x01, 0x05, 0x00, 0x06, 0x00, 0x34, 0x12, 0x78, 0x56, // g30v4 5-6
            0x50, 0x01, 0x00, 0x07, 0x07, 0x00, // g80v1 index 7
        ];
        let (headers, anomalies) = walk(FunctionCode::RESPONSE, &bytes);
        assert!(anomalies.is_empty(), "{anomalies:?}");
        assert_eq!(headers.len(), 3);
        let bits: Vec<_> = headers[0].bits().unwrap().collect();
        assert_eq!(bits.len(), 10);
        assert_eq!(bits[8], (8, 0));
        assert_eq!(bits[9], (9, 1));
        let points: Vec<_> = headers[1].points().collect();
        assert_eq!(
            points,
            [
                Point {
                    index: 5,
                    data: &[0x34, 0x12]
                },
                Point {
                    index: 6,
                    data: &[0x78, 0x56]
                }
            ]
        );
        assert_eq!(headers[2].bits().unwrap().collect::<Vec<_>>(), [(7, 0)]);
    }

    #[test]
    fn unknown_sizes_end_the_walk_with_the_header_reported() {
        // g127v1 with a count of 1: unknown object, unknown length.
        let bytes = [0x7F, 0x01, 0x07, 0x01, 0xAA, 0xBB, 0x3C, 0x01, 0x06];
        let (headers, anomalies) = walk(FunctionCode::RESPONSE, &bytes);
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].data, [0xAA, 0xBB, 0x3C, 0x01, 0x06]);
        assert!(anomalies.contains(Anomalies::UNKNOWN_OBJECT | Anomalies::UNKNOWN_OBJECT_LENGTH));
        // The same unknown object with a size prefix walks through.
        let bytes = [
            0x7F, 0x01, 0x5B, 0x01, 0x02, 0x00, 0xAA, 0xBB, 0x3C, 0x01, 0x06,
        ];
        let (headers, anomalies) = walk(FunctionCode::WRITE, &bytes);
        assert_eq!(headers.len(), 2);
        assert_eq!(anomalies, Anomalies::UNKNOWN_OBJECT);
        assert_eq!(headers[0].points().next().unwrap().data, [0xAA, 0xBB]);
    }

    #[test]
    fn truncation_qualifiers_and_ranges() {
        // CROB header announcing 2 objects, carrying one.
        let mut bytes = vec![0x0C, 0x01, 0x28, 0x02, 0x00];
        bytes.extend_from_slice(&[0x00, 0x00, 0x03, 0x01, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0]);
        let (headers, anomalies) = walk(FunctionCode::DIRECT_OPERATE, &bytes);
        assert_eq!(headers.len(), 1);
        assert_eq!(anomalies, Anomalies::TRUNCATED_OBJECT);
        assert_eq!(headers[0].points().count(), 1);
        // Header cut in its range field: not reported.
        let (headers, anomalies) = walk(FunctionCode::READ, &[0x1E, 0x02, 0x01, 0x00]);
        assert!(headers.is_empty());
        assert_eq!(anomalies, Anomalies::TRUNCATED_OBJECT);
        // Virtual-address and reserved range codes.
        let (headers, anomalies) = walk(FunctionCode::READ, &[0x1E, 0x02, 0x03, 0x05]);
        assert_eq!(headers[0].range, Range::Other(3));
        assert_eq!(anomalies, Anomalies::UNSUPPORTED_QUALIFIER);
        // Start above stop.
        let (headers, anomalies) = walk(
            FunctionCode::READ,
            &[0x1E, 0x02, 0x00, 0x05, 0x01, 0x3C, 0x01, 0x06],
        );
        assert_eq!(headers.len(), 1);
        assert_eq!(anomalies, Anomalies::INVALID_RANGE);
    }

    #[test]
    fn huge_counts_of_empty_objects_cost_nothing() {
        let bytes = [0x3C, 0x01, 0x09, 0xFF, 0xFF, 0xFF, 0xFF];
        let (headers, anomalies) = walk(FunctionCode::RESPONSE, &bytes);
        assert!(anomalies.is_empty());
        assert_eq!(headers[0].count(), Some(u64::from(u32::MAX)));
        assert_eq!(headers[0].points().count(), 0);
        let bytes = [0x01, 0x00, 0x02, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        let (headers, _) = walk(FunctionCode::READ, &bytes);
        assert_eq!(headers[0].count(), Some(1 << 32));
    }

    #[test]
    fn ranges_write_back_as_read() {
        for (qualifier, range) in [
            (
                0x00,
                Range::StartStop {
                    start: 1,
                    stop: 200,
                },
            ),
            (
                0x01,
                Range::StartStop {
                    start: 1,
                    stop: 0xFFFF,
                },
            ),
            (
                0x02,
                Range::StartStop {
                    start: 0,
                    stop: u32::MAX,
                },
            ),
            (0x06, Range::All),
            (0x07, Range::Count(3)),
            (0x28, Range::Count(0x1234)),
            (0x39, Range::Count(u32::MAX)),
            (0x5B, Range::Count(1)),
        ] {
            let q = Qualifier(qualifier);
            let mut out = Vec::new();
            range.write(&mut out, q).unwrap();
            assert_eq!(out.len(), q.range_len());
            assert_eq!(
                Range::read(&mut Reader::new(&out, Layer::Dnp3App), q),
                Ok(range)
            );
        }
        let mut out = vec![9];
        assert!(Range::Count(256).write(&mut out, Qualifier(0x17)).is_err());
        assert!(Range::All.write(&mut out, Qualifier(0x17)).is_err());
        assert_eq!(out, [9]);
        assert_eq!(Qualifier::FREE_FORMAT.prefix(), Prefix::Size(2));
        assert_eq!(Qualifier(0x39).prefix(), Prefix::Index(4));
        assert!(!Qualifier(0x70).is_supported() && !Qualifier(0x86).is_supported());
    }
}
