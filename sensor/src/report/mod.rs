//! What `analyze` prints: one report model, rendered as JSON or as a table.
//! The JSON layout is documented by `sensor/schema/analyze.schema.json`.

pub mod table;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, UNIX_EPOCH};

use faro_firmware_config::Config;
use faro_protocols::identity::IdentitySource;
use faro_protocols::s7;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::flow::TransportProto;
use crate::inventory::opcua::{OpcUaAsset, OpcUaEdge};
use crate::inventory::{Asset, Edge, FunctionKey, Inventory, Protocol, ServiceEdge};
use crate::stats::Stats;

/// Identifies the JSON layout; bumped on incompatible changes.
pub const SCHEMA_ID: &str = "faro-analyze/1";

/// One input file and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    /// Path as given.
    pub file: String,
    /// Link type, when the file opened.
    pub link_type: Option<&'static str>,
    /// Frames read from it.
    pub packets: u64,
    /// Why it could not be read (fully), if so.
    pub error: Option<String>,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// [`SCHEMA_ID`].
    pub schema: &'static str,
    /// The inputs, in the order given.
    pub inputs: Vec<InputReport>,
    /// Assets, ordered by address.
    pub assets: Vec<AssetReport>,
    /// Edges, ordered by client, server, port and protocol.
    pub edges: Vec<EdgeReport>,
    /// IT service edges (conversations no ICS dissector recognised), ordered
    /// by client, server, transport and port.
    pub services: Vec<ServiceReport>,
    /// Exposure findings, most severe first.
    pub findings: Vec<FindingReport>,
    /// Findings the configuration silenced (not listed).
    pub findings_silenced: u64,
    /// Counters.
    pub stats: Stats,
}

/// A finding as reported.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    /// Rule id.
    pub rule: &'static str,
    /// The rule's title.
    pub title: &'static str,
    /// `info`, `low`, `medium`, `high` or `critical`.
    pub severity: &'static str,
    /// MITRE ATT&CK for ICS technique ids.
    pub attack: &'static [&'static str],
    /// What to do about it.
    pub remediation: &'static str,
    /// The exposure factor it feeds: `unauthenticated_control`,
    /// `dangerous_function`, `exposed_configuration`, `reachability` or `activity`.
    pub exposure: &'static str,
    /// The asset it concerns (IP address), when about an asset.
    pub asset: Option<String>,
    /// The edge it concerns, when about an edge.
    pub edge: Option<EdgeRef>,
    /// What was seen.
    pub evidence: Evidence,
}

/// Names an edge.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeRef {
    /// Client IP.
    pub client: String,
    /// Server IP.
    pub server: String,
    /// Server port.
    pub server_port: u16,
    /// Protocol name.
    pub protocol: &'static str,
}

/// The evidence of a finding.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// RFC 3339, capture time of the first match.
    pub first_seen: String,
    /// RFC 3339, capture time of the last match.
    pub last_seen: String,
    /// Matches.
    pub count: u64,
    /// One flow that carried it: `tcp 10.0.0.1:50000 -> 10.0.0.2:502`.
    pub sample_flow: Option<String>,
    /// Decoded values that matched (function, object, setting, certificate…).
    pub values: Vec<String>,
}

/// An asset as reported.
#[derive(Debug, Serialize)]
pub struct AssetReport {
    /// IP address.
    pub ip: String,
    /// MAC address, `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<String>,
    /// VLAN ids.
    pub vlans: Vec<u16>,
    /// DNP3 link addresses.
    pub dnp3_addresses: Vec<u16>,
    /// Observed roles.
    pub roles: Vec<&'static str>,
    /// Protocols spoken.
    pub protocols: Vec<&'static str>,
    /// Identity attributes.
    pub identity: BTreeMap<String, String>,
    /// For each identity attribute, the message it came from (an
    /// [`faro_protocols::identity::IdentitySource`] name).
    pub identity_sources: BTreeMap<String, &'static str>,
    /// Security-relevant device state.
    pub posture: BTreeMap<String, String>,
    /// OPC UA: endpoints offered and asked for, certificates.
    pub opcua: Option<OpcUaAssetReport>,
    /// What the configuration says of it, when it names it.
    pub known: Option<KnownReport>,
    /// The configured zone its address falls in.
    pub zone: Option<ZoneReport>,
    /// RFC 3339, capture time.
    pub first_seen: String,
    /// RFC 3339, capture time.
    pub last_seen: String,
}

