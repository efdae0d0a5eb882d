//! The uplink envelope and summary model through the public API: round
//! trips, every kind of tampering refused with the right error, and no input
//! that makes verification panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use faro_protocols::uplink::{
    AssetDelta, EdgeDelta, EdgeKey, EnvelopeError, FindingDelta, SCHEMA, SigningKey, Summary,
    fingerprint, generate_key, kid_of, sign, verify,
};
use proptest::prelude::*;

fn summary(sequence: u64) -> Summary {
    Summary {
        schema: SCHEMA.to_owned(),
        sensor_id: "sensor-1".to_owned(),
        site: "plant-a".to_owned(),
        sequence,
        window_start: "2025-01-01T00:00:00Z".to_owned(),
        window_end: "2025-01-01T00:05:00Z".to_owned(),
        assets: vec![AssetDelta {
            ip: "10.0.0.10".to_owned(),
            mac: Some("00:1b:1b:00:00:01".to_owned()),
            roles: vec!["plc".to_owned()],
            protocols: vec!["s7comm".to_owned()],
            identity: BTreeMap::from([("vendor".to_owned(), "Siemens".to_owned())]),
            identity_sources: BTreeMap::from([(
                "vendor".to_owned(),
                faro_protocols::identity::IdentitySource::S7SzlModuleIdentification
                    .name()
                    .to_owned(),
            )]),
            posture: BTreeMap::new(),
            first_seen: "2025-01-01T00:00:01Z".to_owned(),
            last_seen: "2025-01-01T00:04:59Z".to_owned(),
            zone: Some(faro_protocols::uplink::ZoneRef {
                name: "cell-1".to_owned(),
                purdue_level: "1".to_owned(),
                criticality: "high".to_owned(),
            }),
            known: None,
        }],
        edges: vec![EdgeDelta {
            client: "10.0.0.2".to_owned(),
            server: "10.0.0.10".to_owned(),
            server_port: 102,
            transport: "tcp".to_owned(),
            protocol: "s7comm".to_owned(),
            functions: BTreeMap::from([("4".to_owned(), 12)]),
            first_seen: "2025-01-01T00:00:01Z".to_owned(),
            last_seen: "2025-01-01T00:04:59Z".to_owned(),
        }],
        findings: vec![FindingDelta {
            rule: "s7-plc-stop".to_owned(),
            severity: "critical".to_owned(),
            attack: vec!["T0881".to_owned()],
            title: "PLC stopped over S7comm".to_owned(),
            asset: Some("10.0.0.10".to_owned()),
            edge: Some(EdgeKey {
                client: "10.0.0.2".to_owned(),
                server: "10.0.0.10".to_owned(),
                server_port: 102,
                protocol: "s7comm".to_owned(),
            }),
            first_seen: "2025-01-01T00:03:00Z".to_owned(),
            last_seen: "2025-01-01T00:03:00Z".to_owned(),
            count: 1,
            sample_flow: None,
            values: vec!["29".to_owned()],
            exposure: Some("dangerous_function".to_owned()),
        }],
        counters: serde_json::json!({ "packets": 1234, "malformed": 0 }),
    }
}

fn signed(key: &SigningKey) -> (Vec<u8>, String) {
    let json = serde_json::to_vec(&summary(1)).unwrap();
    let kid = fingerprint(&key.verifying_key());
    let jws = sign(&json, key, &kid);
    (json, jws)
}

