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
