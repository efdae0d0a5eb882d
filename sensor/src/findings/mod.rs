//! Exposure findings: the rules of [`rules::RULES`] applied to what the
//! dissectors decoded (requests and the objects they name, as they happen)
//! and to the inventory's state (postures, security settings, certificates,
//! zones and policy, at evaluation). A finding is keyed by rule and subject
//! (asset or edge): repeats add to its count, and the table is bounded.

pub mod rules;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use faro_firmware_config::{AssetRole, Config};
use faro_protocols::opcua::secure::{POLICY_PREFIX, SecurityPolicy};

use crate::dissect::FlowEnds;
use crate::flow::TransportProto;
use crate::inventory::{AssetId, EdgeId, FunctionKey, Inventory, Protocol, Role};
use crate::report::{EdgeRef, Evidence, FindingReport, format_time, function_name};
use crate::stats::Shed;
use rules::{Access, Condition, Exposure, Indicator, RULES, Rule, Severity};

/// Distinct matched values kept per finding as evidence.
pub const MAX_VALUES: usize = 4;

/// Longest evidence value kept.
const MAX_VALUE_LEN: usize = 160;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// One asset.
    Asset(AssetId),
    /// One communication edge.
    Edge(EdgeId),
}

/// One finding: a rule matched on a subject, with its evidence.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index into [`RULES`].
    rule: usize,
    /// What it is about.
    pub subject: Subject,
    /// Capture time of the first match, nanoseconds since the epoch.
    pub first_seen: u64,
    /// Capture time of the last match.
    pub last_seen: u64,
    /// Matches (requests, or the state's own count).
    pub count: u64,
    /// Decoded values that matched (at most [`MAX_VALUES`] distinct).
    pub values: Vec<String>,
}

impl Finding {
    /// The rule that matched.
    pub fn rule(&self) -> &'static Rule {
        RULES.get(self.rule).unwrap_or(&FALLBACK_RULE)
    }

    fn add_value(&mut self, value: &str) {
        if self.values.len() < MAX_VALUES && !self.values.iter().any(|v| v == value) {
            let cut = value
                .char_indices()
                .nth(MAX_VALUE_LEN)
                .map_or(value, |(at, _)| value.get(..at).unwrap_or(value));
            self.values.push(cut.to_owned());
        }
    }
}

/// Never used: [`RULES`] indices come from [`RULES`] itself.
const FALLBACK_RULE: Rule = Rule {
    id: "unknown",
    protocol: None,
    indicator: Indicator::Object(""),
    severity: Severity::Info,
    attack: &[],
    title: "",
    remediation: "",
    exposure: Exposure::Activity,
};

/// The findings of one analysis, bounded.
pub struct Findings {
    by_function: HashMap<(Protocol, FunctionKey), Vec<usize>, foldhash::fast::RandomState>,
    by_object: Vec<(Protocol, &'static str, usize)>,
    index: HashMap<(usize, Subject), usize, foldhash::fast::RandomState>,
    list: Vec<Finding>,
    max: usize,
}

impl std::fmt::Debug for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Findings({})", self.list.len())
    }
}

impl Findings {
    /// An empty table holding at most `max` findings.
    pub fn new(max: usize) -> Self {
        let mut by_function: HashMap<_, Vec<usize>, _> = HashMap::default();
        let mut by_object = Vec::new();
        for (at, rule) in RULES.iter().enumerate() {
            let Some(protocol) = rule.protocol else {
                continue;
            };
            match rule.indicator {
                Indicator::Function(keys) => {
                    for key in keys {
                        by_function.entry((protocol, *key)).or_default().push(at);
                    }
                }
                Indicator::Object(prefix) => by_object.push((protocol, prefix, at)),
                Indicator::State(_) => {}
            }
        }
        Findings {
            by_function,
            by_object,
            index: HashMap::default(),
            list: Vec::new(),
            max: max.max(1),
        }
    }

    /// A request with function `key` was sent on `edge`.
    #[inline]
    pub fn on_request(
        &mut self,
        edge: EdgeId,
        protocol: Protocol,
        key: FunctionKey,
        ts: u64,
        shed: &mut Shed,
    ) {
        let Some(matched) = self.by_function.get(&(protocol, key)) else {
            return;
        };
        // Few rules match one function: copy their indices out of the index.
        let mut rules = [usize::MAX; 4];
        for (slot, rule) in rules.iter_mut().zip(matched) {
            *slot = *rule;
        }
        for rule in rules.into_iter().filter(|r| *r != usize::MAX) {
            let value = || match function_name(protocol, key) {
                Some(name) => format!("{key} {name}"),
                None => key.to_string(),
            };
            self.raise(rule, Subject::Edge(edge), ts, 1, value, shed);
        }
    }

