//! Summaries for the collector: every interval, what changed in the inventory
//! and the findings since the last summary. Each item is sent whole, with
//! cumulative counts, so the collector's merge (keep the values of the
//! highest sequence) is idempotent and a lost or repeated summary never skews
//! a count.

use std::collections::HashMap;
use std::hash::BuildHasher;

use faro_protocols::uplink::{
    self, AssetDelta, EdgeDelta, EdgeKey, FindingDelta, KnownRef, SCHEMA, SigningKey, Summary,
    ZoneRef,
};

use crate::report::{AssetReport, EdgeReport, FindingReport, Report, ServiceReport, format_time};

/// What was last sent of each item, as a hash of its content.
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    sent: HashMap<String, u64, foldhash::fast::FixedState>,
    window_start: Option<u64>,
}

fn digest(value: &impl serde::Serialize) -> u64 {
    // A fixed-seed hash of the item's JSON: equal content, equal digest.
    let json = serde_json::to_vec(value).unwrap_or_default();
    foldhash::fast::FixedState::with_seed(0x0FA2_0C49).hash_one(json)
}

impl SummaryBuilder {
    /// A builder that has sent nothing yet.
    pub fn new() -> Self {
        SummaryBuilder::default()
    }

    /// Items sent so far (one entry per asset, edge and finding).
    pub fn tracked(&self) -> usize {
        self.sent.len()
    }

    /// True when `value` under `key` differs from what was last sent; remembers it.
    fn changed(&mut self, key: String, value: &impl serde::Serialize) -> bool {
        let digest = digest(value);
        match self.sent.insert(key, digest) {
            Some(previous) => previous != digest,
            None => true,
        }
    }

    /// The summary of the window ending at `window_end` (capture time,
    /// nanoseconds): every asset, edge and finding of `report` new or changed
    /// since the previous summary, and the counters as they stand. Its
    /// sequence is 0 until the spool gives it one, when it is first offered
    /// to the collector.
    pub fn build(
        &mut self,
        sensor_id: &str,
        site: &str,
        report: &Report,
        window_end: u64,
    ) -> Summary {
        let window_start = self.window_start.unwrap_or(window_end);
        self.window_start = Some(window_end);
        let mut assets = Vec::new();
        for asset in &report.assets {
            let delta = asset_delta(asset);
            if self.changed(format!("asset {}", asset.ip), &delta) {
                assets.push(delta);
            }
        }
        let mut edges = Vec::new();
        for edge in &report.edges {
            let delta = edge_delta(edge);
            let key = format!(
                "edge {} {} {} {} {}",
                edge.client, edge.server, edge.server_port, edge.transport, edge.protocol
            );
            if self.changed(key, &delta) {
                edges.push(delta);
            }
        }
        for service in &report.services {
            let delta = service_delta(service);
            let key = format!(
                "edge {} {} {} {} {}",
                service.client,
                service.server,
                service.server_port,
                service.transport,
                service.protocol
            );
            if self.changed(key, &delta) {
                edges.push(delta);
            }
        }
        let mut findings = Vec::new();
        for finding in &report.findings {
            let delta = finding_delta(finding);
            let subject = match (&delta.asset, &delta.edge) {
                (Some(asset), _) => asset.clone(),
                (None, Some(e)) => {
                    format!("{} {} {} {}", e.client, e.server, e.server_port, e.protocol)
                }
                (None, None) => String::new(),
            };
            if self.changed(format!("finding {} {subject}", delta.rule), &delta) {
                findings.push(delta);
            }
        }
        Summary {
            schema: SCHEMA.to_owned(),
            sensor_id: sensor_id.to_owned(),
            site: site.to_owned(),
            sequence: 0,
            window_start: format_time(window_start),
            window_end: format_time(window_end),
            assets,
            edges,
            findings,
            counters: serde_json::to_value(&report.stats).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The signed envelope of a summary: its JSON in a JWS (EdDSA) under the
/// sensor's key, `kid` naming it.
pub fn seal(summary: &Summary, key: &SigningKey, kid: &str) -> String {
    // A Summary is strings, numbers and maps with string keys: it always
    // encodes; were it not to, the collector refuses the empty payload for
    // good and the spool gives the sequence back.
    let json = serde_json::to_vec(summary).unwrap_or_default();
    uplink::sign(&json, key, kid)
}

fn asset_delta(asset: &AssetReport) -> AssetDelta {
    AssetDelta {
        ip: asset.ip.clone(),
        mac: asset.mac.clone(),
        roles: asset.roles.iter().map(|r| (*r).to_owned()).collect(),
        protocols: asset.protocols.iter().map(|p| (*p).to_owned()).collect(),
        identity: asset.identity.clone(),
        identity_sources: asset
            .identity_sources
            .iter()
            .map(|(name, source)| (name.clone(), (*source).to_owned()))
            .collect(),
        posture: asset.posture.clone(),
        first_seen: asset.first_seen.clone(),
        last_seen: asset.last_seen.clone(),
        zone: asset.zone.as_ref().map(|z| ZoneRef {
            name: z.name.clone(),
            purdue_level: z.purdue_level.to_owned(),
            criticality: z.criticality.to_owned(),
        }),
        known: asset.known.as_ref().map(|k| KnownRef {
            name: k.name.clone(),
            owner: k.owner.clone(),
            criticality: k.criticality.map(str::to_owned),
            role: k.role.map(str::to_owned),
        }),
    }
}

fn edge_delta(edge: &EdgeReport) -> EdgeDelta {
    EdgeDelta {
        client: edge.client.clone(),
        server: edge.server.clone(),
        server_port: edge.server_port,
        transport: edge.transport.to_owned(),
        protocol: edge.protocol.to_owned(),
        functions: edge
            .functions
            .0
            .iter()
            .map(|(key, count)| (key.to_string(), *count))
            .collect(),
        first_seen: edge.first_seen.clone(),
        last_seen: edge.last_seen.clone(),
    }
}

/// An IT service edge travels as an edge whose protocol is the service name
/// and whose functions count its connections by channel (`tls`,
/// `cleartext`, `unknown`; zero counts left out).
fn service_delta(service: &ServiceReport) -> EdgeDelta {
    let channels = &service.channels;
    EdgeDelta {
        client: service.client.clone(),
        server: service.server.clone(),
        server_port: service.server_port,
        transport: service.transport.to_owned(),
        protocol: service.protocol.clone(),
        functions: [
            ("tls", channels.tls),
            ("cleartext", channels.cleartext),
            ("unknown", channels.unknown),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| (name.to_owned(), count))
        .collect(),
        first_seen: service.first_seen.clone(),
        last_seen: service.last_seen.clone(),
    }
}

fn finding_delta(finding: &FindingReport) -> FindingDelta {
    FindingDelta {
        rule: finding.rule.to_owned(),
        severity: finding.severity.to_owned(),
        attack: finding.attack.iter().map(|a| (*a).to_owned()).collect(),
        title: finding.title.to_owned(),
        asset: finding.asset.clone(),
        edge: finding.edge.as_ref().map(|e| EdgeKey {
            client: e.client.clone(),
            server: e.server.clone(),
            server_port: e.server_port,
            protocol: e.protocol.to_owned(),
        }),
        first_seen: finding.evidence.first_seen.clone(),
        last_seen: finding.evidence.last_seen.clone(),
        count: finding.evidence.count,
        sample_flow: finding.evidence.sample_flow.clone(),
        values: finding.evidence.values.clone(),
        exposure: Some(finding.exposure.to_owned()),
    }
}
