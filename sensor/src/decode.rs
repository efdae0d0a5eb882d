//! Link, network and transport decoding with etherparse, lax: a truncated or
//! odd frame is classified and counted, never fatal.

use core::ops::Range;
use std::net::IpAddr;

use etherparse::{
    EtherType, LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LinkSlice, TransportSlice,
};

/// The link layer a capture's frames start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II, with 802.1Q / QinQ tags.
    Ethernet,
    /// Linux cooked capture v1 (SLL).
    LinuxSll,
    /// Linux cooked capture v2 (SLL2).
    LinuxSll2,
    /// Raw IPv4 or IPv6, no link header.
    RawIp,
    /// BSD loopback: a 4-byte address family, then IP.
    Loopback,
}

impl LinkType {
    /// Maps a LINKTYPE_ value to a supported link type.
    pub fn from_linktype(code: i32) -> Option<Self> {
        Some(match code {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            // LINKTYPE_RAW, the DLT_RAW values some systems write, LINKTYPE_IPV4 / IPV6.
            101 | 12 | 14 | 228 | 229 => LinkType::RawIp,
            0 | 108 => LinkType::Loopback,
            _ => return None,
        })
    }
}

/// A Linux cooked capture header layout (tcpdump.org, LINKTYPE_LINUX_SLL and
/// LINKTYPE_LINUX_SLL2): where the protocol, hardware type, address length
/// and address sit.
struct CookedLayout {
    len: usize,
    protocol: Range<usize>,
    hatype: Range<usize>,
    /// One byte (SLL2) or two (SLL).
    addr_len: Range<usize>,
    addr: Range<usize>,
}

const SLL: CookedLayout = CookedLayout {
    len: 16,
    protocol: 14..16,
    hatype: 2..4,
    addr_len: 4..6,
    addr: 6..12,
};

const SLL2: CookedLayout = CookedLayout {
    len: 20,
    protocol: 0..2,
    hatype: 8..10,
    addr_len: 11..12,
    addr: 12..18,
};

/// ARPHRD_ETHER: the cooked header's address is a MAC address.
const HATYPE_ETHER: u16 = 1;

/// BSD loopback header length.
const LOOPBACK_HEADER_LEN: usize = 4;

/// TCP flags the flow logic reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
}

/// A decoded transport segment or datagram.
#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    /// TCP segment.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number (meaningful when the ACK flag is set).
        ack: u32,
        /// Flags.
        flags: TcpFlags,
        /// Captured payload.
        payload: &'a [u8],
    },
    /// UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Captured payload.
        payload: &'a [u8],
    },
}

/// An IP packet with a TCP or UDP payload.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Source MAC address, where the link layer has one.
    pub src_mac: Option<[u8; 6]>,
    /// Innermost 802.1Q VLAN id.
    pub vlan: Option<u16>,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The transport layer.
    pub transport: Transport<'a>,
    /// The capture cut the IP payload short (snap length or a short frame).
    pub truncated: bool,
}

/// What a frame turned out to be.
#[derive(Debug, Clone, Copy)]
pub enum Decoded<'a> {
    /// TCP or UDP over IP.
    Packet(Packet<'a>),
    /// Not IP (ARP, LLDP, PROFINET, …).
    NotIp,
    /// An IP fragment: counted, not reassembled.
    IpFragment,
    /// IP carrying neither TCP nor UDP (ICMP, …).
    OtherTransport,
    /// Cut short before the transport header ended.
    Truncated,
}