/// A known asset's entry in the configuration.
#[derive(Debug, Serialize)]
pub struct KnownReport {
    /// The operator's name for it.
    pub name: String,
    /// Who is responsible for it.
    pub owner: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub criticality: Option<&'static str>,
    /// The role the configuration gives it.
    pub role: Option<&'static str>,
}

/// A configured zone.
#[derive(Debug, Serialize)]
pub struct ZoneReport {
    /// Zone name.
    pub name: String,
    /// Purdue level: `0` … `5`, `3.5` for the DMZ.
    pub purdue_level: &'static str,
    /// `low`, `medium`, `high` or `critical`.
    pub criticality: &'static str,
}

/// An asset's OPC UA details, with what its endpoints offer summed up.
#[derive(Debug, Serialize)]
pub struct OpcUaAssetReport {
    /// Endpoints, endpoint URLs, certificates, discovered servers.
    #[serde(flatten)]
    pub details: OpcUaAsset,
    /// Security modes the endpoints offer.
    pub security_modes: BTreeSet<String>,
    /// Security policy URIs the endpoints offer.
    pub security_policies: BTreeSet<String>,
    /// User token types the endpoints accept.
    pub token_types: BTreeSet<String>,
}

/// Counters of one function on an edge, with its name.
#[derive(Debug, Serialize)]
pub struct FunctionReport {
    /// The function as keyed in `functions`: a decimal code, or `ud-<group>-<subfunction>`.
    pub function: String,
    /// The specification's name, when the code is assigned.
    pub name: Option<&'static str>,
    /// Requests.
    pub requests: u64,
    /// Normal responses.
    pub responses: u64,
    /// Exception responses.
    pub exceptions: u64,
}

/// Address ranges of one unit, table and access kind.
#[derive(Debug, Serialize)]
pub struct AccessReport {
    /// Modbus unit id.
    pub unit: u8,
    /// Data table.
    pub table: &'static str,
    /// "read" or "write".
    pub access: &'static str,
    /// Inclusive `[start, end]` address ranges.
    pub ranges: Vec<[u32; 2]>,
}

/// Function → request count, serialised as a JSON object in function order
/// (decimal codes numerically, then S7 userdata keys).
#[derive(Debug)]
pub struct RequestCounts(pub Vec<(FunctionKey, u64)>);

impl Serialize for RequestCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, count) in &self.0 {
            map.serialize_entry(&key.to_string(), count)?;
        }
        map.end()
    }
}

/// An edge as reported.
#[derive(Debug, Serialize)]
pub struct EdgeReport {
    /// Client IP.
    pub client: String,
    /// Server IP.
    pub server: String,
    /// Server port.
    pub server_port: u16,
    /// "tcp" or "udp".
    pub transport: &'static str,
    /// Protocol name.
    pub protocol: &'static str,
    /// Function (decimal code, or `ud-<group>-<subfunction>`) → requests.
    pub functions: RequestCounts,
    /// Per-function request, response and exception counts.
    pub function_details: Vec<FunctionReport>,
    /// Address ranges read and written.
    pub accesses: Vec<AccessReport>,
    /// Protocol anomalies by name.
    pub anomalies: BTreeMap<&'static str, u64>,
    /// Protocol objects requests named, with counts (S7: SZL lists read).
    pub objects: BTreeMap<String, u64>,
    /// Connections that carried it.
    pub flows: u64,
    /// The session ran inside TLS.
    pub protected: bool,
    /// DNP3: Secure Authentication seen on the association (null for other protocols).
    pub secure_authentication: Option<bool>,
    /// OPC UA: security policies, modes and identity tokens used (null for other protocols).
    pub opcua: Option<OpcUaEdge>,
    /// RFC 3339, capture time.
    pub first_seen: String,
    /// RFC 3339, capture time.
    pub last_seen: String,
}

/// Connections of a service edge by what the client's first bytes showed.
#[derive(Debug, Serialize)]
pub struct ChannelCounts {
    /// A TLS ClientHello, or RDP asking for TLS or CredSSP.
    pub tls: u64,
    /// Readable bytes: an SSH banner, standard RDP security, text or telnet negotiation.
    pub cleartext: u64,
    /// Nothing recognisable, or the client sent nothing.
    pub unknown: u64,
}

