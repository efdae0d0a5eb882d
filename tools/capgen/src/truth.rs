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

use crate::session::Dnp3Session;
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
        self.edges.values().flat_map(|f| f.values()).sum()
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