/// Decodes one frame of the given link type.
pub fn decode(link: LinkType, frame: &[u8]) -> Decoded<'_> {
    let (sliced, src_mac) = match link {
        LinkType::Ethernet => match LaxSlicedPacket::from_ethernet(frame) {
            Ok(p) => {
                let mac = match &p.link {
                    Some(LinkSlice::Ethernet2(eth)) => Some(eth.source()),
                    _ => None,
                };
                (p, mac)
            }
            Err(_) => return Decoded::Truncated,
        },
        LinkType::LinuxSll => match decode_cooked(&SLL, frame) {
            Some(decoded) => decoded,
            None => return Decoded::Truncated,
        },
        LinkType::LinuxSll2 => match decode_cooked(&SLL2, frame) {
            Some(decoded) => decoded,
            None => return Decoded::Truncated,
        },
        LinkType::RawIp => match LaxSlicedPacket::from_ip(frame) {
            Ok(p) => (p, None),
            Err(_) => return not_ip_or_truncated(frame),
        },
        LinkType::Loopback => match frame.get(LOOPBACK_HEADER_LEN..) {
            Some(rest) => match LaxSlicedPacket::from_ip(rest) {
                Ok(p) => (p, None),
                Err(_) => return not_ip_or_truncated(rest),
            },
            None => return Decoded::Truncated,
        },
    };
    classify(sliced, src_mac)
}

/// Splits a Linux cooked frame: the packet after the header, and the sender's
/// MAC when the header carries an Ethernet address.
fn decode_cooked<'a>(
    layout: &CookedLayout,
    frame: &'a [u8],
) -> Option<(LaxSlicedPacket<'a>, Option<[u8; 6]>)> {
    let header = frame.get(..layout.len)?;
    let rest = frame.get(layout.len..)?;
    let addr_len = header
        .get(layout.addr_len.clone())?
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let mac = (be16(header, layout.hatype.clone()) == Some(HATYPE_ETHER) && addr_len == 6)
        .then(|| mac_at(header, layout.addr.clone()))
        .flatten();
    let protocol = be16(header, layout.protocol.clone())?;
    Some((
        LaxSlicedPacket::from_ether_type(EtherType(protocol), rest),
        mac,
    ))
}

fn classify<'a>(p: LaxSlicedPacket<'a>, src_mac: Option<[u8; 6]>) -> Decoded<'a> {
    let vlan = p.link_exts.iter().rev().find_map(|ext| match ext {
        LaxLinkExtSlice::Vlan(v) => Some(v.vlan_identifier().value()),
        LaxLinkExtSlice::Macsec(_) => None,
    });
    let (src, dst, ip_payload) = match &p.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            (
                IpAddr::from(h.source_addr()),
                IpAddr::from(h.destination_addr()),
                ip.payload(),
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            (
                IpAddr::from(h.source_addr()),
                IpAddr::from(h.destination_addr()),
                ip.payload(),
            )
        }
        Some(LaxNetSlice::Arp(_)) => return Decoded::NotIp,
        None => {
            return if p.stop_err.is_some() {
                Decoded::Truncated
            } else {
                Decoded::NotIp
            };
        }
    };
    if ip_payload.fragmented {
        return Decoded::IpFragment;
    }
    let truncated = ip_payload.incomplete;
    let transport = match &p.transport {
        Some(TransportSlice::Tcp(tcp)) => Transport::Tcp {
            src_port: tcp.source_port(),
            dst_port: tcp.destination_port(),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: TcpFlags {
                syn: tcp.syn(),
                ack: tcp.ack(),
                fin: tcp.fin(),
                rst: tcp.rst(),
            },
            payload: tcp.payload(),
        },
        Some(TransportSlice::Udp(udp)) => Transport::Udp {
            src_port: udp.source_port(),
            dst_port: udp.destination_port(),
            payload: udp.payload(),
        },
        Some(_) => return Decoded::OtherTransport,
        None => {
            let ip_number = ip_payload.ip_number;
            return if ip_number == etherparse::IpNumber::TCP
                || ip_number == etherparse::IpNumber::UDP
            {
                Decoded::Truncated
            } else {
                Decoded::OtherTransport
            };
        }
    };
    Decoded::Packet(Packet {
        src_mac,
        vlan,
        src,
        dst,
        transport,
        truncated,
    })
}

fn not_ip_or_truncated(data: &[u8]) -> Decoded<'_> {
    match data.first().map(|b| b >> 4) {
        Some(4 | 6) => Decoded::Truncated,
        Some(_) => Decoded::NotIp,
        None => Decoded::Truncated,
    }
}

