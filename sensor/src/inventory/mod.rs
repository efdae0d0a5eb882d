//! The asset inventory and the communication map: who talks to whom, with
//! which protocol and functions. Fixed capacity: past a limit new entries are
//! shed and counted, existing ones keep their ids for the life of the analysis.

pub mod opcua;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use faro_firmware_config::CapacityLimits;
use faro_protocols::identity::IdentitySource;
use faro_protocols::services::{self, Channel};

use crate::flow::TransportProto;
use crate::stats::Shed;

/// Index of an asset in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetId(u32);

/// Index of an edge in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeId(u32);

/// An industrial protocol the sensor dissects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// Modbus/TCP (and Modbus over UDP).
    Modbus,
    /// Siemens S7comm (protocol id 0x32) over ISO-on-TCP.
    S7comm,
    /// Siemens S7comm-plus (protocol id 0x72) over ISO-on-TCP.
    S7commPlus,
    /// DNP3 (IEEE 1815) over TCP or UDP.
    Dnp3,
    /// OPC UA binary (UA TCP and UA Secure Conversation).
    OpcUa,
}

impl Protocol {
    /// Every protocol, in output order.
    pub const ALL: [Protocol; 5] = [
        Protocol::Modbus,
        Protocol::S7comm,
        Protocol::S7commPlus,
        Protocol::Dnp3,
        Protocol::OpcUa,
    ];

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Modbus => "modbus",
            Protocol::S7comm => "s7comm",
            Protocol::S7commPlus => "s7comm_plus",
            Protocol::Dnp3 => "dnp3",
            Protocol::OpcUa => "opcua",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// What an asset does on the network, as observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Answers Modbus requests (a PLC, RTU, gateway, meter…).
    ModbusServer,
    /// Sends Modbus requests (an HMI, SCADA server, engineering station…).
    ModbusClient,
    /// A Siemens PLC: serves S7comm or S7comm-plus (ISO-on-TCP, usually port 102).
    Plc,
    /// Talks S7 to a PLC: an HMI, SCADA server or engineering station.
    S7Client,
    /// DNP3 master: polls and controls outstations (SCADA front end).
    Dnp3Master,
    /// DNP3 outstation: an RTU, IED or PLC answering a master.
    Dnp3Outstation,
    /// Serves OPC UA: a PLC, gateway, SCADA or historian server.
    OpcUaServer,
    /// Opens OPC UA sessions: an HMI, MES, historian collector or engineering tool.
    OpcUaClient,
    /// Downloads or uploads programs, or changes operating modes: an engineering station.
    EngineeringStation,
}

