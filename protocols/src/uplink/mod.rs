//! The sensor → collector uplink format: the summary a sensor sends every
//! interval, the signed envelope it travels in, and the key helpers both
//! sides share (issue 7, `notes/uplink-contract.md`).
//!
//! The envelope is a JWS in compact serialization (RFC 7515) signed with
//! Ed25519, alg `EdDSA` (RFC 8037), so any JOSE library can check it.

mod envelope;
mod keys;
mod summary;

pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use envelope::{
    EnvelopeError, JWS_TYPE, fingerprint, kid_of, payload_of_verified, sign, verify,
};
pub use keys::{
    KeyError, Zeroizing, generate_key, signing_key_from_pem, signing_key_to_pem,
    verifying_key_from_pem, verifying_key_to_pem,
};
pub use summary::{
    AssetDelta, EdgeDelta, EdgeKey, FindingDelta, KnownRef, SCHEMA, Summary, ZoneRef,
};
