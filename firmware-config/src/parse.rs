//! Reading and validating the configuration file.
//!
//! The document is parsed once into TOML's spanned tree; each section and
//! each element of an array of tables is then deserialized on its own (serde,
//! `deny_unknown_fields`) into a raw struct whose fields keep their spans, so
//! a mistake in one zone does not hide a mistake in the next. The raw structs
//! are then checked against each other. Every problem found is reported.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::CapacityLimits;
use crate::model::{
    Access, AssetAddress, AssetRole, Config, Criticality, FindingSettings, Interface, KnownAsset,
    PolicyProtocol, PolicyRule, PurdueLevel, SensorSection, Silence, Uplink, Zone, ZoneMatch,
};
use crate::problem::{ConfigErrors, Problem, Problems};

/// Reads and validates the configuration file at `path`.
///
/// `known_rules` are the sensor's rule ids: silencing a rule not among them is
/// a problem (an empty slice skips that check). A file that cannot be read is
/// one problem at line 0.
pub fn load(path: &Path, known_rules: &[&str]) -> Result<Config, ConfigErrors> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path, known_rules),
        Err(e) => Err(ConfigErrors {
            problems: vec![Problem {
                file: path.to_owned(),
                line: 0,
                column: 0,
                field: "file".into(),
                message: format!("cannot read the configuration file: {e}"),
            }],
        }),
    }
}

/// Validates configuration `text` read from `origin`: problems name `origin`,
/// and relative file paths in it are relative to `origin`'s directory.
/// `known_rules` as for [`load`].
pub fn parse(text: &str, origin: &Path, known_rules: &[&str]) -> Result<Config, ConfigErrors> {
    let mut problems = Problems::new(origin, text);
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            problems.add(
                e.span().unwrap_or(0..0),
                "syntax",
                format!("invalid TOML: {}", e.message()),
            );
        }
        return Err(ConfigErrors {
            problems: problems.finish(),
        });
    }
    let mut cx = Cx {
        p: problems,
        known_rules,
        base: origin.parent().unwrap_or(Path::new("")),
    };
    let config = cx.document(doc.into_inner(), origin);
    match config {
        Some(config) if cx.p.is_empty() => Ok(config),
        _ => Err(ConfigErrors {
            problems: cx.p.finish(),
        }),
    }
}

