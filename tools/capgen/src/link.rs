//! Frames: the link layer chosen on the command line, IPv4 or IPv6, and TCP or UDP, built with
//! etherparse so lengths and checksums are right.

use std::net::IpAddr;

use anyhow::{Context, Result, bail};
use etherparse::{
    IpHeaders, Ipv4Header, Ipv6Header, LinuxSllPacketType, PacketBuilder, PacketBuilderStep,
    TcpHeader, VlanId,
};

/// Link-layer header type of the written capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum LinkType {
    /// Ethernet II, with 802.1Q tags where a host sits on a VLAN (LINKTYPE_ETHERNET, 1).
    #[default]
    Ethernet,
    /// Linux cooked capture v1, 16-byte header (LINKTYPE_LINUX_SLL, 113).
    Sll,
    /// Linux cooked capture v2, 20-byte header (LINKTYPE_LINUX_SLL2, 276).
    Sll2,
    /// Raw IPv4/IPv6, no link header (LINKTYPE_RAW, 101).
    Raw,
}

/// `DLT_RAW` as libpcap defines it on Linux and most platforms. `pcap_open_dead` takes a DLT,
/// not a LINKTYPE: libpcap refuses 101 there and writes `DLT_RAW` into the file as LINKTYPE_RAW
/// (101). Reading the file back, libpcap reports 12 again.
pub(crate) const DLT_RAW: pcap::Linktype = pcap::Linktype(12);

impl LinkType {
    /// The DLT to open the savefile with.
    pub(crate) fn pcap(self) -> pcap::Linktype {
        match self {
            LinkType::Ethernet => pcap::Linktype::ETHERNET,
            LinkType::Sll => pcap::Linktype::LINUX_SLL,
            LinkType::Sll2 => pcap::Linktype::LINUX_SLL2,
            LinkType::Raw => DLT_RAW,
        }
    }
}

/// Linux cooked v2 header layout (libpcap `sll2_header`), all fields big-endian.
mod sll2 {
    /// Header length in bytes.
    pub(super) const LEN: usize = 20;
    /// Interface index the synthetic sensor captured on.
    pub(super) const IF_INDEX: u32 = 2;
    /// `ARPHRD_ETHER`.
    pub(super) const ARPHRD_ETHER: u16 = 1;
    /// Length of an Ethernet MAC address.
    pub(super) const ADDR_LEN: u8 = 6;
}

/// Ethertypes carried in the cooked headers.
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;

/// Default time to live / hop limit of the synthetic hosts.
pub(crate) const DEFAULT_TTL: u8 = 64;

/// A host as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Host {
    pub(crate) mac: [u8; 6],
    pub(crate) ip: IpAddr,
}

impl Host {
    pub(crate) const fn new(mac: [u8; 6], ip: IpAddr) -> Self {
        Self { mac, ip }
    }
}

/// The network part of one packet: who sends to whom, on which VLAN, with which IP id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hop {
    pub(crate) src: Host,
    pub(crate) dst: Host,
    /// 802.1Q VLAN id; only shown on Ethernet (cooked and raw captures have no tag).
    pub(crate) vlan: Option<u16>,
    pub(crate) ttl: u8,
    /// IPv4 identification (ignored for IPv6).
    pub(crate) ip_id: u16,
}

/// The transport header of one packet.
#[derive(Debug, Clone)]
pub(crate) enum Transport {
    Tcp(TcpHeader),
    Udp {
        source_port: u16,
        destination_port: u16,
    },
}

/// Builds frames into one reused buffer.
#[derive(Debug)]
pub(crate) struct FrameBuilder {
    link: LinkType,
    buf: Vec<u8>,
}

impl FrameBuilder {
    pub(crate) fn new(link: LinkType) -> Self {
        Self {
            link,
            buf: Vec::with_capacity(2048),
        }
    }

    /// The frame built last.
    pub(crate) fn last(&self) -> &[u8] {
        &self.buf
    }

    /// Serialises one frame; the returned bytes live until the next call.
    pub(crate) fn build(
        &mut self,
        hop: &Hop,
        transport: Transport,
        payload: &[u8],
    ) -> Result<&[u8]> {
        self.buf.clear();
        let ip = ip_headers(hop)?;
        if self.link == LinkType::Sll2 {
            let ethertype = match hop.src.ip {
                IpAddr::V4(_) => ETHERTYPE_IPV4,
                IpAddr::V6(_) => ETHERTYPE_IPV6,
            };
            self.buf.reserve(sll2::LEN);
            self.buf.extend_from_slice(&ethertype.to_be_bytes());
            self.buf.extend_from_slice(&0u16.to_be_bytes()); // reserved
            self.buf.extend_from_slice(&sll2::IF_INDEX.to_be_bytes());
            self.buf
                .extend_from_slice(&sll2::ARPHRD_ETHER.to_be_bytes());
            self.buf
                .push(u8::try_from(u16::from(LinuxSllPacketType::OTHERHOST)).unwrap_or(3));
            self.buf.push(sll2::ADDR_LEN);
            self.buf.extend_from_slice(&padded_mac(hop.src.mac));
        }
        let step = network_step(self.link, hop, ip)?;
        match transport {
            Transport::Tcp(header) => step.tcp_header(header).write(&mut self.buf, payload),
            Transport::Udp {
                source_port,
                destination_port,
            } => step
                .udp(source_port, destination_port)
                .write(&mut self.buf, payload),
        }
        .context("serialising frame")?;
        Ok(&self.buf)
    }
}

