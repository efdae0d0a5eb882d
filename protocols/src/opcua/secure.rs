//! UA Secure Conversation (OPC 10000-6 §6.7): the security headers of OPN,
//! MSG and CLO chunks and the sequence header after them.
//!
//! ```text
//!  OPN: channel id | policy URI | sender cert | receiver thumbprint | sequence header | body
//!  MSG, CLO: channel id | token id | sequence header | body
//!  sequence header: sequence number (u32) | request id (u32)
//! ```
//!
//! With a policy other than None the sequence header and body are encrypted
//! (signed only in Sign mode, which the headers do not say): only the
//! headers before them are readable for certain.
//!
//! Panic contract: no function here panics, whatever the input.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::encoding::read_string;

/// Every standard security policy URI starts with this.
pub const POLICY_PREFIX: &[u8] = b"http://opcfoundation.org/UA/SecurityPolicy#";

/// The security policies of OPC 10000-7, as named by their URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecurityPolicy {
    /// `#None`: no signing, no encryption.
    None,
    /// `#Basic128Rsa15` (deprecated: SHA-1, RSA PKCS#1 v1.5).
    Basic128Rsa15,
    /// `#Basic256` (deprecated: SHA-1).
    Basic256,
    /// `#Basic256Sha256`.
    Basic256Sha256,
    /// `#Aes128_Sha256_RsaOaep`.
    Aes128Sha256RsaOaep,
    /// `#Aes256_Sha256_RsaPss`.
    Aes256Sha256RsaPss,
    /// Any other URI.
    Unknown,
}

impl SecurityPolicy {
    const NAMED: [SecurityPolicy; 6] = [
        SecurityPolicy::None,
        SecurityPolicy::Basic128Rsa15,
        SecurityPolicy::Basic256,
        SecurityPolicy::Basic256Sha256,
        SecurityPolicy::Aes128Sha256RsaOaep,
        SecurityPolicy::Aes256Sha256RsaPss,
    ];

    /// The policy of an exact URI; [`SecurityPolicy::Unknown`] for anything else.
    pub fn from_uri(uri: &[u8]) -> SecurityPolicy {
        uri.strip_prefix(POLICY_PREFIX)
            .and_then(|name| {
                SecurityPolicy::NAMED
                    .into_iter()
                    .find(|p| p.name().as_bytes() == name)
            })
            .unwrap_or(SecurityPolicy::Unknown)
    }

    /// The name after `#` in the URI; `"unknown"` for [`SecurityPolicy::Unknown`].
    pub fn name(self) -> &'static str {
        match self {
            SecurityPolicy::None => "None",
            SecurityPolicy::Basic128Rsa15 => "Basic128Rsa15",
            SecurityPolicy::Basic256 => "Basic256",
            SecurityPolicy::Basic256Sha256 => "Basic256Sha256",
            SecurityPolicy::Aes128Sha256RsaOaep => "Aes128_Sha256_RsaOaep",
            SecurityPolicy::Aes256Sha256RsaPss => "Aes256_Sha256_RsaPss",
            SecurityPolicy::Unknown => "unknown",
        }
    }

    /// Deprecated by OPC 10000-7 (SHA-1 based): Basic128Rsa15 and Basic256.
    pub fn is_deprecated(self) -> bool {
        matches!(
            self,
            SecurityPolicy::Basic128Rsa15 | SecurityPolicy::Basic256
        )
    }
}

/// The asymmetric security header of an OPN chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsymmetricHeader<'a> {
    /// The security policy URI.
    pub security_policy_uri: Option<&'a [u8]>,
    /// The sender's DER certificate (chain), null with policy None.
    pub sender_certificate: Option<&'a [u8]>,
    /// SHA-1 thumbprint of the receiver's certificate, null with policy None.
    pub receiver_certificate_thumbprint: Option<&'a [u8]>,
}

/// An OPN chunk body split at its security header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenChunk<'a> {
    /// Secure channel id (0 in the first request).
    pub secure_channel_id: u32,
    /// The asymmetric security header.
    pub security: AsymmetricHeader<'a>,
    /// `rest` = sequence header + body; encrypted (opaque) unless the policy is None.
    pub rest: &'a [u8],
}

/// Parses the body of an OPN chunk (`Chunk::body`).
pub fn parse_open(body: &[u8]) -> Result<OpenChunk<'_>, Error> {
    let mut r = Reader::new(body, Layer::OpcUaSecure);
    let secure_channel_id = r.le_u32()?;
    let security = AsymmetricHeader {
        security_policy_uri: read_string(&mut r)?,
        sender_certificate: read_string(&mut r)?,
        receiver_certificate_thumbprint: read_string(&mut r)?,
    };
    Ok(OpenChunk {
        secure_channel_id,
        security,
        rest: r.take_rest(),
    })
}

