//! The exact truth a correct sensor must reproduce from a generated capture: requests per function
//! on each (client, server, server port) edge, keyed as the sensor's report keys them, the
//! identity strings the capture reveals about each device, and for DNP3 the object headers and
//! operated points of each edge, whether it carried Secure Authentication, and each address's
//! link addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use crate::opcua::{Application, Endpoint, MessageType, Mode, TokenType};
use crate::session::{Dnp3Session, OpcUaSession};
use crate::tcp::TcpFlow;

/// The application protocol of an edge, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) enum Protocol {
    #[default]
    Modbus,
    S7comm,
    Dnp3,
}

impl Protocol {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Modbus => "modbus",
            Protocol::S7comm => "s7comm",
            Protocol::Dnp3 => "dnp3",
        }
    }
}

/// What a DNP3 edge's `objects` count: an object header by group and variation, or one control
/// relay output block by its point index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ObjectKey {
    Header { group: u8, variation: u8 },
    Crob(u32),
}

impl fmt::Display for ObjectKey {
    /// `g12v1` or `crob-3`, as the report's `objects` object keys them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectKey::Header { group, variation } => write!(f, "g{group}v{variation}"),
            ObjectKey::Crob(index) => write!(f, "crob-{index}"),
        }
    }
}

/// The transport a DNP3 edge runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// What a DNP3 edge carries besides its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dnp3Edge {
    pub(crate) transport: Transport,
    /// Object headers and operated points of requests and responses together.
    pub(crate) objects: BTreeMap<ObjectKey, u64>,
    pub(crate) secure_authentication: bool,
}

/// What a request is counted under: a function code (Modbus function, S7comm Job parameter
/// function), or an S7comm userdata request's function group and subfunction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum FunctionKey {
    Code(u8),
    Userdata { group: u8, subfunction: u8 },
}

impl fmt::Display for FunctionKey {
    /// `3`, `240`, or `ud-4-1` (Read SZL), as the report's `functions` object keys them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FunctionKey::Code(code) => write!(f, "{code}"),
            FunctionKey::Userdata { group, subfunction } => write!(f, "ud-{group}-{subfunction}"),
        }
    }
}

/// (client, server, server port) of an edge.
pub(crate) type EdgeKey = (IpAddr, IpAddr, u16);

/// Edges and identities a sensor must report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Truth {
    edges: BTreeMap<(IpAddr, IpAddr, u16, Protocol), BTreeMap<FunctionKey, u64>>,
    /// Device address → identity attribute (as the report names it) → value.
    identity: BTreeMap<IpAddr, BTreeMap<&'static str, String>>,
    /// The DNP3 edges' objects, transport and Secure Authentication.
    dnp3: BTreeMap<EdgeKey, Dnp3Edge>,
    /// Device address → the DNP3 link addresses its frames show it using.
    addresses: BTreeMap<IpAddr, BTreeSet<u16>>,
    /// What an OPC UA capture must show; an OPC UA capture carries no other tracked protocol.
    pub(crate) opcua: OpcUaTruth,
}

impl Truth {
    /// Adds the requests of a tracked flow that a sensor must count (nothing for untracked flows
    /// or flows without counted requests, so traffic of no tracked protocol never makes an edge).
    pub(crate) fn add_flow(&mut self, flow: &TcpFlow) {
        let Some(ledger) = flow.ledger() else {
            return;
        };
        let mut counted = ledger.counted_requests().peekable();
        if counted.peek().is_none() {
            return;
        }
        let key = (
            flow.client.host.ip,
            flow.server.host.ip,
            flow.server.port,
            ledger.protocol(),
        );
        let functions = self.edges.entry(key).or_default();
        for function in counted {
            *functions.entry(function).or_default() += 1;
        }
    }

