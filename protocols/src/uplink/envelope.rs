//! The signed envelope: a JWS in compact serialization (RFC 7515) with alg
//! `EdDSA` over Ed25519 (RFC 8037), and key fingerprints for its `kid`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// The `typ` header of a Faro summary envelope.
pub const JWS_TYPE: &str = "faro-summary+jws";

/// The only algorithm accepted: a verifier that lets the token choose its
/// algorithm can be tricked with `none` or an HMAC keyed by the public key.
const ALG: &str = "EdDSA";

/// Longest algorithm name echoed in an error: the token is untrusted input
/// and errors end up in logs.
const MAX_ECHOED_ALG: usize = 32;

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not a compact JWS of the expected shape; says which part is wrong.
    #[error("malformed envelope: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than EdDSA (`none` included).
    #[error("unsupported algorithm {0:?}: only EdDSA is accepted")]
    UnsupportedAlgorithm(String),
    /// Well formed, but the signature does not verify with the given key:
    /// another key signed it, or the header or payload was altered.
    #[error("bad signature: not signed by this key, or altered after signing")]
    BadSignature,
}

/// The JOSE header as read. Unknown members (`crit`, `jku`, …) are refused:
/// Faro's sensors write exactly these, and RFC 7515 §4.1.11 requires
/// refusing critical extensions one does not understand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
}

/// Signs a summary's JSON bytes: `b64url(header).b64url(payload).b64url(sig)`
/// with header `{"alg":"EdDSA","kid":…,"typ":"faro-summary+jws"}`.
pub fn sign(summary_json: &[u8], key: &SigningKey, kid: &str) -> String {
    let header = serde_json::json!({ "alg": ALG, "typ": JWS_TYPE, "kid": kid });
    sign_with_header(header.to_string().as_bytes(), summary_json, key)
}

fn sign_with_header(header_json: &[u8], payload: &[u8], key: &SigningKey) -> String {
    let mut jws = String::with_capacity((header_json.len() + payload.len() + 64) * 4 / 3 + 8);
    URL_SAFE_NO_PAD.encode_string(header_json, &mut jws);
    jws.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut jws);
    // The signing input is the ASCII of the first two parts (RFC 7515 §5.1).
    let signature = key.sign(jws.as_bytes());
    jws.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut jws);
    jws
}

/// The three parts of a compact JWS.
fn split(jws: &str) -> Result<(&str, &str, &str), EnvelopeError> {
    let mut parts = jws.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok((header, payload, signature)),
        _ => Err(EnvelopeError::Malformed(
            "a compact JWS has exactly three dot-separated parts",
        )),
    }
}

fn decode_header(header_b64: &str) -> Result<Header, EnvelopeError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| EnvelopeError::Malformed("header is not unpadded base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| {
        EnvelopeError::Malformed("header is not a JSON object with alg, typ and kid only")
    })
}

/// The header's `kid`, read without verifying anything, so the verifier can
/// pick the sensor's pinned key; trust nothing else until [`verify`] passes.
pub fn kid_of(jws: &str) -> Result<String, EnvelopeError> {
    let (header, _, _) = split(jws)?;
    decode_header(header)?
        .kid
        .ok_or(EnvelopeError::Malformed("header has no kid"))
}

/// The payload of an envelope WITHOUT checking its signature: only for
/// envelopes verified before, such as those in the collector's own store
/// (whose key may have been replaced since).
pub fn payload_of_verified(jws: &str) -> Result<Vec<u8>, EnvelopeError> {
    let (_, payload_b64, _) = split(jws)?;
    decode_payload(payload_b64)
}

fn decode_payload(payload_b64: &str) -> Result<Vec<u8>, EnvelopeError> {
    URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| EnvelopeError::Malformed("payload is not unpadded base64url"))
}

/// Checks the envelope (shape, alg EdDSA, typ, Ed25519 signature over the
/// exact signing input with `verify_strict`) and returns the payload bytes.
pub fn verify(jws: &str, key: &VerifyingKey) -> Result<Vec<u8>, EnvelopeError> {
    let (header_b64, payload_b64, signature_b64) = split(jws)?;
    let header = decode_header(header_b64)?;
    if header.alg != ALG {
        let alg: String = header.alg.chars().take(MAX_ECHOED_ALG).collect();
        return Err(EnvelopeError::UnsupportedAlgorithm(alg));
    }
    if header.typ.as_deref() != Some(JWS_TYPE) {
        return Err(EnvelopeError::Malformed("typ is not faro-summary+jws"));
    }
    let payload = decode_payload(payload_b64)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| EnvelopeError::Malformed("signature is not unpadded base64url"))?;
    let signature = Signature::from_slice(&signature)
        .map_err(|_| EnvelopeError::Malformed("signature is not 64 bytes"))?;
    // The signing input is the text as received, not a re-encoding: the
    // header and payload bytes are exactly what was signed.
    let signing_input_len = header_b64.len() + 1 + payload_b64.len();
    let signing_input = jws
        .get(..signing_input_len)
        .ok_or(EnvelopeError::Malformed("signing input out of range"))?;
    // verify_strict also refuses small-order keys and non-canonical
    // signatures, so one summary has one valid signature.
    key.verify_strict(signing_input.as_bytes(), &signature)
        .map_err(|_| EnvelopeError::BadSignature)?;
    Ok(payload)
}

/// `SHA256:` and the lowercase hex SHA-256 of the 32-byte public key: the
/// `kid` of a sensor's envelopes and what an operator compares at enrollment.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut text = String::with_capacity(7 + 64);
    text.push_str("SHA256:");
    for byte in digest.iter() {
        text.push(hex_digit(byte >> 4));
        text.push(hex_digit(byte & 0x0f));
    }
    text
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('?')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// RFC 8037 Appendix A.1 private key (`d`) and A.4 JWS: Ed25519 is
    /// deterministic, so the exact compact string must come out.
    #[test]
    fn rfc8037_a4_vector() {
        let d: [u8; 32] = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap()
            .try_into()
            .unwrap();
        let key = SigningKey::from_bytes(&d);
        assert_eq!(
            URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        let expected = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
            hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
        let jws = sign_with_header(br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing", &key);
        assert_eq!(jws, expected);
        // The RFC's header has no typ, so it is not a Faro envelope.
        assert_eq!(
            verify(expected, &key.verifying_key()),
            Err(EnvelopeError::Malformed("typ is not faro-summary+jws"))
        );
    }

    #[test]
    fn payload_of_verified_reads_what_verify_returns() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let jws = sign(br#"{"a":1}"#, &key, "kid");
        let payload = verify(&jws, &key.verifying_key()).unwrap();
        assert_eq!(payload_of_verified(&jws).unwrap(), payload);
        assert!(payload_of_verified("a.b").is_err());
        assert!(payload_of_verified("a.!!.c").is_err());
    }

    #[test]
    fn fingerprint_is_sha256_hex_of_the_raw_key() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let fp = fingerprint(&key);
        assert_eq!(fp.len(), 7 + 64);
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(fp, format!("SHA256:{hex}"));
    }
}