impl Role {
    /// Every role, in output order.
    pub const ALL: [Role; 9] = [
        Role::ModbusServer,
        Role::ModbusClient,
        Role::Plc,
        Role::S7Client,
        Role::Dnp3Master,
        Role::Dnp3Outstation,
        Role::OpcUaServer,
        Role::OpcUaClient,
        Role::EngineeringStation,
    ];

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Role::ModbusServer => "modbus_server",
            Role::ModbusClient => "modbus_client",
            Role::Plc => "plc",
            Role::S7Client => "s7_client",
            Role::Dnp3Master => "dnp3_master",
            Role::Dnp3Outstation => "dnp3_outstation",
            Role::OpcUaServer => "opcua_server",
            Role::OpcUaClient => "opcua_client",
            Role::EngineeringStation => "engineering_station",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Identity attributes longer than this are cut: a device's strings are short,
/// and a hostile one must not grow the inventory.
pub const MAX_IDENTITY_VALUE_LEN: usize = 256;
/// Most identity attributes kept per asset.
pub const MAX_IDENTITY_ATTRIBUTES: usize = 64;
/// Distinct protocol objects kept per edge.
pub const MAX_OBJECTS_PER_EDGE: usize = 128;
/// Most DNP3 link addresses remembered per asset (a gateway fronts several outstations).
pub const MAX_LINK_ADDRESSES_PER_ASSET: usize = 32;
/// Most VLAN ids remembered per asset.
pub const MAX_VLANS_PER_ASSET: usize = 8;

/// A device-provided string as the inventory keeps it: cut to
/// [`MAX_IDENTITY_VALUE_LEN`] bytes, invalid UTF-8 replaced, NUL and space
/// padding trimmed; `None` when nothing is left.
pub fn device_text(value: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let value = value.get(..MAX_IDENTITY_VALUE_LEN).unwrap_or(value);
    let padding = |c: char| c == '\0' || c.is_whitespace();
    // Valid UTF-8 (the common case) is borrowed, padding and all: no allocation.
    let text = match String::from_utf8_lossy(value) {
        std::borrow::Cow::Borrowed(text) => std::borrow::Cow::Borrowed(text.trim_matches(padding)),
        std::borrow::Cow::Owned(text) => {
            std::borrow::Cow::Owned(text.trim_matches(padding).to_owned())
        }
    };
    (!text.is_empty()).then_some(text)
}

/// Inserts a device-provided string, bounded in count and length; whether
/// the value is now the attribute's (new, changed or the same as before).
fn set_attribute(map: &mut BTreeMap<String, String>, name: &str, value: &[u8]) -> bool {
    if map.len() >= MAX_IDENTITY_ATTRIBUTES && !map.contains_key(name) {
        return false;
    }
    let Some(text) = device_text(value) else {
        return false;
    };
    let text = text.as_ref();
    // Devices repeat the same state in every response: update in place, allocate only when new.
    match map.get_mut(name) {
        Some(current) if current == text => {}
        Some(current) => {
            current.clear();
            current.push_str(text);
        }
        None => {
            map.insert(name.to_owned(), text.to_owned());
        }
    }
    true
}

/// A device seen on the network.
#[derive(Debug, Clone)]
pub struct Asset {
    /// IP address (the asset's key).
    pub ip: IpAddr,
    /// MAC address of the latest frame this IP sent (a router's, when routed).
    pub mac: Option<[u8; 6]>,
    /// VLAN ids its frames carried.
    pub vlans: Vec<u16>,
    /// DNP3 link addresses it used as a source.
    pub dnp3_addresses: Vec<u16>,
    roles: u32,
    protocols: u32,
    /// Identity attributes by name (vendor, product_code, revision, …).
    pub identity: BTreeMap<String, String>,
    /// For each attribute of `identity`, the message that last set it. Its
    /// keys are always those of `identity`: bounded the same way.
    pub identity_sources: BTreeMap<String, IdentitySource>,
    /// Security-relevant device state as last observed (CPU mode, key
    /// switch, protection level, …), by name.
    pub posture: BTreeMap<String, String>,
    /// OPC UA: endpoints offered, endpoint URLs asked for, certificates.
    pub opcua: Option<Box<opcua::OpcUaAsset>>,
    /// Capture time first seen, nanoseconds since the epoch.
    pub first_seen: u64,
    /// Capture time last seen, nanoseconds since the epoch.
    pub last_seen: u64,
}

impl Asset {
    /// Roles observed.
    pub fn roles(&self) -> impl Iterator<Item = Role> + '_ {
        Role::ALL.into_iter().filter(|r| self.roles & r.bit() != 0)
    }