    /// Adds what a sensor must count of a DNP3 session: every application fragment whose link
    /// frames were all captured with good CRCs (requests by function, the object headers and
    /// operated points of requests and responses, Secure Authentication, the identity device
    /// attributes reveal), and the link addresses of every captured frame with good CRCs. The
    /// master is the edge's client. Nothing for an untracked session.
    pub(crate) fn add_dnp3(&mut self, session: &Dnp3Session) -> Result<()> {
        let (master, outstation) = session.ends();
        let key = (master.ip, outstation.ip, outstation.port);
        for frame in session.counted_frames() {
            let (source, destination) = if frame.from_master {
                (master.ip, outstation.ip)
            } else {
                (outstation.ip, master.ip)
            };
            for (device, address) in [(source, frame.source), (destination, frame.destination)] {
                if address < FIRST_RESERVED_ADDRESS {
                    self.addresses.entry(device).or_default().insert(address);
                }
            }
        }
        for fragment in session.counted_fragments() {
            let functions = self
                .edges
                .entry((key.0, key.1, key.2, Protocol::Dnp3))
                .or_default();
            if fragment.function.is_request() {
                *functions
                    .entry(FunctionKey::Code(fragment.function.0))
                    .or_default() += 1;
            }
            let edge = self.dnp3.entry(key).or_insert_with(|| Dnp3Edge {
                transport: session.transport(),
                objects: BTreeMap::new(),
                secure_authentication: false,
            });
            if edge.transport != session.transport() {
                anyhow::bail!("DNP3 edge {key:?} over both TCP and UDP");
            }
            for object in &fragment.objects {
                *edge.objects.entry(*object).or_default() += 1;
            }
            edge.secure_authentication |= fragment.function.is_secure_authentication()
                || fragment.objects.iter().any(|o| {
                    matches!(o, ObjectKey::Header { group, .. } if *group == SECURE_AUTHENTICATION_GROUP)
                });
            for (attribute, value) in &fragment.identity {
                self.add_identity(outstation.ip, attribute, value);
            }
        }
        Ok(())
    }

    /// Records that the capture shows `device`'s `attribute` (a report identity key) as `value`.
    pub(crate) fn add_identity(&mut self, device: IpAddr, attribute: &'static str, value: &str) {
        self.identity
            .entry(device)
            .or_default()
            .insert(attribute, value.to_owned());
    }

    /// Total counted requests over all edges.
    pub(crate) fn requests(&self) -> u64 {
        self.edges.values().flat_map(|f| f.values()).sum::<u64>() + self.opcua.requests()
    }

    /// Counted Modbus requests of one edge and function code.
    #[cfg(test)]
    pub(crate) fn count(&self, client: IpAddr, server: IpAddr, port: u16, function: u8) -> u64 {
        self.edges
            .get(&(client, server, port, Protocol::Modbus))
            .and_then(|f| f.get(&FunctionKey::Code(function)))
            .copied()
            .unwrap_or(0)
    }

    /// The Modbus edges, function codes as numbers.
    #[cfg(test)]
    pub(crate) fn modbus_edges(&self) -> BTreeMap<EdgeKey, BTreeMap<u8, u64>> {
        self.edges
            .iter()
            .filter(|((.., protocol), _)| *protocol == Protocol::Modbus)
            .map(|(&(client, server, port, _), functions)| {
                let codes = functions
                    .iter()
                    .filter_map(|(key, &count)| match key {
                        FunctionKey::Code(code) => Some((*code, count)),
                        FunctionKey::Userdata { .. } => None,
                    })
                    .collect();
                ((client, server, port), codes)
            })
            .collect()
    }

    /// The DNP3 edges' objects, transport and Secure Authentication.
    #[cfg(test)]
    pub(crate) fn dnp3_edges(&self) -> &BTreeMap<EdgeKey, Dnp3Edge> {
        &self.dnp3
    }

    /// The DNP3 link addresses of each device.
    #[cfg(test)]
    pub(crate) fn addresses(&self) -> &BTreeMap<IpAddr, BTreeSet<u16>> {
        &self.addresses
    }

    /// The edges of `protocol`.
    #[cfg(test)]
    pub(crate) fn edges_of(
        &self,
        protocol: Protocol,
    ) -> BTreeMap<EdgeKey, BTreeMap<FunctionKey, u64>> {
        self.edges
            .iter()
            .filter(|((.., p), _)| *p == protocol)
            .map(|(&(client, server, port, _), functions)| {
                ((client, server, port), functions.clone())
            })
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn identity(&self) -> &BTreeMap<IpAddr, BTreeMap<&'static str, String>> {
        &self.identity
    }

