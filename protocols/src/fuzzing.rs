//! The bodies of the cargo-fuzz targets, here so that the fuzzers and the
//! corpus-replay tests run exactly the same code.
//!
//! Each function must never panic on any input, except where it checks an
//! invariant that holds for every input (a decode → encode round trip); such
//! a panic is a bug the fuzzer has found.
#![allow(clippy::panic)]

use crate::Framing;
use crate::modbus::{self, Body, Direction};

/// Frames, probes and parses `data` as a Modbus/TCP stream, in both directions.
/// A well-formed ADU (no anomaly, protocol id 0) must re-encode to its own bytes.
pub fn modbus_stream(data: &[u8]) {
    let _ = modbus::probe(data);
    let mut rest = data;
    while let Framing::Parsed { consumed, message } = modbus::frame(rest) {
        let _ = modbus::direction_hint(&message);
        for direction in [Direction::Request, Direction::Response] {
            let parsed = modbus::parse(message, direction);
            let _ = parsed.accesses().count();
            let _ = parsed.anomalies.names().count();
            let _ = modbus::response_anomalies(parsed.function, parsed.quantity(), &parsed);
            if let Body::ReadDeviceIdResponse { objects, .. } = &parsed.body {
                let _ = objects.iter().map(|o| o.value.len()).sum::<usize>();
            }
            if parsed.anomalies.is_empty() && parsed.header.protocol_id == 0 {
                let mut out = Vec::new();
                let encoded = modbus::encode(
                    &mut out,
                    parsed.header.transaction_id,
                    parsed.header.unit_id,
                    parsed.function,
                    &parsed.body,
                );
                let original = rest.get(..consumed).unwrap_or_default();
                if encoded.is_ok() && out != original {
                    panic!(
                        "round trip changed a well-formed {direction:?} ADU: {original:02x?} -> {out:02x?}"
                    );
                }
            }
        }
        rest = rest.get(consumed..).unwrap_or_default();
    }
}
