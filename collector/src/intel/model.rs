//! What the collector keeps of vulnerability intelligence, in the shape
//! matching needs: advisories flattened from CSAF 2.0 product trees, the
//! KEV catalog's entries and EPSS scores. The import (`intel::import`)
//! writes these; the matcher (`intel::matching`) reads them. Stored as JSON
//! (one row per advisory, KEV entry, EPSS score), so a field added later
//! must have a serde default.

use serde::{Deserialize, Serialize};

/// One advisory (one CSAF document), flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// `document.tracking.id` (e.g. `ICSA-22-132-05`): the advisory's identity.
    pub id: String,
    /// `document.tracking.version` as written (`1`, `1.2.0`): a later one replaces an earlier one.
    pub version: String,
    /// `document.tracking.current_release_date`, RFC 3339 as written.
    pub released: String,
    /// `document.title`.
    pub title: String,
    /// `document.publisher.name`.
    pub publisher: String,
    /// Every full product name of the product tree, leaves first in document order.
    pub products: Vec<Product>,
    /// The document's vulnerabilities.
    pub vulnerabilities: Vec<Vulnerability>,
}

/// One leaf of a CSAF product tree: a product id with the branch path above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The document-local product id (`CSAFPID-0001`).
    pub id: String,
    /// The `vendor` branch's name as written (`Schneider Electric Software, LLC`); empty if none.
    pub vendor: String,
    /// The `product_family` branches' names, outermost first.
    #[serde(default)]
    pub families: Vec<String>,
    /// The `product_name` branch's name (`SIMATIC S7-1500 CPU family`); empty if none.
    pub product_name: String,
    /// The leaf product's full `name`.
    pub full_name: String,
    /// The version branch, when the leaf is under one.
    pub version: Option<VersionBranch>,
    /// `product_identification_helper.model_numbers` (may hold `?` and `*`).
    #[serde(default)]
    pub model_numbers: Vec<String>,
    /// `product_identification_helper.cpe`, when given.
    #[serde(default)]
    pub cpe: Option<String>,
}

/// A version branch of a product tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionBranch {
    /// `product_version` (one version) or `product_version_range`.
    pub kind: VersionKind,
    /// The branch's name exactly as written (`vers:all/<V3.3`, `<V4.0 SP2`, `V2.8.x`).
    pub text: String,
}

/// The category of a version branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// `product_version`: exactly this version.
    Version,
    /// `product_version_range`: a range, in `vers:` form or free text.
    Range,
}

/// One vulnerability of an advisory.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Vulnerability {
    /// `cve`, when assigned.
    pub cve: Option<String>,
    /// `cwe.id` (`CWE-20`).
    pub cwe: Option<String>,
    /// `cwe.name`.
    pub cwe_name: Option<String>,
    /// `title`, else the first `summary` note, cut to a line.
    pub title: String,
    /// Product ids `known_affected`, `first_affected` or `last_affected`.
    pub affected: Vec<String>,
    /// Product ids `fixed` or `first_fixed`.
    #[serde(default)]
    pub fixed: Vec<String>,
    /// Product ids `known_not_affected`.
    #[serde(default)]
    pub not_affected: Vec<String>,
    /// CVSS v3 scores with the products they apply to.
    #[serde(default)]
    pub scores: Vec<Score>,
    /// Remediations with the products they apply to.
    #[serde(default)]
    pub remediations: Vec<Remediation>,
}

/// A CVSS v3 score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `cvss_v3.baseScore`.
    pub base_score: f64,
    /// `cvss_v3.vectorString`.
    pub vector: String,
    /// The product ids it applies to.
    pub products: Vec<String>,
}

/// A remediation of a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// `vendor_fix`, `mitigation`, `workaround`, `none_available` or `no_fix_planned`.
    pub category: String,
    /// The text as written.
    pub details: String,
    /// The product ids it applies to (empty: the whole vulnerability).
    #[serde(default)]
    pub products: Vec<String>,
    /// A link, when given.
    #[serde(default)]
    pub url: Option<String>,
}

/// One entry of the CISA Known Exploited Vulnerabilities catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    /// `cveID`.
    pub cve: String,
    /// `vendorProject`.
    pub vendor_project: String,
    /// `product`.
    pub product: String,
    /// `vulnerabilityName`.
    pub name: String,
    /// `dateAdded` (YYYY-MM-DD).
    pub date_added: String,
    /// `dueDate` (YYYY-MM-DD): the remediation deadline CISA set.
    pub due_date: String,
    /// `knownRansomwareCampaignUse` (`Known`, `Unknown`).
    pub known_ransomware: String,
    /// `requiredAction`.
    pub required_action: String,
}

/// One FIRST EPSS score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epss {
    /// Probability of exploitation activity in the next 30 days, 0 … 1.
    pub score: f64,
    /// Percentile among all scored CVEs, 0 … 1.
    pub percentile: f64,
}

/// What is loaded from one kind of source, as `intel status` and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// `csaf`, `kev` or `epss`.
    pub kind: String,
    /// Advisories, catalog entries or scored CVEs held.
    pub count: u64,
    /// KEV `catalogVersion`, EPSS `model_version`; none for CSAF.
    pub version: Option<String>,
    /// KEV `dateReleased`, EPSS `score_date`, the newest CSAF `current_release_date`.
    pub date: Option<String>,
    /// When this source was last imported (collector clock, RFC 3339).
    pub imported_at: String,
}

/// How sure a match of an advisory to an asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Version unknown on the asset, a range of all versions, or a range
    /// the evaluator could not read (its text is shown).
    Possible,
    /// The product name matched and the version is in range.
    Likely,
    /// A model (order) number matched and the version is in range.
    Confirmed,
}

impl Confidence {
    /// Every confidence, lowest first.
    pub const ALL: [Confidence; 3] = [
        Confidence::Possible,
        Confidence::Likely,
        Confidence::Confirmed,
    ];

    /// The name used in output and filters.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Possible => "possible",
            Confidence::Likely => "likely",
            Confidence::Confirmed => "confirmed",
        }
    }
}
