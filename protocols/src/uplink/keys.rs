//! Key generation and key files: PKCS#8 PEM for the private key, SPKI PEM
//! for the public key, so `openssl pkey` can read both.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};

/// Wipes the private key PEM from memory when dropped.
pub use ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing;

/// A key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a PKCS#8 PEM Ed25519 private key.
    #[error("private key: {0}")]
    Private(ed25519_dalek::pkcs8::Error),
    /// Not an SPKI PEM Ed25519 public key.
    #[error("public key: {0}")]
    Public(ed25519_dalek::pkcs8::spki::Error),
}

/// A new signing key from the operating system's randomness.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
pub fn signing_key_to_pem(key: &SigningKey) -> Result<Zeroizing<String>, KeyError> {
    key.to_pkcs8_pem(LineEnding::LF).map_err(KeyError::Private)
}

/// Reads a PKCS#8 PEM private key.
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(KeyError::Private)
}

/// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn verifying_key_to_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(KeyError::Public)
}

/// Reads an SPKI PEM public key.
pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem).map_err(KeyError::Public)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pem_round_trip() {
        let key = generate_key();
        let private = signing_key_to_pem(&key).unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(
            signing_key_from_pem(&private).unwrap().to_bytes(),
            key.to_bytes()
        );
        let public = verifying_key_to_pem(&key.verifying_key()).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(
            verifying_key_from_pem(&public).unwrap(),
            key.verifying_key()
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(generate_key().to_bytes(), generate_key().to_bytes());
    }

    #[test]
    fn wrong_pem_is_an_error() {
        let key = generate_key();
        let public = verifying_key_to_pem(&key.verifying_key()).unwrap();
        assert!(matches!(
            signing_key_from_pem(&public),
            Err(KeyError::Private(_))
        ));
        assert!(matches!(
            verifying_key_from_pem("garbage"),
            Err(KeyError::Public(_))
        ));
    }
}