    /// `{"edges":[{"client":…,"server":…,"server_port":…,"protocol":"modbus","functions":{"3":12}}]}`,
    /// plus `"identity":{"<ip>":{"order_number":…}}` when the capture identifies devices. DNP3
    /// edges also carry `"transport"`, `"objects":{"g60v1":5,"crob-3":2}` and
    /// `"secure_authentication"`, and `"addresses":{"<ip>":[1]}` lists link addresses.
    pub(crate) fn to_json(&self) -> Value {
        if !self.opcua.is_empty() {
            return self.opcua.to_json();
        }
        let edges: Vec<Value> = self
            .edges
            .iter()
            .map(|(&(client, server, port, protocol), functions)| {
                let functions: Map<String, Value> = functions
                    .iter()
                    .map(|(function, count)| (function.to_string(), json!(count)))
                    .collect();
                let mut edge = json!({
                    "client": client.to_string(),
                    "server": server.to_string(),
                    "server_port": port,
                    "protocol": protocol.name(),
                    "functions": functions,
                });
                if let Some(dnp3) = self.dnp3.get(&(client, server, port))
                    && protocol == Protocol::Dnp3
                    && let Some(object) = edge.as_object_mut()
                {
                    let objects: Map<String, Value> = dnp3
                        .objects
                        .iter()
                        .map(|(key, count)| (key.to_string(), json!(count)))
                        .collect();
                    object.insert("transport".to_owned(), json!(dnp3.transport.name()));
                    object.insert("objects".to_owned(), Value::Object(objects));
                    object.insert(
                        "secure_authentication".to_owned(),
                        json!(dnp3.secure_authentication),
                    );
                }
                edge
            })
            .collect();
        let mut out = json!({ "edges": edges });
        if !self.addresses.is_empty()
            && let Some(object) = out.as_object_mut()
        {
            let addresses: Map<String, Value> = self
                .addresses
                .iter()
                .map(|(device, addresses)| (device.to_string(), json!(addresses)))
                .collect();
            object.insert("addresses".to_owned(), Value::Object(addresses));
        }
        if !self.identity.is_empty()
            && let Some(object) = out.as_object_mut()
        {
            let identity: Map<String, Value> = self
                .identity
                .iter()
                .map(|(device, attributes)| {
                    let attributes: Map<String, Value> = attributes
                        .iter()
                        .map(|(&name, value)| (name.to_owned(), json!(value)))
                        .collect();
                    (device.to_string(), Value::Object(attributes))
                })
                .collect();
            object.insert("identity".to_owned(), Value::Object(identity));
        }
        out
    }

    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let mut text =
            serde_json::to_string_pretty(&self.to_json()).context("serialising truth")?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// What one OPC UA (client, server, server port) edge carries, as a sensor must count it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OpcUaEdge {
    /// Chunks by message type (a message in three chunks counts three).
    pub(crate) message_types: BTreeMap<MessageType, u64>,
    /// Request encoding id → requests sent (a chunked request counts once).
    pub(crate) requests: BTreeMap<u32, u64>,
    /// Request encoding id → responses with a Good or Uncertain service result.
    pub(crate) responses: BTreeMap<u32, u64>,
    /// Request encoding id → ServiceFaults and responses with a Bad service result.
    pub(crate) faults: BTreeMap<u32, u64>,
    /// Security policy URIs of the OPNs.
    pub(crate) policies: BTreeSet<String>,
    /// Security modes: of OPN requests on None channels, else of the server's endpoint for the
    /// channel's policy.
    pub(crate) modes: BTreeSet<Mode>,
    /// Identity token types of ActivateSession requests.
    pub(crate) token_types: BTreeSet<TokenType>,
    /// UserName tokens sent with no encryption algorithm.
    pub(crate) cleartext_passwords: u64,
}

impl OpcUaEdge {
    fn merge(&mut self, other: &OpcUaEdge) {
        for (mine, theirs) in [
            (&mut self.requests, &other.requests),
            (&mut self.responses, &other.responses),
            (&mut self.faults, &other.faults),
        ] {
            for (id, count) in theirs {
                *mine.entry(*id).or_default() += count;
            }
        }
        for (kind, count) in &other.message_types {
            *self.message_types.entry(*kind).or_default() += count;
        }
        self.policies.extend(other.policies.iter().cloned());
        self.modes.extend(other.modes.iter().copied());
        self.token_types.extend(other.token_types.iter().copied());
        self.cleartext_passwords += other.cleartext_passwords;
    }
}

/// One endpoint a server advertises, as the truth lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct EndpointTruth {
    url: String,
    policy: String,
    mode: Mode,
    token_types: BTreeSet<TokenType>,
    security_level: u8,
}

