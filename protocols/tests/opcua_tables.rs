//! Table tests of the OPC UA parsers on messages taken from the public
//! captures in `shared/pcaps` (each named by capture and frame, embedded as
//! hex TCP payloads), with the values tshark reports for them
//! (`shared/pcaps/truth`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use faro_protocols::opcua::encoding::{NodeId, StatusCode};
use faro_protocols::opcua::secure::{self, SecurityPolicy};
use faro_protocols::opcua::service::{
    self, ApplicationType, IdentityToken, MessageSecurityMode, Service, ServiceId, UserTokenType,
};
use faro_protocols::opcua::transport::{self, ChunkType, MessageType};
use faro_protocols::{Framing, Probe};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Frames `bytes` as a stream of whole chunks.
fn chunks(bytes: &[u8]) -> Vec<transport::Chunk<'_>> {
    assert_eq!(transport::probe(bytes), Probe::Match);
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Framing::Parsed { consumed, message } = transport::frame(rest) else {
            panic!("not framed: {rest:02x?}");
        };
        assert_eq!(consumed, message.header.size as usize);
        out.push(message);
        rest = &rest[consumed..];
    }
    out
}

/// The one chunk of `bytes`, its sequence header and its decoded service message.
fn one_service(bytes: &[u8]) -> (transport::Chunk<'_>, secure::SequenceHeader, Service<'_>) {
    let [chunk] = chunks(bytes)[..] else {
        panic!("not one chunk")
    };
    assert_eq!(chunk.header.chunk_type, ChunkType::Final);
    let rest = match chunk.header.message_type {
        MessageType::Open => {
            let open = secure::parse_open(chunk.body).unwrap();
            let uri = open.security.security_policy_uri.unwrap();
            assert_eq!(SecurityPolicy::from_uri(uri), SecurityPolicy::None);
            open.rest
        }
        MessageType::Message | MessageType::Close => {
            secure::parse_symmetric(chunk.body).unwrap().rest
        }
        other => panic!("{other:?} carries no service"),
    };
    let (sequence, body) = secure::split_sequence(rest).unwrap();
    let message = service::split_service(body).unwrap();
    (chunk, sequence, service::decode(&message).unwrap())
}

/// opcua-icsnpp-client-server-getendpoints.pcapng frame 5: 56 bytes of TCP payload.
const GE_5: &str = concat!(
    "48454c463800000000000000ffff0000ffff00000000000000000000180000006f70632e7463703a2f2f6c6f63616c68",
    "6f73743a34383430",
);

/// opcua-icsnpp-client-server-getendpoints.pcapng frame 7: 28 bytes of TCP payload.
const GE_7: &str = "41434b461c00000000000000ffff0000ffff00000000000000000000";

/// opcua-icsnpp-client-server-getendpoints.pcapng frame 9: 132 bytes of TCP payload.
const GE_9: &str = concat!(
    "4f504e4684000000000000002f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f53656375",
    "72697479506f6c696379234e6f6e65ffffffffffffffff01000000010000000100be01000060acd99b5595d701000000",
    "0000000000ffffffff00000000000000000000000000000001000000ffffffffc0270900",
);

/// opcua-icsnpp-client-server-getendpoints.pcapng frame 11: 135 bytes of TCP payload.
const GE_11: &str = concat!(
    "4f504e4687000000080000002f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f53656375",
    "72697479506f6c696379234e6f6e65ffffffffffffffff01000000010000000100c101f2b0d99b5595d7010000000000",
    "00000000ffffffff000000000000000800000008000000e8b0d99b5595d701c0270900ffffffff",
);