const SECTIONS: [&str; 9] = [
    "sensor",
    "interfaces",
    "zones",
    "assets",
    "policy",
    "silence",
    "findings",
    "uplink",
    "limits",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSensor {
    id: Spanned<String>,
    site: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterface {
    name: Spanned<String>,
    bpf: Option<Spanned<String>>,
    snaplen: Option<Spanned<i64>>,
    buffer_mib: Option<Spanned<i64>>,
    promiscuous: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    name: Spanned<String>,
    cidrs: Spanned<Vec<Spanned<String>>>,
    purdue_level: Spanned<f64>,
    criticality: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    address: Spanned<String>,
    name: Spanned<String>,
    owner: Option<String>,
    criticality: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    #[serde(default)]
    silence: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    from: Spanned<String>,
    to: Spanned<String>,
    protocol: Spanned<String>,
    access: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSilence {
    rule: Spanned<String>,
    address: Spanned<String>,
    reason: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFindings {
    learning_period_secs: Option<Spanned<i64>>,
    max_findings: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUplink {
    collector_url: Spanned<String>,
    ca: Spanned<String>,
    client_certificate: Spanned<String>,
    client_key: Spanned<String>,
    signing_key: Spanned<String>,
    interval_secs: Option<Spanned<i64>>,
    spool_max_mib: Option<Spanned<i64>>,
}

/// Where each key of a table and its value (and the value's elements, for an
/// array) are, to name the field a serde error is about.
struct FieldSpans {
    key: String,
    key_span: Range<usize>,
    value_span: Range<usize>,
    elements: Vec<Range<usize>>,
}

fn field_spans(table: &DeTable<'_>) -> Vec<FieldSpans> {
    table
        .iter()
        .map(|(k, v)| FieldSpans {
            key: k.get_ref().to_string(),
            key_span: k.span(),
            value_span: v.span(),
            elements: v
                .get_ref()
                .as_array()
                .map(|a| a.iter().map(Spanned::span).collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn within(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

/// Context of one validation: the problems found so far.
struct Cx<'a> {
    p: Problems<'a>,
    known_rules: &'a [&'a str],
    base: &'a Path,
}

/// The top-level sections, as found.
#[derive(Default)]
struct Sections<'i> {
    sensor: Option<Spanned<DeValue<'i>>>,
    interfaces: Option<Spanned<DeValue<'i>>>,
    zones: Option<Spanned<DeValue<'i>>>,
    assets: Option<Spanned<DeValue<'i>>>,
    policy: Option<Spanned<DeValue<'i>>>,
    silence: Option<Spanned<DeValue<'i>>>,
    findings: Option<Spanned<DeValue<'i>>>,
    uplink: Option<Spanned<DeValue<'i>>>,
    limits: Option<Spanned<DeValue<'i>>>,
}

impl Cx<'_> {
    fn document(&mut self, doc: DeTable<'_>, origin: &Path) -> Option<Config> {
        let mut s = Sections::default();
        for (key, value) in doc {
            let slot = match key.get_ref().as_ref() {
                "sensor" => &mut s.sensor,
                "interfaces" => &mut s.interfaces,
                "zones" => &mut s.zones,
                "assets" => &mut s.assets,
                "policy" => &mut s.policy,
                "silence" => &mut s.silence,
                "findings" => &mut s.findings,
                "uplink" => &mut s.uplink,
                "limits" => &mut s.limits,
                other => {
                    self.p.add(
                        key.span(),
                        other,
                        format!(
                            "unknown section `{other}`, expected one of {}",
                            quoted_list(SECTIONS)
                        ),
                    );
                    continue;
                }
            };
            *slot = Some(value);
        }

        let sensor = match s.sensor {
            Some(v) => self.sensor(v),
            None => {
                self.p.add(
                    0..0,
                    "sensor",
                    "missing required section [sensor] (with `id` and `site`)",
                );
                None
            }
        };
        let items = self.elements("interfaces", s.interfaces);
        let interfaces = self.interfaces(items);
        let zone_names = declared_zone_names(s.zones.as_ref());
        let items = self.elements("zones", s.zones);
        let zones = self.zones(items);
        let items = self.elements("assets", s.assets);
        let assets = self.assets(items);
        let items = self.elements("policy", s.policy);
        let policy = self.policy(items, &zone_names);
        let items = self.elements("silence", s.silence);
        let silence = self.silences(items);
        let findings = match s.findings {
            Some(v) => self.findings(v),
            None => Some(FindingSettings::default()),
        };
        let uplink = match s.uplink {
            Some(v) => self.uplink(v).map(Some),
            None => Some(None),
        };
        let limits = match s.limits {
            Some(v) => self.deserialize::<CapacityLimits>("limits", v, "[limits]"),
            None => Some(CapacityLimits::default()),
        };
        Some(Config {
            path: Some(origin.to_owned()),
            sensor: sensor?,
            interfaces,
            zones,
            assets,
            policy,
            silence,
            findings: findings?,
            uplink: uplink?,
            limits: limits?,
        })
    }

    /// The elements of an array of tables `[[name]]`, with their paths.
    fn elements<'i>(
        &mut self,
        name: &str,
        value: Option<Spanned<DeValue<'i>>>,
    ) -> Vec<(String, Spanned<DeValue<'i>>)> {
        let Some(value) = value else {
            return Vec::new();
        };
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("{name}[{i}]"), v))
                .collect(),
            _ => {
                self.p.add(
                    span,
                    name,
                    format!("must be an array of tables, written [[{name}]]"),
                );
                Vec::new()
            }
        }
    }

    /// Deserializes one table into `T`; a serde error becomes a problem at
    /// its span, naming the field it is about.
    fn deserialize<T: DeserializeOwned>(
        &mut self,
        path: &str,
        value: Spanned<DeValue<'_>>,
        what: &str,
    ) -> Option<T> {
        let span = value.span();
        let Some(table) = value.get_ref().as_table() else {
            self.p
                .add(span, path, format!("must be a table, written {what}"));
            return None;
        };
        let fields = field_spans(table);
        let mut table = table.clone();
        // serde stops at the first bad key: report it, take the key out and
        // read the table again, so every unknown or mistyped key of the table
        // is reported at once. A missing required key ends the table.
        let mut missing_reported: Vec<String> = Vec::new();
        loop {
            let attempt = Spanned::new(span.clone(), DeValue::Table(table.clone()));
            let e = match T::deserialize(ValueDeserializer::from(attempt)) {
                Ok(t) => return Some(t),
                Err(e) => e,
            };
            let at = e.span().unwrap_or_else(|| span.clone());
            let (field, message) = describe(path, &fields, e.message(), at.start, what);
            let bad_key = fields
                .iter()
                .find(|f| within(&f.key_span, at.start) || within(&f.value_span, at.start))
                .map(|f| f.key.clone())
                .filter(|_| !e.message().starts_with("missing field"));
            match bad_key {
                Some(key) => {
                    self.p.add(at, field, message);
                    table = table
                        .into_iter()
                        .filter(|(k, _)| k.get_ref().as_ref() != key.as_str())
                        .collect();
                    // A required key taken out comes back as missing: already said.
                    missing_reported.push(key);
                }
                None => {
                    let reported = e
                        .message()
                        .strip_prefix("missing field `")
                        .and_then(|rest| rest.split('`').next())
                        .is_some_and(|name| missing_reported.iter().any(|k| k == name));
                    if !reported {
                        self.p.add(at, field, message);
                    }
                    return None;
                }
            }
        }
    }

    fn sensor(&mut self, value: Spanned<DeValue<'_>>) -> Option<SensorSection> {
        let raw: RawSensor = self.deserialize("sensor", value, "[sensor]")?;
        let id = self.identifier(&raw.id, "sensor.id");
        let site = self.identifier(&raw.site, "sensor.site");
        Some(SensorSection {
            id: id?,
            site: site?,
        })
    }

    /// A sensor id or site name: 1–64 characters of `A-Za-z0-9._-`.
    fn identifier(&mut self, value: &Spanned<String>, field: &str) -> Option<String> {
        let s = value.get_ref();
        let ok = (1..=64).contains(&s.chars().count())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Some(s.clone())
        } else {
            self.p.add(
                value.span(),
                field,
                format!(
                    "`{s}` is not allowed: use 1 to 64 characters among letters, digits, `.`, `_` and `-`"
                ),
            );
            None
        }
    }

    /// An integer setting in `lo..=hi`, else `default` when absent.
    fn number(
        &mut self,
        value: Option<&Spanned<i64>>,
        field: String,
        lo: i64,
        hi: i64,
        default: i64,
    ) -> Option<i64> {
        let Some(value) = value else {
            return Some(default);
        };
        let n = *value.get_ref();
        if (lo..=hi).contains(&n) {
            Some(n)
        } else {
            self.p.add(
                value.span(),
                field,
                format!("{n} is out of range: allowed {lo} to {hi} (default {default})"),
            );
            None
        }
    }

    fn nonempty(&mut self, value: &Spanned<String>, field: String, what: &str) -> Option<String> {
        if value.get_ref().trim().is_empty() {
            self.p
                .add(value.span(), field, format!("must not be empty: {what}"));
            None
        } else {
            Some(value.get_ref().clone())
        }
    }

    /// A name from a fixed list, parsed with `FromStr`.
    fn choice<T: std::str::FromStr>(
        &mut self,
        value: &Spanned<String>,
        field: String,
        what: &str,
        allowed: &[&str],
    ) -> Option<T> {
        let s = value.get_ref();
        match s.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.p.add(
                    value.span(),
                    field,
                    format!(
                        "unknown {what} `{s}`, expected one of {}",
                        quoted_list(allowed)
                    ),
                );
                None
            }
        }
    }

    /// A silenced rule id, checked against the sensor's rules.
    fn rule(&mut self, value: &Spanned<String>, field: String) -> Option<String> {
        let rule = value.get_ref();
        if !self.known_rules.is_empty() && !self.known_rules.contains(&rule.as_str()) {
            self.p.add(
                value.span(),
                field,
                format!(
                    "unknown rule id `{rule}`, expected one of {}",
                    quoted_list(self.known_rules)
                ),
            );
            return None;
        }
        Some(rule.clone())
    }

    fn interfaces(&mut self, items: Vec<(String, Spanned<DeValue<'_>>)>) -> Vec<Interface> {
        let mut out = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for (path, value) in items {
            let Some(raw) = self.deserialize::<RawInterface>(&path, value, "[[interfaces]]") else {
                continue;
            };
            let name = raw.name.get_ref();
            let name_ok = if name.is_empty()
                || name.len() > 15
                || name
                    .chars()
                    .any(|c| c.is_whitespace() || c == '/' || c == ':')
            {
                self.p.add(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!("`{name}` is not an interface name: 1 to 15 characters, no spaces, `/` or `:`"),
                );
                false
            } else if let Some(earlier) = seen.get(name) {
                self.p.add(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!("interface `{name}` is already configured by {earlier}"),
                );
                false
            } else {
                seen.insert(name.clone(), path.clone());
                true
            };
            let bpf = match &raw.bpf {
                Some(b) => self
                    .nonempty(
                        b,
                        format!("{path}.bpf"),
                        "leave `bpf` out to capture everything",
                    )
                    .map(Some),
                None => Some(None),
            };
            let snaplen = self.number(
                raw.snaplen.as_ref(),
                format!("{path}.snaplen"),
                64,
                262_144,
                i64::from(Interface::DEFAULT_SNAPLEN),
            );
            let buffer = self.number(
                raw.buffer_mib.as_ref(),
                format!("{path}.buffer_mib"),
                1,
                1024,
                i64::from(Interface::DEFAULT_BUFFER_MIB),
            );
            if let (true, Some(bpf), Some(snaplen), Some(buffer)) = (name_ok, bpf, snaplen, buffer)
            {
                out.push(Interface {
                    name: name.clone(),
                    bpf,
                    snaplen: u32::try_from(snaplen).unwrap_or(Interface::DEFAULT_SNAPLEN),
                    buffer_mib: u32::try_from(buffer).unwrap_or(Interface::DEFAULT_BUFFER_MIB),
                    promiscuous: raw.promiscuous.unwrap_or(true),
                });
            }
        }
        out
    }

    /// A network: a CIDR, or (when `host_ok`) a single address.
    fn network(&mut self, value: &Spanned<String>, field: String, host_ok: bool) -> Option<IpNet> {
        let s = value.get_ref().trim();
        let net = match s.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => match s.parse::<IpAddr>() {
                Ok(ip) if host_ok => IpNet::from(ip),
                Ok(ip) => {
                    let len = if ip.is_ipv4() { 32 } else { 128 };
                    self.p.add(
                        value.span(),
                        field,
                        format!(
                            "`{s}` is an address, not a network: write {ip}/{len} for one host"
                        ),
                    );
                    return None;
                }
                Err(_) => {
                    let what = if host_ok {
                        "an IP address or a CIDR network"
                    } else {
                        "a CIDR network"
                    };
                    self.p.add(
                        value.span(),
                        field,
                        format!("`{s}` is not {what} (e.g. 10.10.1.0/24 or fd00:10::/64)"),
                    );
                    return None;
                }
            },
        };
        if net.trunc() != net {
            self.p.add(
                value.span(),
                field,
                format!("`{s}` has host bits set: the network is {}", net.trunc()),
            );
            return None;
        }
        Some(net)
    }

    fn zones(&mut self, items: Vec<(String, Spanned<DeValue<'_>>)>) -> Vec<Zone> {
        let mut out = Vec::new();
        let mut names: HashMap<String, String> = HashMap::new();
        // Every network of every zone so far: (zone name, path, network).
        let mut taken: Vec<(String, String, IpNet)> = Vec::new();
        for (path, value) in items {
            let Some(raw) = self.deserialize::<RawZone>(&path, value, "[[zones]]") else {
                continue;
            };
            let name = raw.name.get_ref().clone();
            let mut ok = true;
            if name.trim().is_empty() {
                self.p.add(
                    raw.name.span(),
                    format!("{path}.name"),
                    "must not be empty: policy rules refer to zones by name",
                );
                ok = false;
            } else if name == "any" {
                self.p.add(
                    raw.name.span(),
                    format!("{path}.name"),
                    "`any` is reserved: policy rules use it for every host",
                );
                ok = false;
            } else if let Some(earlier) = names.get(&name) {
                self.p.add(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!("duplicate zone name `{name}`: already used by {earlier}"),
                );
                ok = false;
            } else {
                names.insert(name.clone(), path.clone());
            }

            if raw.cidrs.get_ref().is_empty() {
                self.p.add(
                    raw.cidrs.span(),
                    format!("{path}.cidrs"),
                    "a zone needs at least one network (e.g. [\"10.10.1.0/24\"])",
                );
                ok = false;
            }
            let mut cidrs = Vec::new();
            let mut mine = Vec::new();
            for (i, cidr) in raw.cidrs.get_ref().iter().enumerate() {
                let field = format!("{path}.cidrs[{i}]");
                let Some(net) = self.network(cidr, field.clone(), false) else {
                    ok = false;
                    continue;
                };
                let overlap = taken.iter().find(|(_, _, other)| {
                    other.contains(&net.network()) || net.contains(&other.network())
                });
                if let Some((zone, other_path, other)) = overlap {
                    self.p.add(
                        cidr.span(),
                        field,
                        format!(
                            "{net} overlaps {other} of zone `{zone}` ({other_path}): zones must not overlap"
                        ),
                    );
                    ok = false;
                }
                cidrs.push(net);
                mine.push((name.clone(), path.clone(), net));
            }
            taken.extend(mine);

            let level = *raw.purdue_level.get_ref();
            let purdue_level = PurdueLevel::from_number(level);
            if purdue_level.is_none() {
                self.p.add(
                    raw.purdue_level.span(),
                    format!("{path}.purdue_level"),
                    format!("{level} is not a Purdue level: allowed 0, 1, 2, 3, 3.5 (DMZ), 4 or 5"),
                );
            }
            let criticality = match &raw.criticality {
                Some(c) => self.choice(
                    c,
                    format!("{path}.criticality"),
                    "criticality",
                    &Criticality::ALL.map(Criticality::name),
                ),
                None => Some(Criticality::default()),
            };
            if let (true, Some(purdue_level), Some(criticality)) = (ok, purdue_level, criticality) {
                out.push(Zone {
                    name,
                    cidrs,
                    purdue_level,
                    criticality,
                });
            }
        }
        out
    }

    fn assets(&mut self, items: Vec<(String, Spanned<DeValue<'_>>)>) -> Vec<KnownAsset> {
        let mut out = Vec::new();
        let mut seen: HashMap<AssetAddress, (String, String)> = HashMap::new();
        for (path, value) in items {
            let Some(raw) = self.deserialize::<RawAsset>(&path, value, "[[assets]]") else {
                continue;
            };
            let text = raw.address.get_ref().trim();
            let address = match text.parse::<AssetAddress>() {
                Ok(address) => match seen.get(&address) {
                    Some((earlier, name)) => {
                        self.p.add(
                            raw.address.span(),
                            format!("{path}.address"),
                            format!(
                                "duplicate asset address {address}: already {earlier} (`{name}`)"
                            ),
                        );
                        None
                    }
                    None => {
                        seen.insert(address, (path.clone(), raw.name.get_ref().clone()));
                        Some(address)
                    }
                },
                Err(()) => {
                    self.p.add(
                        raw.address.span(),
                        format!("{path}.address"),
                        format!(
                            "`{text}` is neither an IP address nor a MAC address (aa:bb:cc:dd:ee:ff)"
                        ),
                    );
                    None
                }
            };
            let name = self.nonempty(&raw.name, format!("{path}.name"), "give the asset a name");
            let criticality = match &raw.criticality {
                Some(c) => self
                    .choice(
                        c,
                        format!("{path}.criticality"),
                        "criticality",
                        &Criticality::ALL.map(Criticality::name),
                    )
                    .map(Some),
                None => Some(None),
            };
            let role = match &raw.role {
                Some(r) => self
                    .choice(
                        r,
                        format!("{path}.role"),
                        "role",
                        &AssetRole::ALL.map(AssetRole::name),
                    )
                    .map(Some),
                None => Some(None),
            };
            let mut silence = Vec::new();
            let mut silence_ok = true;
            for (i, rule) in raw.silence.iter().enumerate() {
                match self.rule(rule, format!("{path}.silence[{i}]")) {
                    Some(rule) => silence.push(rule),
                    None => silence_ok = false,
                }
            }
            if let (Some(address), Some(name), Some(criticality), Some(role), true) =
                (address, name, criticality, role, silence_ok)
            {
                out.push(KnownAsset {
                    address,
                    name,
                    owner: raw.owner,
                    criticality,
                    role,
                    silence,
                });
            }
        }
        out
    }

    fn zone_match(
        &mut self,
        value: &Spanned<String>,
        field: String,
        zones: &[String],
    ) -> Option<ZoneMatch> {
        let name = value.get_ref();
        if name == "any" {
            Some(ZoneMatch::Any)
        } else if zones.contains(name) {
            Some(ZoneMatch::Zone(name.clone()))
        } else {
            let mut allowed: Vec<&str> = vec!["any"];
            allowed.extend(zones.iter().map(String::as_str));
            self.p.add(
                value.span(),
                field,
                format!(
                    "unknown zone `{name}`, expected `any` or a zone: {}",
                    quoted_list(&allowed)
                ),
            );
            None
        }
    }

    fn policy(
        &mut self,
        items: Vec<(String, Spanned<DeValue<'_>>)>,
        zones: &[String],
    ) -> Vec<PolicyRule> {
        let mut out = Vec::new();
        for (path, value) in items {
            let Some(raw) = self.deserialize::<RawPolicy>(&path, value, "[[policy]]") else {
                continue;
            };
            let from = self.zone_match(&raw.from, format!("{path}.from"), zones);
            let to = self.zone_match(&raw.to, format!("{path}.to"), zones);
            let protocol = self.choice::<PolicyProtocol>(
                &raw.protocol,
                format!("{path}.protocol"),
                "protocol",
                &PolicyProtocol::ALL.map(PolicyProtocol::name),
            );
            let mut access = Vec::new();
            let mut access_ok = true;
            if raw.access.get_ref().is_empty() {
                self.p.add(
                    raw.access.span(),
                    format!("{path}.access"),
                    "must list at least one of `read`, `write`, `program`, `control`",
                );
                access_ok = false;
            }
            for (i, a) in raw.access.get_ref().iter().enumerate() {
                match self.choice::<Access>(
                    a,
                    format!("{path}.access[{i}]"),
                    "access",
                    &Access::ALL.map(Access::name),
                ) {
                    Some(a) if !access.contains(&a) => access.push(a),
                    Some(_) => {}
                    None => access_ok = false,
                }
            }
            if let (Some(from), Some(to), Some(protocol), true) = (from, to, protocol, access_ok) {
                out.push(PolicyRule {
                    from,
                    to,
                    protocol,
                    access,
                });
            }
        }
        out
    }

    fn silences(&mut self, items: Vec<(String, Spanned<DeValue<'_>>)>) -> Vec<Silence> {
        let mut out = Vec::new();
        for (path, value) in items {
            let span = value.span();
            let Some(raw) = self.deserialize::<RawSilence>(&path, value, "[[silence]]") else {
                continue;
            };
            let rule = self.rule(&raw.rule, format!("{path}.rule"));
            let address = self.network(&raw.address, format!("{path}.address"), true);
            let reason = match &raw.reason {
                Some(r) => self.nonempty(
                    r,
                    format!("{path}.reason"),
                    "say who accepted the risk and why",
                ),
                None => {
                    self.p.add(
                        span,
                        format!("{path}.reason"),
                        "missing required field `reason`: say who accepted the risk and why",
                    );
                    None
                }
            };
            if let (Some(rule), Some(address), Some(reason)) = (rule, address, reason) {
                out.push(Silence {
                    rule,
                    address,
                    reason,
                });
            }
        }
        out
    }

    fn findings(&mut self, value: Spanned<DeValue<'_>>) -> Option<FindingSettings> {
        let raw: RawFindings = self.deserialize("findings", value, "[findings]")?;
        let defaults = FindingSettings::default();
        let learning = self.number(
            raw.learning_period_secs.as_ref(),
            "findings.learning_period_secs".into(),
            0,
            i64::MAX,
            i64::try_from(defaults.learning_period_secs).unwrap_or(900),
        );
        let max = self.number(
            raw.max_findings.as_ref(),
            "findings.max_findings".into(),
            16,
            1_000_000,
            i64::try_from(defaults.max_findings).unwrap_or(4096),
        );
        Some(FindingSettings {
            learning_period_secs: u64::try_from(learning?).ok()?,
            max_findings: usize::try_from(max?).ok()?,
        })
    }

    /// A file the uplink reads; private keys must be mode 600.
    fn file(&mut self, value: &Spanned<String>, field: &str, private: bool) -> Option<PathBuf> {
        let given = value.get_ref();
        if given.trim().is_empty() {
            self.p.add(
                value.span(),
                field,
                "must name a file (absolute, or relative to this file)",
            );
            return None;
        }
        let path = self.base.join(given);
        let problem = match std::fs::File::open(&path).and_then(|f| f.metadata()) {
            Err(e) => Some(format!("cannot read {}: {e}", path.display())),
            Ok(meta) if !meta.is_file() => Some(format!("{} is not a file", path.display())),
            Ok(meta) if private => private_mode_problem(&path, &meta),
            Ok(_) => None,
        };
        match problem {
            Some(message) => {
                self.p.add(value.span(), field, message);
                None
            }
            None => Some(path),
        }
    }

    fn uplink(&mut self, value: Spanned<DeValue<'_>>) -> Option<Uplink> {
        let raw: RawUplink = self.deserialize("uplink", value, "[uplink]")?;
        let url = raw.collector_url.get_ref().trim();
        let url_ok = url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
            && url
                .get(8..)
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
            && !url.chars().any(char::is_whitespace);
        if !url_ok {
            self.p.add(
                raw.collector_url.span(),
                "uplink.collector_url",
                format!(
                    "`{url}` is not an https:// URL: the uplink only speaks HTTPS with mutual TLS (e.g. https://collector.example:8443)"
                ),
            );
        }
        let ca = self.file(&raw.ca, "uplink.ca", false);
        let certificate = self.file(&raw.client_certificate, "uplink.client_certificate", false);
        let client_key = self.file(&raw.client_key, "uplink.client_key", true);
        let signing_key = self.file(&raw.signing_key, "uplink.signing_key", true);
        let interval = self.number(
            raw.interval_secs.as_ref(),
            "uplink.interval_secs".into(),
            1,
            86_400,
            i64::try_from(Uplink::DEFAULT_INTERVAL_SECS).unwrap_or(60),
        );
        let spool = self.number(
            raw.spool_max_mib.as_ref(),
            "uplink.spool_max_mib".into(),
            1,
            65_536,
            i64::try_from(Uplink::DEFAULT_SPOOL_MAX_MIB).unwrap_or(256),
        );
        if !url_ok {
            return None;
        }
        Some(Uplink {
            collector_url: url.to_owned(),
            ca: ca?,
            client_certificate: certificate?,
            client_key: client_key?,
            signing_key: signing_key?,
            interval_secs: u64::try_from(interval?).ok()?,
            spool_max_mib: u64::try_from(spool?).ok()?,
        })
    }
}

#[cfg(unix)]
fn private_mode_problem(path: &Path, meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} has mode {mode:03o}: a private key must not be readable by group or others (chmod 600)",
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn private_mode_problem(_path: &Path, _meta: &std::fs::Metadata) -> Option<String> {
    None
}

/// The names of the zones as written, even of zones that are otherwise
/// wrong, so a policy naming them is not reported too.
fn declared_zone_names(zones: Option<&Spanned<DeValue<'_>>>) -> Vec<String> {
    zones
        .and_then(|z| z.get_ref().as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|z| z.get_ref().as_table()?.get("name")?.get_ref().as_str())
                .fold(Vec::new(), |mut names: Vec<String>, name| {
                    if !names.iter().any(|n| n == name) {
                        names.push(name.to_owned());
                    }
                    names
                })
        })
        .unwrap_or_default()
}

/// The field a serde error at `offset` is about, and a clearer message.
fn describe(
    path: &str,
    fields: &[FieldSpans],
    message: &str,
    offset: usize,
    what: &str,
) -> (String, String) {
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return (
            format!("{path}.{name}"),
            format!("missing required field `{name}` in this {what} table"),
        );
    }
    let field = fields
        .iter()
        .find(|f| within(&f.key_span, offset) || within(&f.value_span, offset))
        .map_or_else(
            || path.to_owned(),
            |f| match f.elements.iter().position(|e| within(e, offset)) {
                Some(i) => format!("{path}.{}[{i}]", f.key),
                None => format!("{path}.{}", f.key),
            },
        );
    let message = message
        .replace("expected i64", "expected an integer")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected usize", "expected a non-negative integer")
        .replace("expected f64", "expected a number")
        .replace("expected a boolean", "expected true or false");
    (field, message)
}

fn quoted_list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
