//! The CISA Known Exploited Vulnerabilities catalog (its JSON feed) read
//! into [`KevEntry`]s.

use serde::Deserialize;

use super::model::KevEntry;

/// The catalog: its version, release date and entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// `catalogVersion` (`2025.08.25`).
    pub version: String,
    /// `dateReleased` (RFC 3339 as written).
    pub released: String,
    /// `vulnerabilities[]`, in catalog order.
    pub entries: Vec<KevEntry>,
}

/// Why bytes could not be read as the KEV catalog.
pub type KevError = super::json::JsonError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogDoc {
    catalog_version: String,
    #[serde(default)]
    date_released: String,
    vulnerabilities: Vec<EntryDoc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryDoc {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    #[serde(default)]
    date_added: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
    #[serde(default)]
    required_action: String,
}

/// Reads the catalog (`known_exploited_vulnerabilities.json`).
pub fn parse(bytes: &[u8]) -> Result<Catalog, KevError> {
    let doc: CatalogDoc = super::json::read(bytes)?;
    Ok(Catalog {
        version: doc.catalog_version,
        released: doc.date_released,
        entries: doc
            .vulnerabilities
            .into_iter()
            .map(|e| KevEntry {
                cve: e.cve_id,
                vendor_project: e.vendor_project,
                product: e.product,
                name: e.vulnerability_name,
                date_added: e.date_added,
                due_date: e.due_date,
                known_ransomware: e.known_ransomware_campaign_use,
                required_action: e.required_action,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_is_read() {
        let c = parse(
            br#"{"title": "CISA Catalog", "catalogVersion": "2025.08.25", "dateReleased": "2025-08-25T17:04:19.9796Z",
                "count": 1, "vulnerabilities": [{"cveID": "CVE-2025-48384", "vendorProject": "Git", "product": "Git",
                "vulnerabilityName": "Git Link Following Vulnerability", "dateAdded": "2025-08-25",
                "shortDescription": "...", "requiredAction": "Apply mitigations.", "dueDate": "2025-09-15",
                "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": ["CWE-59"]}]}"#,
        )
        .unwrap();
        assert_eq!(c.version, "2025.08.25");
        assert_eq!(c.released, "2025-08-25T17:04:19.9796Z");
        assert_eq!(
            c.entries,
            [KevEntry {
                cve: "CVE-2025-48384".into(),
                vendor_project: "Git".into(),
                product: "Git".into(),
                name: "Git Link Following Vulnerability".into(),
                date_added: "2025-08-25".into(),
                due_date: "2025-09-15".into(),
                known_ransomware: "Unknown".into(),
                required_action: "Apply mitigations.".into(),
            }]
        );
    }

    #[test]
    fn errors_say_where() {
        assert!(matches!(
            parse(br#"{"catalogVersion": "#),
            Err(KevError::Json { .. })
        ));
        let Err(KevError::Field { path, message }) = parse(
            br#"{"catalogVersion": "1", "vulnerabilities": [{"cveID": "CVE-1"}, {"product": "x"}]}"#,
        ) else {
            panic!("a missing cveID is a field error");
        };
        assert_eq!(path, "vulnerabilities[1]");
        assert!(message.contains("cveID"), "{message}");
    }
}