/// opcua-icsnpp-client-server-getendpoints.pcapng frame 13: 330 bytes of TCP payload.
const GE_13: &str = concat!(
    "4d5347464a010000080000000800000002000000020000000100ac0100007abad99b5595d7010100000000000000ffff",
    "ffff10270000000000180000006f70632e7463703a2f2f6c6f63616c686f73743a3438343002000000080000004c4f43",
    "414c452030080000004c4f43414c4520310300000043000000687474703a2f2f6f7063666f756e646174696f6e2e6f72",
    "672f55412d50726f66696c652f5472616e73706f72742f75617463702d756173632d756162696e6172792d3043000000",
    "687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412d50726f66696c652f5472616e73706f72742f7561",
    "7463702d756173632d756162696e6172792d3143000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f",
    "55412d50726f66696c652f5472616e73706f72742f75617463702d756173632d756162696e6172792d32",
);

/// opcua-icsnpp-client-server-getendpoints.pcapng frame 15: 56 bytes of TCP payload.
const GE_15: &str = concat!(
    "4d53474638000000080000000800000002000000020000000100af01eebed99b5595d701010000000000000000ffffff",
    "ff000000ffffffff",
);

/// opcua-icsnpp-client-server-getendpoints.pcapng frame 17: 57 bytes of TCP payload.
const GE_17: &str = concat!(
    "434c4f4639000000080000000800000003000000030000000100c4010000eec3d99b5595d7010100000000000000ffff",
    "ffff10270000000000",
);

/// opcua-icsnpp-client-server-minimal.pcap frame 15: 476 bytes of TCP payload.
const MIN_15: &str = concat!(
    "4d534746dc010000050000000500000002000000020000000100af016289a5f275cad501010000000000000000ffffff",
    "ff00000001000000180000006f70632e7463703a2f2f6c6f63616c686f73743a343834302000000075726e3a6f70656e",
    "36323534312e7365727665722e6170706c69636174696f6e14000000687474703a2f2f6f70656e36323534312e6f7267",
    "0302000000656e220000006f70656e36323534312d6261736564204f5043205541204170706c69636174696f6e000000",
    "00ffffffffffffffffffffffffffffffff010000002f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72",
    "672f55412f5365637572697479506f6c696379234e6f6e65020000001a0000006f70656e36323534312d616e6f6e796d",
    "6f75732d706f6c69637900000000ffffffffffffffffffffffff190000006f70656e36323534312d757365726e616d65",
    "2d706f6c69637901000000ffffffffffffffff2f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f",
    "55412f5365637572697479506f6c696379234e6f6e6541000000687474703a2f2f6f7063666f756e646174696f6e2e6f",
    "72672f55412d50726f66696c652f5472616e73706f72742f75617463702d756173632d756162696e61727901",
);

/// opcua-icsnpp-client-server-minimal.pcap frame 39: 166 bytes of TCP payload.
const MIN_39: &str = concat!(
    "4d534746a6000000060000000600000003000000030000000100cd010000d02ec4f275cad5010300000000000000ffff",
    "ffff102700000000001c00000075726e3a756e636f6e666967757265643a6170706c69636174696f6effffffff000100",
    "0000ffffffffffffffffffffffffffffffff180000006f70632e7463703a2f2f6c6f63616c686f73743a34383430ffff",
    "ffffffffffffffffffff00000000804f3241ffffff7f",
);

/// opcua-icsnpp-client-server-minimal.pcap frame 41: 578 bytes of TCP payload.
const MIN_41: &str = concat!(
    "4d53474642020000060000000600000003000000030000000100d001d625ccf275cad501030000000000000000ffffff",
    "ff0000000401008ec339e305e0252773f76fd67047a4ca040100024989f8846a012a40543533b25b452400000000804f",
    "3241200000001ff2f4275e4901aa9166c87806767225483144b447d9a00a11698ae31bbaf1c5ffffffff010000001800",
    "00006f70632e7463703a2f2f6c6f63616c686f73743a343834302000000075726e3a6f70656e36323534312e73657276",
    "65722e6170706c69636174696f6e14000000687474703a2f2f6f70656e36323534312e6f72670302000000656e220000",
    "006f70656e36323534312d6261736564204f5043205541204170706c69636174696f6e00000000ffffffffffffffffff",
    "ffffffffffffff010000002f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f5365637572",
    "697479506f6c696379234e6f6e65020000001a0000006f70656e36323534312d616e6f6e796d6f75732d706f6c696379",
    "00000000ffffffffffffffffffffffff190000006f70656e36323534312d757365726e616d652d706f6c696379010000",
    "00ffffffffffffffff2f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f53656375726974",
    "79506f6c696379234e6f6e6541000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412d50726f66",
    "696c652f5472616e73706f72742f75617463702d756173632d756162696e61727901ffffffffffffffffffffffff0000",
    "0000",
);

