//! The exact truth a correct sensor must reproduce from a generated capture: Modbus requests per
//! function code on each (client, server, server port) edge.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use crate::tcp::TcpFlow;

/// (client, server, server port) → function code → requests counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Truth {
    edges: BTreeMap<(IpAddr, IpAddr, u16), BTreeMap<u8, u64>>,
}

impl Truth {
    /// Adds the requests of a tracked flow that a sensor must count (nothing for untracked flows
    /// or flows without counted requests, so non-Modbus traffic never makes an edge).
    pub(crate) fn add_flow(&mut self, flow: &TcpFlow) {
        let Some(ledger) = flow.ledger() else {
            return;
        };
        let mut counted = ledger.counted_requests().peekable();
        if counted.peek().is_none() {
            return;
        }
        let key = (flow.client.host.ip, flow.server.host.ip, flow.server.port);
        let functions = self.edges.entry(key).or_default();
        for function in counted {
            *functions.entry(function).or_default() += 1;
        }
    }

    /// Total counted requests over all edges.
    pub(crate) fn requests(&self) -> u64 {
        self.edges.values().flat_map(|f| f.values()).sum()
    }

    /// Counted requests of one edge and function code.
    #[cfg(test)]
    pub(crate) fn count(&self, client: IpAddr, server: IpAddr, port: u16, function: u8) -> u64 {
        self.edges
            .get(&(client, server, port))
            .and_then(|f| f.get(&function))
            .copied()
            .unwrap_or(0)
    }

    #[cfg(test)]
    pub(crate) fn edges(&self) -> &BTreeMap<(IpAddr, IpAddr, u16), BTreeMap<u8, u64>> {
        &self.edges
    }

    /// `{"edges":[{"client":…,"server":…,"server_port":…,"protocol":"modbus","functions":{"3":12}}]}`
    pub(crate) fn to_json(&self) -> Value {
        let edges: Vec<Value> = self
            .edges
            .iter()
            .map(|(&(client, server, port), functions)| {
                let functions: Map<String, Value> = functions
                    .iter()
                    .map(|(function, count)| (function.to_string(), json!(count)))
                    .collect();
                json!({
                    "client": client.to_string(),
                    "server": server.to_string(),
                    "server_port": port,
                    "protocol": "modbus",
                    "functions": functions,
                })
            })
            .collect();
        json!({ "edges": edges })
    }

    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let mut text =
            serde_json::to_string_pretty(&self.to_json()).context("serialising truth")?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}
