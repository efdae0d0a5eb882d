//! The summary model: what one sensor saw in one window, as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The value of [`Summary::schema`] for this version of the model.
pub const SCHEMA: &str = "faro-summary/1";

/// One sensor's summary of one window. Counts are cumulative, never
/// increments, so the collector merges idempotently by keeping, per key, the
/// values of the summary with the highest sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The sensor's enrolled identity.
    pub sensor_id: String,
    /// The site the sensor watches.
    pub site: String,
    /// 1, 2, 3 … per sensor, never reused (persisted in the sensor's spool).
    pub sequence: u64,
    /// Start of the window, RFC 3339, capture time.
    pub window_start: String,
    /// End of the window, RFC 3339, capture time.
    pub window_end: String,
    /// Assets new or changed in the window, each with its full current view.
    pub assets: Vec<AssetDelta>,
    /// Communication edges new or changed in the window.
    pub edges: Vec<EdgeDelta>,
    /// Findings new or changed in the window.
    pub findings: Vec<FindingDelta>,
    /// The sensor's statistics (packets, malformed, shed, …).
    pub counters: serde_json::Value,
}

/// The current view of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetDelta {
    /// The asset's IP address.
    pub ip: String,
    /// Its MAC address, when seen on the local segment.
    pub mac: Option<String>,
    /// Roles (`plc`, `hmi`, …).
    pub roles: Vec<String>,
    /// Protocols it speaks.
    pub protocols: Vec<String>,
    /// Identity the device disclosed (vendor, model, firmware, serial, …).
    pub identity: BTreeMap<String, String>,
    /// For each attribute of [`Self::identity`], the message it came from:
    /// a name of [`crate::identity::IdentitySource`] (`s7:szl-0x0011`,
    /// `modbus:fc43-14`, `oui`, …). Absent in summaries of older sensors.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity_sources: BTreeMap<String, String>,
    /// Security posture (CPU mode, protection level, …).
    pub posture: BTreeMap<String, String>,
    /// RFC 3339.
    pub first_seen: String,
    /// RFC 3339.
    pub last_seen: String,
    /// The configured zone its address falls in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<ZoneRef>,
    /// The configuration's entry for it, when it is a known asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<KnownRef>,
}

/// A zone of the sensor's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneRef {
    /// Zone name.
    pub name: String,
    /// Purdue level: `0` … `5`, `3.5` for the DMZ.
    pub purdue_level: String,
    /// `low`, `medium`, `high` or `critical`.
    pub criticality: String,
}

/// A known asset of the sensor's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownRef {
    /// Its name.
    pub name: String,
    /// Who owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<String>,
    /// A role the configuration gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The current view of one communication edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeDelta {
    /// The initiator's IP address.
    pub client: String,
    /// The responder's IP address.
    pub server: String,
    /// The responder's port.
    pub server_port: u16,
    /// `tcp` or `udp`.
    pub transport: String,
    /// The industrial protocol.
    pub protocol: String,
    /// Cumulative request counts per function key (not deltas: merge = max).
    pub functions: BTreeMap<String, u64>,
    /// RFC 3339.
    pub first_seen: String,
    /// RFC 3339.
    pub last_seen: String,
}

/// The current view of one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingDelta {
    /// The rule's identifier.
    pub rule: String,
    /// Severity.
    pub severity: String,
    /// ATT&CK for ICS technique ids.
    pub attack: Vec<String>,
    /// One line for people.
    pub title: String,
    /// The asset concerned, if the finding is about one.
    pub asset: Option<String>,
    /// The edge concerned, if the finding is about one.
    pub edge: Option<EdgeKey>,
    /// RFC 3339.
    pub first_seen: String,
    /// RFC 3339.
    pub last_seen: String,
    /// Cumulative count.
    pub count: u64,
    /// A flow that shows it.
    pub sample_flow: Option<String>,
    /// The values involved (functions, addresses, …).
    pub values: Vec<String>,
    /// The exposure factor the rule feeds (`unauthenticated_control`,
    /// `dangerous_function`, `exposed_configuration`, `reachability`, `activity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<String>,
}