/// An IT service edge as reported.
#[derive(Debug, Serialize)]
pub struct ServiceReport {
    /// Client IP.
    pub client: String,
    /// Server IP.
    pub server: String,
    /// Server port.
    pub server_port: u16,
    /// "tcp" or "udp".
    pub transport: &'static str,
    /// The service name (`rdp`, `ssh`, …, else `tcp/<port>` or `udp/<port>`).
    pub protocol: String,
    /// Connections that carried it.
    pub flows: u64,
    /// Connections by channel.
    pub channels: ChannelCounts,
    /// RFC 3339, capture time.
    pub first_seen: String,
    /// RFC 3339, capture time.
    pub last_seen: String,
}

fn transport_name(transport: TransportProto) -> &'static str {
    match transport {
        TransportProto::Tcp => "tcp",
        TransportProto::Udp => "udp",
    }
}

fn service_report(edge: &ServiceEdge) -> ServiceReport {
    let [tls, cleartext, unknown] = edge.channels;
    ServiceReport {
        client: edge.client.to_string(),
        server: edge.server.to_string(),
        server_port: edge.server_port,
        transport: transport_name(edge.transport),
        protocol: edge.protocol().into_owned(),
        flows: edge.flows,
        channels: ChannelCounts {
            tls,
            cleartext,
            unknown,
        },
        first_seen: format_time(edge.first_seen),
        last_seen: format_time(edge.last_seen),
    }
}

/// RFC 3339 with microseconds, UTC.
pub fn format_time(nanos: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_nanos(nanos)).to_string()
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// The specification's name of a function.
pub fn function_name(protocol: Protocol, key: FunctionKey) -> Option<&'static str> {
    match (protocol, key) {
        (Protocol::Modbus, FunctionKey::Code(code)) => u8::try_from(code)
            .ok()
            .and_then(|c| faro_protocols::modbus::FunctionCode(c).name()),
        (Protocol::S7comm, FunctionKey::Code(code)) => u8::try_from(code)
            .ok()
            .and_then(|c| s7::comm::Function(c).name()),
        (Protocol::S7comm, FunctionKey::Userdata { group, subfunction }) => {
            s7::comm::subfunction_name(s7::comm::UserdataGroup(group), subfunction)
        }
        (Protocol::S7commPlus, FunctionKey::Code(code)) => u16::try_from(code)
            .ok()
            .and_then(|c| s7::plus::Function(c).name()),
        (Protocol::OpcUa, FunctionKey::Code(code)) => {
            faro_protocols::opcua::service::ServiceId(code).service()
        }
        _ => None,
    }
}

impl Report {
    /// Builds the report from an analysis, its configuration and its findings
    /// (as listed by [`crate::findings::Findings::reports`]).
    pub fn new(
        inputs: Vec<InputReport>,
        inventory: &Inventory,
        stats: Stats,
        findings: (Vec<FindingReport>, u64),
        config: &Config,
    ) -> Self {
        let mut assets: Vec<&Asset> = inventory.assets().iter().collect();
        assets.sort_by_key(|a| a.ip);
        let shared_macs = inventory.shared_macs();
        let assets = assets
            .into_iter()
            .map(|asset| asset_report(asset, config, &shared_macs))
            .collect();
        let mut edges: Vec<EdgeReport> = inventory
            .edges()
            .iter()
            .filter_map(|e| edge_report(inventory, e))
            .collect();
        edges.sort_by(|a, b| {
            let key = |e: &EdgeReport| {
                (
                    e.client.parse::<std::net::IpAddr>().ok(),
                    e.server.parse::<std::net::IpAddr>().ok(),
                    e.server_port,
                    e.protocol,
                )
            };
            key(a).cmp(&key(b))
        });
        let mut services: Vec<&ServiceEdge> = inventory.services().iter().collect();
        services.sort_by_key(|e| (e.client, e.server, e.transport, e.server_port));
        let services = services.into_iter().map(service_report).collect();
        Report {
            schema: SCHEMA_ID,
            inputs,
            assets,
            edges,
            services,
            findings: findings.0,
            findings_silenced: findings.1,
            stats,
        }
    }
}

