//! `synflood`: SYN packets from spoofed sources, every one a distinct 5-tuple, towards a few
//! Modbus servers. Nothing else: no SYN-ACK, no retries.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::Result;
use etherparse::TcpHeader;

use crate::capture::{PacketSink, Wire};
use crate::link::{Hop, Host, Transport};
use crate::rng::Rng;

/// Modbus/TCP servers under attack.
const TARGETS: [Host; 4] = [
    Host::new([0x00, 0x80, 0xF4, 0x0A, 0x14, 0x0B], ip(10, 20, 1, 11)),
    Host::new([0x00, 0x0E, 0x8C, 0x0A, 0x14, 0x0C], ip(10, 20, 1, 12)),
    Host::new([0x00, 0x30, 0xDE, 0x0A, 0x14, 0x0D], ip(10, 20, 1, 13)),
    Host::new([0x00, 0xA0, 0x45, 0x0A, 0x14, 0x0E], ip(10, 20, 1, 14)),
];

/// The upstream router every spoofed packet arrives through.
const ROUTER_MAC: [u8; 6] = [0x00, 0x1B, 0x54, 0x3C, 0x00, 0x01];

const MODBUS_PORT: u16 = 502;

/// Window sizes of common flooding tools and stacks.
const WINDOWS: [u16; 4] = [512, 1024, 8192, 64_240];

const fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// A bijection on `u32` (a keyed integer hash with invertible steps), so distinct inputs give
/// distinct source addresses.
fn permute(x: u32, key: u32) -> u32 {
    let mut x = x ^ key;
    x = (x ^ (x >> 16)).wrapping_mul(0x7FEB_352D);
    x = (x ^ (x >> 15)).wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

/// A plausible spoofed unicast source: not 0/8, loopback, 10/8 (the plant), multicast or reserved.
fn plausible_source(addr: u32) -> bool {
    let first = addr >> 24;
    !matches!(first, 0 | 10 | 127) && first < 224
}

/// Writes `flows` SYNs; returns the number of packets.
pub(crate) fn generate<S: PacketSink>(wire: &mut Wire<S>, flows: u64, seed: u64) -> Result<u64> {
    let mut rng = Rng::new(seed);
    let key = rng.next_u32();
    let mut at = 0u64;
    let mut written = 0u64;
    let mut index = 0u32;
    while written < flows {
        let source = permute(index, key);
        index = index
            .checked_add(1)
            .ok_or_else(|| anyhow::anyhow!("no more distinct IPv4 sources"))?;
        if !plausible_source(source) {
            continue;
        }
        let Some(target) = TARGETS.get((written % TARGETS.len() as u64) as usize) else {
            continue;
        };
        let mut header = TcpHeader::new(
            rng.range_u16(1024, 65_535),
            MODBUS_PORT,
            rng.next_u32(),
            WINDOWS
                .get(rng.below(WINDOWS.len() as u64) as usize)
                .copied()
                .unwrap_or(512),
        );
        header.syn = true;
        let hop = Hop {
            src: Host::new(ROUTER_MAC, IpAddr::V4(Ipv4Addr::from(source))),
            dst: *target,
            vlan: None,
            ttl: u8::try_from(rng.range(40, 128)).unwrap_or(64),
            ip_id: rng.next_u16(),
        };
        wire.emit(at, &hop, Transport::Tcp(header), &[])?;
        written += 1;
        // About 100k SYN/s with jitter.
        at += rng.range(4, 16);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    use super::*;
    use crate::capture::Collect;
    use crate::link::LinkType;

    #[test]
    fn every_syn_is_a_distinct_flow() {
        let mut wire = Wire::new(LinkType::Ethernet, Collect::default());
        assert_eq!(generate(&mut wire, 20_000, 9).unwrap(), 20_000);
        let mut tuples = HashSet::new();
        for frame in &wire.sink.frames() {
            let p = SlicedPacket::from_ethernet(frame).unwrap();
            let Some(NetSlice::Ipv4(ip)) = p.net else {
                panic!("not IPv4")
            };
            let Some(TransportSlice::Tcp(tcp)) = p.transport else {
                panic!("not TCP")
            };
            assert!(tcp.syn() && !tcp.ack());
            assert_eq!(tcp.destination_port(), 502);
            assert!(plausible_source(u32::from(ip.header().source_addr())));
            assert!(tuples.insert((
                ip.header().source_addr(),
                tcp.source_port(),
                ip.header().destination_addr(),
                tcp.destination_port()
            )));
        }
        assert_eq!(tuples.len(), 20_000);
    }
}