/// Identifies an edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeKey {
    /// The initiator's IP address.
    pub client: String,
    /// The responder's IP address.
    pub server: String,
    /// The responder's port.
    pub server_port: u16,
    /// The industrial protocol.
    pub protocol: String,
}

/// An item of a summary: what identifies it, so that a later view of the same
/// item replaces the earlier one.
trait Keyed {
    /// The identity, borrowed from the item.
    type Key<'a>: Ord
    where
        Self: 'a;
    /// This item's identity.
    fn key(&self) -> Self::Key<'_>;
}

impl Keyed for AssetDelta {
    type Key<'a> = &'a str;
    fn key(&self) -> &str {
        &self.ip
    }
}

impl Keyed for EdgeDelta {
    type Key<'a> = (&'a str, &'a str, u16, &'a str, &'a str);
    fn key(&self) -> Self::Key<'_> {
        (
            &self.client,
            &self.server,
            self.server_port,
            &self.transport,
            &self.protocol,
        )
    }
}

impl Keyed for FindingDelta {
    type Key<'a> = (&'a str, Option<&'a str>, Option<&'a EdgeKey>);
    fn key(&self) -> Self::Key<'_> {
        (&self.rule, self.asset.as_deref(), self.edge.as_ref())
    }
}

/// `older` without the items `newer` has a view of, then `newer` in its order.
fn supersede<T: Keyed>(older: &mut Vec<T>, newer: Vec<T>) {
    let keep: Vec<bool> = {
        let replaced: std::collections::BTreeSet<T::Key<'_>> = newer.iter().map(T::key).collect();
        older
            .iter()
            .map(|item| !replaced.contains(&item.key()))
            .collect()
    };
    let mut keep = keep.into_iter();
    older.retain(|_| keep.next().unwrap_or(true));
    older.extend(newer);
}

