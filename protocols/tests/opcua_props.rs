//! Property tests of the OPC UA parsers: no entry point panics on arbitrary
//! bytes; a generated valid header frames exactly its size; strings and node
//! ids written by a small encoder here read back the same.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use faro_protocols::opcua::encoding::{self, NodeId};
use faro_protocols::opcua::transport::{self, MessageType};
use faro_protocols::{Framing, Layer, Probe, Reader, fuzzing};
use proptest::prelude::*;

/// Writes a String (None = null).
fn put_string(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        None => out.extend_from_slice(&(-1i32).to_le_bytes()),
        Some(s) => {
            out.extend_from_slice(&(s.len() as i32).to_le_bytes());
            out.extend_from_slice(s);
        }
    }
}

/// Writes a NodeId in the smallest encoding that holds it.
fn put_node_id(out: &mut Vec<u8>, id: &NodeId<'_>) {
    match *id {
        NodeId::Numeric { namespace: 0, id } if id <= 0xFF => {
            out.extend_from_slice(&[0x00, id as u8])
        }
        NodeId::Numeric { namespace, id } if namespace <= 0xFF && id <= 0xFFFF => {
            out.extend_from_slice(&[0x01, namespace as u8]);
            out.extend_from_slice(&(id as u16).to_le_bytes());
        }
        NodeId::Numeric { namespace, id } => {
            out.push(0x02);
            out.extend_from_slice(&namespace.to_le_bytes());
            out.extend_from_slice(&id.to_le_bytes());
        }
        NodeId::String { namespace, id } => {
            out.push(0x03);
            out.extend_from_slice(&namespace.to_le_bytes());
            put_string(out, Some(id));
        }
        NodeId::Guid { namespace, id } => {
            out.push(0x04);
            out.extend_from_slice(&namespace.to_le_bytes());
            out.extend_from_slice(&id);
        }
        NodeId::Opaque { namespace, id } => {
            out.push(0x05);
            out.extend_from_slice(&namespace.to_le_bytes());
            put_string(out, Some(id));
        }
    }
}

#[derive(Debug, Clone)]
enum OwnedId {
    Numeric(u16, u32),
    String(u16, Vec<u8>),
    Guid(u16, [u8; 16]),
    Opaque(u16, Vec<u8>),
}

impl OwnedId {
    fn borrow(&self) -> NodeId<'_> {
        match self {
            OwnedId::Numeric(namespace, id) => NodeId::Numeric {
                namespace: *namespace,
                id: *id,
            },
            OwnedId::String(namespace, id) => NodeId::String {
                namespace: *namespace,
                id,
            },
            OwnedId::Guid(namespace, id) => NodeId::Guid {
                namespace: *namespace,
                id: *id,
            },
            OwnedId::Opaque(namespace, id) => NodeId::Opaque {
                namespace: *namespace,
                id,
            },
        }
    }
}

fn node_id() -> impl Strategy<Value = OwnedId> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (0u16..2, 0u32..300).prop_map(|(n, i)| OwnedId::Numeric(n, i)),
        (any::<u16>(), any::<u32>()).prop_map(|(n, i)| OwnedId::Numeric(n, i)),
        (any::<u16>(), bytes()).prop_map(|(n, s)| OwnedId::String(n, s)),
        (any::<u16>(), any::<[u8; 16]>()).prop_map(|(n, g)| OwnedId::Guid(n, g)),
        (any::<u16>(), bytes()).prop_map(|(n, s)| OwnedId::Opaque(n, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn no_parser_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::opcua_transport(&data);
        fuzzing::opcua_service(&data);
        let _ = transport::parse_header(&data);
        let _ = transport::find_chunk(&data);
        let _ = transport::parse_hello(&data);
        let _ = transport::parse_acknowledge(&data);
        let _ = transport::parse_error(&data);
        let _ = transport::parse_reverse_hello(&data);
        let _ = faro_protocols::opcua::secure::parse_open(&data);
        let mut r = Reader::new(&data, Layer::OpcUaService);
        let _ = encoding::read_request_header(&mut r);
        let mut r = Reader::new(&data, Layer::OpcUaService);
        let _ = encoding::read_response_header(&mut r);
        let mut r = Reader::new(&data, Layer::OpcUaService);
        let _ = encoding::read_expanded_node_id(&mut r);
    }

    #[test]
    fn valid_headers_frame_their_size(
        index in 0usize..7,
        chunk in 0usize..3,
        extra in 0u32..2000,
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let t = MessageType::ALL[index];
        let chunk = if matches!(t, MessageType::Hello | MessageType::Acknowledge | MessageType::Error | MessageType::ReverseHello) {
            b'F'
        } else {
            [b'F', b'C', b'A'][chunk]
        };
        let size = t.min_size() + extra;
        let mut stream = t.code().as_bytes().to_vec();
        stream.push(chunk);
        stream.extend_from_slice(&size.to_le_bytes());
        stream.resize(size as usize, 0x5A);
        stream.extend_from_slice(&tail);
        prop_assert_eq!(transport::probe(&stream), Probe::Match);
        prop_assert_eq!(transport::find_chunk(&stream), Some(0));
        let Framing::Parsed { consumed, message } = transport::frame(&stream) else {
            panic!("not framed");
        };
        prop_assert_eq!(consumed, size as usize);
        prop_assert_eq!(message.body.len(), size as usize - transport::HEADER_LEN);
        prop_assert_eq!(message.header.message_type, t);
        let cut = (size as usize).min(stream.len()) - 1;
        prop_assert_eq!(
            transport::frame(&stream[..cut]),
            Framing::NeedMore { needed: size as usize - cut }
        );
    }

    #[test]
    fn strings_and_node_ids_round_trip(
        strings in proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)), 0..8),
        ids in proptest::collection::vec(node_id(), 0..8),
    ) {
        let mut out = Vec::new();
        out.extend_from_slice(&(strings.len() as i32).to_le_bytes());
        for s in &strings {
            put_string(&mut out, s.as_deref());
        }
        for id in &ids {
            put_node_id(&mut out, &id.borrow());
        }
        let mut r = Reader::new(&out, Layer::OpcUaService);
        let read = encoding::read_string_array(&mut r).unwrap();
        prop_assert_eq!(read, strings.iter().map(|s| s.as_deref()).collect::<Vec<_>>());
        for id in &ids {
            prop_assert_eq!(encoding::read_node_id(&mut r).unwrap(), id.borrow());
        }
        prop_assert!(r.is_empty());
    }
}
