//! Read Var / Write Var items: the variable specifications of a Job's
//! parameter part and the data items of its data part (and of the Ack_Data).
//!
//! ```text
//!  item (parameter):  0x12 | spec len | syntax id | spec ... [fill byte if odd and not last]
//!  S7ANY spec:        0x10 | transport size | length (2) | DB (2) | area | bit address (3)
//!  data item:         return code | transport size | length (2) | data ... [fill byte]
//! ```
//!
//! Everything here is zero-copy and bounded: iterators stop at the item count
//! or at the first item that does not fit, whichever comes first.

use crate::cursor::Reader;
use crate::error::Layer;

use super::types::{Area, DataTransportSize, ReturnCode, SyntaxId};

/// Variable specification type that starts every item.
pub const VAR_SPEC: u8 = 0x12;

/// Length of an S7ANY specification after its length byte: syntax id and nine address bytes.
pub const S7ANY_SPEC_LEN: u8 = 10;

/// Length of a data item header: return code, transport size, length.
pub const DATA_ITEM_HEADER_LEN: usize = 4;

/// An S7ANY address: the classic 300/400 (and non-optimised 1200/1500) addressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnyItem {
    /// Element type, see [`TransportSize`](super::TransportSize).
    pub transport_size: u8,
    /// Number of elements (for the data record area: the maximum record length).
    pub length: u16,
    /// Data block number (0 outside the DB and DI areas; for the data record area: the record index).
    pub db: u16,
    /// Memory area.
    pub area: Area,
    /// Bit address: byte offset × 8 + bit (for timers and counters: the number).
    pub address: u32,
}

impl AnyItem {
    /// Byte offset of the address.
    pub const fn byte_offset(&self) -> u32 {
        self.address >> 3
    }

    /// Bit number of the address (0-7).
    pub const fn bit(&self) -> u8 {
        (self.address & 0x07) as u8
    }
}

/// One item of a Read Var or Write Var Job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item<'a> {
    /// An S7ANY item (specification 0x12, length 10, syntax id 0x10).
    Any(AnyItem),
    /// Any other specification (1200 symbolic, DBREAD, NCK...), kept raw.
    Other {
        /// Variable specification type (0x12 in practice).
        spec_type: u8,
        /// Syntax id.
        syntax_id: SyntaxId,
        /// The specification bytes after the syntax id.
        address: &'a [u8],
    },
}

impl Item<'_> {
    /// Bytes the item takes without a fill byte: type, length and specification.
    pub fn encoded_len(&self) -> usize {
        match self {
            Item::Any(_) => 2 + usize::from(S7ANY_SPEC_LEN),
            Item::Other { address, .. } => 3usize.saturating_add(address.len()),
        }
    }

    /// Appends the item (no fill byte). An `Other` item whose specification is
    /// longer than 254 bytes has its length byte saturated.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Item::Any(any) => {
                out.extend_from_slice(&[VAR_SPEC, S7ANY_SPEC_LEN, SyntaxId::S7ANY.0]);
                out.push(any.transport_size);
                out.extend_from_slice(&any.length.to_be_bytes());
                out.extend_from_slice(&any.db.to_be_bytes());
                out.push(any.area.0);
                let [_, a, b, c] = any.address.to_be_bytes();
                out.extend_from_slice(&[a, b, c]);
            }
            Item::Other {
                spec_type,
                syntax_id,
                address,
            } => {
                out.push(*spec_type);
                out.push(u8::try_from(address.len().saturating_add(1)).unwrap_or(u8::MAX));
                out.push(syntax_id.0);
                out.extend_from_slice(address);
            }
        }
    }
}

/// The items of a Read Var or Write Var Job: the count field and the bytes that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Items<'a> {
    count: u8,
    bytes: &'a [u8],
}

impl<'a> Items<'a> {
    /// Items from an item count and the specification bytes after it.
    pub const fn new(count: u8, bytes: &'a [u8]) -> Items<'a> {
        Items { count, bytes }
    }

    /// The item count field, as sent.
    pub const fn count(&self) -> u8 {
        self.count
    }

    /// The specification bytes after the count.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The items, at most [`count`](Self::count), stopping at the first that does not fit.
    pub fn iter(&self) -> ItemIter<'a> {
        ItemIter {
            r: Reader::new(self.bytes, Layer::S7comm),
            left: self.count,
        }
    }