impl Summary {
    /// Folds `newer`, the summary of the window that follows this one, into
    /// this one, which then covers both windows: the sensor's spool does this
    /// to its oldest unsent summaries when it is full.
    ///
    /// Nothing is lost: every item is a whole current view with cumulative
    /// counts, so of an asset, edge or finding in both only `newer`'s view
    /// matters. The result keeps this summary's items that `newer` has no view
    /// of, then `newer`'s items in their order. Identities are as fine as any
    /// consumer's (an asset by IP; an edge by client, server, port, transport
    /// and protocol; a finding by rule, asset and edge), so a consumer that
    /// keeps the last view per identity, however coarse, ends the same after
    /// the merged summary as after the two in order; and merging is
    /// associative, so the order in which a run of summaries is merged pairwise
    /// does not matter.
    ///
    /// The window starts at this summary's start and ends at `newer`'s end;
    /// the counters, the sequence and the identity fields are `newer`'s.
    pub fn merge(&mut self, newer: Summary) {
        let Summary {
            schema,
            sensor_id,
            site,
            sequence,
            window_start: _,
            window_end,
            assets,
            edges,
            findings,
            counters,
        } = newer;
        self.schema = schema;
        self.sensor_id = sensor_id;
        self.site = site;
        self.sequence = sequence;
        self.window_end = window_end;
        supersede(&mut self.assets, assets);
        supersede(&mut self.edges, edges);
        supersede(&mut self.findings, findings);
        self.counters = counters;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn asset(ip: &str, last_seen: &str) -> AssetDelta {
        AssetDelta {
            ip: ip.to_owned(),
            mac: None,
            roles: vec!["plc".to_owned()],
            protocols: vec!["modbus".to_owned()],
            identity: BTreeMap::new(),
            identity_sources: BTreeMap::new(),
            posture: BTreeMap::new(),
            first_seen: "2024-01-01T00:00:00Z".to_owned(),
            last_seen: last_seen.to_owned(),
            zone: None,
            known: None,
        }
    }

    fn edge(client: &str, transport: &str, count: u64) -> EdgeDelta {
        EdgeDelta {
            client: client.to_owned(),
            server: "10.0.0.1".to_owned(),
            server_port: 20000,
            transport: transport.to_owned(),
            protocol: "dnp3".to_owned(),
            functions: BTreeMap::from([("1".to_owned(), count)]),
            first_seen: "2024-01-01T00:00:00Z".to_owned(),
            last_seen: "2024-01-01T00:00:00Z".to_owned(),
        }
    }

    fn finding(
        rule: &str,
        asset: Option<&str>,
        edge_client: Option<&str>,
        count: u64,
    ) -> FindingDelta {
        FindingDelta {
            rule: rule.to_owned(),
            severity: "high".to_owned(),
            attack: Vec::new(),
            title: rule.to_owned(),
            asset: asset.map(str::to_owned),
            edge: edge_client.map(|client| EdgeKey {
                client: client.to_owned(),
                server: "10.0.0.1".to_owned(),
                server_port: 20000,
                protocol: "dnp3".to_owned(),
            }),
            first_seen: "2024-01-01T00:00:00Z".to_owned(),
            last_seen: "2024-01-01T00:00:00Z".to_owned(),
            count,
            sample_flow: None,
            values: Vec::new(),
            exposure: None,
        }
    }

    fn summary(sequence: u64, window: (&str, &str)) -> Summary {
        Summary {
            schema: SCHEMA.to_owned(),
            sensor_id: "edge-01".to_owned(),
            site: "plant".to_owned(),
            sequence,
            window_start: window.0.to_owned(),
            window_end: window.1.to_owned(),
            assets: Vec::new(),
            edges: Vec::new(),
            findings: Vec::new(),
            counters: serde_json::json!({ "packets": sequence * 100 }),
        }
    }

    #[test]
    fn merging_keeps_every_item_of_both_and_the_later_view_wins() {
        let mut older = summary(1, ("T0", "T1"));
        older.assets = vec![asset("10.0.0.1", "T1"), asset("10.0.0.2", "T1")];
        older.edges = vec![edge("10.0.0.9", "tcp", 5), edge("10.0.0.9", "udp", 7)];
        older.findings = vec![
            finding("write", Some("10.0.0.1"), None, 1),
            finding("write", None, Some("10.0.0.9"), 2),
        ];
        let mut newer = summary(2, ("T1", "T2"));
        newer.assets = vec![asset("10.0.0.3", "T2"), asset("10.0.0.1", "T2")];
        // Same hosts, port and protocol, other transport: another edge.
        newer.edges = vec![edge("10.0.0.9", "tcp", 9)];
        newer.findings = vec![finding("write", Some("10.0.0.1"), None, 4)];
        let mut merged = older.clone();
        merged.merge(newer.clone());
        assert_eq!(
            merged.assets,
            vec![
                asset("10.0.0.2", "T1"),
                asset("10.0.0.3", "T2"),
                asset("10.0.0.1", "T2")
            ]
        );
        assert_eq!(
            merged.edges,
            vec![edge("10.0.0.9", "udp", 7), edge("10.0.0.9", "tcp", 9)]
        );
        assert_eq!(
            merged.findings,
            vec![
                finding("write", None, Some("10.0.0.9"), 2),
                finding("write", Some("10.0.0.1"), None, 4)
            ]
        );
        assert_eq!(
            (merged.window_start.as_str(), merged.window_end.as_str()),
            ("T0", "T2")
        );
        assert_eq!((merged.sequence, &merged.counters), (2, &newer.counters));
    }

    /// What a consumer that keeps the last view per key holds after `summaries`.
    fn last_views<T: Clone, K: Ord>(summaries: &[&[T]], key: impl Fn(&T) -> K) -> BTreeMap<K, T> {
        let mut views = BTreeMap::new();
        for items in summaries {
            for item in *items {
                views.insert(key(item), item.clone());
            }
        }
        views
    }

    fn arb_summary(sequence: u64) -> impl Strategy<Value = Summary> {
        // Few keys, so that the two summaries share many.
        let ip = prop::sample::select(vec!["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        let transport = prop::sample::select(vec!["tcp", "udp"]);
        let assets = prop::collection::vec((ip.clone(), 0..3u64), 0..5);
        let edges = prop::collection::vec((ip.clone(), transport, 0..100u64), 0..5);
        let findings = prop::collection::vec(
            (
                prop::sample::select(vec!["write", "restart"]),
                prop::option::of(ip.clone()),
                prop::option::of(ip),
                0..100u64,
            ),
            0..5,
        );
        (assets, edges, findings).prop_map(move |(assets, edges, findings)| {
            let mut s = summary(sequence, ("start", "end"));
            s.window_start = format!("start {sequence}");
            s.window_end = format!("end {sequence}");
            s.assets = assets
                .into_iter()
                .map(|(ip, t)| asset(ip, &format!("{sequence}.{t}")))
                .collect();
            s.edges = edges
                .into_iter()
                .map(|(client, transport, count)| edge(client, transport, count))
                .collect();
            s.findings = findings
                .into_iter()
                .map(|(rule, asset, edge, count)| finding(rule, asset, edge, count))
                .collect();
            s
        })
    }

    proptest! {
        /// A consumer keeping the last view per key ends the same after the
        /// merge as after both summaries, with the merge's own keys and with
        /// coarser ones (the collector keys edges without the transport and a
        /// finding by its edge, else its asset).
        #[test]
        fn a_merge_reads_like_both_summaries_in_order(
            older in arb_summary(1),
            newer in arb_summary(2),
        ) {
            let mut merged = older.clone();
            merged.merge(newer.clone());
            let both: [&[AssetDelta]; 2] = [&older.assets, &newer.assets];
            prop_assert_eq!(
                last_views(&[&merged.assets], |a| a.ip.clone()),
                last_views(&both, |a| a.ip.clone())
            );
            let fine = |e: &EdgeDelta| format!("{:?}", e.key());
            let coarse = |e: &EdgeDelta| (e.client.clone(), e.server.clone(), e.server_port, e.protocol.clone());
            let both: [&[EdgeDelta]; 2] = [&older.edges, &newer.edges];
            prop_assert_eq!(last_views(&[&merged.edges], fine), last_views(&both, fine));
            prop_assert_eq!(last_views(&[&merged.edges], coarse), last_views(&both, coarse));
            let fine = |f: &FindingDelta| format!("{:?}", f.key());
            let collector = |f: &FindingDelta| {
                let subject = f.edge.as_ref().map(|e| e.client.clone()).or(f.asset.clone());
                (f.rule.clone(), subject)
            };
            let both: [&[FindingDelta]; 2] = [&older.findings, &newer.findings];
            prop_assert_eq!(last_views(&[&merged.findings], fine), last_views(&both, fine));
            prop_assert_eq!(last_views(&[&merged.findings], collector), last_views(&both, collector));
            prop_assert_eq!(&merged.window_start, &older.window_start);
            prop_assert_eq!(&merged.window_end, &newer.window_end);
            prop_assert_eq!(&merged.counters, &newer.counters);
        }

        /// Pairwise merging of a run of summaries gives the same summary
        /// whichever pairs are merged first.
        #[test]
        fn merging_is_associative(
            a in arb_summary(1),
            b in arb_summary(2),
            c in arb_summary(3),
        ) {
            let mut left = a.clone();
            left.merge(b.clone());
            left.merge(c.clone());
            let mut right = b;
            right.merge(c);
            let mut grouped = a;
            grouped.merge(right);
            prop_assert_eq!(left, grouped);
        }
    }
}