/// opcua-icsnpp-client-server-minimal.pcap frame 43: 161 bytes of TCP payload.
const MIN_43: &str = concat!(
    "4d534746a1000000060000000600000004000000040000000100d301040100024989f8846a012a40543533b25b4524b2",
    "2bccf275cad5010500000000000000ffffffffc0270900000000ffffffffffffffffffffffffffffffff010044010136",
    "000000190000006f70656e36323534312d757365726e616d652d706f6c69637905000000757365723108000000706173",
    "73776f7264ffffffffffffffffffffffff",
);

/// opcua-icsnpp-client-server-minimal.pcap frame 45: 96 bytes of TCP payload.
const MIN_45: &str = concat!(
    "4d53474660000000060000000600000004000000040000000100d601dcc7d3f275cad501050000000000000000ffffff",
    "ff00000020000000f930866b7ee1f66d9e3063b69555412cab994f674e5e8456ad2cb4257f75794affffffffffffffff",
);

/// opcua-icsnpp-client-server-minimal.pcap frame 67: 156 bytes of TCP payload.
const MIN_67: &str = concat!(
    "4d5347464e00000006000000060000000b0000000b00000001003a03040100024989f8846a012a40543533b25b452446",
    "5df2f275cad5010c00000000000000ffffffff60ea0000000000000000004d5347464e00000006000000060000000c00",
    "00000c00000001003a03040100024989f8846a012a40543533b25b4524aa5df2f275cad5010d00000000000000ffffff",
    "ff60ea000000000000000000",
);

/// opcua-icsnpp-client-server-minimal.pcap frame 99: 85 bytes of TCP payload.
const MIN_99: &str = concat!(
    "4d5347465500000006000000060000000d0000000a00000001003d03e2c664f375cad5010b0000000000798000ffffff",
    "ff00000000000000ffffffff00000000000000000000000000ffffffffffffffffffffffff",
);

/// opcua-icsnpp-python-opcua-client-server-minimal.pcap frame 7: 74 bytes of TCP payload.
const PY_7: &str = concat!(
    "48454c464a00000000000000000001000000010000000000000000002a0000006f70632e7463703a2f2f6c6f63616c68",
    "6f73743a343834302f667265656f706375612f7365727665722f",
);

/// opcua-icsnpp-python-opcua-client-server-minimal.pcap frame 15: 287 bytes of TCP payload.
const PY_15: &str = concat!(
    "4d5347461f010000090000000e00000002000000020000000100cd01000038b2f1a8e973d5010200000000000000ffff",
    "ffffe80300000000001400000075726e3a667265656f706375613a636c69656e741e00000075726e3a667265656f7063",
    "75612e6769746875622e696f3a636c69656e7402120000005075726520507974686f6e20436c69656e7401000000ffff",
    "ffffffffffff00000000ffffffff2a0000006f70632e7463703a2f2f6c6f63616c686f73743a343834302f667265656f",
    "706375612f7365727665722f1b0000005075726520507974686f6e20436c69656e742053657373696f6e3120000000c5",
    "44de7293e5170aaeadb0abec732f035e0b82fed67c1c4728b2a9b3953f0a88ffffffff0000000040774b4100000000",
);

