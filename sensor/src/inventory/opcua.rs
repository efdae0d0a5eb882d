//! What the inventory keeps of OPC UA: per server, the endpoints it offers
//! (URL, security mode and policy, user token types), the endpoint URLs
//! clients asked for and the certificates seen; per edge, the security
//! policies, modes and identity tokens actually used. Every list is bounded:
//! a hostile server can offer thousands of endpoints.

use std::collections::{BTreeMap, BTreeSet};

use faro_protocols::opcua::certificate::{self, Certificate};
use serde::Serialize;

use super::device_text;
use crate::report::format_time;

/// Endpoints kept per server.
pub const MAX_ENDPOINTS: usize = 32;
/// Endpoint URLs, discovered servers, policies, user names… kept per list.
pub const MAX_VALUES: usize = 16;
/// Certificates kept per asset.
pub const MAX_CERTIFICATES: usize = 8;
/// Distinct status codes counted per edge.
pub const MAX_STATUS_CODES: usize = 32;

/// One endpoint a server offers (GetEndpoints, CreateSession).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OfferedEndpoint {
    /// Endpoint URL.
    pub url: String,
    /// `none`, `sign`, `sign_and_encrypt` (or `invalid`, or the number).
    pub security_mode: String,
    /// Security policy URI.
    pub security_policy: String,
    /// User identity tokens accepted, sorted.
    pub user_tokens: Vec<UserToken>,
    /// The server's relative security level of the endpoint.
    pub security_level: u8,
}

/// A user identity token an endpoint accepts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UserToken {
    /// `anonymous`, `user_name`, `certificate`, `issued_token` (or the number).
    pub token_type: String,
    /// The policy securing the token itself (its password or secret), when it
    /// differs from the endpoint's.
    pub security_policy: Option<String>,
}

/// An X.509 certificate as reported (never the key or the whole DER).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// `rsa`, `ec`, `ed25519`…
    pub key_algorithm: &'static str,
    /// RSA modulus or EC field size, in bits.
    pub key_bits: Option<u32>,
    /// Signature algorithm name.
    pub signature_algorithm: String,
    /// Issued by itself.
    pub self_signed: bool,
    /// SHA-1 thumbprint (the one OPC UA uses), lowercase hex.
    pub sha1: String,
    /// SHA-256 thumbprint, lowercase hex.
    pub sha256: String,
    /// Where it was seen: `open_secure_channel`, `create_session`, `get_endpoints`, `identity_token`.
    pub seen_in: BTreeSet<&'static str>,
    /// Not before and not after, unix seconds.
    #[serde(skip)]
    pub validity: (i64, i64),
    /// Signed with MD5 or SHA-1.
    #[serde(skip)]
    pub weak_signature: bool,
    /// RSA under 2048 bits.
    #[serde(skip)]
    pub weak_key: bool,
    /// Presented as the first of its chain (the asset's own), not as an issuer.
    #[serde(skip)]
    pub leaf: bool,
}

impl CertificateInfo {
    fn new(certificate: &Certificate, seen_in: &'static str, leaf: bool) -> Self {
        let time = |seconds: i64| {
            u64::try_from(seconds)
                .ok()
                .and_then(|s| s.checked_mul(1_000_000_000))
                .map(format_time)
                .unwrap_or_else(|| seconds.to_string())
        };
        CertificateInfo {
            subject: certificate.subject.clone(),
            issuer: certificate.issuer.clone(),
            not_before: time(certificate.not_before),
            not_after: time(certificate.not_after),
            key_algorithm: certificate.key_algorithm,
            key_bits: certificate.key_bits,
            signature_algorithm: certificate.signature_algorithm.clone(),
            self_signed: certificate.self_signed,
            sha1: certificate::hex(&certificate.sha1),
            sha256: certificate::hex(&certificate.sha256),
            seen_in: BTreeSet::from([seen_in]),
            validity: (certificate.not_before, certificate.not_after),
            weak_signature: certificate.weak_signature(),
            weak_key: certificate.weak_key(),
            leaf,
        }
    }
}

/// Inserts a device-provided string into a bounded set; false when it was
/// new and the set full (shed).
fn insert_text(set: &mut BTreeSet<String>, value: &[u8]) -> bool {
    let Some(text) = device_text(value) else {
        return true;
    };
    if set.contains(text.as_ref()) {
        return true;
    }
    if set.len() >= MAX_VALUES {
        return false;
    }
    set.insert(text.into_owned());
    true
}

