//! Property tests of the DNP3 parsers: build → encode → frame/parse →
//! compare for the link layer, the transport function and the application
//! layer; every truncation gives the exact `NeedMore` or an error, never a
//! panic; arbitrary bytes never panic in any entry point.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use faro_protocols::dnp3::app::{
    self, AnalogOutput, AnalogValue, Anomalies, AppControl, CATALOG, Crob, FileCommand, FileMode,
    FileObject, FunctionCode, Iin, Interval, IntervalUnits, ObjectKind, ObjectValues, Qualifier,
    Range, TimeAndDate,
};
use faro_protocols::dnp3::link::{self, Control, Header};
use faro_protocols::dnp3::{probe, transport};
use faro_protocols::{Error, Framing, Layer, Probe, fuzzing};
use proptest::prelude::*;

// ------------------------------------------------------------------- link

fn header() -> impl Strategy<Value = Header> {
    (any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(control, destination, source)| Header {
        length: 0,
        control: Control(control),
        destination,
        source,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn link_round_trip_and_exact_need_more(
        header in header(),
        user in proptest::collection::vec(any::<u8>(), 0..=link::MAX_USER_DATA_LEN),
    ) {
        let mut out = Vec::new();
        link::encode(&mut out, &header, &user).unwrap();
        let total = out.len();
        prop_assert_eq!(total, link::frame_len(u8::try_from(user.len() + 5).unwrap()));
        prop_assert!(total <= link::MAX_FRAME_LEN);
        prop_assert_eq!(probe(&out), Probe::Match);
        prop_assert_eq!(link::find_start(&out), Some(0));
        let Framing::Parsed { consumed, message } = link::frame(&out) else {
            panic!("not framed");
        };
        prop_assert_eq!(consumed, total);
        prop_assert_eq!(message.header, Header { length: u8::try_from(user.len() + 5).unwrap(), ..header });
        prop_assert!(message.data_crc_ok);
        prop_assert_eq!(message.data.len(), user.len());
        let mut copy = Vec::new();
        message.data.copy_to(&mut copy);
        prop_assert_eq!(&copy, &user);
        prop_assert!(message.data.chunks().all(|c| !c.is_empty() && c.len() <= link::BLOCK_LEN));
        for n in 0..total {
            let needed = if n <= link::field::LENGTH { link::HEADER_LEN - n } else { total - n };
            prop_assert_eq!(link::frame(&out[..n]), Framing::NeedMore { needed });
        }
    }

    #[test]
    fn link_crcs_catch_every_single_byte_change(
        header in header(),
        user in proptest::collection::vec(any::<u8>(), 1..=link::MAX_USER_DATA_LEN),
        at in any::<prop::sample::Index>(),
        flip in 1..=255u8,
    ) {
        let mut out = Vec::new();
        link::encode(&mut out, &header, &user).unwrap();
        let at = at.index(out.len());
        out[at] ^= flip;
        match link::frame(&out) {
            Framing::Parsed { message, .. } => {
                prop_assert!(at >= link::HEADER_LEN);
                prop_assert!(!message.data_crc_ok);
            }
            Framing::NotThisProtocol => prop_assert!(at < link::HEADER_LEN),
            Framing::NeedMore { .. } => prop_assert_eq!(at, link::field::LENGTH),
        }
    }

    #[test]
    fn find_start_skips_garbage(
        garbage in proptest::collection::vec(any::<u8>(), 0..64),
        header in header(),
        user in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut stream = garbage.clone();
        link::encode(&mut stream, &header, &user).unwrap();
        let at = link::find_start(&stream).unwrap();
        prop_assert!(at <= garbage.len());
        // Whatever it finds first frames, needs more, or is a garbage header
        // that fails on its own CRC only when incomplete: the real frame is
        // always found by repeating the search.
        let mut offset = 0;
        loop {
            let rest = &stream[offset..];
            let at = link::find_start(rest).unwrap();
            match link::frame(&rest[at..]) {
                Framing::Parsed { consumed, .. } if offset + at + consumed == stream.len() => break,
                Framing::Parsed { .. } | Framing::NotThisProtocol | Framing::NeedMore { .. } => {
                    offset += at + 1;
                }
            }
            prop_assert!(offset <= garbage.len());
        }
    }
}

// -------------------------------------------------------------- transport

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fragments_survive_segmentation_and_framing(
        fragment in proptest::collection::vec(any::<u8>(), 0..3000),
        first_sequence in 0..64u8,
        header in header(),
    ) {
        let mut stream = Vec::new();
        let mut count = 0;
        for (segment_header, piece) in transport::segments(&fragment, first_sequence) {
            let mut segment = Vec::new();
            transport::encode(&mut segment, segment_header, piece);
            link::encode(&mut stream, &header, &segment).unwrap();
            count += 1;
        }
        prop_assert_eq!(count, fragment.len().div_ceil(transport::MAX_SEGMENT_DATA).max(1));
        let mut reassembler = transport::Reassembler::new(fragment.len());
        let mut small = transport::Reassembler::new(fragment.len().saturating_sub(1));
        let mut rest = &stream[..];
        let mut done = None;
        let mut overflowed = false;
        while let Framing::Parsed { consumed, message } = link::frame(rest) {
            let mut segment = Vec::new();
            message.data.copy_to(&mut segment);
            let (segment_header, piece) = transport::split(&segment).unwrap();
            if let transport::Assembly::Complete(f) = reassembler.push(segment_header, piece) {
                done = Some(f.to_vec());
            }
            overflowed |= small.push(segment_header, piece) == transport::Assembly::Overflow;
            rest = &rest[consumed..];
        }
        prop_assert!(rest.is_empty());
        prop_assert_eq!(done, Some(fragment.clone()));
        prop_assert_eq!(overflowed, !fragment.is_empty());
    }

    #[test]
    fn reassembler_never_exceeds_its_bound(
        pushes in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..40),
        max in 0..2000usize,
    ) {
        let mut reassembler = transport::Reassembler::new(max);
        for (byte, data) in pushes {
            if let transport::Assembly::Complete(f) = reassembler.push(transport::TransportHeader::from_byte(byte), &data) {
                prop_assert!(f.len() <= max);
            }
            prop_assert!(reassembler.pending_len() <= max);
        }
    }
}