    /// Protocols spoken.
    pub fn protocols(&self) -> impl Iterator<Item = Protocol> + '_ {
        Protocol::ALL
            .into_iter()
            .filter(|p| self.protocols & p.bit() != 0)
    }

    /// Records a role and the protocol it implies.
    pub fn add_role(&mut self, role: Role, protocol: Protocol) {
        self.roles |= role.bit();
        self.protocols |= protocol.bit();
    }

    /// Records an identity attribute and the message it came from, bounded
    /// in count and length. Blank values (NUL or space padding only) are not
    /// recorded. The latest message wins, also when it repeats the value; a
    /// value and source seen before cost no allocation.
    pub fn set_identity(&mut self, name: &str, value: &[u8], source: IdentitySource) {
        if !set_attribute(&mut self.identity, name, value) {
            return;
        }
        match self.identity_sources.get_mut(name) {
            Some(current) => *current = source,
            None => {
                self.identity_sources.insert(name.to_owned(), source);
            }
        }
    }

    /// Whether the device named itself: an identity attribute from one of its
    /// own messages. Rack, slot and connection type of a COTP connection
    /// request are the client's choice and do not count, nor does the OUI.
    pub fn announced_identity(&self) -> bool {
        self.identity_sources.values().any(|source| {
            !matches!(
                source,
                IdentitySource::S7CotpConnectionRequest | IdentitySource::Oui
            )
        })
    }

    /// The IEEE registry's vendor of the asset's MAC address, as a weak
    /// hint for an asset that announced no identity; `None` when it did,
    /// when its MAC is not its own (`shared`: seen for several assets, a
    /// router's), or when the registry names no vendor for it.
    pub fn mac_vendor_hint(&self, shared: &HashSet<[u8; 6]>) -> Option<&'static str> {
        let mac = self.mac?;
        if self.announced_identity() || shared.contains(&mac) {
            return None;
        }
        faro_protocols::oui::vendor(mac)
    }

    /// Records a posture attribute, bounded like identity attributes.
    pub fn set_posture(&mut self, name: &str, value: &str) {
        let _ = set_attribute(&mut self.posture, name, value.as_bytes());
    }

    /// Records what the link layer says about a frame this asset sent.
    pub fn saw_frame(&mut self, mac: Option<[u8; 6]>, vlan: Option<u16>) {
        if mac.is_some() {
            self.mac = mac;
        }
        if let Some(vlan) = vlan {
            if !self.vlans.contains(&vlan) && self.vlans.len() < MAX_VLANS_PER_ASSET {
                self.vlans.push(vlan);
                self.vlans.sort_unstable();
            }
        }
    }

    /// Records a role that no protocol implies (a behaviour, such as an engineering station's).
    pub fn add_tag(&mut self, role: Role) {
        self.roles |= role.bit();
    }

    /// The asset's OPC UA details, created on first use.
    pub fn opcua_mut(&mut self) -> &mut opcua::OpcUaAsset {
        self.opcua.get_or_insert_with(Box::default)
    }

    /// Records a DNP3 link address this asset sent from (bounded).
    pub fn add_dnp3_address(&mut self, address: u16) {
        if !self.dnp3_addresses.contains(&address)
            && self.dnp3_addresses.len() < MAX_LINK_ADDRESSES_PER_ASSET
        {
            self.dnp3_addresses.push(address);
            self.dnp3_addresses.sort_unstable();
        }
    }

    fn touch(&mut self, ts: u64) {
        self.first_seen = self.first_seen.min(ts);
        self.last_seen = self.last_seen.max(ts);
    }
}

/// What an edge counts requests by: a protocol's function code, or for S7
/// userdata the function group and subfunction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FunctionKey {
    /// A function code (Modbus function, S7 job function, S7comm-plus function).
    Code(u32),
    /// S7 userdata: function group and subfunction, written `ud-<group>-<subfunction>`.
    Userdata {
        /// Function group (0 mode transition … 7 time functions).
        group: u8,
        /// Subfunction within the group.
        subfunction: u8,
    },
}

impl std::fmt::Display for FunctionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FunctionKey::Code(code) => write!(f, "{code}"),
            FunctionKey::Userdata { group, subfunction } => write!(f, "ud-{group}-{subfunction}"),
        }
    }
}

/// Counters of one function on an edge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FunctionCounters {
    /// Requests sent.
    pub requests: u64,
    /// Normal responses.
    pub responses: u64,
    /// Exception or error responses.
    pub exceptions: u64,
}

/// The data-table address ranges an edge touched, per unit, table and access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AccessKey {
    /// Modbus unit id.
    pub unit: u8,
    /// Data table.
    pub table: &'static str,
    /// "read" or "write".
    pub access: &'static str,
}

/// A bounded set of inclusive address ranges, merged where they touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: Vec<(u32, u32)>,
}

impl RangeSet {
    /// Adds `start ..= end`; past `max` ranges, merges the two closest and returns true.
    pub fn add(&mut self, start: u32, end: u32, max: usize) -> bool {
        let (start, end) = (start.min(end), start.max(end));
        let at = self
            .ranges
            .partition_point(|&(_, e)| e.saturating_add(1) < start);
        // Polling reads the same addresses again and again: nothing to change.
        if self
            .ranges
            .get(at)
            .is_some_and(|&(s, e)| s <= start && end <= e)
        {
            return false;
        }
        let mut merged = (start, end);
        let mut until = at;
        while let Some(&(s, e)) = self.ranges.get(until) {
            if s > merged.1.saturating_add(1) {
                break;
            }
            merged = (merged.0.min(s), merged.1.max(e));
            until += 1;
        }
        self.ranges.splice(at..until, [merged]);
        if self.ranges.len() > max.max(1) {
            self.merge_closest();
            return true;
        }
        false
    }

    fn merge_closest(&mut self) {
        let closest = self
            .ranges
            .windows(2)
            .enumerate()
            .min_by_key(|(_, pair)| match pair {
                [(_, e), (s, _)] => s.saturating_sub(*e),
                _ => u32::MAX,
            })
            .map(|(i, _)| i);
        if let Some(i) = closest {
            if let (Some(&(s, _)), Some(&(_, e))) = (self.ranges.get(i), self.ranges.get(i + 1)) {
                self.ranges.splice(i..i + 2, [(s, e)]);
            }
        }
    }