/// opcua-icsnpp-python-opcua-client-server-minimal.pcap frame 17: 618 bytes of TCP payload.
const PY_17: &str = concat!(
    "4d5347466a020000090000000e00000002000000020000000100d00172d2f1a8e973d501020000000000000000000000",
    "000000000200000e000000020000ec0300000000000040774b4120000000664e801ed546fa9aca0d082d04bda28cf690",
    "b22cead9a8a4b22bac523b91cfbfffffffff010000002a0000006f70632e7463703a2f2f3132372e302e302e313a3438",
    "34302f667265656f706375612f7365727665722f1b00000075726e3a667265656f706375613a707974686f6e3a736572",
    "7665722500000075726e3a667265656f706375612e6769746875622e696f3a707974686f6e3a73657276657202170000",
    "00467265654f7063556120507974686f6e2053657276657202000000ffffffffffffffff01000000280000006f70632e",
    "7463703a2f2f302e302e302e303a343834302f667265656f706375612f7365727665722fffffffff010000002f000000",
    "687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f5365637572697479506f6c696379234e6f6e6503",
    "00000009000000616e6f6e796d6f757300000000ffffffffffffffffffffffff1a00000063657274696669636174655f",
    "626173696332353673686132353602000000ffffffffffffffffffffffff08000000757365726e616d6501000000ffff",
    "ffffffffffffffffffff41000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412d50726f66696c",
    "652f5472616e73706f72742f75617463702d756173632d756162696e61727900000000002a000000687474703a2f2f77",
    "77772e77332e6f72672f323030302f30392f786d6c64736967237273612d736861310000000000000100",
);

/// opcua-icsnpp-python-opcua-client-server-minimal.pcap frame 19: 156 bytes of TCP payload.
const PY_19: &str = concat!(
    "4d5347469c000000090000000e00000003000000030000000100d301020000ec030000e004f2a8e973d5010300000000",
    "000000ffffffffe80300000000002a000000687474703a2f2f7777772e77332e6f72672f323030302f30392f786d6c64",
    "736967237273612d7368613100000000000000000100000002000000656e01004101010d00000009000000616e6f6e79",
    "6d6f7573ffffffffffffffff",
);
const NONE: &[u8] = b"http://opcfoundation.org/UA/SecurityPolicy#None";

