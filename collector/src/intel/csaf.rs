//! CSAF 2.0 documents (OASIS) read into the flattened [`Advisory`].
//!
//! Typed serde structures for only the parts matching needs: the tracking
//! block, the product tree (branches walked recursively, top-level full
//! product names, relationships, product groups) and the vulnerabilities
//! (CVE, CWE, product status, CVSS v3 scores, remediations). Everything else
//! in a document is skipped unread, so a document with more (a later minor
//! revision of the standard, vendor extensions) still loads. The `csaf-rs`
//! crate was not used: about 200 crates and over ten minutes of build on the
//! build machine for a reader of which matching needs a small part.
//!
//! A document that is not JSON, is not CSAF 2.x or lacks a field an
//! advisory cannot do without (`document.tracking.id`, `.version`) is an
//! error naming the field path and line.

use std::collections::HashMap;

use serde::Deserialize;

use super::json::JsonError;

use super::model::{
    Advisory, Product, Remediation, Score, VersionBranch, VersionKind, Vulnerability,
};

/// Why a document could not be read as a CSAF 2.0 advisory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsafError {
    /// Not JSON, or a field of the wrong shape (where, said).
    #[error(transparent)]
    Read(#[from] JsonError),
    /// JSON, but `document.csaf_version` is missing: not a CSAF document.
    #[error("not a CSAF document: no document.csaf_version")]
    NotCsaf,
    /// A CSAF version this reader does not know (it reads 2.x).
    #[error("document.csaf_version is {0:?}; this reader reads 2.x")]
    Version(String),
    /// A required field is present but empty.
    #[error("at {0}: empty")]
    Empty(&'static str),
}

/// Reads one CSAF 2.0 document.
pub fn parse(bytes: &[u8]) -> Result<Advisory, CsafError> {
    let doc: Doc = super::json::read(bytes)?;
    flatten(doc)
}

// ---- the document, as far as matching reads it ----

#[derive(Deserialize)]
struct Doc {
    document: Document,
    #[serde(default)]
    product_tree: ProductTree,
    #[serde(default)]
    vulnerabilities: Vec<Vuln>,
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    csaf_version: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    publisher: Publisher,
    tracking: Tracking,
}

#[derive(Deserialize, Default)]
struct Publisher {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Tracking {
    id: String,
    version: String,
    #[serde(default)]
    current_release_date: String,
}

#[derive(Deserialize, Default)]
struct ProductTree {
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    full_product_names: Vec<FullProductName>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    product_groups: Vec<ProductGroup>,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(default)]
    category: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    product: Option<FullProductName>,
}

#[derive(Deserialize)]
struct FullProductName {
    #[serde(default)]
    name: String,
    product_id: String,
    #[serde(default)]
    product_identification_helper: Option<Helper>,
}

#[derive(Deserialize, Default)]
struct Helper {
    #[serde(default)]
    cpe: Option<String>,
    #[serde(default)]
    model_numbers: Vec<String>,
}

#[derive(Deserialize)]
struct Relationship {
    full_product_name: FullProductName,
    #[serde(default)]
    product_reference: String,
}

#[derive(Deserialize)]
struct ProductGroup {
    group_id: String,
    #[serde(default)]
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Vuln {
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    cwe: Option<Cwe>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    notes: Vec<Note>,
    #[serde(default)]
    product_status: ProductStatus,
    #[serde(default)]
    scores: Vec<ScoreDoc>,
    #[serde(default)]
    remediations: Vec<RemediationDoc>,
}

#[derive(Deserialize)]
struct Cwe {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Note {
    #[serde(default)]
    category: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize, Default)]
struct ProductStatus {
    #[serde(default)]
    known_affected: Vec<String>,
    #[serde(default)]
    first_affected: Vec<String>,
    #[serde(default)]
    last_affected: Vec<String>,
    #[serde(default)]
    fixed: Vec<String>,
    #[serde(default)]
    first_fixed: Vec<String>,
    #[serde(default)]
    known_not_affected: Vec<String>,
}

#[derive(Deserialize)]
struct ScoreDoc {
    #[serde(default)]
    cvss_v3: Option<CvssV3>,
    #[serde(default)]
    products: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssV3 {
    base_score: f64,
    #[serde(default)]
    vector_string: String,
}

#[derive(Deserialize)]
struct RemediationDoc {
    #[serde(default)]
    category: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
    #[serde(default)]
    url: Option<String>,
}

// ---- flattening ----

fn flatten(doc: Doc) -> Result<Advisory, CsafError> {
    let Doc {
        document,
        product_tree,
        vulnerabilities,
    } = doc;
    match document.csaf_version.as_deref() {
        None => return Err(CsafError::NotCsaf),
        Some(v) if v == "2" || v.starts_with("2.") => {}
        Some(v) => return Err(CsafError::Version(v.to_owned())),
    }
    let tracking = document.tracking;
    if tracking.id.trim().is_empty() {
        return Err(CsafError::Empty("document.tracking.id"));
    }
    if tracking.version.trim().is_empty() {
        return Err(CsafError::Empty("document.tracking.version"));
    }

    let mut products = Vec::new();
    let path = Path::default();
    for branch in &product_tree.branches {
        walk(branch, &path, &mut products);
    }
    for full in &product_tree.full_product_names {
        products.push(leaf(full, &path));
    }
    // "X installed on Y": the component's vendor, product and version apply.
    for rel in &product_tree.relationships {
        let component = products
            .iter()
            .find(|p| p.id == rel.product_reference)
            .cloned();
        let mut product = leaf(&rel.full_product_name, &path);
        if let Some(c) = component {
            product.vendor = c.vendor;
            product.families = c.families;
            product.product_name = c.product_name;
            product.version = c.version;
            if product.model_numbers.is_empty() {
                product.model_numbers = c.model_numbers;
            }
            if product.cpe.is_none() {
                product.cpe = c.cpe;
            }
        }
        products.push(product);
    }

    let groups: HashMap<&str, &[String]> = product_tree
        .product_groups
        .iter()
        .map(|g| (g.group_id.as_str(), g.product_ids.as_slice()))
        .collect();
    let vulnerabilities = vulnerabilities
        .into_iter()
        .map(|v| vulnerability(v, &groups))
        .collect();

    Ok(Advisory {
        id: tracking.id,
        version: tracking.version,
        released: tracking.current_release_date,
        title: document.title,
        publisher: document.publisher.name,
        products,
        vulnerabilities,
    })
}

/// The branch path above a node: what the categories named so far.
#[derive(Clone, Default)]
struct Path {
    vendor: String,
    families: Vec<String>,
    product_name: String,
    version: Option<VersionBranch>,
}

fn walk(branch: &Branch, above: &Path, out: &mut Vec<Product>) {
    let mut here = above.clone();
    match branch.category.as_str() {
        "vendor" => here.vendor.clone_from(&branch.name),
        "product_family" => here.families.push(branch.name.clone()),
        "product_name" => here.product_name.clone_from(&branch.name),
        "product_version" => {
            here.version = Some(VersionBranch {
                kind: VersionKind::Version,
                text: branch.name.clone(),
            });
        }
        "product_version_range" => {
            here.version = Some(VersionBranch {
                kind: VersionKind::Range,
                text: branch.name.clone(),
            });
        }
        // architecture, host_name, language, legacy, patch_level,
        // service_pack, specification and anything later: a path element
        // that names nothing matching reads.
        _ => {}
    }
    if let Some(product) = &branch.product {
        out.push(leaf(product, &here));
    }
    for child in &branch.branches {
        walk(child, &here, out);
    }
}

fn leaf(full: &FullProductName, path: &Path) -> Product {
    let helper = full.product_identification_helper.as_ref();
    Product {
        id: full.product_id.clone(),
        vendor: path.vendor.clone(),
        families: path.families.clone(),
        product_name: path.product_name.clone(),
        full_name: full.name.clone(),
        version: path.version.clone(),
        model_numbers: helper.map(|h| h.model_numbers.clone()).unwrap_or_default(),
        cpe: helper.and_then(|h| h.cpe.clone()),
    }
}

fn vulnerability(v: Vuln, groups: &HashMap<&str, &[String]>) -> Vulnerability {
    let title = match v.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => first_line(t),
        _ => v
            .notes
            .iter()
            .find(|n| n.category == "summary")
            .map(|n| first_line(&n.text))
            .unwrap_or_default(),
    };
    let status = v.product_status;
    let affected = ids([
        status.known_affected,
        status.first_affected,
        status.last_affected,
    ]);
    let fixed = ids([status.fixed, status.first_fixed]);
    let not_affected = ids([status.known_not_affected]);
    let scores = v
        .scores
        .into_iter()
        .filter_map(|s| {
            s.cvss_v3.map(|c| Score {
                base_score: c.base_score,
                vector: c.vector_string,
                products: s.products,
            })
        })
        .collect();
    let remediations = v
        .remediations
        .into_iter()
        .map(|r| {
            let mut products = r.product_ids;
            for g in &r.group_ids {
                for id in groups.get(g.as_str()).copied().unwrap_or_default() {
                    if !products.contains(id) {
                        products.push(id.clone());
                    }
                }
            }
            Remediation {
                category: r.category,
                details: r.details,
                products,
                url: r.url,
            }
        })
        .collect();
    let (cwe, cwe_name) = match v.cwe {
        Some(c) => (c.id, c.name),
        None => (None, None),
    };
    Vulnerability {
        cve: v.cve,
        cwe,
        cwe_name,
        title,
        affected,
        fixed,
        not_affected,
        scores,
        remediations,
    }
}

/// The lists concatenated in order, each id once.
fn ids<const N: usize>(lists: [Vec<String>; N]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in lists.into_iter().flatten() {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn first_line(text: &str) -> String {
    text.trim()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(product_tree: &str, vulnerabilities: &str) -> String {
        format!(
            r#"{{"document": {{"csaf_version": "2.0", "title": "ACME PLC", "category": "csaf_security_advisory",
                "publisher": {{"name": "CISA", "category": "coordinator", "namespace": "https://www.cisa.gov/"}},
                "tracking": {{"id": "ICSA-99-001-01", "version": "1.2.0", "current_release_date": "2023-01-05T00:00:00.000000Z"}}}},
              "product_tree": {product_tree}, "vulnerabilities": {vulnerabilities}}}"#
        )
    }

    #[test]
    fn branches_are_walked_to_their_leaves() {
        let tree = r#"{"branches": [{"category": "vendor", "name": "Siemens", "branches": [
            {"category": "product_family", "name": "SIMATIC", "branches": [
              {"category": "product_name", "name": "SIMATIC S7-1200 CPU family", "branches": [
                {"category": "architecture", "name": "x86", "branches": [
                  {"category": "product_version_range", "name": "vers:all/<V4.6",
                   "product": {"name": "SIMATIC S7-1200 CPU 1211C <V4.6", "product_id": "CSAFPID-0001",
                     "product_identification_helper": {"model_numbers": ["6ES7211-1?E40-0XB0"],
                       "cpe": "cpe:2.3:h:siemens:s7-1200:*:*:*:*:*:*:*:*"}}}]}]},
              {"category": "product_name", "name": "SIMATIC S7-1500", "branches": [
                {"category": "product_version", "name": "V2.9.2",
                 "product": {"name": "SIMATIC S7-1500 V2.9.2", "product_id": "CSAFPID-0002"}}]}]}]}]}"#;
        let a = parse(doc(tree, "[]").as_bytes()).unwrap();
        assert_eq!(a.id, "ICSA-99-001-01");
        assert_eq!(a.version, "1.2.0");
        assert_eq!(a.released, "2023-01-05T00:00:00.000000Z");
        assert_eq!(a.title, "ACME PLC");
        assert_eq!(a.publisher, "CISA");
        assert_eq!(a.products.len(), 2);
        let p = &a.products[0];
        assert_eq!(p.id, "CSAFPID-0001");
        assert_eq!(p.vendor, "Siemens");
        assert_eq!(p.families, ["SIMATIC"]);
        assert_eq!(p.product_name, "SIMATIC S7-1200 CPU family");
        assert_eq!(p.full_name, "SIMATIC S7-1200 CPU 1211C <V4.6");
        assert_eq!(
            p.version,
            Some(VersionBranch {
                kind: VersionKind::Range,
                text: "vers:all/<V4.6".into()
            })
        );
        assert_eq!(p.model_numbers, ["6ES7211-1?E40-0XB0"]);
        assert_eq!(
            p.cpe.as_deref(),
            Some("cpe:2.3:h:siemens:s7-1200:*:*:*:*:*:*:*:*")
        );
        let q = &a.products[1];
        assert_eq!(q.product_name, "SIMATIC S7-1500");
        assert_eq!(
            q.version.as_ref().map(|v| v.kind),
            Some(VersionKind::Version)
        );
        assert!(q.model_numbers.is_empty());
    }

    #[test]
    fn full_product_names_and_relationships_are_products() {
        let tree = r#"{"branches": [{"category": "vendor", "name": "ACME", "branches": [
              {"category": "product_name", "name": "Runtime", "branches": [
                {"category": "product_version", "name": "7.1",
                 "product": {"name": "ACME Runtime 7.1", "product_id": "RT"}}]}]}],
            "full_product_names": [{"name": "Windows 10", "product_id": "WIN"}],
            "relationships": [{"category": "installed_on", "product_reference": "RT",
                "relates_to_product_reference": "WIN",
                "full_product_name": {"name": "ACME Runtime 7.1 installed on Windows 10", "product_id": "RT-WIN"}}]}"#;
        let a = parse(doc(tree, "[]").as_bytes()).unwrap();
        let ids: Vec<&str> = a.products.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["RT", "WIN", "RT-WIN"]);
        assert_eq!(a.products[1].vendor, "");
        assert_eq!(a.products[1].full_name, "Windows 10");
        let rel = &a.products[2];
        assert_eq!(rel.vendor, "ACME");
        assert_eq!(rel.product_name, "Runtime");
        assert_eq!(rel.full_name, "ACME Runtime 7.1 installed on Windows 10");
        assert_eq!(rel.version.as_ref().map(|v| v.text.as_str()), Some("7.1"));
    }

    #[test]
    fn vulnerabilities_are_flattened() {
        let tree = r#"{"product_groups": [{"group_id": "G1", "product_ids": ["P3", "P4"]}]}"#;
        let vulns = r#"[{"cve": "CVE-2023-0001", "cwe": {"id": "CWE-20", "name": "Improper Input Validation"},
              "notes": [{"category": "description", "text": "no"}, {"category": "summary", "text": "  Overflow in X.\nMore.  "}],
              "product_status": {"known_affected": ["P1", "P2"], "last_affected": ["P2", "P5"],
                                 "fixed": ["P3"], "first_fixed": ["P4"], "known_not_affected": ["P6"]},
              "scores": [{"cvss_v3": {"version": "3.1", "baseScore": 9.8,
                          "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseSeverity": "CRITICAL"},
                          "products": ["P1"]},
                         {"cvss_v2": {"baseScore": 5.0}, "products": ["P2"]}],
              "remediations": [{"category": "vendor_fix", "details": "Update to V4.6 or later",
                                "product_ids": ["P1", "P3"], "group_ids": ["G1"], "url": "https://example.invalid/fix"},
                               {"category": "mitigation", "details": "Firewall."}]},
             {"title": "Second", "product_status": {}}]"#;
        let a = parse(doc(tree, vulns).as_bytes()).unwrap();
        assert_eq!(a.vulnerabilities.len(), 2);
        let v = &a.vulnerabilities[0];
        assert_eq!(v.cve.as_deref(), Some("CVE-2023-0001"));
        assert_eq!(v.cwe.as_deref(), Some("CWE-20"));
        assert_eq!(v.cwe_name.as_deref(), Some("Improper Input Validation"));
        assert_eq!(v.title, "Overflow in X.");
        assert_eq!(v.affected, ["P1", "P2", "P5"]);
        assert_eq!(v.fixed, ["P3", "P4"]);
        assert_eq!(v.not_affected, ["P6"]);
        assert_eq!(v.scores.len(), 1);
        assert_eq!(v.scores[0].base_score, 9.8);
        assert_eq!(
            v.scores[0].vector,
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        );
        assert_eq!(v.scores[0].products, ["P1"]);
        assert_eq!(v.remediations.len(), 2);
        assert_eq!(v.remediations[0].category, "vendor_fix");
        assert_eq!(v.remediations[0].products, ["P1", "P3", "P4"]);
        assert_eq!(
            v.remediations[0].url.as_deref(),
            Some("https://example.invalid/fix")
        );
        assert!(v.remediations[1].products.is_empty());
        assert_eq!(a.vulnerabilities[1].title, "Second");
        assert_eq!(a.vulnerabilities[1].cve, None);
    }

    #[test]
    fn a_minimal_document_has_no_products() {
        let a = parse(
            br#"{"document": {"csaf_version": "2.0", "tracking": {"id": "X-1", "version": "1"}}}"#,
        )
        .unwrap();
        assert!(a.products.is_empty());
        assert!(a.vulnerabilities.is_empty());
        assert_eq!(a.released, "");
    }

    #[test]
    fn errors_say_why() {
        assert!(matches!(
            parse(b"{\"document\": "),
            Err(CsafError::Read(JsonError::Json { line: 1, .. }))
        ));
        assert!(matches!(
            parse(
                br#"{"document": {"csaf_version": "2.0", "tracking": {"id": "X", "version": "1"}}} x"#
            ),
            Err(CsafError::Read(JsonError::Json { .. }))
        ));
        assert_eq!(
            parse(br#"{"document": {"tracking": {"id": "X", "version": "1"}}}"#),
            Err(CsafError::NotCsaf)
        );
        assert_eq!(
            parse(
                br#"{"document": {"csaf_version": "1.2", "tracking": {"id": "X", "version": "1"}}}"#
            ),
            Err(CsafError::Version("1.2".into()))
        );
        assert_eq!(
            parse(
                br#"{"document": {"csaf_version": "2.0", "tracking": {"id": " ", "version": "1"}}}"#
            ),
            Err(CsafError::Empty("document.tracking.id"))
        );
        let Err(CsafError::Read(JsonError::Field { path, message })) =
            parse(br#"{"document": {"csaf_version": "2.0", "tracking": {"version": "1"}}}"#)
        else {
            panic!("a missing tracking id is a field error");
        };
        assert_eq!(path, "document.tracking");
        assert!(message.contains("missing field `id`"), "{message}");
        let bad_score = doc(
            "{}",
            r#"[{"scores": [{"cvss_v3": {"baseScore": "high"}, "products": []}]}]"#,
        );
        let Err(CsafError::Read(JsonError::Field { path, .. })) = parse(bad_score.as_bytes())
        else {
            panic!("a string score is a field error");
        };
        assert_eq!(path, "vulnerabilities[0].scores[0].cvss_v3.baseScore");
        let bad_branch = doc(r#"{"branches": [{"branches": [{"product": {}}]}]}"#, "[]");
        let Err(CsafError::Read(JsonError::Field { path, .. })) = parse(bad_branch.as_bytes())
        else {
            panic!("a product without id is a field error");
        };
        assert_eq!(path, "product_tree.branches[0].branches[0].product");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut s = String::from(
            r#"{"document": {"csaf_version": "2.0", "tracking": {"id": "X", "version": "1"}}, "product_tree": {"branches": "#,
        );
        for _ in 0..10_000 {
            s.push_str(r#"[{"branches": "#);
        }
        assert!(parse(s.as_bytes()).is_err());
    }
}