    /// A request on `edge` named `object` (a PI service, a block, a control point…).
    pub fn on_object(
        &mut self,
        edge: EdgeId,
        protocol: Protocol,
        object: &str,
        ts: u64,
        shed: &mut Shed,
    ) {
        for at in 0..self.by_object.len() {
            let Some(&(rule_protocol, prefix, rule)) = self.by_object.get(at) else {
                break;
            };
            if rule_protocol == protocol && object.starts_with(prefix) {
                self.raise(rule, Subject::Edge(edge), ts, 1, || object.to_owned(), shed);
            }
        }
    }

    /// Adds `count` to the finding of `rule` on `subject`, creating it if new.
    fn raise(
        &mut self,
        rule: usize,
        subject: Subject,
        ts: u64,
        count: u64,
        value: impl FnOnce() -> String,
        shed: &mut Shed,
    ) {
        let finding = match self.index.get(&(rule, subject)) {
            Some(&at) => self.list.get_mut(at),
            None if self.list.len() >= self.max => {
                shed.findings += 1;
                return;
            }
            None => {
                self.index.insert((rule, subject), self.list.len());
                self.list.push(Finding {
                    rule,
                    subject,
                    first_seen: ts,
                    last_seen: ts,
                    count: 0,
                    values: Vec::new(),
                });
                self.list.last_mut()
            }
        };
        let Some(finding) = finding else {
            return;
        };
        finding.first_seen = finding.first_seen.min(ts);
        finding.last_seen = finding.last_seen.max(ts);
        finding.count += count;
        if finding.values.len() < MAX_VALUES {
            finding.add_value(&value());
        }
    }

    /// Sets a state finding: its count is the state's own (not added to),
    /// its times those of the subject.
    fn set_state(
        &mut self,
        rule: usize,
        subject: Subject,
        times: (u64, u64),
        count: u64,
        value: String,
        shed: &mut Shed,
    ) {
        let (first, last) = times;
        self.raise(rule, subject, first, 0, || value, shed);
        if let Some(finding) = self
            .index
            .get(&(rule, subject))
            .and_then(|&at| self.list.get_mut(at))
        {
            finding.last_seen = finding.last_seen.max(last);
            finding.count = count.max(1);
        }
    }

    /// Every finding, in the order raised.
    pub fn list(&self) -> &[Finding] {
        &self.list
    }

    /// Applies the state rules to the inventory as it stands; tags engineering
    /// stations. `observed` is the capture time span (for the learning period
    /// and certificate validity).
    pub fn evaluate(
        &mut self,
        inventory: &mut Inventory,
        config: &Config,
        observed: Option<(u64, u64)>,
        shed: &mut Shed,
    ) {
        for (at, rule) in RULES.iter().enumerate() {
            if let Indicator::State(condition) = rule.indicator {
                self.evaluate_condition(at, condition, inventory, config, observed, shed);
            }
        }
    }

