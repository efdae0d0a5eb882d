//! Writers of object headers and objects, for the capture generator and the
//! property tests: class reads, device attributes, time, control relay
//! output blocks, analog outputs, IIN writes, file commands, and any header
//! from its parts. A fragment is [`encode`](super::encode) around their output.
//!
//! Each writer fails, leaving `out` as it was, when a value does not fit its
//! field; nothing here panics.

use crate::error::{Error, Layer};

use super::object::{Prefix, Qualifier, Range};
use super::values::{AnalogOutput, Crob, FileCommand, TimeAndDate};

/// Appends an object header: group, variation, qualifier and the range
/// laid out as the qualifier says. The objects are the caller's to append.
pub fn write_object_header(
    out: &mut Vec<u8>,
    group: u8,
    variation: u8,
    qualifier: Qualifier,
    range: Range,
) -> Result<(), Error> {
    let start = out.len();
    out.extend_from_slice(&[group, variation, qualifier.0]);
    range
        .write(out, qualifier)
        .inspect_err(|_| out.truncate(start))
}

/// The error for a value that does not fit its field.
fn too_large(out: &[u8], field: &'static str, value: usize) -> Error {
    Error::Invalid {
        layer: Layer::Dnp3App,
        offset: out.len(),
        field,
        value: u32::try_from(value).unwrap_or(u32::MAX),
    }
}

/// Appends a class data header for a Read, Enable or Disable Unsolicited
/// request: g60 variation `class + 1`, qualifier 0x06 (all). Class 0-3.
pub fn write_class(out: &mut Vec<u8>, class: u8) -> Result<(), Error> {
    if class > 3 {
        return Err(too_large(out, "class", usize::from(class)));
    }
    write_object_header(out, 60, class + 1, Qualifier::ALL_OBJECTS, Range::All)
}

/// Appends a request for one device attribute (or 254: all, 255: the list):
/// g0 `variation`, qualifier 0x06.
pub fn write_attribute_read(out: &mut Vec<u8>, variation: u8) -> Result<(), Error> {
    write_object_header(out, 0, variation, Qualifier::ALL_OBJECTS, Range::All)
}

/// Appends a device attribute as an outstation returns it: g0 `variation`,
/// qualifier 0x00 (index 0 to 0), data type, length, value. The value is at
/// most 255 bytes.
pub fn write_attribute(
    out: &mut Vec<u8>,
    variation: u8,
    data_type: u8,
    value: &[u8],
) -> Result<(), Error> {
    let length =
        u8::try_from(value.len()).map_err(|_| too_large(out, "attribute length", value.len()))?;
    write_object_header(
        out,
        0,
        variation,
        Qualifier::START_STOP_8,
        Range::StartStop { start: 0, stop: 0 },
    )?;
    out.extend_from_slice(&[data_type, length]);
    out.extend_from_slice(value);
    Ok(())
}

/// Appends one g50v1 absolute time (milliseconds since 1970), qualifier 0x07
/// count 1: the object of a time-synchronising Write or of a Read response.
pub fn write_time(out: &mut Vec<u8>, timestamp_ms: u64) -> Result<(), Error> {
    write_object_header(out, 50, 1, Qualifier::COUNT_8, Range::Count(1))?;
    TimeAndDate {
        index: 0,
        timestamp_ms,
        interval: None,
    }
    .write(out, 1);
    Ok(())
}

/// Appends a header with `qualifier` (an index prefix and a count: 0x17,
/// 0x28 or 0x39) and, for each item, its index in the prefix width followed
/// by what `write` appends. Fails when the qualifier has no index prefix or
/// a count or index does not fit it.
fn write_indexed<T>(
    out: &mut Vec<u8>,
    (group, variation): (u8, u8),
    qualifier: Qualifier,
    items: &[T],
    index: impl Fn(&T) -> u32,
    write: impl Fn(&T, &mut Vec<u8>),
) -> Result<(), Error> {
    let Prefix::Index(width) = qualifier.prefix() else {
        return Err(too_large(out, "qualifier", usize::from(qualifier.0)));
    };
    let limit = match width {
        1 => u32::from(u8::MAX),
        2 => u32::from(u16::MAX),
        _ => u32::MAX,
    };
    if let Some(wide) = items.iter().map(&index).find(|&i| i > limit) {
        return Err(too_large(
            out,
            "index",
            usize::try_from(wide).unwrap_or(usize::MAX),
        ));
    }
    let count = u32::try_from(items.len()).map_err(|_| too_large(out, "count", items.len()))?;
    write_object_header(out, group, variation, qualifier, Range::Count(count))?;
    for item in items {
        let bytes = index(item).to_le_bytes();
        out.extend_from_slice(bytes.get(..usize::from(width)).unwrap_or_default());
        write(item, out);
    }
    Ok(())
}

/// The narrowest index-prefixed qualifier (0x17, 0x28 or 0x39) for `count`
/// objects whose largest index is `max_index`.
pub fn indexed_qualifier(count: usize, max_index: u32) -> Qualifier {
    match u32::try_from(count).unwrap_or(u32::MAX).max(max_index) {
        0..=0xFF => Qualifier::INDEX_8_COUNT_8,
        0x100..=0xFFFF => Qualifier::INDEX_16_COUNT_16,
        _ => Qualifier::INDEX_32_COUNT_32,
    }
}

/// Appends g12v1 control relay output blocks with their indices under
/// `qualifier` (0x17, 0x28 or 0x39; masters mostly send 0x28;
/// [`indexed_qualifier`] gives the narrowest).
pub fn write_crobs(out: &mut Vec<u8>, qualifier: Qualifier, crobs: &[Crob]) -> Result<(), Error> {
    write_indexed(out, (12, 1), qualifier, crobs, |c| c.index, Crob::write)
}