/// A MSG or CLO chunk body split at its symmetric security header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymmetricChunk<'a> {
    /// Secure channel id.
    pub secure_channel_id: u32,
    /// Security token id.
    pub token_id: u32,
    /// Sequence header + body (encrypted in SignAndEncrypt mode).
    pub rest: &'a [u8],
}

/// Parses the body of a MSG or CLO chunk.
pub fn parse_symmetric(body: &[u8]) -> Result<SymmetricChunk<'_>, Error> {
    let mut r = Reader::new(body, Layer::OpcUaSecure);
    Ok(SymmetricChunk {
        secure_channel_id: r.le_u32()?,
        token_id: r.le_u32()?,
        rest: r.take_rest(),
    })
}

/// The sequence header that precedes every chunk's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceHeader {
    /// Per-channel chunk counter.
    pub sequence_number: u32,
    /// Ties the chunks of a response to their request.
    pub request_id: u32,
}

/// Splits the sequence header off `rest` (of an [`OpenChunk`] or [`SymmetricChunk`]).
pub fn split_sequence(rest: &[u8]) -> Result<(SequenceHeader, &[u8]), Error> {
    let mut r = Reader::new(rest, Layer::OpcUaSecure);
    let header = SequenceHeader {
        sequence_number: r.le_u32()?,
        request_id: r.le_u32()?,
    };
    Ok((header, r.take_rest()))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    #[test]
    fn policies_by_uri() {
        for policy in SecurityPolicy::NAMED {
            let mut uri = POLICY_PREFIX.to_vec();
            uri.extend_from_slice(policy.name().as_bytes());
            assert_eq!(SecurityPolicy::from_uri(&uri), policy);
        }
        assert_eq!(
            SecurityPolicy::from_uri(b"http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"),
            SecurityPolicy::Basic256Sha256
        );
        assert_eq!(
            SecurityPolicy::from_uri(b"http://opcfoundation.org/UA/SecurityPolicy#none"),
            SecurityPolicy::Unknown
        );
        assert_eq!(SecurityPolicy::from_uri(b"None"), SecurityPolicy::Unknown);
        assert!(SecurityPolicy::Basic256.is_deprecated());
        assert!(!SecurityPolicy::Basic256Sha256.is_deprecated());
        assert_eq!(SecurityPolicy::Unknown.name(), "unknown");
    }

    #[test]
    fn open_chunk_with_policy_none() {
        let mut body = vec![
            0x00, 0x00, 0x00, 0x00, // secure channel id 0
            0x2F, 0x00, 0x00, 0x00, // policy URI length 47
        ];
        body.extend_from_slice(b"http://opcfoundation.org/UA/SecurityPolicy#None");
        body.extend_from_slice(&[
            0xFF, 0xFF, 0xFF, 0xFF, // sender certificate: null
            0xFF, 0xFF, 0xFF, 0xFF, // receiver thumbprint: null
            0x01, 0x00, 0x00, 0x00, // sequence number 1
            0x02, 0x00, 0x00, 0x00, // request id 2
            0x01, 0x00, 0xBE, 0x01, // ns0;i=446
        ]);
        let open = parse_open(&body).unwrap();
        assert_eq!(open.secure_channel_id, 0);
        let uri = open.security.security_policy_uri.unwrap();
        assert_eq!(SecurityPolicy::from_uri(uri), SecurityPolicy::None);
        assert_eq!(open.security.sender_certificate, None);
        let (seq, message) = split_sequence(open.rest).unwrap();
        assert_eq!(
            seq,
            SequenceHeader {
                sequence_number: 1,
                request_id: 2
            }
        );
        assert_eq!(message, &[0x01, 0x00, 0xBE, 0x01]);
        // Cut anywhere inside the security header: an error, never a panic.
        for n in 0..63 {
            assert!(parse_open(&body[..n]).is_err(), "{n}");
        }
    }

    #[test]
    fn symmetric_chunk() {
        let body = [
            0x08, 0x00, 0x00, 0x00, // channel 8
            0x01, 0x00, 0x00, 0x00, // token 1
            0x03, 0x00, 0x00, 0x00, // sequence 3
            0x03, 0x00, 0x00, 0x00, // request 3
            0x01, 0x00, 0xC4, 0x01, // ns0;i=452 CloseSecureChannelRequest
        ];
        let s = parse_symmetric(&body).unwrap();
        assert_eq!((s.secure_channel_id, s.token_id), (8, 1));
        let (seq, rest) = split_sequence(s.rest).unwrap();
        assert_eq!((seq.sequence_number, seq.request_id), (3, 3));
        assert_eq!(rest.len(), 4);
        assert!(parse_symmetric(&body[..7]).is_err());
        assert!(split_sequence(&body[..7]).is_err());
    }
}
