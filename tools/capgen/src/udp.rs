//! A UDP conversation between a client and a server: datagrams each way, with the payload each
//! side sent counted as a stream of its own, so that what a datagram carries can be noted at
//! stream offsets and checked against what was captured, as for TCP.

use std::ops::Range;

use anyhow::Result;

use crate::capture::{PacketSink, Wire};
use crate::link::{DEFAULT_TTL, Hop, Host, Transport};
use crate::rng::Rng;
use crate::tcp::{Side, covered};

/// One end of the conversation.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub(crate) host: Host,
    pub(crate) port: u16,
    ttl: u8,
    ip_id: u16,
    /// Payload bytes this end has sent, captured or not.
    next: u64,
    /// Payload ranges this end sent that appear in the capture.
    captured: Vec<Range<u64>>,
}

impl Peer {
    pub(crate) fn new(host: Host, port: u16, rng: &mut Rng) -> Self {
        Self {
            host,
            port,
            ttl: DEFAULT_TTL,
            ip_id: rng.next_u16(),
            next: 0,
            captured: Vec::new(),
        }
    }

    pub(crate) fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }
}

/// A UDP conversation.
#[derive(Debug, Clone)]
pub(crate) struct UdpFlow {
    pub(crate) client: Peer,
    pub(crate) server: Peer,
}

impl UdpFlow {
    pub(crate) fn new(client: Peer, server: Peer) -> Self {
        Self { client, server }
    }

    fn peer(&self, side: Side) -> &Peer {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    /// Stream offset of the next payload byte `side` sends.
    pub(crate) fn next_offset(&self, side: Side) -> u64 {
        self.peer(side).next
    }

    /// One datagram from `side`.
    pub(crate) fn send<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        payload: &[u8],
    ) -> Result<()> {
        let (me, peer) = match side {
            Side::Client => (&mut self.client, &self.server),
            Side::Server => (&mut self.server, &self.client),
        };
        let hop = Hop {
            src: me.host,
            dst: peer.host,
            vlan: None,
            ttl: me.ttl,
            ip_id: me.ip_id,
        };
        me.ip_id = me.ip_id.wrapping_add(1);
        let start = me.next;
        me.next += payload.len() as u64;
        if !payload.is_empty() {
            me.captured.push(start..me.next);
        }
        let transport = Transport::Udp {
            source_port: me.port,
            destination_port: peer.port,
        };
        wire.emit(at, &hop, transport, payload)
    }

    /// Moves `side`'s stream on by `len` bytes that never reach the capture.
    pub(crate) fn skip(&mut self, side: Side, len: u64) {
        match side {
            Side::Client => self.client.next += len,
            Side::Server => self.server.next += len,
        }
    }

    /// True when every byte of `range` of `side`'s stream was captured (datagrams are whole:
    /// a range is captured when the datagrams covering it are).
    pub(crate) fn captured_fully(&self, side: Side, range: &Range<u64>) -> bool {
        covered(&self.peer(side).captured, range)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::capture::Collect;
    use crate::link::LinkType;

    #[test]
    fn datagrams_count_as_captured_streams() {
        let mut rng = Rng::new(1);
        let a = Host::new([2, 0, 0, 0, 0, 1], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        let b = Host::new([2, 0, 0, 0, 0, 2], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        let mut flow = UdpFlow::new(
            Peer::new(a, 20_000, &mut rng),
            Peer::new(b, 20_000, &mut rng),
        );
        let mut wire = Wire::new(LinkType::Ethernet, Collect::default());
        flow.send(&mut wire, 0, Side::Client, &[1; 10]).unwrap();
        flow.skip(Side::Client, 5);
        flow.send(&mut wire, 1, Side::Client, &[2; 10]).unwrap();
        flow.send(&mut wire, 2, Side::Server, &[3; 4]).unwrap();
        assert_eq!(wire.sink.0.len(), 3);
        assert!(flow.captured_fully(Side::Client, &(0..10)));
        assert!(!flow.captured_fully(Side::Client, &(8..16)));
        assert!(flow.captured_fully(Side::Client, &(15..25)));
        assert!(flow.captured_fully(Side::Server, &(0..4)));
        assert!(!flow.captured_fully(Side::Server, &(0..5)));
        assert_eq!(flow.next_offset(Side::Client), 25);
    }
}
