//! The exact truth a correct sensor must reproduce from a generated capture: requests per function
//! on each (client, server, server port) edge, keyed as the sensor's report keys them, and the
//! identity strings the capture reveals about each device.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use crate::tcp::TcpFlow;

/// The application protocol of an edge, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) enum Protocol {
    #[default]
    Modbus,
    S7comm,
}

impl Protocol {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Modbus => "modbus",
            Protocol::S7comm => "s7comm",
        }
    }
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
#[cfg(test)]
pub(crate) type EdgeKey = (IpAddr, IpAddr, u16);

/// Edges and identities a sensor must report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Truth {
    edges: BTreeMap<(IpAddr, IpAddr, u16, Protocol), BTreeMap<FunctionKey, u64>>,
    /// Device address → identity attribute (as the report names it) → value.
    identity: BTreeMap<IpAddr, BTreeMap<&'static str, String>>,
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
    /// plus `"identity":{"<ip>":{"order_number":…}}` when the capture identifies devices.
    pub(crate) fn to_json(&self) -> Value {
        let edges: Vec<Value> = self
            .edges
            .iter()
            .map(|(&(client, server, port, protocol), functions)| {
                let functions: Map<String, Value> = functions
                    .iter()
                    .map(|(function, count)| (function.to_string(), json!(count)))
                    .collect();
                json!({
                    "client": client.to_string(),
                    "server": server.to_string(),
                    "server_port": port,
                    "protocol": protocol.name(),
                    "functions": functions,
                })
            })
            .collect();
        let mut out = json!({ "edges": edges });
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