    /// The ranges, sorted, as inclusive `(start, end)` pairs.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }
}

/// A communication path: one client talking one protocol to one server port.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The initiator.
    pub client: AssetId,
    /// The responder.
    pub server: AssetId,
    /// The server's port.
    pub server_port: u16,
    /// TCP or UDP.
    pub transport: TransportProto,
    /// The industrial protocol.
    pub protocol: Protocol,
    /// Per-function counters.
    pub functions: BTreeMap<FunctionKey, FunctionCounters>,
    /// Address ranges read and written.
    pub accesses: BTreeMap<AccessKey, RangeSet>,
    /// Protocol anomalies seen on this edge, by name.
    pub anomalies: BTreeMap<&'static str, u64>,
    /// Protocol objects requests named, with counts: for S7, the SZL lists read
    /// (`szl-0x0011-0x0000`). Bounded by [`MAX_OBJECTS_PER_EDGE`].
    pub objects: BTreeMap<String, u64>,
    /// Flows (connections) that carried it.
    pub flows: u64,
    /// The session was protected (TLS inside COTP): its content is not visible.
    pub protected: bool,
    /// DNP3: whether Secure Authentication (function 0x20/0x21/0x83 or group 120)
    /// was ever seen on the association; `None` for other protocols.
    pub secure_authentication: Option<bool>,
    /// OPC UA: security policies, modes and identity tokens used, status codes.
    pub opcua: Option<Box<opcua::OpcUaEdge>>,
    /// The first flow that carried it, as evidence for findings.
    pub sample_flow: Option<crate::dissect::FlowEnds>,
    /// Well-formed requests by access class: read, write, program, control.
    pub access: [u64; 4],
    /// Capture time first seen, nanoseconds since the epoch.
    pub first_seen: u64,
    /// Capture time last seen, nanoseconds since the epoch.
    pub last_seen: u64,
}

impl Edge {
    /// The counters of `key`, created on first use.
    pub fn function(&mut self, key: FunctionKey) -> &mut FunctionCounters {
        self.functions.entry(key).or_default()
    }

    /// Counts one occurrence of an anomaly.
    pub fn count_anomaly(&mut self, name: &'static str) {
        *self.anomalies.entry(name).or_default() += 1;
    }

    /// Counts a request for `object`; returns false when the edge's object list
    /// is full and the object new (shed).
    pub fn count_object(&mut self, object: &str) -> bool {
        if let Some(count) = self.objects.get_mut(object) {
            *count += 1;
            return true;
        }
        if self.objects.len() >= MAX_OBJECTS_PER_EDGE {
            return false;
        }
        self.objects.insert(object.to_owned(), 1);
        true
    }

    /// Records an access to `start ..= end`; returns true when ranges had to be merged.
    pub fn record_access(&mut self, key: AccessKey, start: u32, end: u32, max: usize) -> bool {
        self.accesses.entry(key).or_default().add(start, end, max)
    }

    /// Updates first and last seen.
    pub fn touch(&mut self, ts: u64) {
        self.first_seen = self.first_seen.min(ts);
        self.last_seen = self.last_seen.max(ts);
    }

    /// Counts a well-formed request of access class `access`.
    pub fn count_access(&mut self, access: faro_firmware_config::Access) {
        if let Some(count) = self.access.get_mut(access as usize) {
            *count += 1;
        }
    }

    /// Well-formed requests of access class `access`.
    pub fn access_count(&self, access: faro_firmware_config::Access) -> u64 {
        self.access.get(access as usize).copied().unwrap_or(0)
    }

    /// The edge's OPC UA details, created on first use.
    pub fn opcua_mut(&mut self) -> &mut opcua::OpcUaEdge {
        self.opcua.get_or_insert_with(Box::default)
    }
}

/// What identifies an edge: two assets, the server port, transport and protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgePath {
    /// The initiator.
    pub client: AssetId,
    /// The responder.
    pub server: AssetId,
    /// The server's port.
    pub server_port: u16,
    /// TCP or UDP.
    pub transport: TransportProto,
    /// The industrial protocol.
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct EdgeKey {
    client: IpAddr,
    server: IpAddr,
    server_port: u16,
    transport: TransportProto,
    protocol: Protocol,
}