fn padded_mac(mac: [u8; 6]) -> [u8; 8] {
    let [a, b, c, d, e, f] = mac;
    [a, b, c, d, e, f, 0, 0]
}

fn ip_headers(hop: &Hop) -> Result<IpHeaders> {
    Ok(match (hop.src.ip, hop.dst.ip) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => IpHeaders::Ipv4(
            Ipv4Header {
                source: src.octets(),
                destination: dst.octets(),
                time_to_live: hop.ttl,
                identification: hop.ip_id,
                dont_fragment: true,
                ..Default::default()
            },
            Default::default(),
        ),
        (IpAddr::V6(src), IpAddr::V6(dst)) => IpHeaders::Ipv6(
            Ipv6Header {
                source: src.octets(),
                destination: dst.octets(),
                hop_limit: hop.ttl,
                ..Default::default()
            },
            Default::default(),
        ),
        (src, dst) => bail!("mixed address families {src} -> {dst}"),
    })
}

fn network_step(link: LinkType, hop: &Hop, ip: IpHeaders) -> Result<PacketBuilderStep<IpHeaders>> {
    Ok(match link {
        LinkType::Ethernet => {
            let eth = PacketBuilder::ethernet2(hop.src.mac, hop.dst.mac);
            match hop.vlan {
                Some(vlan) => eth
                    .single_vlan(VlanId::try_new(vlan).context("VLAN id")?)
                    .ip(ip),
                None => eth.ip(ip),
            }
        }
        LinkType::Sll => PacketBuilder::linux_sll(
            LinuxSllPacketType::OTHERHOST,
            u16::from(sll2::ADDR_LEN),
            padded_mac(hop.src.mac),
        )
        .ip(ip),
        LinkType::Sll2 | LinkType::Raw => PacketBuilder::ip(ip),
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use etherparse::{LinkSlice, NetSlice, SlicedPacket, TransportSlice};

    use super::*;

    fn hop() -> Hop {
        Hop {
            src: Host::new([0, 1, 2, 3, 4, 5], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
            dst: Host::new([0, 1, 2, 3, 4, 6], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))),
            vlan: Some(20),
            ttl: DEFAULT_TTL,
            ip_id: 7,
        }
    }

    #[test]
    fn ethernet_vlan_tcp_round_trips() {
        let mut builder = FrameBuilder::new(LinkType::Ethernet);
        let frame = builder
            .build(
                &hop(),
                Transport::Tcp(TcpHeader::new(40000, 502, 1, 8192)),
                b"abc",
            )
            .unwrap()
            .to_vec();
        let sliced = SlicedPacket::from_ethernet(&frame).unwrap();
        assert!(sliced.vlan().is_some());
        assert!(matches!(sliced.net, Some(NetSlice::Ipv4(_))));
        match sliced.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                assert_eq!(tcp.destination_port(), 502);
                assert_eq!(tcp.payload(), b"abc");
            }
            other => panic!("unexpected transport {other:?}"),
        }
    }

    #[test]
    fn sll_header_is_16_bytes_and_sll2_20() {
        let mut sll = FrameBuilder::new(LinkType::Sll);
        let a = sll
            .build(&hop(), Transport::Tcp(TcpHeader::new(1, 2, 3, 4)), b"")
            .unwrap()
            .len();
        let mut sll2 = FrameBuilder::new(LinkType::Sll2);
        let b = sll2
            .build(&hop(), Transport::Tcp(TcpHeader::new(1, 2, 3, 4)), b"")
            .unwrap()
            .to_vec();
        let mut raw = FrameBuilder::new(LinkType::Raw);
        let c = raw
            .build(&hop(), Transport::Tcp(TcpHeader::new(1, 2, 3, 4)), b"")
            .unwrap()
            .to_vec();
        assert_eq!(a, c.len() + 16);
        assert_eq!(b.len(), c.len() + 20);
        assert_eq!(b.get(..2), Some(&[0x08, 0x00][..]));
        assert_eq!(b.get(20..), Some(&c[..]));
        let sliced = SlicedPacket::from_linux_sll(&sll.buf).unwrap();
        assert!(matches!(sliced.link, Some(LinkSlice::LinuxSll(_))));
        assert!(SlicedPacket::from_ip(&c).is_ok());
    }
}