/// Adds a certificate to a bounded list, merging by SHA-256; false when shed.
fn add_certificate(list: &mut Vec<CertificateInfo>, der: &[u8], seen_in: &'static str) -> bool {
    let mut kept = true;
    for (at, parsed) in certificate::parse_chain(der).iter().enumerate() {
        let sha256 = certificate::hex(&parsed.sha256);
        let leaf = at == 0;
        if let Some(known) = list.iter_mut().find(|c| c.sha256 == sha256) {
            known.seen_in.insert(seen_in);
            known.leaf |= leaf;
        } else if list.len() < MAX_CERTIFICATES {
            list.push(CertificateInfo::new(parsed, seen_in, leaf));
        } else {
            kept = false;
        }
    }
    kept
}

/// OPC UA details of one asset.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpcUaAsset {
    /// Endpoint URLs clients asked this server for (Hello, GetEndpoints, CreateSession).
    pub endpoint_urls: BTreeSet<String>,
    /// Endpoints the server offers, sorted.
    pub endpoints: Vec<OfferedEndpoint>,
    /// Certificates this asset presented (server certificates, client
    /// certificates, certificates of a chain).
    pub certificates: Vec<CertificateInfo>,
    /// Application URIs of the servers a discovery server (FindServers) listed.
    pub discovered_servers: BTreeSet<String>,
}

impl OpcUaAsset {
    /// Records an endpoint URL; false when shed.
    pub fn add_endpoint_url(&mut self, url: &[u8]) -> bool {
        insert_text(&mut self.endpoint_urls, url)
    }

    /// Records an offered endpoint (kept sorted, without duplicates); false when shed.
    pub fn add_endpoint(&mut self, endpoint: OfferedEndpoint) -> bool {
        match self.endpoints.binary_search(&endpoint) {
            Ok(_) => true,
            Err(_) if self.endpoints.len() >= MAX_ENDPOINTS => false,
            Err(at) => {
                self.endpoints.insert(at, endpoint);
                true
            }
        }
    }

    /// Records the certificates of a DER chain, noting where they were seen; false when shed.
    pub fn add_certificate(&mut self, der: &[u8], seen_in: &'static str) -> bool {
        add_certificate(&mut self.certificates, der, seen_in)
    }

    /// Records a server a discovery server listed; false when shed.
    pub fn add_discovered_server(&mut self, application_uri: &[u8]) -> bool {
        insert_text(&mut self.discovered_servers, application_uri)
    }

    /// The security modes of the endpoints offered.
    pub fn security_modes(&self) -> BTreeSet<&str> {
        self.endpoints
            .iter()
            .map(|e| e.security_mode.as_str())
            .collect()
    }

    /// The security policies of the endpoints offered.
    pub fn security_policies(&self) -> BTreeSet<&str> {
        self.endpoints
            .iter()
            .map(|e| e.security_policy.as_str())
            .collect()
    }

    /// The user token types the endpoints accept.
    pub fn token_types(&self) -> BTreeSet<&str> {
        self.endpoints
            .iter()
            .flat_map(|e| e.user_tokens.iter().map(|t| t.token_type.as_str()))
            .collect()
    }

    /// The mode of the offered endpoints with `policy`, when they agree on one.
    pub fn mode_of_policy(&self, policy: &str) -> Option<&str> {
        let mut modes = self
            .endpoints
            .iter()
            .filter(|e| e.security_policy == policy)
            .map(|e| e.security_mode.as_str());
        let first = modes.next()?;
        modes.all(|m| m == first).then_some(first)
    }
}

/// OPC UA details of one edge: how the client actually connected.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpcUaEdge {
    /// Security policy URIs of the secure channels opened.
    pub security_policies: BTreeSet<String>,
    /// Message security modes of the channels (`none`, `sign`,
    /// `sign_and_encrypt`), from the OpenSecureChannel request where it can be read.
    pub security_modes: BTreeSet<String>,
    /// Identity token types of ActivateSession requests.
    pub token_types: BTreeSet<String>,
    /// User names sent in UserName identity tokens (never the passwords).
    pub user_names: BTreeSet<String>,
    /// UserName tokens whose password was sent without encryption.
    pub cleartext_passwords: u64,
    /// UserName and issued tokens sent encrypted, by encryption algorithm URI.
    pub encrypted_secrets: BTreeMap<String, u64>,
    /// Sessions activated (ActivateSession answered Good).
    pub sessions_activated: u64,
    /// Bad status codes seen (ServiceFault, bad service results, transport Error messages), by name.
    pub status_codes: BTreeMap<String, u64>,
    /// Chunks of secured channels, whose bodies are not decoded.
    pub encrypted_chunks: u64,
}