/// What the capture shows of an OPC UA server: its ApplicationDescription, its endpoints and
/// the certificates it sends (SHA-256, lowercase hex).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct OpcUaServer {
    application_uri: String,
    product_uri: String,
    application_name: String,
    application_type: u32,
    endpoint_urls: BTreeSet<String>,
    endpoints: BTreeSet<EndpointTruth>,
    certificates: BTreeSet<String>,
}

/// What the capture shows of an OPC UA client: the ApplicationDescription of its
/// CreateSession (absent when it sent none that can be read) and its certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct OpcUaClient {
    application_uri: Option<String>,
    application_name: Option<String>,
    certificates: BTreeSet<String>,
}

/// The truth of an OPC UA capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OpcUaTruth {
    edges: BTreeMap<EdgeKey, OpcUaEdge>,
    servers: BTreeMap<(IpAddr, u16), OpcUaServer>,
    clients: BTreeMap<IpAddr, OpcUaClient>,
}

/// SHA-256 of a DER certificate, as the truth lists it.
fn certificate_digest(der: &[u8]) -> Result<String> {
    let certificate = faro_protocols::opcua::certificate::parse(der)
        .map_err(|e| anyhow::anyhow!("certificate the scenario sends: {e}"))?;
    Ok(faro_protocols::opcua::certificate::hex(&certificate.sha256))
}

impl OpcUaTruth {
    fn is_empty(&self) -> bool {
        self.edges.is_empty() && self.servers.is_empty() && self.clients.is_empty()
    }

    fn requests(&self) -> u64 {
        self.edges
            .values()
            .flat_map(|edge| edge.requests.values())
            .sum()
    }

    /// Adds what a session's edge carried.
    pub(crate) fn add_session(&mut self, session: &OpcUaSession) {
        let flow = &session.flow;
        let key = (flow.client.host.ip, flow.server.host.ip, flow.server.port);
        self.edges.entry(key).or_default().merge(session.ledger());
    }

    /// Records the ApplicationDescription a server at `ip`:`port` sends.
    pub(crate) fn add_server(&mut self, ip: IpAddr, port: u16, application: &Application<'_>) {
        let server = self.servers.entry((ip, port)).or_default();
        server.application_uri = application.uri.to_owned();
        server.product_uri = application.product_uri.to_owned();
        server.application_name = application.name.to_owned();
        server.application_type = application.kind;
    }

