//! X.509 certificates carried by OPC UA: the sender certificate of an
//! OpenSecureChannel asymmetric header, the client and server certificates of
//! CreateSession, the server certificates of endpoint descriptions.
//!
//! DER decoding is x509-parser's (rusticata): zero-copy and panic-free on any
//! input. What an OT inventory needs of a certificate is kept in a small owned
//! [`Certificate`]: names, validity, key type and size, signature algorithm,
//! whether it is self-signed, and the SHA-1 (the OPC UA thumbprint) and
//! SHA-256 digests of its DER bytes.
//!
//! Self-signed: x509-parser checks signatures only with its `verify` feature,
//! which brings in `ring`; this crate does not enable it, so a certificate is
//! self-signed when its issuer is its subject and, if it names an authority
//! key identifier, that identifier is its own subject key identifier.
//!
//! References (facts only): RFC 5280; OPC 10000-6 §6.2 (certificates, chains
//! sent as concatenated DER, thumbprint = SHA-1 of the DER).
//!
//! Panic contract: no function in this module panics, whatever the input.

use core::fmt::Write as _;

use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_DSA, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION, OID_SIG_ED448, OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer as _;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::{Error, Layer};

/// Most certificates [`parse_chain`] returns: a real chain is a leaf and a
/// few authorities; more is not worth decoding on the hot path.
pub const MAX_CHAIN_LEN: usize = 8;

/// The facts an inventory keeps of one certificate (owned: it outlives the packet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Subject name, RFC 4514 form as x509-parser prints it (`CN=…, O=…`).
    pub subject: String,
    /// Issuer name, same form.
    pub issuer: String,
    /// Start of validity, unix seconds.
    pub not_before: i64,
    /// End of validity, unix seconds.
    pub not_after: i64,
    /// Public key type: "rsa", "ec", "ed25519", "ed448", "dsa" or "unknown".
    pub key_algorithm: &'static str,
    /// RSA modulus bits, or the EC curve size (256/384/521); `None` when unknown.
    pub key_bits: Option<u32>,
    /// Signature algorithm: the OID registry's short name
    /// ("sha256WithRSAEncryption", "ecdsa-with-SHA256", …), else the dotted OID.
    pub signature_algorithm: String,
    /// Issuer is subject, and the authority key identifier, when present, is
    /// the subject key identifier (signatures are not verified: see the module doc).
    pub self_signed: bool,
    /// SHA-1 of the certificate's DER bytes: the OPC UA thumbprint.
    pub sha1: [u8; 20],
    /// SHA-256 of the certificate's DER bytes.
    pub sha256: [u8; 32],
}

impl Certificate {
    /// MD2, MD4, MD5 or SHA-1 signature: collisions are practical, so the
    /// certificate can be forged.
    pub fn weak_signature(&self) -> bool {
        let name = self.signature_algorithm.to_ascii_lowercase();
        name.contains("md2")
            || name.contains("md4")
            || name.contains("md5")
            || name.contains("sha1")
            // ecdsa-with-SHA1, md2/md4WithRSAEncryption: absent from the registry, so dotted.
            || matches!(
                name.as_str(),
                "1.2.840.10045.4.1" | "1.2.840.113549.1.1.2" | "1.2.840.113549.1.1.3"
            )
    }

    /// RSA key under 2048 bits (below every current OPC UA security policy).
    pub fn weak_key(&self) -> bool {
        self.key_algorithm == "rsa" && self.key_bits.is_some_and(|bits| bits < 2048)
    }

    /// True when `unix_seconds` lies within the validity period (bounds included).
    pub fn valid_at(&self, unix_seconds: i64) -> bool {
        (self.not_before..=self.not_after).contains(&unix_seconds)
    }
}

/// The first certificate of `der` (OPC UA sends a chain as concatenated DER
/// certificates: the first one is the sender's); bytes after it are ignored.
///
/// # Errors
/// [`Error::Invalid`] (layer X.509, field "certificate", offset 0, value the
/// first byte) when `der` does not start with a DER X.509 certificate.
pub fn parse(der: &[u8]) -> Result<Certificate, Error> {
    parse_one(der)
        .map(|(certificate, _)| certificate)
        .map_err(|()| invalid(der, 0))
}