/// An IT service edge: a conversation no ICS dissector recognised, by
/// client, server, transport and server port.
#[derive(Debug, Clone)]
pub struct ServiceEdge {
    /// The initiator.
    pub client: IpAddr,
    /// The responder.
    pub server: IpAddr,
    /// The server's port.
    pub server_port: u16,
    /// TCP or UDP.
    pub transport: TransportProto,
    /// Connections (conversations) that carried it.
    pub flows: u64,
    /// Connections by channel, in [`Channel::ALL`] order.
    pub channels: [u64; 3],
    /// Capture time first seen, nanoseconds since the epoch.
    pub first_seen: u64,
    /// Capture time last seen, nanoseconds since the epoch.
    pub last_seen: u64,
}

impl ServiceEdge {
    /// The service name: the well-known-port table's, else `tcp/<port>` or `udp/<port>`.
    pub fn protocol(&self) -> std::borrow::Cow<'static, str> {
        service_name(self.transport, self.server_port)
    }
}

/// The name of the service on `port`: the well-known-port table's
/// ([`faro_protocols::services`]), else `tcp/<port>` or `udp/<port>`.
pub fn service_name(transport: TransportProto, port: u16) -> std::borrow::Cow<'static, str> {
    let (wire, prefix) = match transport {
        TransportProto::Tcp => (services::Transport::Tcp, "tcp"),
        TransportProto::Udp => (services::Transport::Udp, "udp"),
    };
    match services::well_known(wire, port) {
        Some(name) => name.into(),
        None => format!("{prefix}/{port}").into(),
    }
}

/// One conversation of a service edge.
#[derive(Debug, Clone, Copy)]
pub struct ServiceFlow {
    /// The initiator.
    pub client: IpAddr,
    /// The responder.
    pub server: IpAddr,
    /// The server's port.
    pub server_port: u16,
    /// TCP or UDP.
    pub transport: TransportProto,
    /// What the client's first bytes showed.
    pub channel: Channel,
    /// Capture time of its first packet.
    pub first_seen: u64,
    /// Capture time of its latest packet.
    pub last_seen: u64,
}

/// Assets and edges, bounded.
pub struct Inventory {
    services: Vec<ServiceEdge>,
    service_index:
        HashMap<(IpAddr, IpAddr, u16, TransportProto), usize, foldhash::fast::RandomState>,
    max_service_edges: usize,
    assets: Vec<Asset>,
    asset_index: HashMap<IpAddr, AssetId, foldhash::fast::RandomState>,
    edges: Vec<Edge>,
    edge_index: HashMap<EdgeKey, EdgeId, foldhash::fast::RandomState>,
    max_assets: usize,
    max_edges: usize,
    /// Ranges kept per edge, unit and table before merging.
    pub max_ranges: usize,
}

impl Inventory {
    /// An empty inventory sized by `limits`.
    pub fn new(limits: &CapacityLimits) -> Self {
        Inventory {
            services: Vec::new(),
            service_index: HashMap::default(),
            max_service_edges: limits.max_service_edges,
            assets: Vec::new(),
            asset_index: HashMap::default(),
            edges: Vec::new(),
            edge_index: HashMap::default(),
            max_assets: limits.max_assets,
            max_edges: limits.max_edges,
            max_ranges: limits.max_ranges_per_table,
        }
    }

    /// The asset with address `ip`, created if new; `None` when the inventory is full.
    pub fn asset_for(&mut self, ip: IpAddr, ts: u64, shed: &mut Shed) -> Option<AssetId> {
        if let Some(&id) = self.asset_index.get(&ip) {
            return Some(id);
        }
        if self.assets.len() >= self.max_assets {
            shed.assets += 1;
            return None;
        }
        let id = AssetId(u32::try_from(self.assets.len()).ok()?);
        self.assets.push(Asset {
            ip,
            mac: None,
            vlans: Vec::new(),
            dnp3_addresses: Vec::new(),
            roles: 0,
            protocols: 0,
            identity: BTreeMap::new(),
            identity_sources: BTreeMap::new(),
            posture: BTreeMap::new(),
            opcua: None,
            first_seen: ts,
            last_seen: ts,
        });
        self.asset_index.insert(ip, id);
        Some(id)
    }