/// The identity attribute of the MAC vendor hint ([`Asset::mac_vendor_hint`]).
pub const MAC_VENDOR: &str = "mac_vendor";

fn asset_report(asset: &Asset, config: &Config, shared_macs: &HashSet<[u8; 6]>) -> AssetReport {
    let mut identity = asset.identity.clone();
    let mut identity_sources: BTreeMap<String, &'static str> = asset
        .identity_sources
        .iter()
        .map(|(name, source)| (name.clone(), source.name()))
        .collect();
    if let Some(vendor) = asset.mac_vendor_hint(shared_macs) {
        identity.insert(MAC_VENDOR.to_owned(), vendor.to_owned());
        identity_sources.insert(MAC_VENDOR.to_owned(), IdentitySource::Oui.name());
    }
    AssetReport {
        ip: asset.ip.to_string(),
        mac: asset.mac.map(format_mac),
        vlans: asset.vlans.clone(),
        dnp3_addresses: asset.dnp3_addresses.clone(),
        roles: asset.roles().map(|r| r.name()).collect(),
        protocols: asset.protocols().map(|p| p.name()).collect(),
        identity,
        identity_sources,
        posture: asset.posture.clone(),
        opcua: asset.opcua.as_deref().map(|opcua| OpcUaAssetReport {
            details: opcua.clone(),
            security_modes: opcua
                .security_modes()
                .into_iter()
                .map(String::from)
                .collect(),
            security_policies: opcua
                .security_policies()
                .into_iter()
                .map(String::from)
                .collect(),
            token_types: opcua.token_types().into_iter().map(String::from).collect(),
        }),
        known: config
            .known_asset(asset.ip, asset.mac)
            .map(|known| KnownReport {
                name: known.name.clone(),
                owner: known.owner.clone(),
                criticality: known.criticality.map(|c| c.name()),
                role: known.role.map(|r| r.name()),
            }),
        zone: config.zone_of(asset.ip).map(|zone| ZoneReport {
            name: zone.name.clone(),
            purdue_level: zone.purdue_level.name(),
            criticality: zone.criticality.name(),
        }),
        first_seen: format_time(asset.first_seen),
        last_seen: format_time(asset.last_seen),
    }
}

fn edge_report(inventory: &Inventory, edge: &Edge) -> Option<EdgeReport> {
    let client = inventory.asset(edge.client)?;
    let server = inventory.asset(edge.server)?;
    Some(EdgeReport {
        client: client.ip.to_string(),
        server: server.ip.to_string(),
        server_port: edge.server_port,
        transport: match edge.transport {
            TransportProto::Tcp => "tcp",
            TransportProto::Udp => "udp",
        },
        protocol: edge.protocol.name(),
        functions: RequestCounts(
            edge.functions
                .iter()
                .filter(|(_, f)| f.requests > 0)
                .map(|(code, f)| (*code, f.requests))
                .collect(),
        ),
        function_details: edge
            .functions
            .iter()
            .map(|(key, f)| FunctionReport {
                function: key.to_string(),
                name: function_name(edge.protocol, *key),
                requests: f.requests,
                responses: f.responses,
                exceptions: f.exceptions,
            })
            .collect(),
        accesses: edge
            .accesses
            .iter()
            .map(|(key, ranges)| AccessReport {
                unit: key.unit,
                table: key.table,
                access: key.access,
                ranges: ranges.ranges().iter().map(|&(s, e)| [s, e]).collect(),
            })
            .collect(),
        anomalies: edge.anomalies.clone(),
        objects: edge.objects.clone(),
        flows: edge.flows,
        protected: edge.protected,
        secure_authentication: edge.secure_authentication,
        opcua: edge
            .opcua
            .as_deref()
            .map(|opcua| opcua_edge_report(opcua, server.opcua.as_deref())),
        first_seen: format_time(edge.first_seen),
        last_seen: format_time(edge.last_seen),
    })
}

/// An edge's OPC UA details, with the modes of its secured channels resolved
/// from the server's endpoints (see [`OpcUaEdge::modes_with`]).
fn opcua_edge_report(edge: &OpcUaEdge, server: Option<&OpcUaAsset>) -> OpcUaEdge {
    OpcUaEdge {
        security_modes: edge.modes_with(server),
        ..edge.clone()
    }
}