    /// Records endpoints a server at `ip`:`port` advertises, with their certificates.
    pub(crate) fn add_endpoints(
        &mut self,
        ip: IpAddr,
        port: u16,
        endpoints: &[Endpoint<'_>],
    ) -> Result<()> {
        for endpoint in endpoints {
            self.add_server(ip, port, &endpoint.server);
            if let Some(der) = endpoint.certificate {
                self.add_server_certificate(ip, port, der)?;
            }
            let server = self.servers.entry((ip, port)).or_default();
            server.endpoint_urls.insert(endpoint.url.to_owned());
            server.endpoints.insert(EndpointTruth {
                url: endpoint.url.to_owned(),
                policy: endpoint.policy.to_owned(),
                mode: endpoint.mode,
                token_types: endpoint.tokens.iter().copied().collect(),
                security_level: endpoint.security_level,
            });
        }
        Ok(())
    }

    /// Records a certificate a server sends (CreateSession, OPN).
    pub(crate) fn add_server_certificate(
        &mut self,
        ip: IpAddr,
        port: u16,
        der: &[u8],
    ) -> Result<()> {
        let digest = certificate_digest(der)?;
        self.servers
            .entry((ip, port))
            .or_default()
            .certificates
            .insert(digest);
        Ok(())
    }

    /// Records the ApplicationDescription a client sends in CreateSession.
    pub(crate) fn add_client(&mut self, ip: IpAddr, application: &Application<'_>) {
        let client = self.clients.entry(ip).or_default();
        client.application_uri = Some(application.uri.to_owned());
        client.application_name = Some(application.name.to_owned());
    }

    /// Records the certificates a client sends (CreateSession, or an OPN's chain).
    pub(crate) fn add_client_certificates(&mut self, ip: IpAddr, ders: &[&[u8]]) -> Result<()> {
        for der in ders {
            let digest = certificate_digest(der)?;
            self.clients
                .entry(ip)
                .or_default()
                .certificates
                .insert(digest);
        }
        Ok(())
    }

    /// See the OPC UA scenario's module documentation for the layout.
    pub(crate) fn to_json(&self) -> Value {
        let mut message_types: BTreeMap<MessageType, u64> =
            MessageType::ALL.iter().map(|&kind| (kind, 0)).collect();
        for edge in self.edges.values() {
            for (kind, count) in &edge.message_types {
                *message_types.entry(*kind).or_default() += count;
            }
        }
        let message_types: Map<String, Value> = message_types
            .iter()
            .map(|(kind, count)| (kind.code().to_owned(), json!(count)))
            .collect();
        let counts = |counts: &BTreeMap<u32, u64>| -> Map<String, Value> {
            counts
                .iter()
                .map(|(id, count)| (id.to_string(), json!(count)))
                .collect()
        };
        let edges: Vec<Value> = self
            .edges
            .iter()
            .map(|(&(client, server, port), edge)| {
                json!({
                    "client": client.to_string(),
                    "server": server.to_string(),
                    "server_port": port,
                    "requests": counts(&edge.requests),
                    "responses": counts(&edge.responses),
                    "faults": counts(&edge.faults),
                    "policies": edge.policies,
                    "modes": edge.modes.iter().map(|m| m.name()).collect::<Vec<_>>(),
                    "token_types": edge.token_types.iter().map(|t| t.name()).collect::<Vec<_>>(),
                    "cleartext_passwords": edge.cleartext_passwords,
                })
            })
            .collect();
        let servers: Vec<Value> = self
            .servers
            .iter()
            .map(|(&(ip, port), server)| {
                let endpoints: Vec<Value> = server
                    .endpoints
                    .iter()
                    .map(|e| {
                        json!({
                            "url": e.url,
                            "mode": e.mode.name(),
                            "policy": e.policy,
                            "token_types": e.token_types.iter().map(|t| t.name()).collect::<Vec<_>>(),
                            "security_level": e.security_level,
                        })
                    })
                    .collect();
                json!({
                    "ip": ip.to_string(),
                    "port": port,
                    "application_uri": server.application_uri,
                    "product_uri": server.product_uri,
                    "application_name": server.application_name,
                    "application_type": match server.application_type {
                        0 => "server",
                        1 => "client",
                        2 => "client_and_server",
                        _ => "discovery_server",
                    },
                    "endpoint_urls": server.endpoint_urls,
                    "endpoints": endpoints,
                    "certificates": server.certificates,
                })
            })
            .collect();
        let clients: Vec<Value> = self
            .clients
            .iter()
            .map(|(ip, client)| {
                json!({
                    "ip": ip.to_string(),
                    "application_uri": client.application_uri,
                    "application_name": client.application_name,
                    "certificates": client.certificates,
                })
            })
            .collect();
        json!({
            "message_types": message_types,
            "edges": edges,
            "servers": servers,
            "clients": clients,
        })
    }
}

/// Group 120: Secure Authentication.
const SECURE_AUTHENTICATION_GROUP: u8 = 120;

/// Link addresses from here up are broadcast or reserved, never a device's own.
const FIRST_RESERVED_ADDRESS: u16 = 0xFFF0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_keys_print_as_the_report_keys_them() {
        assert_eq!(FunctionKey::Code(240).to_string(), "240");
        let read_szl = FunctionKey::Userdata {
            group: 4,
            subfunction: 1,
        };
        assert_eq!(read_szl.to_string(), "ud-4-1");
        assert!(FunctionKey::Code(255) < read_szl);
    }

    #[test]
    fn object_keys_print_as_the_report_keys_them() {
        let crob = ObjectKey::Header {
            group: 12,
            variation: 1,
        };
        assert_eq!(crob.to_string(), "g12v1");
        assert_eq!(ObjectKey::Crob(7).to_string(), "crob-7");
        // Modbus and S7 edges print as they always did: no DNP3 fields, no addresses.
        let json = Truth::default().to_json();
        assert_eq!(json, json!({ "edges": [] }));
    }

    #[test]
    fn identity_only_when_there_is_one() {
        let mut truth = Truth::default();
        assert!(truth.to_json().get("identity").is_none());
        let plc: IpAddr = "10.0.0.1".parse().unwrap();
        truth.add_identity(plc, "serial_number", "S C-C2UR28922012");
        assert_eq!(
            truth.to_json()["identity"]["10.0.0.1"]["serial_number"],
            "S C-C2UR28922012"
        );
    }
}
