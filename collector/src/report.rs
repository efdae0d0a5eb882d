//! The merged inventory as tables for people or JSON for machines, laid out
//! like the sensor's own `analyze` output so the two can be compared.

use std::collections::BTreeMap;

use comfy_table::Table;

use crate::ingest::finding_subject;
use crate::store::Inventory;

fn pairs<V: std::fmt::Display>(map: &BTreeMap<String, V>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The inventory as three tables: assets, edges, findings.
pub fn table(inv: &Inventory) -> String {
    let mut assets = Table::new();
    assets.set_header([
        "site",
        "ip",
        "mac",
        "roles",
        "protocols",
        "identity",
        "posture",
        "last seen",
        "from",
    ]);
    for m in &inv.assets {
        let a = &m.value;
        assets.add_row([
            m.site.clone(),
            a.ip.clone(),
            a.mac.clone().unwrap_or_default(),
            a.roles.join(","),
            a.protocols.join(","),
            pairs(&a.identity),
            pairs(&a.posture),
            a.last_seen.clone(),
            format!("{}#{}", m.sensor_id, m.sequence),
        ]);
    }
    let mut edges = Table::new();
    edges.set_header([
        "site",
        "client",
        "server",
        "port",
        "transport",
        "protocol",
        "functions",
        "last seen",
    ]);
    for m in &inv.edges {
        let e = &m.value;
        edges.add_row([
            m.site.clone(),
            e.client.clone(),
            e.server.clone(),
            e.server_port.to_string(),
            e.transport.clone(),
            e.protocol.clone(),
            pairs(&e.functions),
            e.last_seen.clone(),
        ]);
    }
    let mut findings = Table::new();
    findings.set_header([
        "site", "rule", "severity", "subject", "count", "attack", "title",
    ]);
    for m in &inv.findings {
        let f = &m.value;
        findings.add_row([
            m.site.clone(),
            f.rule.clone(),
            f.severity.clone(),
            finding_subject(f),
            f.count.to_string(),
            f.attack.join(","),
            f.title.clone(),
        ]);
    }
    format!(
        "Assets ({})\n{assets}\n\nEdges ({})\n{edges}\n\nFindings ({})\n{findings}\n",
        inv.assets.len(),
        inv.edges.len(),
        inv.findings.len()
    )
}

/// Known-vulnerability matches as a table: weightiest first (KEV, EPSS,
/// CVSS), each with its confidence, range and fix.
pub fn vulnerability_table(matches: &[crate::vulnerabilities::StoredMatch]) -> String {
    let mut sorted: Vec<&crate::vulnerabilities::StoredMatch> = matches.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |m: &crate::vulnerabilities::StoredMatch| {
            (
                m.kev.is_some(),
                m.epss.map(|e| (e.percentile * 1000.0) as i64),
                m.matched
                    .cvss
                    .as_ref()
                    .map(|c| (c.base_score * 10.0) as i64),
                m.matched.confidence,
            )
        };
        key(b)
            .cmp(&key(a))
            .then_with(|| a.matched.advisory.cmp(&b.matched.advisory))
    });
    let mut table = Table::new();
    table.set_header([
        "advisory",
        "cve",
        "product",
        "confidence",
        "range",
        "cvss",
        "kev",
        "epss",
        "fix",
    ]);
    for m in sorted {
        let fix = m
            .matched
            .remediations
            .iter()
            .find(|r| r.category == "vendor_fix")
            .map(|r| match &r.fixed_version {
                Some(v) => format!("update to {v}"),
                None => crate::text::one_line(&r.details, 60),
            })
            .unwrap_or_default();
        table.add_row([
            m.matched.advisory.clone(),
            m.matched.cve.clone().unwrap_or_default(),
            crate::text::one_line(&m.matched.product, 60),
            m.matched.confidence.name().to_owned(),
            crate::text::one_line(m.matched.range.as_deref().unwrap_or(""), 40),
            m.matched
                .cvss
                .as_ref()
                .map(|c| format!("{:.1}", c.base_score))
                .unwrap_or_default(),
            m.kev
                .as_ref()
                .map(|k| format!("since {}", k.date_added))
                .unwrap_or_default(),
            m.epss
                .map(|e| format!("{:.3} ({:.0}%)", e.score, e.percentile * 100.0))
                .unwrap_or_default(),
            fix,
        ]);
    }
    format!("{} known vulnerabilities\n{table}\n", matches.len())
}