// ------------------------------------------------------------ application

/// One object header as the generator builds it, and what parsing must give back.
#[derive(Debug, Clone)]
struct Built {
    group: u8,
    variation: u8,
    qualifier: u8,
    range: Range,
    data: Vec<u8>,
}

/// A fixed-size catalogue object with values, under a random qualifier.
fn fixed_object() -> impl Strategy<Value = Built> {
    let fixed: Vec<(u8, u8, usize)> = CATALOG
        .iter()
        .filter_map(|e| match (e.kind, e.variation) {
            (ObjectKind::Fixed(n), Some(v)) => Some((e.group, v, usize::from(n))),
            _ => None,
        })
        .collect();
    (
        proptest::sample::select(fixed),
        proptest::sample::select(vec![0x00u8, 0x01, 0x07, 0x08, 0x17, 0x28, 0x39, 0x5B]),
        0..5usize,
        0..=250u8,
        proptest::collection::vec(any::<u8>(), 200),
    )
        .prop_map(
            |((group, variation, size), qualifier, count, start, noise)| {
                let q = Qualifier(qualifier);
                let range = match q.range_code() {
                    0x0 | 0x1 => Range::StartStop {
                        start: u32::from(start),
                        stop: u32::from(start) + count.max(1) as u32 - 1,
                    },
                    _ => Range::Count(count as u32),
                };
                let objects = range.count().unwrap() as usize;
                let mut data = Vec::new();
                for i in 0..objects {
                    let value = &noise[(i * 7) % 100..][..size];
                    match q.prefix() {
                        app::Prefix::Index(w) => {
                            data.extend_from_slice(
                                &(u32::from(start) + i as u32).to_le_bytes()[..usize::from(w)],
                            );
                        }
                        app::Prefix::Size(w) => {
                            data.extend_from_slice(&(size as u32).to_le_bytes()[..usize::from(w)]);
                        }
                        _ => {}
                    }
                    data.extend_from_slice(value);
                }
                Built {
                    group,
                    variation,
                    qualifier,
                    range,
                    data,
                }
            },
        )
}

fn crob() -> impl Strategy<Value = Crob> {
    (
        0..70000u32,
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
    )
        .prop_map(|(index, code, count, on_ms, off_ms, status)| Crob {
            index,
            code,
            count,
            on_ms,
            off_ms,
            status,
        })
}

fn analog_value(kind: u8, raw: i32) -> AnalogValue {
    match kind {
        0 => AnalogValue::I32(raw),
        1 => AnalogValue::I16(raw as i16),
        2 => AnalogValue::F32(raw as f32),
        _ => AnalogValue::F64(f64::from(raw) / 8.0),
    }
}

fn build(out: &mut Vec<u8>, built: &Built) {
    app::write_object_header(
        out,
        built.group,
        built.variation,
        Qualifier(built.qualifier),
        built.range,
    )
    .unwrap();
    out.extend_from_slice(&built.data);
}