/// Every certificate of a concatenated chain, in order, at most
/// [`MAX_CHAIN_LEN`]; decoding stops at the first bytes that are not one.
pub fn parse_chain(der: &[u8]) -> Vec<Certificate> {
    let mut chain = Vec::new();
    let mut rest = der;
    while !rest.is_empty() && chain.len() < MAX_CHAIN_LEN {
        let Ok((certificate, after)) = parse_one(rest) else {
            break;
        };
        chain.push(certificate);
        rest = after;
    }
    chain
}

/// Lowercase hexadecimal, for thumbprints.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The error of bytes at `offset` that are not a certificate.
fn invalid(der: &[u8], offset: usize) -> Error {
    Error::Invalid {
        layer: Layer::X509,
        offset,
        field: "certificate",
        value: der.first().copied().map_or(0, u32::from),
    }
}

/// One certificate and the bytes after it.
fn parse_one(der: &[u8]) -> Result<(Certificate, &[u8]), ()> {
    let (rest, x509) = X509Certificate::from_der(der).map_err(|_| ())?;
    let raw = x509.as_raw();
    let tbs = &x509.tbs_certificate;
    let spki = tbs.public_key();
    let (key_algorithm, key_bits) = key_facts(spki);
    let signature_oid = &x509.signature_algorithm.algorithm;
    let signature_algorithm = match oid2sn(signature_oid, oid_registry()) {
        Ok(name) => name.to_owned(),
        Err(_) => signature_oid.to_id_string(),
    };
    let subject = tbs.subject().to_string();
    let issuer = tbs.issuer().to_string();
    let same_name = tbs.subject().as_raw() == tbs.issuer().as_raw() || subject == issuer;
    let certificate = Certificate {
        self_signed: same_name && own_authority_key(&x509),
        subject,
        issuer,
        not_before: tbs.validity().not_before.timestamp(),
        not_after: tbs.validity().not_after.timestamp(),
        key_algorithm,
        key_bits,
        signature_algorithm,
        sha1: Sha1::digest(raw).into(),
        sha256: Sha256::digest(raw).into(),
    };
    Ok((certificate, rest))
}

/// True unless an authority key identifier names a key other than the subject's own.
fn own_authority_key(x509: &X509Certificate<'_>) -> bool {
    let mut authority = None;
    let mut subject = None;
    for extension in x509.tbs_certificate.iter_extensions() {
        match extension.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                authority = aki.key_identifier.as_ref().map(|id| id.0);
            }
            ParsedExtension::SubjectKeyIdentifier(ski) => subject = Some(ski.0),
            _ => {}
        }
    }
    match (authority, subject) {
        (Some(authority), Some(subject)) => authority == subject,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Key type and size of a subject public key.
fn key_facts(spki: &SubjectPublicKeyInfo<'_>) -> (&'static str, Option<u32>) {
    let algorithm = &spki.algorithm.algorithm;
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        let bits = match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => modulus_bits(rsa.modulus),
            _ => None,
        };
        ("rsa", bits)
    } else if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        let bits = match curve {
            Some(oid) if oid == OID_EC_P256 => Some(256),
            Some(oid) if oid == OID_NIST_EC_P384 => Some(384),
            Some(oid) if oid == OID_NIST_EC_P521 => Some(521),
            // Another curve: the size of an uncompressed point's coordinate.
            _ => match spki.parsed() {
                Ok(PublicKey::EC(point)) => u32::try_from(point.key_size()).ok().filter(|&b| b > 0),
                _ => None,
            },
        };
        ("ec", bits)
    } else if *algorithm == OID_SIG_ED25519 {
        ("ed25519", Some(256))
    } else if *algorithm == OID_SIG_ED448 {
        ("ed448", Some(456))
    } else if *algorithm == OID_KEY_TYPE_DSA {
        let bits = match spki.parsed() {
            Ok(PublicKey::DSA(y)) => modulus_bits(y),
            _ => None,
        };
        ("dsa", bits)
    } else {
        ("unknown", None)
    }
}

