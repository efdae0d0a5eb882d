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

/// Probes `data` and frames it as a DNP3 link stream, resynchronising with
/// `find_start` after bytes that do not frame; walks every frame's
/// CRC-stripped chunks, splits its transport segment and feeds the
/// reassembler, parsing every completed fragment. A frame with good CRCs must
/// re-encode to its own bytes.
pub fn dnp3_link(data: &[u8]) {
    use crate::dnp3::{link, probe, transport};

    let _ = probe(data);
    let mut reassembler = transport::Reassembler::new(2048);
    let mut rest = data;
    let mut segment = Vec::new();
    while !rest.is_empty() {
        let consumed = match link::frame(rest) {
            Framing::Parsed { consumed, message } => {
                let _ = (
                    message.header.control.function_name(),
                    message.header.is_broadcast(),
                );
                let total = message.data.chunks().map(<[u8]>::len).sum::<usize>();
                if total != message.data.len() {
                    panic!(
                        "chunks cover {total} bytes, len() says {}",
                        message.data.len()
                    );
                }
                segment.clear();
                message.data.copy_to(&mut segment);
                if message.data_crc_ok {
                    let mut out = Vec::new();
                    let original = rest.get(..consumed).unwrap_or_default();
                    if link::encode(&mut out, &message.header, &segment).is_err() || out != original
                    {
                        panic!("link round trip changed {original:02x?} into {out:02x?}");
                    }
                    if let Some((header, piece)) = transport::split(&segment) {
                        if let transport::Assembly::Complete(fragment) =
                            reassembler.push(header, piece)
                        {
                            dnp3_app(fragment);
                        }
                    }
                }
                consumed
            }
            Framing::NeedMore { .. } => break,
            Framing::NotThisProtocol => match link::find_start(rest.get(1..).unwrap_or_default()) {
                Some(at) => at + 1,
                None => rest.len(),
            },
        };
        rest = rest.get(consumed..).unwrap_or_default();
    }
}

/// Parses `data` as one DNP3 application fragment and walks every object
/// header, its points, packed bits and typed values. Re-encoding the header
/// and every object header walked must give back the bytes walked.
pub fn dnp3_app(data: &[u8]) {
    use crate::dnp3::app::{self, ObjectValues};

    let Ok(fragment) = app::parse(data) else {
        return;
    };
    let _ = (fragment.function.name(), fragment.anomalies.names().count());
    if let Some(iin) = fragment.iin {
        let _ = iin.names().count();
    }
    let mut out = Vec::new();
    app::encode(
        &mut out,
        fragment.control,
        fragment.function,
        fragment.iin,
        &[],
    );
    let mut iter = fragment.objects.iter();
    for header in iter.by_ref() {
        let _ = (header.name(), header.count(), header.qualifier().name());
        let _ = header.points().map(|p| p.data.len()).sum::<usize>();
        if let Some(bits) = header.bits() {
            let _ = bits.count();
        }
        match header.values.clone() {
            ObjectValues::Crob(crobs) => crobs.for_each(|c| {
                let _ = (
                    c.op_type().name(),
                    c.trip_close().name(),
                    c.command_status().name(),
                );
            }),
            ObjectValues::AnalogOutput(outputs) => outputs.for_each(|o| {
                let _ = o.value.as_f64();
            }),
            ObjectValues::DeviceAttribute {
                data_type, value, ..
            } => {
                let _ = app::attribute_value(data_type, value);
            }
            ObjectValues::Time(times) => times.for_each(|t| {
                let _ = t.interval.map(|i| i.units.name());
            }),
            ObjectValues::Delay(delay) => {
                let _ = delay.millis();
            }
            ObjectValues::File(files) => files.for_each(|f| {
                let _ = f.name();
            }),
            ObjectValues::Iin(bits) => {
                let _ = bits.count();
            }
            ObjectValues::OctetString(_)
            | ObjectValues::SecureAuth { .. }
            | ObjectValues::Other => {}
        }
        if header.write(&mut out).is_err() {
            panic!("a walked header does not re-encode: {header:?}");
        }
    }
    let walked = data.len().saturating_sub(iter.rest().len());
    if out.as_slice() != data.get(..walked).unwrap_or_default() {
        panic!("DNP3 application round trip changed {data:02x?} into {out:02x?}");
    }
}