fn compare(parsed: &app::ObjectHeader<'_>, built: &Built) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        (parsed.group, parsed.variation, parsed.qualifier),
        (built.group, built.variation, built.qualifier)
    );
    prop_assert_eq!(parsed.range, built.range);
    prop_assert_eq!(parsed.data, &built.data[..]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn responses_of_fixed_size_objects_round_trip(
        objects in proptest::collection::vec(fixed_object(), 0..6),
        control in any::<u8>(),
        iin in any::<u16>(),
    ) {
        let mut body = Vec::new();
        for built in &objects {
            build(&mut body, built);
        }
        let mut bytes = Vec::new();
        let iin = Iin::from_bits_retain(iin & 0xFF3F);
        let control = AppControl(control & !AppControl::UNS);
        app::encode(&mut bytes, control, FunctionCode::RESPONSE, Some(iin), &body);
        let f = app::parse(&bytes).unwrap();
        prop_assert_eq!((f.control, f.function, f.iin), (control, FunctionCode::RESPONSE, Some(iin)));
        prop_assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
        let parsed: Vec<_> = f.objects.iter().collect();
        prop_assert_eq!(parsed.len(), objects.len());
        for (parsed, built) in parsed.iter().zip(&objects) {
            compare(parsed, built)?;
            prop_assert_eq!(parsed.points().count(), built.range.count().unwrap() as usize);
        }
        fuzzing::dnp3_app(&bytes);
        // Every truncation parses without panicking: an error inside the
        // header, otherwise a prefix of the headers.
        for n in 0..bytes.len() {
            match app::parse(&bytes[..n]) {
                Err(Error::Incomplete { layer: Layer::Dnp3App, offset, .. }) => prop_assert_eq!(offset, n),
                Err(other) => prop_assert!(false, "{:?}", other),
                Ok(short) => {
                    prop_assert!(n >= app::RESPONSE_HEADER_LEN);
                    let walked: Vec<_> = short.objects.iter().collect();
                    prop_assert!(walked.len() <= objects.len());
                    let cut_inside = !short.anomalies.is_empty();
                    prop_assert!(!cut_inside || short.anomalies == Anomalies::TRUNCATED_OBJECT, "{:?}", short.anomalies);
                }
            }
            fuzzing::dnp3_app(&bytes[..n]);
        }
    }

    #[test]
    fn controls_round_trip(
        crobs in proptest::collection::vec(crob(), 0..6),
        kind in 0..4u8,
        raws in proptest::collection::vec((0..300u32, any::<i32>(), any::<u8>()), 1..6),
        wide in any::<bool>(),
    ) {
        let qualifier = if wide { Qualifier::INDEX_32_COUNT_32 } else { Qualifier::INDEX_16_COUNT_16 };
        let crobs: Vec<_> = crobs.into_iter().map(|c| Crob { index: c.index % 65536, ..c }).collect();
        let outputs: Vec<_> = raws
            .iter()
            .map(|&(index, raw, status)| AnalogOutput { index, value: analog_value(kind, raw), status })
            .collect();
        let mut body = Vec::new();
        app::write_crobs(&mut body, qualifier, &crobs).unwrap();
        app::write_analog_outputs(&mut body, qualifier, &outputs).unwrap();
        let mut bytes = Vec::new();
        app::encode(&mut bytes, AppControl::new(true, true, false, false, 3), FunctionCode::DIRECT_OPERATE, None, &body);
        let f = app::parse(&bytes).unwrap();
        prop_assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
        let mut headers = f.objects.iter();
        let ObjectValues::Crob(decoded) = headers.next().unwrap().values else { panic!("no CROBs") };
        prop_assert_eq!(decoded.collect::<Vec<_>>(), crobs);
        let ObjectValues::AnalogOutput(decoded) = headers.next().unwrap().values else { panic!("no outputs") };
        prop_assert_eq!(decoded.collect::<Vec<_>>(), outputs);
        prop_assert!(headers.next().is_none());
    }

    #[test]
    fn attributes_times_and_files_round_trip(
        variation in any::<u8>(),
        data_type in any::<u8>(),
        value in proptest::collection::vec(any::<u8>(), 0..=255),
        times in proptest::collection::vec((0..300u32, 0..(1u64 << 48), any::<u32>(), any::<u8>()), 0..4),
        name in proptest::collection::vec(any::<u8>(), 0..100),
        mode in 0..4u16,
        numbers in (any::<u32>(), any::<u16>(), any::<u16>(), 0..(1u64 << 48)),
    ) {
        let times: Vec<_> = times
            .into_iter()
            .map(|(index, timestamp_ms, count, units)| TimeAndDate {
                index,
                timestamp_ms,
                interval: Some(Interval { count, units: IntervalUnits(units) }),
            })
            .collect();
        let command = FileCommand {
            name: &name,
            created_ms: numbers.3,
            permissions: numbers.1,
            authentication_key: numbers.0,
            file_size: numbers.0 ^ 0x5A5A,
            mode: FileMode(mode),
            max_block_size: numbers.2,
            request_id: numbers.1 ^ numbers.2,
        };
        let mut body = Vec::new();
        app::write_attribute(&mut body, variation, data_type, &value).unwrap();
        app::write_indexed_times(&mut body, Qualifier::INDEX_16_COUNT_16, &times).unwrap();
        app::write_file_command(&mut body, &command).unwrap();
        let mut bytes = Vec::new();
        app::encode(&mut bytes, AppControl(0xC0), FunctionCode::WRITE, None, &body);
        let f = app::parse(&bytes).unwrap();
        prop_assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
        let headers: Vec<_> = f.objects.iter().collect();
        prop_assert_eq!(headers.len(), 3);
        prop_assert_eq!(
            headers[0].values.clone(),
            ObjectValues::DeviceAttribute { variation, data_type, value: &value }
        );
        let ObjectValues::Time(decoded) = headers[1].values.clone() else { panic!("no times") };
        prop_assert_eq!(decoded.collect::<Vec<_>>(), times);
        let ObjectValues::File(mut files) = headers[2].values.clone() else { panic!("no file") };
        prop_assert_eq!(files.next(), Some(FileObject::Command(command)));
    }

    #[test]
    fn read_requests_name_objects_without_values(
        classes in proptest::collection::vec(0..4u8, 0..4),
        indices in proptest::collection::vec(any::<u16>(), 0..20),
        group in proptest::sample::select(vec![1u8, 10, 20, 30, 40, 110]),
        variation in any::<u8>(),
    ) {
        let mut body = Vec::new();
        for &class in &classes {
            app::write_class(&mut body, class).unwrap();
        }
        let count = u32::try_from(indices.len()).unwrap();
        app::write_object_header(&mut body, group, variation, Qualifier::INDEX_16_COUNT_16, Range::Count(count)).unwrap();
        for index in &indices {
            body.extend_from_slice(&index.to_le_bytes());
        }
        app::write_attribute_read(&mut body, 254).unwrap();
        let mut bytes = Vec::new();
        app::encode(&mut bytes, AppControl(0xC5), FunctionCode::READ, None, &body);
        let f = app::parse(&bytes).unwrap();
        prop_assert!(!f.anomalies.intersects(!Anomalies::UNKNOWN_OBJECT), "{:?}", f.anomalies);
        let headers: Vec<_> = f.objects.iter().collect();
        prop_assert_eq!(headers.len(), classes.len() + 2);
        for (header, &class) in headers.iter().zip(&classes) {
            prop_assert_eq!(header.object(), 0x3C01 + u16::from(class));
            prop_assert!(!header.with_values);
        }
        let indexed = &headers[classes.len()];
        prop_assert_eq!(
            indexed.points().map(|p| p.index).collect::<Vec<_>>(),
            indices.iter().map(|&i| u32::from(i)).collect::<Vec<_>>()
        );
        prop_assert_eq!(headers[classes.len() + 1].object(), 0x00FE);
    }
}

// ---------------------------------------------------------- arbitrary bytes

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = probe(&bytes);
        let _ = link::find_start(&bytes);
        let _ = link::frame(&bytes);
        let _ = link::Header::parse(&bytes);
        let _ = transport::split(&bytes);
        fuzzing::dnp3_link(&bytes);
        fuzzing::dnp3_app(&bytes);
        for function in [0x01u8, 0x02, 0x05, 0x0B, 0x81, 0x19, 0x20, 0x50] {
            let objects = app::Objects::new(FunctionCode(function), &bytes);
            for header in objects.iter() {
                let _ = header.points().count();
                let _ = header.bits().map(Iterator::count);
            }
            let _ = objects.anomalies();
        }
    }

    #[test]
    fn arbitrary_link_frames_never_panic(
        header in header(),
        user in proptest::collection::vec(any::<u8>(), 0..=link::MAX_USER_DATA_LEN),
    ) {
        // Valid frames around arbitrary user data: the transport and
        // application layers see every kind of fragment.
        let mut stream = Vec::new();
        link::encode(&mut stream, &header, &user).unwrap();
        fuzzing::dnp3_link(&stream);
        if let Some((_, fragment)) = transport::split(&user) {
            fuzzing::dnp3_app(fragment);
        }
    }
}
