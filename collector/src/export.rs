//! Exports for other tools: assets, findings and known vulnerabilities as
//! CSV (one row each, the columns a spreadsheet or a CMDB import wants), read
//! a page at a time through the same views the API lists.

use anyhow::Result;

use crate::store::Store;
use crate::views::{self, AssetFilter, FindingFilter, MAX_LIMIT, VulnerabilityFilter};

/// The asset columns, in order.
pub const ASSET_COLUMNS: [&str; 14] = [
    "site",
    "ip",
    "mac",
    "zone",
    "score",
    "roles",
    "protocols",
    "vendor",
    "model",
    "firmware",
    "serial",
    "known_name",
    "first_seen",
    "last_seen",
];

/// The finding columns, in order.
pub const FINDING_COLUMNS: [&str; 16] = [
    "id",
    "site",
    "target",
    "rule",
    "severity",
    "priority",
    "exposure",
    "status",
    "owner",
    "due",
    "title",
    "attack",
    "count",
    "first_seen",
    "last_seen",
    "sensor_id",
];

fn identity<'a>(map: &'a std::collections::BTreeMap<String, String>, keys: &[&str]) -> &'a str {
    keys.iter()
        .find_map(|k| map.get(*k))
        .map_or("", String::as_str)
}

/// Every asset of `site` (or of all sites) as CSV.
pub fn assets_csv(store: &Store, site: Option<&str>) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(ASSET_COLUMNS)?;
    let mut filter = AssetFilter {
        site: site.map(str::to_owned),
        limit: Some(MAX_LIMIT),
        ..AssetFilter::default()
    };
    loop {
        let page = views::assets(store, &filter)?;
        for row in &page.items {
            let a = &row.asset;
            let id = &a.identity;
            let cells = [
                row.site.as_str(),
                &a.ip,
                a.mac.as_deref().unwrap_or(""),
                a.zone.as_ref().map_or("", |z| z.name.as_str()),
                &row.score.to_string(),
                &a.roles.join(" "),
                &a.protocols.join(" "),
                identity(id, &["vendor", "vendor_name", "manufacturer"]),
                identity(
                    id,
                    &["model", "product_code", "order_number", "product_name"],
                ),
                identity(
                    id,
                    &[
                        "firmware",
                        "firmware_version",
                        "software_version",
                        "revision",
                    ],
                ),
                identity(id, &["serial", "serial_number"]),
                a.known.as_ref().map_or("", |k| k.name.as_str()),
                &a.first_seen,
                &a.last_seen,
            ];
            out.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
        }
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(out.into_inner()?)
}

/// Every finding of `site` (or of all sites) as CSV, highest priority first.
pub fn findings_csv(store: &Store, site: Option<&str>) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(FINDING_COLUMNS)?;
    let mut filter = FindingFilter {
        site: site.map(str::to_owned),
        limit: Some(MAX_LIMIT),
        ..FindingFilter::default()
    };
    loop {
        let page = views::findings(store, &filter)?;
        for row in &page.items {
            let f = &row.finding;
            let cells: [&str; FINDING_COLUMNS.len()] = [
                &row.id.to_string(),
                &row.site,
                &row.target,
                &f.rule,
                &f.severity,
                &row.priority.to_string(),
                &row.exposure,
                &row.status,
                row.owner.as_deref().unwrap_or(""),
                row.due.as_deref().unwrap_or(""),
                &f.title,
                &f.attack.join(" "),
                &f.count.to_string(),
                &f.first_seen,
                &f.last_seen,
                &row.sensor_id,
            ];
            out.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
        }
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(out.into_inner()?)
}

/// The known-vulnerability columns, in order.
pub const VULNERABILITY_COLUMNS: [&str; 21] = [
    "site",
    "ip",
    "zone",
    "advisory",
    "cve",
    "title",
    "product",
    "confidence",
    "range",
    "cvss",
    "cvss_vector",
    "kev",
    "kev_due",
    "epss",
    "epss_percentile",
    "remediation",
    "state",
    "owner",
    "due",
    "priority",
    "finding_id",
];

/// A cell a spreadsheet will not take for a formula (OWASP's CSV injection
/// advice): text that starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return gets a leading apostrophe. Every cell of every export passes
/// through it: owners, names, vendors, models and firmware come from users
/// and from what devices announce on the wire, titles from advisories.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// Every known vulnerability of `site` (or of all sites) as CSV, highest
/// priority first.
pub fn vulnerabilities_csv(store: &Store, site: Option<&str>) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(VULNERABILITY_COLUMNS)?;
    let mut filter = VulnerabilityFilter {
        site: site.map(str::to_owned),
        limit: Some(MAX_LIMIT),
        ..VulnerabilityFilter::default()
    };
    loop {
        let page = views::vulnerabilities(store, &filter)?;
        for row in &page.items {
            let m = &row.matched.matched;
            let remediation: Vec<String> = m
                .remediations
                .iter()
                .map(|r| format!("{}: {}", r.category, r.details))
                .collect();
            let cells = [
                row.site.clone(),
                row.ip.clone(),
                row.zone.clone().unwrap_or_default(),
                m.advisory.clone(),
                m.cve.clone().unwrap_or_default(),
                m.title.clone(),
                m.product.clone(),
                m.confidence.name().to_owned(),
                m.range.clone().unwrap_or_default(),
                m.cvss
                    .as_ref()
                    .map(|c| c.base_score.to_string())
                    .unwrap_or_default(),
                m.cvss
                    .as_ref()
                    .map(|c| c.vector.clone())
                    .unwrap_or_default(),
                row.matched.kev.is_some().to_string(),
                row.matched
                    .kev
                    .as_ref()
                    .map(|k| k.due_date.clone())
                    .unwrap_or_default(),
                row.matched
                    .epss
                    .map(|e| e.score.to_string())
                    .unwrap_or_default(),
                row.matched
                    .epss
                    .map(|e| e.percentile.to_string())
                    .unwrap_or_default(),
                remediation.join(" | "),
                row.state.clone(),
                row.owner.clone().unwrap_or_default(),
                row.due.clone().unwrap_or_default(),
                row.priority.to_string(),
                row.finding_id.to_string(),
            ];
            out.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
        }
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(out.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_other_text_kept() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Siemens", "Siemens"),
            ("6ES7 215-1AG40-0XB0", "6ES7 215-1AG40-0XB0"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), safe);
        }
    }
}
