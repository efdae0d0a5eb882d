//! Exports for other tools: assets and findings as CSV (one row each, the
//! columns a spreadsheet or a CMDB import wants), read a page at a time
//! through the same views the API lists.

use anyhow::Result;

use crate::store::Store;
use crate::views::{self, AssetFilter, FindingFilter, MAX_LIMIT};

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
            out.write_record([
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
            ])?;
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
            out.write_record([
                row.id.to_string().as_str(),
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
            ])?;
        }
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(out.into_inner()?)
}