/// Appends g41 analog output blocks with their indices under `qualifier`
/// (0x17, 0x28 or 0x39); the variation comes from the first value (all
/// values must share its kind).
pub fn write_analog_outputs(
    out: &mut Vec<u8>,
    qualifier: Qualifier,
    outputs: &[AnalogOutput],
) -> Result<(), Error> {
    let variation = outputs.first().map_or(1, |o| o.value.variation());
    if let Some(odd) = outputs.iter().find(|o| o.value.variation() != variation) {
        return Err(too_large(
            out,
            "analog output variation",
            usize::from(odd.value.variation()),
        ));
    }
    write_indexed(
        out,
        (41, variation),
        qualifier,
        outputs,
        |o| o.index,
        AnalogOutput::write,
    )
}

/// Appends g50v4 indexed absolute times and long intervals under
/// `qualifier` (0x17, 0x28 or 0x39).
pub fn write_indexed_times(
    out: &mut Vec<u8>,
    qualifier: Qualifier,
    times: &[TimeAndDate],
) -> Result<(), Error> {
    write_indexed(
        out,
        (50, 4),
        qualifier,
        times,
        |t| t.index,
        |t, out| t.write(out, 4),
    )
}

/// Appends a Write of g80v1 clearing internal indication `index` (7: the
/// device restart bit, the usual write after a restart): qualifier 0x00,
/// start = stop = index, one packed byte 0.
pub fn write_iin_clear(out: &mut Vec<u8>, index: u8) -> Result<(), Error> {
    write_object_header(
        out,
        80,
        1,
        Qualifier::START_STOP_8,
        Range::StartStop {
            start: u32::from(index),
            stop: u32::from(index),
        },
    )?;
    out.push(0);
    Ok(())
}

/// Appends one free-format object (qualifier 0x5B: count 1, 2-byte size
/// prefix) of `group`/`variation` with `object` as its bytes: g70 files,
/// g120 Secure Authentication, g90 application identifiers.
pub fn write_free_format(
    out: &mut Vec<u8>,
    group: u8,
    variation: u8,
    object: &[u8],
) -> Result<(), Error> {
    let size =
        u16::try_from(object.len()).map_err(|_| too_large(out, "object size", object.len()))?;
    write_object_header(
        out,
        group,
        variation,
        Qualifier::FREE_FORMAT,
        Range::Count(1),
    )?;
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(object);
    Ok(())
}

/// Appends a g70v3 file command as a free-format object.
pub fn write_file_command(out: &mut Vec<u8>, command: &FileCommand<'_>) -> Result<(), Error> {
    let mut object = Vec::new();
    command.write(&mut object);
    write_free_format(out, 70, 3, &object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnp3::app::{FunctionCode, ObjectValues, Objects};

    #[test]
    fn class_reads() {
        let mut out = Vec::new();
        for class in [1, 2, 3, 0] {
            write_class(&mut out, class).unwrap();
        }
        assert_eq!(
            out,
            [
                0x3C, 0x02, 0x06, 0x3C, 0x03, 0x06, 0x3C, 0x04, 0x06, 0x3C, 0x01, 0x06
            ]
        );
        assert!(write_class(&mut out, 4).is_err());
        assert_eq!(out.len(), 12);
    }

    #[test]
    fn crobs_under_the_qualifier_asked_for() {
        let crob = |index| Crob {
            index,
            code: 0x03,
            count: 1,
            on_ms: 0,
            off_ms: 0,
            status: 0,
        };
        let mut out = Vec::new();
        write_crobs(&mut out, indexed_qualifier(1, 4), &[crob(4)]).unwrap();
        assert_eq!(out[..5], [0x0C, 0x01, 0x17, 0x01, 0x04]);
        assert_eq!(out.len(), 5 + 11);
        assert!(write_crobs(&mut out, Qualifier::INDEX_8_COUNT_8, &[crob(300)]).is_err());
        assert!(write_crobs(&mut out, Qualifier::COUNT_8, &[crob(1)]).is_err());
        assert_eq!(out.len(), 16);
        out.clear();
        let qualifier = indexed_qualifier(2, 300);
        assert_eq!(qualifier, Qualifier::INDEX_16_COUNT_16);
        write_crobs(&mut out, qualifier, &[crob(300), crob(2)]).unwrap();
        assert_eq!(out[..7], [0x0C, 0x01, 0x28, 0x02, 0x00, 0x2C, 0x01]);
        let header = Objects::new(FunctionCode::SELECT, &out)
            .iter()
            .next()
            .unwrap();
        let ObjectValues::Crob(crobs) = header.values else {
            panic!("{:?}", header.values);
        };
        assert_eq!(crobs.collect::<Vec<_>>(), [crob(300), crob(2)]);
    }

    #[test]
    fn attributes_and_free_format() {
        let mut out = Vec::new();
        write_attribute(&mut out, 247, 1, b"feeder-4").unwrap();
        assert_eq!(out[..7], [0x00, 0xF7, 0x00, 0x00, 0x00, 0x01, 0x08]);
        assert!(write_attribute(&mut out, 247, 1, &[0; 256]).is_err());
        assert_eq!(out.len(), 15);
        out.clear();
        write_free_format(&mut out, 120, 9, &[1, 2, 3]).unwrap();
        assert_eq!(out, [0x78, 0x09, 0x5B, 0x01, 0x03, 0x00, 1, 2, 3]);
        out.clear();
        write_iin_clear(&mut out, 7).unwrap();
        assert_eq!(out, [0x50, 0x01, 0x00, 0x07, 0x07, 0x00]);
    }
}