/// Replaces one part of a compact JWS.
fn with_part(jws: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<&str> = jws.split('.').collect();
    parts[index] = part;
    parts.join(".")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn round_trip() {
    let key = generate_key();
    let (json, jws) = signed(&key);
    assert_eq!(kid_of(&jws).unwrap(), fingerprint(&key.verifying_key()));
    let payload = verify(&jws, &key.verifying_key()).unwrap();
    assert_eq!(payload, json);
    let back: Summary = serde_json::from_slice(&payload).unwrap();
    assert_eq!(back, summary(1));
}

#[test]
fn header_is_the_contracts() {
    let key = generate_key();
    let (_, jws) = signed(&key);
    let header = URL_SAFE_NO_PAD
        .decode(jws.split('.').next().unwrap())
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(
        header,
        serde_json::json!({
            "alg": "EdDSA",
            "typ": "faro-summary+jws",
            "kid": fingerprint(&key.verifying_key()),
        })
    );
}

#[test]
fn tampered_payload_is_a_bad_signature() {
    let key = generate_key();
    let (json, jws) = signed(&key);
    let forged = String::from_utf8(json)
        .unwrap()
        .replace("\"sequence\":1", "\"sequence\":2");
    let tampered = with_part(&jws, 1, &b64(forged.as_bytes()));
    assert_eq!(
        verify(&tampered, &key.verifying_key()),
        Err(EnvelopeError::BadSignature)
    );
}

#[test]
fn tampered_header_kid_is_a_bad_signature() {
    let key = generate_key();
    let (_, jws) = signed(&key);
    let header = br#"{"alg":"EdDSA","typ":"faro-summary+jws","kid":"SHA256:00"}"#;
    assert_eq!(
        verify(&with_part(&jws, 0, &b64(header)), &key.verifying_key()),
        Err(EnvelopeError::BadSignature)
    );
}

#[test]
fn alg_none_is_refused() {
    let key = generate_key();
    let (_, jws) = signed(&key);
    let header = br#"{"alg":"none","typ":"faro-summary+jws","kid":"k"}"#;
    // The classic attack drops the signature too.
    let tampered = with_part(&with_part(&jws, 0, &b64(header)), 2, "");
    assert_eq!(
        verify(&tampered, &key.verifying_key()),
        Err(EnvelopeError::UnsupportedAlgorithm("none".to_owned()))
    );
}

#[test]
fn alg_hs256_is_refused() {
    let key = generate_key();
    let (_, jws) = signed(&key);
    let header = br#"{"alg":"HS256","typ":"faro-summary+jws","kid":"k"}"#;
    assert_eq!(
        verify(&with_part(&jws, 0, &b64(header)), &key.verifying_key()),
        Err(EnvelopeError::UnsupportedAlgorithm("HS256".to_owned()))
    );
}

#[test]
fn wrong_typ_and_unknown_header_members_are_malformed() {
    let key = generate_key();
    let (_, jws) = signed(&key);
    for header in [
        &br#"{"alg":"EdDSA","kid":"k"}"#[..],
        br#"{"alg":"EdDSA","typ":"JWT","kid":"k"}"#,
        br#"{"alg":"EdDSA","typ":"faro-summary+jws","kid":"k","crit":["exp"]}"#,
        br#"{"alg":"EdDSA","alg":"EdDSA","typ":"faro-summary+jws","kid":"k"}"#,
        b"[]",
    ] {
        assert!(
            matches!(
                verify(&with_part(&jws, 0, &b64(header)), &key.verifying_key()),
                Err(EnvelopeError::Malformed(_))
            ),
            "{}",
            String::from_utf8_lossy(header)
        );
    }
}

#[test]
fn another_keys_signature_is_bad() {
    let key = generate_key();
    let other = generate_key();
    let (_, jws) = signed(&other);
    assert_eq!(
        verify(&jws, &key.verifying_key()),
        Err(EnvelopeError::BadSignature)
    );
}

#[test]
fn truncated_tokens_are_malformed() {
    let key = generate_key();
    let (_, jws) = signed(&key);
    let (head, _) = jws.rsplit_once('.').unwrap();
    assert!(matches!(
        verify(head, &key.verifying_key()),
        Err(EnvelopeError::Malformed(_))
    ));
    assert!(matches!(
        verify(&jws[..jws.len() - 4], &key.verifying_key()),
        Err(EnvelopeError::Malformed(_))
    ));
    assert!(matches!(
        verify("", &key.verifying_key()),
        Err(EnvelopeError::Malformed(_))
    ));
    assert!(matches!(
        verify(&format!("{jws}.x"), &key.verifying_key()),
        Err(EnvelopeError::Malformed(_))
    ));
    assert!(matches!(kid_of("abc"), Err(EnvelopeError::Malformed(_))));
}

#[test]
fn non_base64_is_malformed() {
    let key = generate_key();
    let (_, jws) = signed(&key);
    for index in 0..3 {
        for part in ["a+b/", "!!!!", "YQ==", "é"] {
            let bad = with_part(&jws, index, part);
            assert!(
                matches!(
                    verify(&bad, &key.verifying_key()),
                    Err(EnvelopeError::Malformed(_))
                ),
                "part {index} = {part}"
            );
        }
    }
}

#[test]
fn errors_say_why() {
    assert_eq!(
        EnvelopeError::UnsupportedAlgorithm("none".to_owned()).to_string(),
        "unsupported algorithm \"none\": only EdDSA is accepted"
    );
    assert!(
        EnvelopeError::BadSignature
            .to_string()
            .contains("signature")
    );
    assert!(
        EnvelopeError::Malformed("header has no kid")
            .to_string()
            .contains("header has no kid")
    );
}

#[test]
fn summary_refuses_unknown_fields() {
    let mut value = serde_json::to_value(summary(3)).unwrap();
    value["extra"] = serde_json::json!(1);
    assert!(serde_json::from_value::<Summary>(value).is_err());
    let mut value = serde_json::to_value(summary(3)).unwrap();
    value["edges"][0]["bytes"] = serde_json::json!(1);
    assert!(serde_json::from_value::<Summary>(value).is_err());
}

#[test]
fn identity_sources_are_optional_and_round_trip() {
    let with = summary(3);
    let value = serde_json::to_value(&with).unwrap();
    assert_eq!(
        value["assets"][0]["identity_sources"]["vendor"],
        "s7:szl-0x0011"
    );
    assert_eq!(serde_json::from_value::<Summary>(value).unwrap(), with);
    // A summary of a sensor from before provenance has no such member.
    let mut older = with.clone();
    older.assets[0].identity_sources.clear();
    let mut value = serde_json::to_value(&older).unwrap();
    assert!(value["assets"][0].get("identity_sources").is_none());
    value["assets"][0]
        .as_object_mut()
        .unwrap()
        .remove("identity_sources");
    assert_eq!(serde_json::from_value::<Summary>(value).unwrap(), older);
}

proptest! {
    #[test]
    fn verify_never_panics(text in any::<String>()) {
        let key = SigningKey::from_bytes(&[9; 32]).verifying_key();
        let _ = kid_of(&text);
        let _ = verify(&text, &key);
    }

    #[test]
    fn verify_never_panics_on_three_base64url_parts(
        header in proptest::collection::vec(any::<u8>(), 0..64),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        signature in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let key = SigningKey::from_bytes(&[9; 32]).verifying_key();
        let jws = format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature));
        let _ = kid_of(&jws);
        prop_assert!(verify(&jws, &key).is_err());
    }
}

#[test]
fn fuzz_corpus_starts_from_a_verified_envelope() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/uplink_envelope/gen-valid-summary"
    );
    let jws = std::fs::read_to_string(path).unwrap();
    let key = SigningKey::from_bytes(&faro_protocols::fuzzing::UPLINK_FUZZ_KEY);
    let payload = verify(&jws, &key.verifying_key()).unwrap();
    let summary: Summary = serde_json::from_slice(&payload).unwrap();
    assert_eq!(summary.schema, SCHEMA);
}