    fn evaluate_condition(
        &mut self,
        rule: usize,
        condition: Condition,
        inventory: &mut Inventory,
        config: &Config,
        observed: Option<(u64, u64)>,
        shed: &mut Shed,
    ) {
        match condition {
            Condition::S7UnprotectedCpu
            | Condition::Dnp3DeviceHealth
            | Condition::OpcUaInsecureEndpoint
            | Condition::CertificateExpired
            | Condition::CertificateNotYetValid
            | Condition::CertificateSelfSigned
            | Condition::CertificateWeakSignature
            | Condition::CertificateWeakKey => {
                for (id, asset) in inventory.assets_with_ids() {
                    if let Some((count, value)) = asset_condition(condition, asset) {
                        let times = (asset.first_seen, asset.last_seen);
                        self.set_state(rule, Subject::Asset(id), times, count, value, shed);
                    }
                }
            }
            Condition::OpcUaDeprecatedPolicy | Condition::OpcUaAnonymousAccess => {
                for (id, asset) in inventory.assets_with_ids() {
                    if let Some((count, value)) = asset_condition(condition, asset) {
                        let times = (asset.first_seen, asset.last_seen);
                        self.set_state(rule, Subject::Asset(id), times, count, value, shed);
                    }
                }
                self.edges_matching(rule, condition, inventory, config, observed, shed);
            }
            Condition::EngineeringStation => {
                let mut stations: Vec<(AssetId, u64, u64, u64, String)> = Vec::new();
                for edge in inventory.edges() {
                    let count = edge.access_count(Access::Program)
                        + if edge.protocol == Protocol::S7comm {
                            edge.access_count(Access::Control)
                        } else {
                            0
                        };
                    if count == 0 {
                        continue;
                    }
                    let programs: Vec<String> = edge
                        .functions
                        .iter()
                        .filter(|(key, c)| c.requests > 0 && is_engineering(edge.protocol, **key))
                        .map(|(key, _)| match function_name(edge.protocol, *key) {
                            Some(name) => format!("{} {key} {name}", edge.protocol.name()),
                            None => format!("{} {key}", edge.protocol.name()),
                        })
                        .collect();
                    stations.push((
                        edge.client,
                        edge.first_seen,
                        edge.last_seen,
                        count,
                        programs.join(", "),
                    ));
                }
                // One finding per station, its count the sum over its edges:
                // set, not added to, so evaluating again (every summary) is idempotent.
                let mut by_client: BTreeMap<AssetId, (u64, u64, u64, Vec<String>)> =
                    BTreeMap::new();
                for (client, first, last, count, value) in stations {
                    let entry = by_client
                        .entry(client)
                        .or_insert((first, last, 0, Vec::new()));
                    entry.0 = entry.0.min(first);
                    entry.1 = entry.1.max(last);
                    entry.2 += count;
                    entry.3.push(value);
                }
                for (client, (first, last, count, values)) in by_client {
                    if let Some(asset) = inventory.asset_mut(client, first) {
                        asset.add_tag(Role::EngineeringStation);
                    }
                    let subject = Subject::Asset(client);
                    self.set_state(rule, subject, (first, last), count, values.join(", "), shed);
                }
            }
            _ => self.edges_matching(rule, condition, inventory, config, observed, shed),
        }
    }

    fn edges_matching(
        &mut self,
        rule: usize,
        condition: Condition,
        inventory: &Inventory,
        config: &Config,
        observed: Option<(u64, u64)>,
        shed: &mut Shed,
    ) {
        for (id, edge) in inventory.edges_with_ids() {
            let (Some(client), Some(server)) =
                (inventory.asset(edge.client), inventory.asset(edge.server))
            else {
                continue;
            };
            let found = edge_condition(condition, edge, client, server, config, observed);
            if let Some((count, value)) = found {
                let times = (edge.first_seen, edge.last_seen);
                self.set_state(rule, Subject::Edge(id), times, count, value, shed);
            }
        }
    }
}

/// Requests that program a device or change its operating mode.
fn is_engineering(protocol: Protocol, key: FunctionKey) -> bool {
    match (protocol, key) {
        // Stop and PI services (start, block handling) are mode changes.
        (Protocol::S7comm, FunctionKey::Code(0x28 | 0x29)) => true,
        _ => matches!(rules::access_class(protocol, key), Access::Program),
    }
}