fn be16(buf: &[u8], at: Range<usize>) -> Option<u16> {
    let bytes: [u8; 2] = buf.get(at)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

fn mac_at(buf: &[u8], at: Range<usize>) -> Option<[u8; 6]> {
    buf.get(at)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame(vlan: Option<u16>) -> Vec<u8> {
        let payload = b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x0a";
        let eth = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]);
        let mut out = Vec::new();
        match vlan {
            Some(id) => eth
                .single_vlan(id.try_into().unwrap())
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                .tcp(40000, 502, 1000, 8192)
                .write(&mut out, payload)
                .unwrap(),
            None => eth
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                .tcp(40000, 502, 1000, 8192)
                .write(&mut out, payload)
                .unwrap(),
        }
        out
    }

    #[test]
    fn ethernet_vlan_tcp() {
        let frame = tcp_frame(Some(20));
        let Decoded::Packet(p) = decode(LinkType::Ethernet, &frame) else {
            panic!("not decoded")
        };
        assert_eq!(p.vlan, Some(20));
        assert_eq!(p.src_mac, Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(p.src, IpAddr::from([10, 0, 0, 1]));
        let Transport::Tcp {
            dst_port,
            seq,
            payload,
            ..
        } = p.transport
        else {
            panic!("not tcp")
        };
        assert_eq!((dst_port, seq, payload.len()), (502, 1000, 12));
        assert!(!p.truncated);
    }

    #[test]
    fn every_truncation_is_classified_without_panic() {
        let frame = tcp_frame(Some(7));
        for cut in 0..frame.len() {
            let _ = decode(LinkType::Ethernet, &frame[..cut]);
            let _ = decode(LinkType::RawIp, &frame[18..cut.max(18)]);
        }
        // Cut inside the TCP header: truncated, not a packet.
        assert!(matches!(
            decode(LinkType::Ethernet, &frame[..18 + 20 + 10]),
            Decoded::Truncated
        ));
        // Cut inside the payload: a packet flagged truncated.
        let Decoded::Packet(p) = decode(LinkType::Ethernet, &frame[..frame.len() - 3]) else {
            panic!("payload cut should still decode")
        };
        assert!(p.truncated);
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        let eth = tcp_frame(None);
        let ip = &eth[14..];
        let mut v1 = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        v1.extend_from_slice(ip);
        let Decoded::Packet(p) = decode(LinkType::LinuxSll, &v1) else {
            panic!()
        };
        assert_eq!(p.src_mac, Some([1, 2, 3, 4, 5, 6]));
        let mut v2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        v2.extend_from_slice(ip);
        let Decoded::Packet(p) = decode(LinkType::LinuxSll2, &v2) else {
            panic!()
        };
        assert_eq!(p.src_mac, Some([1, 2, 3, 4, 5, 6]));
        assert!(matches!(p.transport, Transport::Tcp { dst_port: 502, .. }));
    }

    #[test]
    fn qinq_reports_the_inner_vlan() {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12])
            .double_vlan(100.try_into().unwrap(), 20.try_into().unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40000, 502, 1, 8192)
            .write(&mut out, b"x")
            .unwrap();
        let Decoded::Packet(p) = decode(LinkType::Ethernet, &out) else {
            panic!("not decoded")
        };
        assert_eq!(p.vlan, Some(20));
    }

    #[test]
    fn ip_fragments_are_counted_not_decoded() {
        let mut frame = tcp_frame(None);
        // IPv4 flags/fragment offset (bytes 20..22 of the frame): more fragments.
        frame[20] = 0x20;
        assert!(matches!(
            decode(LinkType::Ethernet, &frame),
            Decoded::IpFragment
        ));
    }

    #[test]
    fn arp_is_not_ip() {
        let mut frame = vec![0xff; 12];
        frame.extend_from_slice(&[0x08, 0x06]);
        frame.extend_from_slice(&[0; 28]);
        assert!(matches!(decode(LinkType::Ethernet, &frame), Decoded::NotIp));
    }
}