    /// The edge `path` describes, created if new; `None` when the inventory is full.
    pub fn edge_for(&mut self, path: EdgePath, ts: u64, shed: &mut Shed) -> Option<EdgeId> {
        let EdgePath {
            client,
            server,
            server_port,
            transport,
            protocol,
        } = path;
        let key = EdgeKey {
            client: self.asset(client)?.ip,
            server: self.asset(server)?.ip,
            server_port,
            transport,
            protocol,
        };
        if let Some(&id) = self.edge_index.get(&key) {
            return Some(id);
        }
        if self.edges.len() >= self.max_edges {
            shed.edges += 1;
            return None;
        }
        let id = EdgeId(u32::try_from(self.edges.len()).ok()?);
        self.edges.push(Edge {
            client,
            server,
            server_port,
            transport,
            protocol,
            functions: BTreeMap::new(),
            accesses: BTreeMap::new(),
            anomalies: BTreeMap::new(),
            objects: BTreeMap::new(),
            flows: 0,
            protected: false,
            secure_authentication: (protocol == Protocol::Dnp3).then_some(false),
            opcua: None,
            sample_flow: None,
            access: [0; 4],
            first_seen: ts,
            last_seen: ts,
        });
        self.edge_index.insert(key, id);
        Some(id)
    }

    /// Counts one conversation on its service edge, created if new; false
    /// when the table is full and the edge new (counted in `shed`).
    pub fn record_service(&mut self, flow: ServiceFlow, shed: &mut Shed) -> bool {
        let key = (flow.client, flow.server, flow.server_port, flow.transport);
        let at = match self.service_index.get(&key) {
            Some(&at) => at,
            None => {
                if self.services.len() >= self.max_service_edges {
                    shed.service_edges += 1;
                    return false;
                }
                self.services.push(ServiceEdge {
                    client: flow.client,
                    server: flow.server,
                    server_port: flow.server_port,
                    transport: flow.transport,
                    flows: 0,
                    channels: [0; 3],
                    first_seen: flow.first_seen,
                    last_seen: flow.last_seen,
                });
                self.service_index.insert(key, self.services.len() - 1);
                self.services.len() - 1
            }
        };
        let Some(edge) = self.services.get_mut(at) else {
            return false;
        };
        edge.flows += 1;
        if let Some(count) = edge.channels.get_mut(flow.channel as usize) {
            *count += 1;
        }
        edge.first_seen = edge.first_seen.min(flow.first_seen);
        edge.last_seen = edge.last_seen.max(flow.last_seen);
        true
    }

    /// Every IT service edge, in order of first appearance.
    pub fn services(&self) -> &[ServiceEdge] {
        &self.services
    }

    /// The asset `id`.
    pub fn asset(&self, id: AssetId) -> Option<&Asset> {
        self.assets.get(id.0 as usize)
    }

    /// The asset `id`, touched at `ts`.
    pub fn asset_mut(&mut self, id: AssetId, ts: u64) -> Option<&mut Asset> {
        let asset = self.assets.get_mut(id.0 as usize)?;
        asset.touch(ts);
        Some(asset)
    }

    /// The edge `id`, touched at `ts`.
    pub fn edge_mut(&mut self, id: EdgeId, ts: u64) -> Option<&mut Edge> {
        let edge = self.edges.get_mut(id.0 as usize)?;
        edge.touch(ts);
        Some(edge)
    }

    /// Every asset, in order of first appearance.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// MAC addresses that are the latest source address of more than one
    /// asset: a router's or a gateway's, which names none of them.
    pub fn shared_macs(&self) -> HashSet<[u8; 6]> {
        let mut seen = HashSet::new();
        let mut shared = HashSet::new();
        for mac in self.assets.iter().filter_map(|a| a.mac) {
            if !seen.insert(mac) {
                shared.insert(mac);
            }
        }
        shared
    }

    /// Every edge, in order of first appearance.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// The edge with id `id`.
    pub fn edge(&self, id: EdgeId) -> Option<&Edge> {
        self.edges.get(id.0 as usize)
    }

    /// Every asset with its id.
    pub fn assets_with_ids(&self) -> impl Iterator<Item = (AssetId, &Asset)> {
        (0u32..).map(AssetId).zip(self.assets.iter())
    }