/// A state condition of one asset: `(count, evidence)` when it holds.
fn asset_condition(condition: Condition, asset: &crate::inventory::Asset) -> Option<(u64, String)> {
    let posture = |name: &str| asset.posture.get(name).map(String::as_str);
    let opcua = asset.opcua.as_deref();
    let certificates = || opcua.into_iter().flat_map(|o| o.certificates.iter());
    let seen_at = |nanos: u64| i64::try_from(nanos / 1_000_000_000).unwrap_or(i64::MAX);
    let certificate_value =
        |c: &crate::inventory::opcua::CertificateInfo| format!("{} (sha1 {})", c.subject, c.sha1);
    let first_certificate = |test: &dyn Fn(&crate::inventory::opcua::CertificateInfo) -> bool| {
        let matching: Vec<_> = certificates().filter(|c| test(c)).collect();
        let first = matching.first()?;
        Some((matching.len() as u64, certificate_value(first)))
    };
    match condition {
        Condition::S7UnprotectedCpu => {
            let reasons: Vec<String> = [
                ("password_protected", "false"),
                ("protection_level", "1"),
                ("mode_selector", "run_p"),
            ]
            .iter()
            .filter(|(name, value)| posture(name) == Some(*value))
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
            (!reasons.is_empty()).then(|| (1, reasons.join(", ")))
        }
        Condition::Dnp3DeviceHealth => {
            let flags: Vec<&str> = ["config_corrupt", "event_buffer_overflow", "device_trouble"]
                .into_iter()
                .filter(|name| posture(name) == Some("true"))
                .collect();
            (!flags.is_empty()).then(|| (1, flags.join(", ")))
        }
        Condition::OpcUaInsecureEndpoint => {
            let none = none_policy();
            let insecure: Vec<&str> = opcua?
                .endpoints
                .iter()
                .filter(|e| e.security_mode == "none" || e.security_policy == none)
                .map(|e| e.url.as_str())
                .collect();
            let first = insecure.first()?;
            Some((insecure.len() as u64, format!("{first} (mode none)")))
        }
        Condition::OpcUaDeprecatedPolicy => {
            let offered: Vec<&str> = opcua?
                .endpoints
                .iter()
                .map(|e| e.security_policy.as_str())
                .filter(|p| SecurityPolicy::from_uri(p.as_bytes()).is_deprecated())
                .collect();
            let first = offered.first()?;
            Some((offered.len() as u64, format!("offered {first}")))
        }
        Condition::OpcUaAnonymousAccess => {
            let offered = opcua?
                .endpoints
                .iter()
                .filter(|e| e.user_tokens.iter().any(|t| t.token_type == "anonymous"))
                .count();
            (offered > 0).then(|| (offered as u64, "anonymous user token offered".to_owned()))
        }
        Condition::CertificateExpired => {
            let at = seen_at(asset.last_seen);
            first_certificate(&|c| c.validity.1 < at)
        }
        Condition::CertificateNotYetValid => {
            let at = seen_at(asset.first_seen);
            first_certificate(&|c| c.validity.0 > at)
        }
        // A self-signed issuer further up a chain is a trust anchor, not a finding.
        Condition::CertificateSelfSigned => first_certificate(&|c| c.self_signed && c.leaf),
        Condition::CertificateWeakSignature => first_certificate(&|c| c.weak_signature),
        Condition::CertificateWeakKey => first_certificate(&|c| c.weak_key),
        _ => None,
    }
}

fn none_policy() -> String {
    String::from_utf8_lossy(POLICY_PREFIX).into_owned() + "None"
}

/// Standard server port of each protocol.
fn standard_port(protocol: Protocol) -> u16 {
    match protocol {
        Protocol::Modbus => 502,
        Protocol::S7comm | Protocol::S7commPlus => 102,
        Protocol::Dnp3 => 20000,
        Protocol::OpcUa => 4840,
    }
}