impl OpcUaEdge {
    /// Records a security policy URI; false when shed.
    pub fn add_policy(&mut self, uri: &[u8]) -> bool {
        insert_text(&mut self.security_policies, uri)
    }

    /// Records a security mode or token type name in `set`; false when shed.
    pub fn add_name(set: &mut BTreeSet<String>, name: &str) -> bool {
        insert_text(set, name.as_bytes())
    }

    /// Records a user name; false when shed.
    pub fn add_user_name(&mut self, name: &[u8]) -> bool {
        insert_text(&mut self.user_names, name)
    }

    /// Counts a secret sent encrypted with `algorithm`; false when shed.
    pub fn count_encrypted_secret(&mut self, algorithm: &[u8]) -> bool {
        let Some(text) = device_text(algorithm) else {
            return true;
        };
        count_bounded(&mut self.encrypted_secrets, &text)
    }

    /// The security modes of the edge's channels: those read from
    /// OpenSecureChannel requests, and for each secured policy (whose request
    /// is encrypted) the mode of the server's endpoint with that policy, when
    /// the server offers only one.
    pub fn modes_with(&self, server: Option<&OpcUaAsset>) -> BTreeSet<String> {
        let mut modes = self.security_modes.clone();
        let none = String::from_utf8_lossy(faro_protocols::opcua::secure::POLICY_PREFIX) + "None";
        for policy in &self.security_policies {
            if *policy == none {
                continue;
            }
            if let Some(mode) = server.and_then(|s| s.mode_of_policy(policy)) {
                modes.insert(mode.to_owned());
            }
        }
        modes
    }

    /// Counts a bad status code by name; false when shed.
    pub fn count_status(&mut self, name: &str) -> bool {
        count_bounded(&mut self.status_codes, name)
    }
}

fn count_bounded(map: &mut BTreeMap<String, u64>, key: &str) -> bool {
    if let Some(count) = map.get_mut(key) {
        *count += 1;
        return true;
    }
    if map.len() >= MAX_STATUS_CODES {
        return false;
    }
    map.insert(key.to_owned(), 1);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str, mode: &str, policy: &str) -> OfferedEndpoint {
        OfferedEndpoint {
            url: url.into(),
            security_mode: mode.into(),
            security_policy: policy.into(),
            user_tokens: vec![UserToken {
                token_type: "anonymous".into(),
                security_policy: None,
            }],
            security_level: 0,
        }
    }

    #[test]
    fn endpoints_are_sorted_deduplicated_and_bounded() {
        let mut asset = OpcUaAsset::default();
        assert!(asset.add_endpoint(endpoint("opc.tcp://b", "none", "#None")));
        assert!(asset.add_endpoint(endpoint("opc.tcp://a", "sign", "#Basic256")));
        assert!(asset.add_endpoint(endpoint("opc.tcp://b", "none", "#None")));
        assert_eq!(asset.endpoints.len(), 2);
        assert_eq!(asset.endpoints[0].url, "opc.tcp://a");
        for i in 0..MAX_ENDPOINTS {
            asset.add_endpoint(endpoint(&format!("opc.tcp://x{i}"), "none", "#None"));
        }
        assert_eq!(asset.endpoints.len(), MAX_ENDPOINTS);
        assert!(!asset.add_endpoint(endpoint("opc.tcp://zz", "none", "#None")));
    }

    #[test]
    fn mode_of_policy_only_when_unambiguous() {
        let mut asset = OpcUaAsset::default();
        asset.add_endpoint(endpoint("u", "sign_and_encrypt", "#Basic256Sha256"));
        asset.add_endpoint(endpoint("u", "sign", "#Basic128Rsa15"));
        asset.add_endpoint(endpoint("u", "sign_and_encrypt", "#Basic128Rsa15"));
        assert_eq!(
            asset.mode_of_policy("#Basic256Sha256"),
            Some("sign_and_encrypt")
        );
        assert_eq!(asset.mode_of_policy("#Basic128Rsa15"), None);
        assert_eq!(asset.mode_of_policy("#None"), None);
    }

    #[test]
    fn edge_lists_are_bounded() {
        let mut edge = OpcUaEdge::default();
        for i in 0..MAX_VALUES {
            assert!(edge.add_user_name(format!("user{i}").as_bytes()));
        }
        assert!(!edge.add_user_name(b"one-too-many"));
        assert!(edge.add_user_name(b"user0"));
        for i in 0..MAX_STATUS_CODES {
            assert!(edge.count_status(&format!("Bad{i}")));
        }
        assert!(!edge.count_status("BadNew"));
        assert!(edge.count_status("Bad0"));
        assert_eq!(edge.status_codes["Bad0"], 2);
    }
}
