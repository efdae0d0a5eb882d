//! The bounded flow table: one entry per TCP connection or UDP conversation,
//! least recently seen evicted first, idle flows expired by capture time.

use std::net::IpAddr;
use std::num::NonZeroUsize;

use lru::LruCache;

use crate::dissect::App;
use crate::reassembly::Reassembler;

/// IP protocol number of the flow's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransportProto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// One side of a flow, by its position in the canonical key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The endpoint that sorts first.
    Lo,
    /// The endpoint that sorts second.
    Hi,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Lo => Side::Hi,
            Side::Hi => Side::Lo,
        }
    }
}

/// An address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// TCP or UDP port.
    pub port: u16,
}

/// A flow's identity, the same whichever direction a packet travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: Endpoint,
    hi: Endpoint,
    proto: TransportProto,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`, and the side `src` is on.
    pub fn new(src: Endpoint, dst: Endpoint, proto: TransportProto) -> (FlowKey, Side) {
        if src <= dst {
            (
                FlowKey {
                    lo: src,
                    hi: dst,
                    proto,
                },
                Side::Lo,
            )
        } else {
            (
                FlowKey {
                    lo: dst,
                    hi: src,
                    proto,
                },
                Side::Hi,
            )
        }
    }

    /// The endpoint on `side`.
    pub fn endpoint(&self, side: Side) -> Endpoint {
        match side {
            Side::Lo => self.lo,
            Side::Hi => self.hi,
        }
    }

    /// The transport protocol.
    pub fn proto(&self) -> TransportProto {
        self.proto
    }
}

/// One direction of a flow: reassembly plus the bytes of a PDU not yet complete.
#[derive(Debug, Default)]
pub struct Stream {
    /// TCP reassembly state.
    pub reassembler: Reassembler,
    /// In-order bytes the application layer has not consumed yet (a partial PDU).
    pub partial: Vec<u8>,
    /// A FIN was seen in this direction.
    pub fin: bool,
}

/// Per-flow state.
#[derive(Debug)]
pub struct Flow {
    /// Capture time of the first packet, nanoseconds.
    pub first_seen: u64,
    /// Capture time of the latest packet, nanoseconds.
    pub last_seen: u64,
    /// Which side is the server (responder), once known.
    pub server: Option<Side>,
    streams: [Stream; 2],
    /// The application-layer dissector.
    pub app: App,
    /// What the client's first payload bytes showed (looked at once).
    pub channel: Option<faro_protocols::services::Channel>,
    /// Either side sent payload.
    pub spoke: bool,
}

impl Flow {
    /// A new flow first seen at `ts`.
    pub fn new(ts: u64) -> Self {
        Flow {
            first_seen: ts,
            last_seen: ts,
            server: None,
            streams: Default::default(),
            app: App::default(),
            channel: None,
            spoke: false,
        }
    }

    /// The stream of data sent by `side`.
    pub fn stream_mut(&mut self, side: Side) -> &mut Stream {
        self.split(side).0
    }

    /// Splits the flow into the stream sent by `side` and the application state.
    pub fn split(&mut self, side: Side) -> (&mut Stream, &mut App) {
        let [lo, hi] = &mut self.streams;
        let stream = match side {
            Side::Lo => lo,
            Side::Hi => hi,
        };
        (stream, &mut self.app)
    }
}

/// The bounded flow table.
pub struct FlowTable {
    flows: LruCache<FlowKey, Flow, foldhash::fast::RandomState>,
    idle_timeout_nanos: u64,
}

impl FlowTable {
    /// A table holding at most `max_flows` flows (at least one).
    pub fn new(max_flows: usize, idle_timeout_secs: u64) -> Self {
        let cap = NonZeroUsize::new(max_flows.max(1)).unwrap_or(NonZeroUsize::MIN);
        FlowTable {
            // foldhash's RandomState is seeded per process, so hostile traffic cannot
            // aim collisions at the table.
            flows: LruCache::with_hasher(cap, foldhash::fast::RandomState::default()),
            idle_timeout_nanos: idle_timeout_secs.saturating_mul(1_000_000_000),
        }
    }

    /// Flows tracked now.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// True when no flow is tracked.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// The flow for `key`, marked as most recently seen.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow> {
        self.flows.get_mut(key)
    }

    /// Inserts a new flow; returns the flow evicted to make room, if the table was full.
    pub fn insert(&mut self, key: FlowKey, flow: Flow) -> Option<(FlowKey, Flow)> {
        self.flows
            .push(key, flow)
            .filter(|(evicted, _)| *evicted != key)
    }

    /// Removes a flow.
    pub fn remove(&mut self, key: &FlowKey) -> Option<Flow> {
        self.flows.pop(key)
    }

    /// Removes and returns the least recently seen flow if it has been idle past the timeout at `now`.
    pub fn pop_expired(&mut self, now: u64) -> Option<(FlowKey, Flow)> {
        let (_, oldest) = self.flows.peek_lru()?;
        if now.saturating_sub(oldest.last_seen) > self.idle_timeout_nanos {
            self.flows.pop_lru()
        } else {
            None
        }
    }

    /// Removes and returns the least recently seen flow.
    pub fn pop_oldest(&mut self) -> Option<(FlowKey, Flow)> {
        self.flows.pop_lru()
    }
}