/// A state condition of one edge: `(count, evidence)` when it holds.
fn edge_condition(
    condition: Condition,
    edge: &crate::inventory::Edge,
    client: &crate::inventory::Asset,
    server: &crate::inventory::Asset,
    config: &Config,
    observed: Option<(u64, u64)>,
) -> Option<(u64, String)> {
    let opcua = edge.opcua.as_deref();
    // Well-formed requests at or above an access class.
    let requests = |access: Access| -> u64 {
        Access::ALL
            .into_iter()
            .filter(|a| *a >= access)
            .map(|a| edge.access_count(a))
            .sum()
    };
    match condition {
        Condition::Dnp3ControlWithoutAuthentication => {
            if edge.protocol != Protocol::Dnp3 || edge.secure_authentication != Some(false) {
                return None;
            }
            let controls = edge.access_count(Access::Control);
            (controls > 0).then(|| {
                (
                    controls,
                    format!("{controls} control requests, no Secure Authentication"),
                )
            })
        }
        Condition::OpcUaChannelWithoutSecurity => {
            let none = none_policy();
            opcua?
                .security_policies
                .contains(&none)
                .then(|| (edge.flows.max(1), "policy None".to_owned()))
        }
        Condition::OpcUaSignOnly => {
            let modes = opcua?.modes_with(server.opcua.as_deref());
            modes
                .contains("sign")
                .then(|| (edge.flows.max(1), "mode sign".to_owned()))
        }
        Condition::OpcUaDeprecatedPolicy => {
            let used: Vec<&String> = opcua?
                .security_policies
                .iter()
                .filter(|p| SecurityPolicy::from_uri(p.as_bytes()).is_deprecated())
                .collect();
            let first = used.first()?;
            Some((used.len() as u64, format!("used {first}")))
        }
        Condition::OpcUaAnonymousAccess => {
            let o = opcua?;
            (o.token_types.contains("anonymous") && o.sessions_activated > 0).then(|| {
                (
                    o.sessions_activated,
                    "anonymous session activated".to_owned(),
                )
            })
        }
        Condition::OpcUaCleartextCredentials => {
            let o = opcua?;
            (o.cleartext_passwords > 0).then(|| {
                let users: Vec<&str> = o.user_names.iter().map(String::as_str).collect();
                (
                    o.cleartext_passwords,
                    format!("user names: {}", users.join(", ")),
                )
            })
        }
        Condition::NewInitiatorToController => {
            let (start, _) = observed?;
            let learning = config
                .findings
                .learning_period_secs
                .saturating_mul(1_000_000_000);
            // The configuration's role for the server wins over what traffic suggests.
            let configured = config
                .known_asset(server.ip, server.mac)
                .and_then(|known| known.role)
                .map(|role| {
                    matches!(
                        role,
                        AssetRole::Plc | AssetRole::Rtu | AssetRole::SafetyController
                    )
                });
            let controller = configured.unwrap_or_else(|| {
                server
                    .roles()
                    .any(|r| matches!(r, Role::Plc | Role::ModbusServer | Role::Dnp3Outstation))
            });
            (controller && edge.first_seen > start.saturating_add(learning)).then(|| {
                (
                    edge.flows.max(1),
                    format!("first seen {}", format_time(edge.first_seen)),
                )
            })
        }
        Condition::CrossZoneControl => {
            if config.has_policy() {
                return None;
            }
            let from = config.zone_of(client.ip)?;
            let to = config.zone_of(server.ip)?;
            let changes = requests(Access::Write);
            (from.name != to.name && from.purdue_level > to.purdue_level && changes > 0).then(
                || {
                    (
                        changes,
                        format!(
                            "{} (level {}) -> {} (level {})",
                            from.name,
                            from.purdue_level.name(),
                            to.name,
                            to.purdue_level.name()
                        ),
                    )
                },
            )
        }
        Condition::PolicyViolation => {
            if !config.has_policy() {
                return None;
            }
            let from = config.zone_of(client.ip);
            let to = config.zone_of(server.ip);
            let zone = |z: Option<&faro_firmware_config::Zone>| {
                z.map_or_else(|| "outside any zone".to_owned(), |z| z.name.clone())
            };
            let denied: Vec<(Access, u64)> = Access::ALL
                .into_iter()
                .map(|access| (access, edge.access_count(access)))
                .filter(|&(access, count)| {
                    count > 0 && !config.allows(from, to, edge.protocol.name(), access)
                })
                .collect();
            let count = denied.iter().map(|(_, c)| c).sum();
            let classes: Vec<&str> = denied.iter().map(|(a, _)| a.name()).collect();
            (!denied.is_empty()).then(|| {
                (
                    count,
                    format!(
                        "{} -> {} {} {}",
                        zone(from),
                        zone(to),
                        edge.protocol.name(),
                        classes.join("/")
                    ),
                )
            })
        }
        Condition::InternetPeer => {
            let outside = |ip: IpAddr| {
                !faro_protocols::address::is_internal(ip) && config.zone_of(ip).is_none()
            };
            outside(client.ip).then(|| {
                (
                    edge.flows.max(1),
                    format!("{} reaches {}:{}", client.ip, server.ip, edge.server_port),
                )
            })
        }
        Condition::NonStandardPort => {
            let standard = standard_port(edge.protocol);
            (edge.server_port != standard).then(|| {
                (
                    edge.flows.max(1),
                    format!(
                        "{} on {} (standard {standard})",
                        edge.protocol.name(),
                        edge.server_port
                    ),
                )
            })
        }
        _ => None,
    }
}

