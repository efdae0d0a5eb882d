//! IT services by well-known server port, and what the first bytes a client
//! sends say about the channel (TLS or cleartext). The one table of service
//! names: the sensor names every conversation it does not dissect from it.

/// The transport a port belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Well-known server ports: `(transport, first port, last port, name)`.
/// Remote-access tools with published ports are listed with the IT services.
pub const WELL_KNOWN: &[(Transport, u16, u16, &str)] = &[
    (Transport::Tcp, 21, 21, "ftp"),
    (Transport::Tcp, 22, 22, "ssh"),
    (Transport::Tcp, 23, 23, "telnet"),
    (Transport::Tcp, 53, 53, "dns"),
    (Transport::Udp, 53, 53, "dns"),
    (Transport::Tcp, 80, 80, "http"),
    (Transport::Tcp, 88, 88, "kerberos"),
    (Transport::Udp, 88, 88, "kerberos"),
    (Transport::Udp, 123, 123, "ntp"),
    (Transport::Tcp, 135, 135, "rpc"),
    (Transport::Tcp, 139, 139, "netbios"),
    (Transport::Udp, 137, 138, "netbios"),
    (Transport::Udp, 161, 162, "snmp"),
    (Transport::Tcp, 389, 389, "ldap"),
    (Transport::Udp, 389, 389, "ldap"),
    (Transport::Tcp, 443, 443, "https"),
    (Transport::Tcp, 445, 445, "smb"),
    (Transport::Tcp, 464, 464, "kerberos"),
    (Transport::Udp, 464, 464, "kerberos"),
    (Transport::Udp, 514, 514, "syslog"),
    (Transport::Tcp, 601, 601, "syslog"),
    (Transport::Tcp, 636, 636, "ldap"),
    (Transport::Tcp, 1883, 1883, "mqtt"),
    (Transport::Tcp, 3268, 3269, "ldap"),
    (Transport::Tcp, 3389, 3389, "rdp"),
    (Transport::Udp, 3389, 3389, "rdp"),
    (Transport::Tcp, 5900, 5903, "vnc"),
    (Transport::Tcp, 5938, 5938, "teamviewer"),
    (Transport::Udp, 5938, 5938, "teamviewer"),
    (Transport::Tcp, 5985, 5986, "winrm"),
    (Transport::Tcp, 6514, 6514, "syslog"),
    (Transport::Tcp, 7070, 7070, "anydesk"),
    (Transport::Tcp, 8080, 8080, "http"),
    (Transport::Tcp, 8443, 8443, "https"),
    (Transport::Tcp, 8883, 8883, "mqtt"),
];

/// The service name of a well-known server port, if listed.
pub fn well_known(transport: Transport, port: u16) -> Option<&'static str> {
    WELL_KNOWN
        .iter()
        .find(|&&(t, first, last, _)| t == transport && (first..=last).contains(&port))
        .map(|&(_, _, _, name)| name)
}

/// Whether `port` is a well-known IT service port on any transport.
pub fn is_well_known(port: u16) -> bool {
    WELL_KNOWN
        .iter()
        .any(|&(_, first, last, _)| (first..=last).contains(&port))
}

/// Whether a conversation's content is protected, as its client's first bytes show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// A TLS ClientHello, an RDP negotiation asking for TLS or CredSSP.
    Tls,
    /// Readable protocol bytes: an SSH banner (its own encryption follows),
    /// standard RDP security, printable text (telnet, FTP, HTTP, SMTP…).
    Cleartext,
    /// Nothing recognisable.
    Unknown,
}

impl Channel {
    /// Every channel, in output order.
    pub const ALL: [Channel; 3] = [Channel::Tls, Channel::Cleartext, Channel::Unknown];

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Tls => "tls",
            Channel::Cleartext => "cleartext",
            Channel::Unknown => "unknown",
        }
    }
}

/// TLS record header: content type, major and minor version.
mod tls {
    pub(super) const HANDSHAKE: u8 = 0x16;
    pub(super) const MAJOR: u8 = 0x03;
    pub(super) const MAX_MINOR: u8 = 0x04;
}

/// RDP over TPKT (RFC 1006) and X.224 (MS-RDPBCGR 2.2.1.1).
mod rdp {
    /// TPKT header length; the X.224 Connection Request follows.
    pub(super) const TPKT_LEN: usize = 4;
    /// X.224 CR: length indicator, type, destination and source reference, class.
    pub(super) const X224_CR_LEN: usize = 7;
    /// X.224 CR TPDU code (upper nibble).
    pub(super) const X224_CR: u8 = 0xE0;
    /// rdpNegReq type.
    pub(super) const NEG_REQ: u8 = 0x01;
    /// requestedProtocols: PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX | RDSTLS.
    pub(super) const TLS_PROTOCOLS: u32 = 0x01 | 0x02 | 0x04 | 0x08;
}