    /// Appends the specification bytes of `items`, with a fill byte after each
    /// odd-length item but the last, as a Job carries them.
    pub fn write_items(out: &mut Vec<u8>, items: &[Item<'_>]) {
        let mut iter = items.iter().peekable();
        while let Some(item) = iter.next() {
            item.write(out);
            if item.encoded_len() % 2 == 1 && iter.peek().is_some() {
                out.push(0);
            }
        }
    }
}

impl<'a> IntoIterator for Items<'a> {
    type Item = Item<'a>;
    type IntoIter = ItemIter<'a>;

    fn into_iter(self) -> ItemIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Items`].
#[derive(Debug, Clone)]
pub struct ItemIter<'a> {
    r: Reader<'a>,
    left: u8,
}

impl<'a> ItemIter<'a> {
    /// Bytes not consumed yet (after the last item yielded).
    pub fn rest(&self) -> &'a [u8] {
        self.r.rest()
    }

    fn read(&mut self) -> Option<Item<'a>> {
        let spec_type = self.r.u8().ok()?;
        let spec_len = self.r.u8().ok()?;
        let spec = self.r.take(usize::from(spec_len)).ok()?;
        let mut s = Reader::new(spec, Layer::S7comm);
        let syntax_id = SyntaxId(s.u8().ok()?);
        if spec_type == VAR_SPEC && spec_len == S7ANY_SPEC_LEN && syntax_id == SyntaxId::S7ANY {
            let transport_size = s.u8().ok()?;
            let length = s.be_u16().ok()?;
            let db = s.be_u16().ok()?;
            let area = Area(s.u8().ok()?);
            let [a, b, c] = <[u8; 3]>::try_from(s.take(3).ok()?).ok()?;
            return Some(Item::Any(AnyItem {
                transport_size,
                length,
                db,
                area,
                address: u32::from_be_bytes([0, a, b, c]),
            }));
        }
        Some(Item::Other {
            spec_type,
            syntax_id,
            address: s.rest(),
        })
    }
}

impl<'a> Iterator for ItemIter<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        if self.left == 0 {
            return None;
        }
        let Some(item) = self.read() else {
            self.left = 0;
            return None;
        };
        self.left -= 1;
        if item.encoded_len() % 2 == 1 && self.left > 0 {
            // Fill byte; a missing one only matters if another item follows.
            let _ = self.r.skip(1);
        }
        Some(item)
    }
}

/// One data item: a value of a Write Var Job or of a Read Var Ack_Data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataItem<'a> {
    /// Return code (0x00 in requests, 0xFF for success in responses).
    pub return_code: ReturnCode,
    /// How the length counts (bits or bytes).
    pub transport_size: DataTransportSize,
    /// Length field, as sent (bits or bytes, per `transport_size`).
    pub length: u16,
    /// The value bytes (empty when the return code is an error).
    pub data: &'a [u8],
}

impl DataItem<'_> {
    /// Bytes of value the length field announces.
    pub fn byte_len(transport_size: DataTransportSize, length: u16) -> usize {
        if transport_size.length_in_bits() {
            usize::from(length).div_ceil(8)
        } else {
            usize::from(length)
        }
    }

    /// True when the item carries a value: return code success or reserved (0x00, requests).
    pub fn has_value(return_code: ReturnCode) -> bool {
        matches!(return_code, ReturnCode::SUCCESS | ReturnCode::RESERVED)
    }

    /// Appends the item, with a fill byte after an odd-length value unless `last`.
    pub fn write(&self, out: &mut Vec<u8>, last: bool) {
        out.push(self.return_code.0);
        out.push(self.transport_size.0);
        out.extend_from_slice(&self.length.to_be_bytes());
        out.extend_from_slice(self.data);
        if self.data.len() % 2 == 1 && !last {
            out.push(0);
        }
    }
}

/// The data items of a Write Var Job or a Read Var Ack_Data: at most `count`,
/// stopping at the first that does not fit.
pub fn data_items(data: &[u8], count: u8) -> DataItems<'_> {
    DataItems {
        r: Reader::new(data, Layer::S7comm),
        left: count,
    }
}

/// Iterator over data items, see [`data_items`].
#[derive(Debug, Clone)]
pub struct DataItems<'a> {
    r: Reader<'a>,
    left: u8,
}

impl<'a> DataItems<'a> {
    /// Bytes not consumed yet (after the last item yielded).
    pub fn rest(&self) -> &'a [u8] {
        self.r.rest()
    }

    fn read(&mut self) -> Option<DataItem<'a>> {
        let return_code = ReturnCode(self.r.u8().ok()?);
        let transport_size = DataTransportSize(self.r.u8().ok()?);
        let length = self.r.be_u16().ok()?;
        let data = if DataItem::has_value(return_code) {
            self.r
                .take(DataItem::byte_len(transport_size, length))
                .ok()?
        } else {
            &[]
        };
        Some(DataItem {
            return_code,
            transport_size,
            length,
            data,
        })
    }
}

impl<'a> Iterator for DataItems<'a> {
    type Item = DataItem<'a>;

    fn next(&mut self) -> Option<DataItem<'a>> {
        if self.left == 0 {
            return None;
        }
        let Some(item) = self.read() else {
            self.left = 0;
            return None;
        };
        self.left -= 1;
        if item.data.len() % 2 == 1 && self.left > 0 {
            let _ = self.r.skip(1);
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read Var items as snap7 sends them: DB1.DBB0 BYTE 4, then MB16 BYTE 1.
    const TWO_ITEMS: [u8; 24] = [
        0x12, 0x0A, 0x10, // var spec, length 10, S7ANY
        0x02, // transport size BYTE
        0x00, 0x04, // length 4
        0x00, 0x01, // DB 1
        0x84, // area DB
        0x00, 0x00, 0x00, // address 0.0
        0x12, 0x0A, 0x10, // second item
        0x02, // BYTE
        0x00, 0x01, // length 1
        0x00, 0x00, // DB 0
        0x83, // area M
        0x00, 0x00, 0x80, // address 16.0
    ];

    #[test]
    fn s7any_items() {
        let items = Items::new(2, &TWO_ITEMS);
        let all: Vec<_> = items.iter().collect();
        assert_eq!(
            all,
            [
                Item::Any(AnyItem {
                    transport_size: 2,
                    length: 4,
                    db: 1,
                    area: Area::DATA_BLOCKS,
                    address: 0
                }),
                Item::Any(AnyItem {
                    transport_size: 2,
                    length: 1,
                    db: 0,
                    area: Area::FLAGS,
                    address: 0x80
                }),
            ]
        );
        let Item::Any(m) = all[1] else { panic!() };
        assert_eq!((m.byte_offset(), m.bit()), (16, 0));
        let mut out = Vec::new();
        Items::write_items(&mut out, &all);
        assert_eq!(out, TWO_ITEMS);
    }

    #[test]
    fn other_items_with_fill_bytes_and_truncation() {
        // 1200 symbolic item, odd length 5 + fill byte, then a DBREAD item
        let bytes = [
            0x12, 0x03, 0xB2, 0xFF, 0x01, // type, length 3, syntax 1200SYM, two address bytes
            0x00, // fill byte
            0x12, 0x02, 0xB0, 0x01, // DBREAD, one area byte
        ];
        let items: Vec<_> = Items::new(2, &bytes).iter().collect();
        assert_eq!(
            items,
            [
                Item::Other {
                    spec_type: 0x12,
                    syntax_id: SyntaxId::SYM1200,
                    address: &[0xFF, 0x01]
                },
                Item::Other {
                    spec_type: 0x12,
                    syntax_id: SyntaxId::DBREAD,
                    address: &[0x01]
                },
            ]
        );
        let mut out = Vec::new();
        Items::write_items(&mut out, &items);
        assert_eq!(out, bytes);
        // count larger than what is there: stops, never panics
        assert_eq!(Items::new(5, &bytes).iter().count(), 2);
        for n in 0..TWO_ITEMS.len() {
            let got = Items::new(2, &TWO_ITEMS[..n]).iter().count();
            assert_eq!(got, usize::from(n >= 12) + usize::from(n >= 24));
        }
    }

    #[test]
    fn data_items_with_bit_lengths_and_errors() {
        let data = [
            0xFF, 0x04, 0x00, 0x18, // success, BYTE/WORD/DWORD, 24 bits
            0x01, 0x02, 0x03, // three bytes
            0x00, // fill byte
            0x0A, 0x00, 0x00, 0x00, // object does not exist, no data
            0xFF, 0x09, 0x00, 0x02, // success, octet string, 2 bytes
            0xAB, 0xCD,
        ];
        let items: Vec<_> = data_items(&data, 3).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].data, &[1, 2, 3]);
        assert_eq!(items[1].return_code, ReturnCode::OBJECT_DOES_NOT_EXIST);
        assert_eq!(items[1].data, &[] as &[u8]);
        assert_eq!(items[2].data, &[0xAB, 0xCD]);
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            item.write(&mut out, i == 2);
        }
        assert_eq!(out, data);
        assert_eq!(data_items(&data[..6], 3).count(), 0);
    }
}