    /// Every edge with its id.
    pub fn edges_with_ids(&self) -> impl Iterator<Item = (EdgeId, &Edge)> {
        (0u32..).map(EdgeId).zip(self.edges.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_when_touching_and_stay_bounded() {
        let mut r = RangeSet::default();
        assert!(!r.add(10, 19, 3));
        assert!(!r.add(20, 29, 3)); // adjacent: merged
        assert!(!r.add(100, 109, 3));
        assert!(!r.add(0, 4, 3));
        assert_eq!(r.ranges(), &[(0, 4), (10, 29), (100, 109)]);
        assert!(r.add(200, 201, 3)); // a fourth: the closest two merge
        assert_eq!(r.ranges(), &[(0, 29), (100, 109), (200, 201)]);
        assert!(!r.add(5, 150, 3)); // spans several
        assert_eq!(r.ranges(), &[(0, 150), (200, 201)]);
    }

    fn modbus_path(client: AssetId, server: AssetId) -> EdgePath {
        EdgePath {
            client,
            server,
            server_port: 502,
            transport: TransportProto::Tcp,
            protocol: Protocol::Modbus,
        }
    }

    #[test]
    fn identity_records_its_source_bounded_latest_wins() {
        let mut inv = Inventory::new(&CapacityLimits::default());
        let mut shed = Shed::default();
        let id = inv.asset_for([10, 0, 0, 1].into(), 1, &mut shed).unwrap();
        let a = inv.asset_mut(id, 1).unwrap();
        a.set_identity("vendor", b"Siemens", IdentitySource::S7PlusResponse);
        a.set_identity(
            "order_number",
            b"6ES7 214-1AG40-0XB0 ",
            IdentitySource::S7PlusResponse,
        );
        assert_eq!(a.identity_sources["vendor"], IdentitySource::S7PlusResponse);
        // The same value from another message: that message is now the source.
        a.set_identity(
            "vendor",
            b"Siemens",
            IdentitySource::S7SzlModuleIdentification,
        );
        assert_eq!(a.identity["vendor"], "Siemens");
        assert_eq!(
            a.identity_sources["vendor"],
            IdentitySource::S7SzlModuleIdentification
        );
        // A blank value changes neither the value nor its source.
        a.set_identity(
            "vendor",
            b"\0\0  ",
            IdentitySource::ModbusReadDeviceIdentification,
        );
        assert_eq!(
            a.identity_sources["vendor"],
            IdentitySource::S7SzlModuleIdentification
        );
        assert_eq!(a.identity["order_number"], "6ES7 214-1AG40-0XB0");
        // Past the cap nothing new is recorded, in either map.
        for i in 0..2 * MAX_IDENTITY_ATTRIBUTES {
            a.set_identity(
                &format!("object_{i}"),
                b"x",
                IdentitySource::ModbusReadDeviceIdentification,
            );
        }
        assert_eq!(a.identity.len(), MAX_IDENTITY_ATTRIBUTES);
        assert!(a.identity.keys().eq(a.identity_sources.keys()));
    }

    #[test]
    fn mac_vendor_hint_only_for_silent_assets_with_their_own_mac() {
        let mut inv = Inventory::new(&CapacityLimits::default());
        let mut shed = Shed::default();
        let mut add = |last: u8, mac: [u8; 6]| {
            let id = inv
                .asset_for([10, 0, 0, last].into(), 1, &mut shed)
                .unwrap();
            inv.asset_mut(id, 1).unwrap().saw_frame(Some(mac), None);
            id
        };
        let silent = add(1, [0x00, 0x0e, 0x8c, 0, 0, 1]);
        let client = add(2, [0x00, 0x0e, 0x8c, 0, 0, 2]);
        let named = add(3, [0x00, 0x0e, 0x8c, 0, 0, 3]);
        // Two addresses behind one router: its MAC names neither.
        let routed = add(4, [0x00, 0x00, 0xbc, 0, 0, 9]);
        let _ = add(5, [0x00, 0x00, 0xbc, 0, 0, 9]);
        let local = add(6, [0x02, 0x0e, 0x8c, 0, 0, 6]);
        inv.asset_mut(client, 1).unwrap().set_identity(
            "s7_connection_type",
            b"pg",
            IdentitySource::S7CotpConnectionRequest,
        );
        inv.asset_mut(named, 1).unwrap().set_identity(
            "vendor",
            b"Acme",
            IdentitySource::ModbusReadDeviceIdentification,
        );
        let shared = inv.shared_macs();
        assert_eq!(shared, HashSet::from([[0x00, 0x00, 0xbc, 0, 0, 9]]));
        let hint = |id| inv.asset(id).unwrap().mac_vendor_hint(&shared);
        assert_eq!(hint(silent), Some("Siemens AG"));
        assert_eq!(
            hint(client),
            Some("Siemens AG"),
            "the TSAP is not an announcement"
        );
        assert_eq!(hint(named), None);
        assert_eq!(hint(routed), None);
        assert_eq!(hint(local), None);
    }

    #[test]
    fn inventory_sheds_past_its_limits() {
        let limits = CapacityLimits {
            max_assets: 2,
            max_edges: 1,
            ..CapacityLimits::default()
        };
        let mut inv = Inventory::new(&limits);
        let mut shed = Shed::default();
        let a = inv.asset_for([10, 0, 0, 1].into(), 1, &mut shed).unwrap();
        let b = inv.asset_for([10, 0, 0, 2].into(), 2, &mut shed).unwrap();
        assert!(inv.asset_for([10, 0, 0, 3].into(), 3, &mut shed).is_none());
        assert_eq!(inv.asset_for([10, 0, 0, 1].into(), 4, &mut shed), Some(a));
        assert!(inv.edge_for(modbus_path(a, b), 5, &mut shed).is_some());
        assert!(inv.edge_for(modbus_path(b, a), 5, &mut shed).is_none());
        assert_eq!((shed.assets, shed.edges), (1, 1));
    }

    #[test]
    fn service_edges_count_flows_by_channel_and_shed_past_their_cap() {
        let limits = CapacityLimits {
            max_service_edges: 1,
            ..CapacityLimits::default()
        };
        let mut inv = Inventory::new(&limits);
        let mut shed = Shed::default();
        let flow = |server_port, channel| ServiceFlow {
            client: [10, 40, 0, 20].into(),
            server: [10, 30, 1, 10].into(),
            server_port,
            transport: TransportProto::Tcp,
            channel,
            first_seen: 1,
            last_seen: 2,
        };
        assert!(inv.record_service(flow(3389, Channel::Tls), &mut shed));
        assert!(inv.record_service(flow(3389, Channel::Cleartext), &mut shed));
        assert!(!inv.record_service(flow(22, Channel::Cleartext), &mut shed));
        assert_eq!(shed.service_edges, 1);
        let [edge] = inv.services() else {
            panic!("one service edge");
        };
        assert_eq!((edge.flows, edge.channels), (2, [1, 1, 0]));
        assert_eq!(edge.protocol(), "rdp");
        assert_eq!(service_name(TransportProto::Udp, 40000), "udp/40000");
    }

    #[test]
    fn every_role_and_protocol_reads_back() {
        let mut inv = Inventory::new(&CapacityLimits::default());
        let mut shed = Shed::default();
        let id = inv.asset_for([10, 0, 0, 1].into(), 1, &mut shed).unwrap();
        let asset = inv.asset_mut(id, 1).unwrap();
        // Each role is added with the protocol it belongs to.
        let pairs = [
            (Role::ModbusServer, Protocol::Modbus),
            (Role::ModbusClient, Protocol::Modbus),
            (Role::Plc, Protocol::S7comm),
            (Role::S7Client, Protocol::S7commPlus),
            (Role::Dnp3Master, Protocol::Dnp3),
            (Role::Dnp3Outstation, Protocol::Dnp3),
            (Role::OpcUaServer, Protocol::OpcUa),
            (Role::OpcUaClient, Protocol::OpcUa),
            (Role::EngineeringStation, Protocol::S7comm),
        ];
        for (role, protocol) in pairs {
            asset.add_role(role, protocol);
        }
        let roles: Vec<Role> = asset.roles().collect();
        assert_eq!(roles, pairs.map(|(r, _)| r).to_vec());
        assert_eq!(roles.len(), Role::ALL.len());
        let protocols: Vec<Protocol> = asset.protocols().collect();
        assert_eq!(protocols, Protocol::ALL.to_vec());
    }

    #[test]
    fn function_counters_sorted() {
        let mut inv = Inventory::new(&CapacityLimits::default());
        let mut shed = Shed::default();
        let a = inv.asset_for([10, 0, 0, 1].into(), 1, &mut shed).unwrap();
        let b = inv.asset_for([10, 0, 0, 2].into(), 1, &mut shed).unwrap();
        let e = inv.edge_for(modbus_path(a, b), 1, &mut shed).unwrap();
        let edge = inv.edge_mut(e, 2).unwrap();
        edge.function(FunctionKey::Code(16)).requests += 1;
        edge.function(FunctionKey::Code(3)).requests += 2;
        edge.function(FunctionKey::Code(16)).requests += 1;
        edge.function(FunctionKey::Userdata {
            group: 4,
            subfunction: 1,
        })
        .requests += 1;
        let codes: Vec<_> = edge
            .functions
            .iter()
            .map(|(c, f)| (c.to_string(), f.requests))
            .collect();
        assert_eq!(
            codes,
            vec![("3".into(), 2), ("16".into(), 2), ("ud-4-1".into(), 1)]
        );
    }
}