/// Whether `data` (the first bytes a client sent) opens an RDP connection: the
/// TPKT + X.224 Connection Request of MS-RDPBCGR, with a routing cookie or an
/// rdpNegReq (an S7 CR carries TSAP parameters instead). `Some(channel)` when it does.
pub fn rdp_connection_request(data: &[u8]) -> Option<Channel> {
    let (&[3, 0], rest) = (data.get(..2)?, data.get(rdp::TPKT_LEN..)?) else {
        return None;
    };
    let (&li, &code) = (rest.first()?, rest.get(1)?);
    if code & 0xF0 != rdp::X224_CR || usize::from(li) + 1 < rdp::X224_CR_LEN {
        return None;
    }
    let mut body = rest.get(rdp::X224_CR_LEN..)?;
    if body.starts_with(b"Cookie: ") {
        let end = body.windows(2).position(|w| w == b"\r\n")?;
        body = body.get(end + 2..)?;
        if body.is_empty() {
            // A cookie and no negotiation: standard RDP security.
            return Some(Channel::Cleartext);
        }
    }
    match body {
        [rdp::NEG_REQ, _flags, 8, 0, a, b, c, d, ..] => {
            let requested = u32::from_le_bytes([*a, *b, *c, *d]);
            Some(if requested & rdp::TLS_PROTOCOLS != 0 {
                Channel::Tls
            } else {
                Channel::Cleartext
            })
        }
        _ => None,
    }
}

/// What the first payload bytes of a client say about the channel. Looks at
/// a few bytes only: meant to run once per flow.
pub fn classify(data: &[u8]) -> Channel {
    match data {
        [tls::HANDSHAKE, tls::MAJOR, minor, ..] if *minor <= tls::MAX_MINOR => Channel::Tls,
        [b'S', b'S', b'H', b'-', ..] => Channel::Cleartext,
        _ => match rdp_connection_request(data) {
            Some(channel) => channel,
            None => {
                let head = data.get(..16).unwrap_or(data);
                // Telnet option negotiation (IAC) or printable text.
                let texty = |b: &u8| b.is_ascii_graphic() || b" \r\n\t".contains(b) || *b == 0xFF;
                if !head.is_empty() && (head.first() == Some(&0xFF) || head.iter().all(texty)) {
                    Channel::Cleartext
                } else {
                    Channel::Unknown
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_by_port_and_transport() {
        assert_eq!(well_known(Transport::Tcp, 3389), Some("rdp"));
        assert_eq!(well_known(Transport::Tcp, 5902), Some("vnc"));
        assert_eq!(well_known(Transport::Udp, 53), Some("dns"));
        assert_eq!(well_known(Transport::Udp, 22), None);
        assert_eq!(well_known(Transport::Tcp, 12345), None);
    }

    #[test]
    fn classifies_first_bytes() {
        // TLS record: handshake, version 3.1.
        assert_eq!(classify(&[0x16, 0x03, 0x01, 0x02, 0x00]), Channel::Tls);
        assert_eq!(classify(b"SSH-2.0-OpenSSH_9.6\r\n"), Channel::Cleartext);
        // Telnet: IAC DO ECHO.
        assert_eq!(classify(&[0xFF, 0xFD, 0x01]), Channel::Cleartext);
        assert_eq!(classify(b"USER anonymous\r\n"), Channel::Cleartext);
        assert_eq!(classify(&[0x00, 0x9A, 0xF1]), Channel::Unknown);
        // TPKT, X.224 CR (LI 14, CR, dst 0, src 0, class 0), rdpNegReq asking for
        // PROTOCOL_SSL | PROTOCOL_HYBRID.
        let rdp_tls = [
            0x03, 0x00, 0x00, 0x13, 0x0E, 0xE0, 0, 0, 0, 0, 0x00, //
            0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
        ];
        assert_eq!(classify(&rdp_tls), Channel::Tls);
        // The same asking for standard RDP security.
        let mut rdp_standard = rdp_tls;
        rdp_standard[15] = 0;
        assert_eq!(classify(&rdp_standard), Channel::Cleartext);
        // An S7 CR (TSAP parameters) is not RDP.
        let s7_cr = [
            0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0, 0, 0, 1, 0x00, //
            0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x02, 0xC0, 0x01, 0x0A,
        ];
        assert_eq!(rdp_connection_request(&s7_cr), None);
    }
}
