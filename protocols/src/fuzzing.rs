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

/// Frames `data` as a TPKT stream, decodes every TPDU as COTP, decodes TSAPs
/// and classifies DT user data; probes the stream. A CR or CC must decode,
/// re-encode and decode again to the same connection.
pub fn s7_tpkt_cotp(data: &[u8]) {
    use crate::s7::{self, cotp, tpkt};

    let _ = s7::probe(data);
    let mut rest = data;
    while let Framing::Parsed { consumed, message } = tpkt::frame(rest) {
        let _ = s7::probe(rest);
        match cotp::parse(message.payload) {
            Ok(cotp::Cotp::ConnectionRequest(c) | cotp::Cotp::ConnectionConfirm(c)) => {
                for selector in [c.calling_tsap, c.called_tsap].into_iter().flatten() {
                    if let Some(tsap) = cotp::tsap(selector) {
                        let _ = (tsap.connection_type.name(), tsap.rack, tsap.slot);
                    }
                }
                let _ = c.tpdu_size_bytes();
                let mut out = Vec::new();
                if cotp::encode_cr(&mut out, &c).is_ok() {
                    match cotp::parse(&out) {
                        Ok(cotp::Cotp::ConnectionRequest(again)) if again == c => {}
                        other => panic!("CR round trip changed {c:?} into {other:?}"),
                    }
                }
            }
            Ok(cotp::Cotp::Data { user_data, .. }) => {
                let _ = s7::classify_payload(user_data).name();
            }
            Ok(other) => {
                let _ = other.pdu_type().name();
            }
            Err(_) => {}
        }
        rest = rest.get(consumed..).unwrap_or_default();
    }
}

/// Decodes `data` as one S7comm PDU and walks everything a detection reads:
/// items, data items, return codes, userdata Read SZL requests, responses
/// and their records, PI block lists. The decoded PDU must re-encode and
/// decode again to the same header fields, parameter and data.
pub fn s7comm(data: &[u8]) {
    use crate::s7::{comm, szl};

    let Ok(message) = comm::parse(data) else {
        return;
    };
    let _ = message.anomalies.names().count();
    let _ = (message.header.error_code(), message.header.is_error());
    match message.param {
        comm::Param::ReadVar { items } | comm::Param::WriteVar { items } => {
            for item in items {
                if let comm::Item::Any(any) = item {
                    let _ = (any.area.short(), any.byte_offset(), any.bit());
                }
            }
        }
        comm::Param::PiService { parameters, .. } => {
            if let Some(blocks) = comm::pi_blocks(parameters) {
                for block in blocks {
                    let _ = block.filename();
                }
            }
        }
        comm::Param::Userdata {
            group, subfunction, ..
        } => {
            let _ = comm::subfunction_name(comm::UserdataGroup(group), subfunction);
            let _ = comm::szl_request(message.data);
            if !message.param.is_userdata_continuation() {
                if let Some(response) = comm::szl_response(message.data) {
                    for record in szl::records(&response) {
                        if let szl::SzlRecord::ModuleIdentification {
                            order_number,
                            ausbg,
                            ausbe,
                            ..
                        } = record
                        {
                            let _ = (szl::trim(order_number), szl::firmware_version(ausbg, ausbe));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    if let Some(items) = message.data_items() {
        let _ = items.map(|item| item.data.len()).sum::<usize>();
    }
    let _ = comm::return_codes(&message).count();

    let mut out = Vec::new();
    if comm::encode(&mut out, &message).is_ok() {
        match comm::parse(&out) {
            Ok(again)
                if again.param == message.param
                    && again.data == message.data
                    && again.header.rosctr == message.header.rosctr
                    && again.header.pdu_ref == message.header.pdu_ref
                    && again.header.error == message.header.error => {}
            other => panic!(
                "S7comm round trip changed {message:?} into {other:?} ({data:02x?} -> {out:02x?})"
            ),
        }
    }
}

/// Decodes `data` as an S7comm-plus PDU (and as a continuation) and extracts
/// its strings. A PDU without anomalies must re-encode to a PDU that decodes
/// to the same message.
pub fn s7plus(data: &[u8]) {
    use crate::s7::plus;

    for parse in [plus::parse, plus::parse_continuation] {
        let Ok(message) = parse(data) else {
            continue;
        };
        let _ = plus::strings(message.body).count();
        let _ = message.anomalies.names().count();
        let _ = message.function.map(plus::function_name);
        if !message.anomalies.is_empty() {
            continue;
        }
        let mut out = Vec::new();
        if plus::encode(&mut out, &message).is_ok() {
            match parse(&out) {
                Ok(again) if again == message => {}
                other => panic!(
                    "S7comm-plus round trip changed {message:?} into {other:?} \
                     ({data:02x?} -> {out:02x?})"
                ),
            }
        }
    }
}