impl Findings {
    /// The findings as reported, most severe first, without those the
    /// configuration silences for any address they concern; and how many
    /// were silenced.
    pub fn reports(&self, inventory: &Inventory, config: &Config) -> (Vec<FindingReport>, u64) {
        let mut silenced = 0;
        let mut out: Vec<(Severity, FindingReport)> = Vec::new();
        for finding in &self.list {
            let rule = finding.rule();
            let (asset, edge, addresses, flow) = match finding.subject {
                Subject::Asset(id) => {
                    let Some(asset) = inventory.asset(id) else {
                        continue;
                    };
                    (Some(asset.ip.to_string()), None, vec![asset.ip], None)
                }
                Subject::Edge(id) => {
                    let Some(edge) = inventory.edge(id) else {
                        continue;
                    };
                    let (Some(client), Some(server)) =
                        (inventory.asset(edge.client), inventory.asset(edge.server))
                    else {
                        continue;
                    };
                    let reference = EdgeRef {
                        client: client.ip.to_string(),
                        server: server.ip.to_string(),
                        server_port: edge.server_port,
                        protocol: edge.protocol.name(),
                    };
                    let flow = edge.sample_flow.as_ref().map(format_flow);
                    (None, Some(reference), vec![client.ip, server.ip], flow)
                }
            };
            if addresses.iter().any(|ip| config.is_silenced(rule.id, *ip)) {
                silenced += 1;
                continue;
            }
            out.push((
                rule.severity,
                FindingReport {
                    rule: rule.id,
                    title: rule.title,
                    severity: rule.severity.name(),
                    attack: rule.attack,
                    remediation: rule.remediation,
                    exposure: rule.exposure.name(),
                    asset,
                    edge,
                    evidence: Evidence {
                        first_seen: format_time(finding.first_seen),
                        last_seen: format_time(finding.last_seen),
                        count: finding.count,
                        sample_flow: flow,
                        values: finding.values.clone(),
                    },
                },
            ));
        }
        out.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.rule.cmp(b.1.rule))
                .then_with(|| a.1.asset.cmp(&b.1.asset))
                .then_with(|| {
                    let key = |e: &Option<EdgeRef>| {
                        e.as_ref()
                            .map(|e| (e.client.clone(), e.server.clone(), e.server_port))
                    };
                    key(&a.1.edge).cmp(&key(&b.1.edge))
                })
        });
        (out.into_iter().map(|(_, f)| f).collect(), silenced)
    }
}

/// The five-tuple of a flow, as evidence.
pub fn format_flow(flow: &FlowEnds) -> String {
    let transport = match flow.transport {
        TransportProto::Tcp => "tcp",
        TransportProto::Udp => "udp",
    };
    let endpoint = |ip: IpAddr, port: u16| match ip {
        IpAddr::V4(_) => format!("{ip}:{port}"),
        IpAddr::V6(_) => format!("[{ip}]:{port}"),
    };
    format!(
        "{transport} {} -> {}",
        endpoint(flow.client.ip, flow.client.port),
        endpoint(flow.server.ip, flow.server.port)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_raises_one_finding_per_rule_and_edge_and_counts_repeats() {
        let mut inventory = Inventory::new(&faro_firmware_config::CapacityLimits::default());
        let mut shed = Shed::default();
        let a = inventory
            .asset_for([10, 0, 0, 1].into(), 1, &mut shed)
            .unwrap();
        let b = inventory
            .asset_for([10, 0, 0, 2].into(), 1, &mut shed)
            .unwrap();
        let edge = inventory
            .edge_for(
                crate::inventory::EdgePath {
                    client: a,
                    server: b,
                    server_port: 502,
                    transport: TransportProto::Tcp,
                    protocol: Protocol::Modbus,
                },
                1,
                &mut shed,
            )
            .unwrap();
        let mut findings = Findings::new(2);
        findings.on_request(edge, Protocol::Modbus, FunctionKey::Code(3), 5, &mut shed);
        assert!(findings.list().is_empty());
        for ts in [7, 9, 8] {
            findings.on_request(edge, Protocol::Modbus, FunctionKey::Code(16), ts, &mut shed);
        }
        findings.on_request(edge, Protocol::Modbus, FunctionKey::Code(6), 10, &mut shed);
        let [write] = findings.list() else {
            panic!("{:?}", findings.list())
        };
        assert_eq!(write.rule().id, "modbus.write");
        assert_eq!((write.first_seen, write.last_seen, write.count), (7, 10, 4));
        assert_eq!(write.values.len(), 2);
        findings.on_object(edge, Protocol::Modbus, "diag-0x0004", 11, &mut shed);
        findings.on_request(edge, Protocol::Modbus, FunctionKey::Code(43), 12, &mut shed);
        assert_eq!(findings.list().len(), 2);
        assert_eq!(shed.findings, 1);
    }
}