fn ids(service: &Service<'_>) -> Option<&'static str> {
    Some(match service {
        Service::OpenSecureChannelRequest(_) => "open_secure_channel_request",
        Service::OpenSecureChannelResponse(_) => "open_secure_channel_response",
        Service::GetEndpointsRequest(_) => "get_endpoints_request",
        Service::GetEndpointsResponse(_) => "get_endpoints_response",
        Service::CreateSessionRequest(_) => "create_session_request",
        Service::CreateSessionResponse(_) => "create_session_response",
        Service::ActivateSessionRequest(_) => "activate_session_request",
        Service::ActivateSessionResponse(_) => "activate_session_response",
        Service::OtherRequest { id, .. } | Service::OtherResponse { id, .. } => id.name()?,
        _ => return None,
    })
}

/// getendpoints.pcapng frames 5-17: HEL, ACK, OPN, OPN, MSG, MSG, CLO. tshark:
/// endpoint opc.tcp://localhost:4840, policy None, channel 8, services 446,
/// 449, 428, 431, 452, request ids 1, 1, 2, 2, 3.
#[test]
fn getendpoints_conversation() {
    let hello = hex(GE_5);
    let [chunk] = chunks(&hello)[..] else {
        panic!()
    };
    assert_eq!(chunk.header.message_type, MessageType::Hello);
    let h = transport::parse_hello(chunk.body).unwrap();
    assert_eq!(h.endpoint_url, Some(&b"opc.tcp://localhost:4840"[..]));
    assert_eq!(
        (
            h.protocol_version,
            h.receive_buffer_size,
            h.send_buffer_size
        ),
        (0, 65535, 65535)
    );
    let ack = hex(GE_7);
    let [chunk] = chunks(&ack)[..] else { panic!() };
    assert_eq!(chunk.header.message_type, MessageType::Acknowledge);
    let a = transport::parse_acknowledge(chunk.body).unwrap();
    assert_eq!((a.receive_buffer_size, a.send_buffer_size), (65535, 65535));

    let expected = [
        (GE_9, "open_secure_channel_request", 1),
        (GE_11, "open_secure_channel_response", 1),
        (GE_13, "get_endpoints_request", 2),
        (GE_15, "get_endpoints_response", 2),
        (GE_17, "close_secure_channel_request", 3),
    ];
    for (bytes, name, request_id) in expected {
        let bytes = hex(bytes);
        let (_, sequence, service) = one_service(&bytes);
        assert_eq!(ids(&service), Some(name));
        assert_eq!(sequence.request_id, request_id);
    }
    let opn = hex(GE_9);
    let (_, _, Service::OpenSecureChannelRequest(o)) = one_service(&opn) else {
        panic!()
    };
    assert_eq!(o.security_mode, MessageSecurityMode::NONE);
    assert_eq!(o.requested_lifetime, 600_000);
    let opn = hex(GE_11);
    let (_, _, Service::OpenSecureChannelResponse(o)) = one_service(&opn) else {
        panic!()
    };
    assert_eq!((o.channel_id, o.token_id), (8, 8));
    assert_eq!(o.header.service_result, StatusCode::GOOD);
    let get = hex(GE_13);
    let (_, _, Service::GetEndpointsRequest(g)) = one_service(&get) else {
        panic!()
    };
    assert_eq!(g.endpoint_url, Some(&b"opc.tcp://localhost:4840"[..]));
    assert_eq!(
        g.locale_ids,
        [Some(&b"LOCALE 0"[..]), Some(&b"LOCALE 1"[..])]
    );
    assert_eq!(g.profile_uris.len(), 3);
    // The server answers with no endpoint at all.
    let get = hex(GE_15);
    let (_, _, Service::GetEndpointsResponse(g)) = one_service(&get) else {
        panic!()
    };
    assert!(g.endpoints.is_empty());
}

/// client-server-minimal.pcap frame 15, GetEndpointsResponse. tshark: mode
/// 1, policy None, endpoint opc.tcp://localhost:4840, token types 0 and 1,
/// policies open62541-anonymous-policy and open62541-username-policy,
/// application urn:open62541.server.application, product http://open62541.org.
#[test]
fn open62541_endpoints() {
    let bytes = hex(MIN_15);
    let (chunk, _, Service::GetEndpointsResponse(g)) = one_service(&bytes) else {
        panic!()
    };
    assert_eq!(
        secure::parse_symmetric(chunk.body)
            .unwrap()
            .secure_channel_id,
        5
    );
    let [e] = &g.endpoints[..] else { panic!() };
    assert_eq!(e.endpoint_url, Some(&b"opc.tcp://localhost:4840"[..]));
    assert_eq!(e.security_mode, MessageSecurityMode::NONE);
    assert_eq!(e.security_policy_uri, Some(NONE));
    assert_eq!(
        e.server.application_uri,
        Some(&b"urn:open62541.server.application"[..])
    );
    assert_eq!(e.server.product_uri, Some(&b"http://open62541.org"[..]));
    assert_eq!(e.server.application_type, ApplicationType::SERVER);
    let tokens: Vec<_> = e
        .user_identity_tokens
        .iter()
        .map(|t| (t.policy_id.unwrap(), t.token_type))
        .collect();
    assert_eq!(
        tokens,
        [
            (&b"open62541-anonymous-policy"[..], UserTokenType::ANONYMOUS),
            (&b"open62541-username-policy"[..], UserTokenType::USER_NAME)
        ]
    );
    // tshark's policy list "None,,None": the endpoint's, then one per token (null for anonymous).
    assert_eq!(e.user_identity_tokens[0].security_policy_uri, None);
    assert_eq!(e.user_identity_tokens[1].security_policy_uri, Some(NONE));
}

/// client-server-minimal.pcap frames 39-45: CreateSession and ActivateSession
/// with a user name. tshark: endpoint opc.tcp://localhost:4840, client
/// urn:unconfigured:application, user name user1, results Good.
#[test]
fn open62541_session_with_user_name() {
    let bytes = hex(MIN_39);
    let (_, _, Service::CreateSessionRequest(c)) = one_service(&bytes) else {
        panic!()
    };
    assert_eq!(c.endpoint_url, Some(&b"opc.tcp://localhost:4840"[..]));
    assert_eq!(
        c.client_description.application_uri,
        Some(&b"urn:unconfigured:application"[..])
    );
    assert_eq!(
        c.client_description.application_type,
        ApplicationType::CLIENT
    );
    assert_eq!(c.requested_session_timeout, 1_200_000.0);
    let bytes = hex(MIN_41);
    let (_, _, Service::CreateSessionResponse(c)) = one_service(&bytes) else {
        panic!()
    };
    assert!(matches!(c.session_id, NodeId::Guid { namespace: 1, .. }));
    assert!(matches!(
        c.authentication_token,
        NodeId::Guid { namespace: 1, .. }
    ));
    assert_eq!(c.server_endpoints.len(), 1);
    assert_eq!(c.server_endpoints[0].user_identity_tokens.len(), 2);
    let create_token = c.authentication_token;
    let bytes = hex(MIN_43);
    let (_, _, Service::ActivateSessionRequest(a)) = one_service(&bytes) else {
        panic!()
    };
    // The session is named by the token CreateSession handed out.
    assert_eq!(a.header.authentication_token, create_token);
    assert_eq!(a.identity.token_type(), Some(UserTokenType::USER_NAME));
    let IdentityToken::UserName {
        policy_id,
        user_name,
        password_len,
        encryption_algorithm,
    } = a.identity
    else {
        panic!()
    };
    assert_eq!(policy_id, Some(&b"open62541-username-policy"[..]));
    assert_eq!(user_name, Some(&b"user1"[..]));
    // Sent in the clear: no encryption algorithm, on a channel with policy None.
    assert_eq!((password_len, encryption_algorithm), (8, None));
    let bytes = hex(MIN_45);
    let (_, _, Service::ActivateSessionResponse(a)) = one_service(&bytes) else {
        panic!()
    };
    assert!(a.header.service_result.is_good() && a.results.is_empty());
}

/// client-server-minimal.pcap frame 67: two PublishRequests in one segment;
/// frame 99: a PublishResponse with BadNoSubscription (tshark 0x80790000).
#[test]
fn open62541_publish() {
    let bytes = hex(MIN_67);
    let two = chunks(&bytes);
    assert_eq!(two.len(), 2);
    for (chunk, request_id) in two.iter().zip([11, 12]) {
        let s = secure::parse_symmetric(chunk.body).unwrap();
        let (sequence, body) = secure::split_sequence(s.rest).unwrap();
        assert_eq!(sequence.request_id, request_id);
        let message = service::split_service(body).unwrap();
        assert_eq!(message.service_id(), Some(ServiceId::PUBLISH_REQUEST));
        assert!(matches!(
            service::decode(&message).unwrap(),
            Service::OtherRequest { .. }
        ));
    }
    let bytes = hex(MIN_99);
    let (_, _, Service::OtherResponse { id, header }) = one_service(&bytes) else {
        panic!()
    };
    assert_eq!(id, ServiceId::PUBLISH_RESPONSE);
    assert_eq!(header.service_result, StatusCode(0x8079_0000));
    assert_eq!(header.service_result.to_string(), "BadNoSubscription");
}

/// python-opcua-client-server-minimal.pcap frames 7-19. tshark: endpoint
/// opc.tcp://localhost:4840/freeopcua/server/, client urn:freeopcua:client,
/// server endpoint opc.tcp://127.0.0.1:4840/freeopcua/server/, mode 1,
/// token types 0, 2, 1 (anonymous, certificate_basic256sha256, username),
/// server urn:freeopcua:python:server, ActivateSession policy anonymous.
#[test]
fn python_opcua_session() {
    let bytes = hex(PY_7);
    let [chunk] = chunks(&bytes)[..] else {
        panic!()
    };
    let h = transport::parse_hello(chunk.body).unwrap();
    assert_eq!(
        h.endpoint_url,
        Some(&b"opc.tcp://localhost:4840/freeopcua/server/"[..])
    );
    let bytes = hex(PY_15);
    let (_, _, Service::CreateSessionRequest(c)) = one_service(&bytes) else {
        panic!()
    };
    assert_eq!(
        c.client_description.application_uri,
        Some(&b"urn:freeopcua:client"[..])
    );
    assert_eq!(
        c.client_description.product_uri,
        Some(&b"urn:freeopcua.github.io:client"[..])
    );
    assert_eq!(c.session_name, Some(&b"Pure Python Client Session1"[..]));
    let bytes = hex(PY_17);
    let (_, _, Service::CreateSessionResponse(c)) = one_service(&bytes) else {
        panic!()
    };
    let [e] = &c.server_endpoints[..] else {
        panic!()
    };
    assert_eq!(
        e.endpoint_url,
        Some(&b"opc.tcp://127.0.0.1:4840/freeopcua/server/"[..])
    );
    assert_eq!(e.security_mode, MessageSecurityMode::NONE);
    assert_eq!(e.security_policy_uri, Some(NONE));
    assert_eq!(
        e.server.application_uri,
        Some(&b"urn:freeopcua:python:server"[..])
    );
    assert_eq!(
        e.server.application_type,
        ApplicationType::CLIENT_AND_SERVER
    );
    let tokens: Vec<_> = e
        .user_identity_tokens
        .iter()
        .map(|t| (t.policy_id.unwrap(), t.token_type))
        .collect();
    assert_eq!(
        tokens,
        [
            (&b"anonymous"[..], UserTokenType::ANONYMOUS),
            (
                &b"certificate_basic256sha256"[..],
                UserTokenType::CERTIFICATE
            ),
            (&b"username"[..], UserTokenType::USER_NAME)
        ]
    );
    assert_eq!(
        c.session_id,
        NodeId::Numeric {
            namespace: 0,
            id: 14
        }
    );
    let bytes = hex(PY_19);
    let (_, _, Service::ActivateSessionRequest(a)) = one_service(&bytes) else {
        panic!()
    };
    assert_eq!(
        a.identity,
        IdentityToken::Anonymous {
            policy_id: Some(b"anonymous")
        }
    );
    assert_eq!(a.header.authentication_token, c.authentication_token);
    // A signature algorithm (RSA-SHA1) named although the channel is unsecured.
    assert_eq!(
        a.client_signature_algorithm,
        Some(&b"http://www.w3.org/2000/09/xmldsig#rsa-sha1"[..])
    );
    assert_eq!(a.locale_ids, [Some(&b"en"[..])]);
}

/// Every embedded message: every cut of it frames as NeedMore, and
/// find_chunk locates it after leading garbage.
#[test]
fn truncations_and_resync() {
    for h in [
        GE_5, GE_7, GE_9, GE_11, GE_13, GE_15, GE_17, MIN_15, MIN_39, MIN_41, MIN_43, MIN_45,
        MIN_99, PY_7, PY_15, PY_17, PY_19,
    ] {
        let bytes = hex(h);
        for n in 0..bytes.len() {
            assert!(
                matches!(transport::frame(&bytes[..n]), Framing::NeedMore { .. }),
                "{n}"
            );
        }
        let mut garbage = b"\x00\x01zz".to_vec();
        garbage.extend_from_slice(&bytes);
        assert_eq!(transport::find_chunk(&garbage), Some(4));
    }
}