/// Probes `data` and frames it as a UA TCP stream of chunks, resynchronising
/// with `find_chunk` after bytes that do not frame; parses every chunk's
/// body by its type (Hello, Acknowledge, Error, ReverseHello, OPN, MSG,
/// CLO, sequence header) and decodes plain service messages. A framed chunk
/// must consume exactly its size field.
pub fn opcua_transport(data: &[u8]) {
    use crate::opcua::{secure, transport};

    let _ = transport::probe(data);
    let mut rest = data;
    while !rest.is_empty() {
        let consumed = match transport::frame(rest) {
            Framing::Parsed { consumed, message } => {
                if consumed != message.header.size as usize
                    || message.body.len() + transport::HEADER_LEN != consumed
                {
                    panic!("chunk of size {} consumed {consumed}", message.header.size);
                }
                let _ = (
                    message.header.message_type.code(),
                    message.header.chunk_type,
                );
                let body = message.body;
                match message.header.message_type {
                    transport::MessageType::Hello => {
                        let _ = transport::parse_hello(body).map(|h| h.endpoint_url);
                    }
                    transport::MessageType::Acknowledge => {
                        let _ = transport::parse_acknowledge(body);
                    }
                    transport::MessageType::Error => {
                        let _ = transport::parse_error(body).map(|e| e.error.to_string());
                    }
                    transport::MessageType::ReverseHello => {
                        let _ = transport::parse_reverse_hello(body);
                    }
                    transport::MessageType::Open => {
                        if let Ok(open) = secure::parse_open(body) {
                            let policy = open
                                .security
                                .security_policy_uri
                                .map(secure::SecurityPolicy::from_uri);
                            let _ = policy.map(|p| (p.name(), p.is_deprecated()));
                            if let Ok((_, message)) = secure::split_sequence(open.rest) {
                                opcua_service(message);
                            }
                        }
                    }
                    transport::MessageType::Message | transport::MessageType::Close => {
                        if let Ok(chunk) = secure::parse_symmetric(body) {
                            if let Ok((_, message)) = secure::split_sequence(chunk.rest) {
                                opcua_service(message);
                            }
                        }
                    }
                }
                consumed
            }
            Framing::NeedMore { .. } => break,
            Framing::NotThisProtocol => {
                match transport::find_chunk(rest.get(1..).unwrap_or_default()) {
                    Some(at) => at + 1,
                    None => rest.len(),
                }
            }
        };
        rest = rest.get(consumed..).unwrap_or_default();
    }
}

/// Splits `data` as one service message and decodes it, touching every
/// decoded field a detection reads.
pub fn opcua_service(data: &[u8]) {
    use crate::opcua::service::{self, Service};

    let Ok(message) = service::split_service(data) else {
        return;
    };
    if let Some(id) = message.service_id() {
        let _ = (id.name(), id.service(), id.response(), id.is_request());
    }
    let Ok(decoded) = service::decode(&message) else {
        return;
    };
    let endpoints = |endpoints: &[service::EndpointDescription<'_>]| {
        endpoints
            .iter()
            .map(|e| {
                let tokens = e
                    .user_identity_tokens
                    .iter()
                    .map(|t| {
                        t.token_type.name().map_or(0, str::len) + t.policy_id.map_or(0, <[u8]>::len)
                    })
                    .sum::<usize>();
                tokens
                    + e.endpoint_url.map_or(0, <[u8]>::len)
                    + e.security_mode.name().map_or(0, str::len)
                    + e.security_policy_uri.map_or(0, <[u8]>::len)
                    + e.server_certificate.map_or(0, <[u8]>::len)
                    + e.server.discovery_urls.len()
                    + usize::from(e.security_level)
            })
            .sum::<usize>()
    };
    match &decoded {
        Service::OpenSecureChannelRequest(o) => {
            let _ = (
                o.request_type.name(),
                o.security_mode.name(),
                o.client_nonce,
            );
        }
        Service::OpenSecureChannelResponse(o) => {
            let _ = (o.channel_id, o.token_id, o.header.service_result.name());
        }
        Service::GetEndpointsRequest(g) => {
            let _ = (g.endpoint_url, g.locale_ids.len(), g.profile_uris.len());
        }
        Service::GetEndpointsResponse(g) => {
            let _ = endpoints(&g.endpoints);
        }
        Service::FindServersRequest(f) => {
            let _ = (f.endpoint_url, f.server_uris.len());
        }
        Service::FindServersResponse(f) => {
            let _ = f
                .servers
                .iter()
                .filter_map(|s| s.application_type.name())
                .count();
        }
        Service::CreateSessionRequest(c) => {
            let _ = (
                c.client_description.application_uri,
                c.session_name,
                c.client_certificate.map(<[u8]>::len),
                c.requested_session_timeout,
            );
        }
        Service::CreateSessionResponse(c) => {
            let _ = (
                c.session_id.numeric(),
                c.server_certificate,
                endpoints(&c.server_endpoints),
                c.server_signature_algorithm,
            );
        }
        Service::ActivateSessionRequest(a) => {
            let _ = (
                a.identity.token_type(),
                a.identity.type_id(),
                a.client_signature_algorithm,
            );
        }
        Service::ActivateSessionResponse(a) => {
            let _ = a.results.iter().filter(|r| r.is_bad()).count();
        }
        Service::ServiceFault(h) => {
            let _ = h.service_result.to_string();
        }
        Service::OtherRequest { id, header } => {
            let _ = (
                id.name(),
                header.request_handle,
                header.authentication_token.numeric(),
            );
        }
        Service::OtherResponse { id, header } => {
            let _ = (id.name(), header.service_result.is_good());
        }
        Service::Unknown { type_id } => {
            let _ = type_id.numeric();
        }
    }
}

/// The key the `uplink_envelope` target verifies with; the corpus holds
/// envelopes it signed, so the fuzzer starts from ones that verify.
pub const UPLINK_FUZZ_KEY: [u8; 32] = [0x42; 32];

/// Reads `data` as an envelope (kid, then verification with
/// [`UPLINK_FUZZ_KEY`]) and as summary JSON; a verified payload is parsed as
/// a summary too. None of it may panic.
pub fn uplink_envelope(data: &[u8]) {
    use crate::uplink;
    let text = String::from_utf8_lossy(data);
    let _ = uplink::kid_of(&text);
    let key = uplink::SigningKey::from_bytes(&UPLINK_FUZZ_KEY).verifying_key();
    if let Ok(payload) = uplink::verify(&text, &key) {
        let _ = serde_json::from_slice::<uplink::Summary>(&payload);
    }
    let _ = serde_json::from_slice::<uplink::Summary>(data);
}