/// Significant bits of a big-endian unsigned integer (DER may prefix a zero byte).
fn modulus_bits(bytes: &[u8]) -> Option<u32> {
    let start = bytes.iter().position(|&b| b != 0)?;
    let significant = bytes.get(start..)?;
    let first = significant.first()?;
    let len = u32::try_from(significant.len()).ok()?;
    Some(len * 8 - first.leading_zeros())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    // Fixtures made by tools/capgen/certs/make.sh (see there for each).
    const SERVER: &[u8] = include_bytes!("../../../tools/capgen/certs/server.der");
    const CA: &[u8] = include_bytes!("../../../tools/capgen/certs/ca.der");
    const CLIENT: &[u8] = include_bytes!("../../../tools/capgen/certs/client.der");
    const LEGACY: &[u8] = include_bytes!("../../../tools/capgen/certs/legacy-client.der");

    /// 2024-01-01T00:00:00Z, 2034-01-01, 2029-01-01, 2010-01-01, 2015-01-01.
    const Y2024: i64 = 1_704_067_200;
    const Y2034: i64 = 2_019_686_400;
    const Y2029: i64 = 1_861_920_000;
    const Y2010: i64 = 1_262_304_000;
    const Y2015: i64 = 1_420_070_400;

    /// `openssl x509 -fingerprint -sha1/-sha256` with the colons removed.
    fn fingerprints(certificate: &Certificate) -> (String, String) {
        (hex(&certificate.sha1), hex(&certificate.sha256))
    }

    #[test]
    fn server_certificate() {
        let certificate = parse(SERVER).unwrap();
        assert_eq!(
            certificate.subject,
            "CN=Line 1 OPC UA Server, O=Faro Test Plant"
        );
        assert_eq!(certificate.issuer, certificate.subject);
        assert_eq!(
            (certificate.not_before, certificate.not_after),
            (Y2024, Y2034)
        );
        assert_eq!(certificate.key_algorithm, "rsa");
        assert_eq!(certificate.key_bits, Some(2048));
        assert_eq!(certificate.signature_algorithm, "sha256WithRSAEncryption");
        assert!(certificate.self_signed);
        assert_eq!(
            fingerprints(&certificate),
            (
                "94ed0672a68b3afedebb0addd542a1bdf82eec62".to_owned(),
                "72eb4f46e0cb31cffb876bccb7417be591c3974680b7c033fa60b498ec627dee".to_owned()
            )
        );
        assert!(!certificate.weak_signature());
        assert!(!certificate.weak_key());
        assert!(certificate.valid_at(Y2024));
        assert!(certificate.valid_at(Y2034));
        assert!(!certificate.valid_at(Y2034 + 1));
        assert!(!certificate.valid_at(Y2024 - 1));
    }

    #[test]
    fn ca_certificate() {
        let certificate = parse(CA).unwrap();
        assert_eq!(certificate.subject, "CN=Faro Test CA, O=Faro Test Plant");
        assert_eq!(certificate.issuer, certificate.subject);
        assert_eq!(
            (certificate.not_before, certificate.not_after),
            (Y2024, Y2034)
        );
        assert_eq!(
            (certificate.key_algorithm, certificate.key_bits),
            ("rsa", Some(2048))
        );
        assert_eq!(certificate.signature_algorithm, "sha256WithRSAEncryption");
        assert!(certificate.self_signed);
        assert_eq!(
            fingerprints(&certificate),
            (
                "7391e38c303c89fd20a333ceb4df5f4991517e4c".to_owned(),
                "08b0803eb49faf999597055d53ac2e3393d4822f5ce2352a33bf6c62906f5ef7".to_owned()
            )
        );
    }

    #[test]
    fn client_certificate_issued_by_the_ca() {
        let certificate = parse(CLIENT).unwrap();
        assert_eq!(
            certificate.subject,
            "CN=Gateway OPC UA Client, O=Faro Test Plant"
        );
        assert_eq!(certificate.issuer, "CN=Faro Test CA, O=Faro Test Plant");
        assert_eq!(
            (certificate.not_before, certificate.not_after),
            (Y2024, Y2029)
        );
        assert_eq!(
            (certificate.key_algorithm, certificate.key_bits),
            ("rsa", Some(2048))
        );
        assert_eq!(certificate.signature_algorithm, "sha256WithRSAEncryption");
        assert!(!certificate.self_signed);
        assert_eq!(
            fingerprints(&certificate),
            (
                "a40df6bad22a67a0561143888cbffa2134a50065".to_owned(),
                "6cc79a2b7dc46c937d0ab288a0939fe836cdba44806874dc9e94d4d76b431ed3".to_owned()
            )
        );
        assert!(!certificate.weak_signature() && !certificate.weak_key());
    }

    #[test]
    fn weak_expired_legacy_certificate() {
        let certificate = parse(LEGACY).unwrap();
        assert_eq!(
            certificate.subject,
            "CN=Engineering Station, O=Faro Test Plant"
        );
        assert_eq!(certificate.issuer, certificate.subject);
        assert_eq!(
            (certificate.not_before, certificate.not_after),
            (Y2010, Y2015)
        );
        assert_eq!(
            (certificate.key_algorithm, certificate.key_bits),
            ("rsa", Some(1024))
        );
        assert_eq!(certificate.signature_algorithm, "sha1WithRSAEncryption");
        assert!(certificate.self_signed);
        assert_eq!(
            fingerprints(&certificate),
            (
                "a23ab43c1d30ffade46ea1ea5fa894f34ce4a87b".to_owned(),
                "ec851f5f1cbcae18eb5f0bacf845621dd135450d550c56b08312d902438b1418".to_owned()
            )
        );
        assert!(certificate.weak_signature());
        assert!(certificate.weak_key());
        assert!(!certificate.valid_at(Y2024));
        assert!(certificate.valid_at(Y2010 + 86_400));
    }

    #[test]
    fn chain_of_concatenated_certificates() {
        let chain_bytes = [CLIENT, CA].concat();
        let chain = parse_chain(&chain_bytes);
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0], parse(CLIENT).unwrap());
        assert_eq!(chain[1], parse(CA).unwrap());
        // `parse` takes the sender's (first) certificate of a chain.
        assert_eq!(parse(&chain_bytes).unwrap(), chain[0]);
        // Garbage after the chain stops the walk without losing what came before.
        let with_garbage = [CLIENT, b"\x30\x03\x02\x01".as_slice()].concat();
        assert_eq!(parse_chain(&with_garbage).len(), 1);
        // At most MAX_CHAIN_LEN certificates.
        let long = [SERVER; MAX_CHAIN_LEN + 2].concat();
        assert_eq!(parse_chain(&long).len(), MAX_CHAIN_LEN);
    }

    #[test]
    fn not_a_certificate() {
        for bytes in [
            &b""[..],
            b"\x30",
            b"HEL",
            &SERVER[..SERVER.len() - 1],
            &SERVER[1..],
        ] {
            let error = parse(bytes).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::Invalid {
                        layer: Layer::X509,
                        field: "certificate",
                        offset: 0,
                        ..
                    }
                ),
                "{error:?}"
            );
            assert!(parse_chain(bytes).is_empty());
        }
    }

    #[test]
    fn truncations_and_bit_flips_never_panic() {
        for cut in 0..SERVER.len() {
            let _ = parse(&SERVER[..cut]);
            let _ = parse_chain(&SERVER[cut..]);
        }
        let mut flipped = LEGACY.to_vec();
        for index in 0..flipped.len() {
            flipped[index] ^= 0xFF;
            let _ = parse(&flipped);
            flipped[index] ^= 0xFF;
        }
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0x0A, 0xFF]), "000aff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn modulus_bit_count() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), Some(16));
        assert_eq!(modulus_bits(&[0x01, 0x00]), Some(9));
        assert_eq!(modulus_bits(&[0x00, 0x00]), None);
        assert_eq!(modulus_bits(&[]), None);
    }
}
