//! Matching asset identities to advisories, precisely and honestly.
//!
//! An [`Index`] is built once from the advisories (and rebuilt when they
//! change); [`Index::matches`] answers for one [`AssetIdentity`]. The walk
//! follows the CSAF product tree: vendor → product name → model numbers →
//! version.
//!
//! **Vendor.** Both sides go through [`vendor::keys`] (one alias table). A
//! vendor taken only from the MAC OUI ([`AssetIdentity::vendor_hint`]) is
//! weak: every confidence it leads to is lowered one step.
//!
//! **Model numbers** (`product_identification_helper.model_numbers`, and
//! order numbers written in the product name, `SCALANCE X308-2 (6GK5308-2FL00-2AA3)`)
//! are compared with the asset's model attributes, uppercase, spaces removed
//! (`6ES7 214-1AG40-0XB0` = `6ES7214-1AG40-0XB0`), with `?` (one character)
//! and `*` (any run) as wildcards. When the product lists model numbers and
//! the asset reports one, the model numbers decide: no fallback to the name.
//!
//! **Product names** are matched on normalised tokens, not substrings. A
//! product name is split into lowercase tokens (`-`, `.`, `_` removed inside
//! a token: `S7-1200` → `s71200`; parenthesised remarks such as `(incl.
//! SIPLUS variants)` or `(24V, ports on rear)` dropped); generic words
//! (`family`, `series`, `cpu`, `firmware`, `and`, …), brand words
//! (`SIMATIC`, `SIPLUS`, `Modicon`, `MELSEC`, …), the vendor's own words and
//! version designators (`V16`, `V4.x`) are removed. What remains are the
//! product's *required tokens*: every one must be among the asset's tokens
//! (from its product, model and other names, and the product line its order
//! number implies). A product with no required token (`SIMATIC`) never
//! matches by name. So an S7-1200 (`SIMATIC S7-1200` derived from
//! `6ES7 214-…`, `CPU 1214C DC/DC/DC`) matches `SIMATIC S7-1200 CPU family
//! (incl. SIPLUS variants)` (required: `s71200`) but not `SIMATIC S7-1500
//! CPU family` (`s71500`), `SIMATIC S7-1200 CPU 1212C` (`s71200`, `1212c`)
//! or `SIPLUS S7-1200 CP 1243-1` (`s71200`, `cp`, `12431`); and an S7-1500
//! does not match `SIMATIC S7-1500 Software Controller` (`software`, `controller`).
//!
//! **Version.** The product's version branch is evaluated by
//! [`version`](super::version) against the asset's firmware. When the
//! branch is all versions and the product name states a release line
//! (`SINEMA Server V14`, `RTU500 series CMU Firmware Version 12.4`), the
//! line is the range (`V14.x`), and the evidence says it came from the name.
//! A condition that names CVEs (`>= 4.4.0 (only affected by
//! CVE-2019-10943)`) restricts the product to those CVEs.
//!
//! **Confidence.** `confirmed`: a model number matched and the firmware is
//! in range; `likely`: the product name matched and the firmware is in
//! range; `possible`: the asset reports no firmware, the range is all
//! versions (CISA writes `vers:all/*` also where it does not know), the
//! range text is unreadable or carries a condition the evaluator does not
//! evaluate (the reason says which, the range text is shown).
//!
//! **Never matched**: a firmware outside the range; a product whose status
//! for the vulnerability is `fixed` or `known_not_affected`, or that is not
//! listed as affected; a firmware at or above every fixed version the
//! product's `vendor_fix` remediations name (`Update to V4.6 or later
//! version`), unless that "fix" lies inside the product's own constraints
//! (then the range is trusted). Nothing else is dropped.
//!
//! One [`Match`] per (advisory, CVE) per asset: the most confident product.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::identity::{AssetIdentity, Attr};
use super::model::{Advisory, Confidence, Product, VersionKind, Vulnerability};
use super::vendor;
use super::version::{Comparator, Constraint, Containment, Range, Version};

/// A matched CWE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cwe {
    /// `CWE-787`.
    pub id: String,
    /// Its name, when the advisory gives it.
    pub name: Option<String>,
}

/// The CVSS v3 score of the vulnerability for the matched product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// Base score.
    pub base_score: f64,
    /// Vector string.
    pub vector: String,
}

/// A remediation for the matched product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRemediation {
    /// `vendor_fix`, `mitigation`, `workaround`, `none_available`, `no_fix_planned`.
    pub category: String,
    /// The text as written.
    pub details: String,
    /// A link, when given.
    pub url: Option<String>,
    /// The fixed version the text states (`Update to V4.6 or later version` → `V4.6`).
    pub fixed_version: Option<String>,
}

/// One identity field that matched one advisory field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The asset's identity attribute (`order_number`).
    pub attribute: String,
    /// Its value.
    pub value: String,
    /// The message it came from.
    pub source: String,
    /// The advisory field: `vendor`, `product_name`, `model_numbers`,
    /// `product_version_range` or `product_version`.
    pub field: String,
    /// The advisory's value.
    pub advisory_value: String,
}

/// An advisory's vulnerability matched to an asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// Advisory id (`ICSA-22-132-05`).
    pub advisory: String,
    /// Advisory version (revision).
    pub advisory_version: String,
    /// Advisory title.
    pub title: String,
    /// The vulnerability's CVE.
    pub cve: Option<String>,
    /// Its CWE.
    pub cwe: Option<Cwe>,
    /// Its CVSS v3 score for the product.
    pub cvss: Option<Cvss>,
    /// The product's vendor, as the advisory writes it.
    pub vendor: String,
    /// The product's vendor key (canonical).
    pub vendor_key: String,
    /// The product id (document-local).
    pub product_id: String,
    /// The product's full name.
    pub product: String,
    /// Remediations for the product.
    pub remediations: Vec<MatchRemediation>,
    /// How sure the match is.
    pub confidence: Confidence,
    /// Why it is no more than `possible`, when it is.
    pub reason: Option<String>,
    /// What matched what.
    pub evidence: Vec<Evidence>,
    /// The product's version branch text, as written.
    pub range: Option<String>,
}

/// A product with what matching needs of it, precomputed.
#[derive(Debug)]
struct Entry {
    advisory: usize,
    product: Product,
    vendor_keys: Vec<String>,
    required: Vec<Vec<String>>,
    models: Vec<String>,
    range: Option<Range>,
    /// The version line the product name states when the range is all versions
    /// (`SINEMA Server V14`, `RTU500 series CMU Firmware Version 12.4`), as written.
    name_line: Option<String>,
    /// Per applicable vulnerability: the match template and the fixed versions stated.
    vulnerabilities: Vec<(Match, Vec<Version>)>,
}

/// The advisories, indexed for matching.
#[derive(Debug, Default)]
pub struct Index {
    entries: Vec<Entry>,
    /// (vendor key, required token) → entries, each under one of its tokens.
    by_token: HashMap<(String, String), Vec<usize>>,
    /// vendor key → entries whose required tokens are all wildcard patterns.
    by_vendor_wildcard: HashMap<String, Vec<usize>>,
    /// The first four characters of a wildcarded model number → entries.
    by_model_prefix: HashMap<String, Vec<usize>>,
    /// A plain model number (compact, uppercase) → entries.
    by_model: HashMap<String, Vec<usize>>,
    /// Entries with a model number wildcarded in its first four characters.
    model_wildcards: Vec<usize>,
    advisories: usize,
}

/// Words that never identify a product.
const GENERIC: &[&str] = &[
    "a",
    "an",
    "and",
    "or",
    "of",
    "for",
    "the",
    "with",
    "to",
    "in",
    "on",
    "by",
    "all",
    "any",
    "family",
    "families",
    "series",
    "incl",
    "including",
    "variant",
    "variants",
    "version",
    "versions",
    "firmware",
    "fw",
    "cpu",
    "cpus",
    "controller",
    "controllers",
    "module",
    "modules",
    "device",
    "devices",
    "unit",
    "units",
    "model",
    "models",
    "product",
    "products",
    "type",
    "types",
    "related",
    "based",
    "prior",
    "earlier",
    "later",
    "before",
    "after",
    "only",
    "other",
    "others",
    "affected",
    "system",
    "systems",
    "x",
    "&",
];

/// Brand words: product lines too broad to identify a product.
const BRANDS: &[&str] = &[
    "simatic",
    "siplus",
    "siemens",
    "modicon",
    "schneider",
    "electric",
    "melsec",
    "mitsubishi",
    "allen",
    "bradley",
    "allenbradley",
    "rockwell",
    "automation",
    "ruggedcom",
    "ecostruxure",
    "honeywell",
    "omron",
    "ge",
    "abb",
];

/// Splits a name into compact lowercase tokens (`S7-1200` → `s71200`);
/// parenthesised remarks after a space are dropped when `drop_remarks`.
fn tokens(text: &str, remarks_dropped: bool) -> Vec<String> {
    let cleaned = if remarks_dropped {
        drop_remarks(text)
    } else {
        text.to_owned()
    };
    cleaned
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '*' | '?')))
        .map(|t| {
            t.chars()
                .filter(|c| !matches!(c, '-' | '.' | '_'))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// An asset's tokens: each compact token and its dash-separated prefixes
/// (`EDS-405A-MM-SC` → `eds`, `eds405a`, `eds405amm`, `eds405ammsc`), so a
/// model name carries the family name it extends.
fn asset_name_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let compact = tokens(text, false);
    for pair in compact.windows(2) {
        if let [word, next] = pair {
            if PAIRED_WORDS.contains(&word.as_str()) && next.chars().count() <= 2 {
                out.push(format!("{word}{next}"));
            }
        }
    }
    for raw in text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))) {
        let mut prefix = String::new();
        for part in raw.split(['-', '.', '_']) {
            prefix.extend(part.chars().flat_map(char::to_lowercase));
            if !prefix.is_empty() && !out.contains(&prefix) {
                out.push(prefix.clone());
            }
        }
    }
    out
}

/// A version designator in a name (`v16`, `v4x`, `v141`).
fn is_version_token(token: &str) -> bool {
    let mut chars = token.chars();
    chars.next() == Some('v')
        && chars.clone().next().is_some_and(|c| c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_digit() || c == 'x')
}

/// Words that name a series or family: a letter-only word before them is a
/// family name (`iQ-R series R120CPU`), not required when something else is.
const FAMILY_WORDS: &[&str] = &["series", "family", "line"];

/// Words whose next short token is part of them (`Series B` → `seriesb`).
const PAIRED_WORDS: &[&str] = &["series", "ser", "rev", "revision"];

/// Requirements of a product name: each a list of alternatives
/// (`AFS660/AFS665` → either), every requirement to be met by an asset token.
fn required_tokens(name: &str, vendor_words: &HashSet<String>) -> Vec<Vec<String>> {
    let cleaned = drop_remarks(name);
    let mut groups: Vec<Vec<String>> = Vec::new();
    for word in cleaned.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':')) {
        let parts: Vec<String> = word
            .split('/')
            .map(|p| tokens(p, false).concat())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() >= 2 && parts.iter().all(|p| p.chars().any(|c| c.is_ascii_digit())) {
            groups.push(parts);
        } else {
            groups.extend(tokens(word, false).into_iter().map(|t| vec![t]));
        }
    }
    let single = |g: &Vec<String>| -> Option<String> {
        match g.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    };
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut optional: Vec<Vec<String>> = Vec::new();
    let mut after_version_word = false;
    let mut i = 0;
    while let Some(group) = groups.get(i) {
        i += 1;
        let token = single(group);
        let was_version_word = after_version_word;
        after_version_word = token
            .as_deref()
            .is_some_and(|t| matches!(t, "version" | "versions" | "v"));
        let Some(token) = token else {
            if !out.contains(group) {
                out.push(group.clone());
            }
            continue;
        };
        if PAIRED_WORDS.contains(&token.as_str()) {
            if let Some(next) = groups
                .get(i)
                .and_then(single)
                .filter(|n| n.chars().count() <= 2)
            {
                i += 1;
                let paired = vec![format!("{token}{next}")];
                if !out.contains(&paired) {
                    out.push(paired);
                }
                continue;
            }
        }
        if GENERIC.contains(&token.as_str())
            || BRANDS.contains(&token.as_str())
            || vendor_words.contains(&token)
            || is_version_token(&token)
            || (was_version_word && token.chars().all(|c| c.is_ascii_digit() || c == 'x'))
            || token.chars().all(|c| c == '*' || c == '?')
            || token.chars().count() < 2
        {
            continue;
        }
        let before_family = groups
            .get(i)
            .and_then(single)
            .is_some_and(|n| FAMILY_WORDS.contains(&n.as_str()));
        let group = vec![token.clone()];
        if before_family && token.chars().all(|c| c.is_alphabetic()) {
            optional.push(group);
        } else if !out.contains(&group) {
            out.push(group);
        }
    }
    if out.is_empty() {
        out = optional;
    }
    for group in &mut out {
        for token in group.iter_mut() {
            *token = x_as_wildcard(token);
        }
    }
    out
}

/// A requirement that names a designation (`s71200`, `5700`, `p34*`)
/// rather than a word (`stratix`, `industrial`).
fn is_designation(group: &[String]) -> bool {
    group.iter().any(|t| t.chars().any(|c| c.is_ascii_digit()))
}

/// Whether an asset meets a product name's requirements. A name with
/// designations needs every designation and at least one of its words
/// (advisories describe products at length, `Allen-Bradley Stratix 5700
/// Industrial Managed Ethernet Switches`, devices name them briefly,
/// `Stratix 5700`); a name of words only needs every word.
fn requirements_met(required: &[Vec<String>], present: impl Fn(&str) -> bool) -> bool {
    let met = |g: &Vec<String>| g.iter().any(|t| present(t));
    let (designations, words): (Vec<&Vec<String>>, Vec<&Vec<String>>) =
        required.iter().partition(|g| is_designation(g));
    if designations.is_empty() {
        words.iter().all(|g| met(g))
    } else {
        designations.iter().all(|g| met(g)) && (words.is_empty() || words.iter().any(|g| met(g)))
    }
}

/// Trailing `x`s after a digit stand for any characters in a model
/// designation (`BMX P34x`, `750-82xx`, `1756-L7x`): `p34x` → `p34*`.
fn x_as_wildcard(token: &str) -> String {
    let stem = token.trim_end_matches('x');
    if stem.len() < token.len() && stem.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{stem}*")
    } else {
        token.to_owned()
    }
}

/// Drops parenthesised remarks that follow a space (`(incl. SIPLUS variants)`,
/// an unclosed one to the end), keeping those inside a word (`R120(EN)CPU`).
fn drop_remarks(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut previous = ' ';
    for c in text.chars() {
        if c == '(' && (depth > 0 || previous == ' ') {
            depth += 1;
        } else if c == ')' && depth > 0 {
            depth -= 1;
        } else if depth == 0 {
            cleaned.push(c);
        }
        previous = c;
    }
    cleaned
}

/// The asset attribute that supplies `token` (a pattern when wildcarded).
fn present<'a>(asset_tokens: &HashMap<String, &'a Attr>, token: &str) -> Option<&'a Attr> {
    if has_wildcard(token) {
        asset_tokens
            .iter()
            .find(|(t, _)| glob(token, t))
            .map(|(_, a)| *a)
    } else {
        asset_tokens.get(token).copied()
    }
}

fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// `?` one character, `*` any run (iterative, no recursion).
fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Whether an asset's model number is the advisory's: equal (wildcards
/// allowed), or the advisory's followed by a series or revision after a
/// slash or parenthesis (`1756-EN2T/D` is a `1756-EN2T`).
fn model_matches(advisory: &str, asset: &str) -> bool {
    glob(advisory, asset)
        || (!has_wildcard(advisory)
            && asset
                .strip_prefix(advisory)
                .is_some_and(|rest| rest.starts_with(['/', '('])))
}

/// A model number compared uppercase without spaces.
fn compact_model(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Order-number-shaped words of a product name (`(6GK5308-2FL00-2AA3)`,
/// `6ES7211-1AE40-0XB0`): a digit, then letters and digits in three dashed
/// groups, 15 characters or more.
fn order_numbers_in(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';' | '/'))
        .filter(|w| {
            w.len() >= 15
                && w.chars().next().is_some_and(|c| c.is_ascii_digit())
                && w.matches('-').count() == 2
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '?' | '*'))
                && w.chars().any(|c| c.is_ascii_uppercase())
        })
        .map(compact_model)
        .collect()
}

/// The version a remediation names as fixed: `Update to V4.6 or later
/// version` → `V4.6`; `1756-EN4TR Series A: Update to 5.002 or later` →
/// `5.002`; `Update firmware to version 2.14.0` → `2.14.0`. Only after
/// "update/upgrade to", so `Update WinCC to V7.3` (another product) gives none.
pub fn fixed_version(details: &str) -> Option<String> {
    let lower = details.to_ascii_lowercase();
    for phrase in [
        "update to ",
        "upgrade to ",
        "updated to ",
        "upgraded to ",
        "update firmware to ",
        "upgrade firmware to ",
    ] {
        let Some(at) = lower.find(phrase) else {
            continue;
        };
        let mut after = details.get(at + phrase.len()..)?.trim_start();
        for word in [
            "firmware version ",
            "software version ",
            "version ",
            "firmware ",
            "the version ",
        ] {
            if after.to_ascii_lowercase().starts_with(word) {
                after = after.get(word.len()..)?.trim_start();
            }
        }
        let first = after.chars().next()?;
        if !(first.is_ascii_digit()
            || (matches!(first, 'v' | 'V')
                && after
                    .chars()
                    .nth(1)
                    .is_some_and(|c| c.is_ascii_digit() || c == ' ')))
        {
            continue;
        }
        let (_, rest) = Version::parse_prefix(after)?;
        let used = (rest.as_ptr() as usize).saturating_sub(after.as_ptr() as usize);
        let text = after
            .get(..used)
            .unwrap_or(after)
            .trim()
            .trim_end_matches(['.', ',', ';']);
        if !text.is_empty() {
            return Some(text.to_owned());
        }
    }
    None
}

fn template(
    advisory: &Advisory,
    product: &Product,
    vulnerability: &Vulnerability,
    vendor_key: &str,
) -> (Match, Vec<Version>) {
    let applies = |ids: &[String]| ids.is_empty() || ids.contains(&product.id);
    let remediations: Vec<MatchRemediation> = vulnerability
        .remediations
        .iter()
        .filter(|r| applies(&r.products))
        .map(|r| MatchRemediation {
            category: r.category.clone(),
            details: r.details.clone(),
            url: r.url.clone(),
            fixed_version: if r.category == "vendor_fix" {
                fixed_version(&r.details)
            } else {
                None
            },
        })
        .collect();
    let fixes: Vec<Version> = remediations
        .iter()
        .filter_map(|r| r.fixed_version.as_deref().and_then(Version::parse))
        .collect();
    let cvss = vulnerability
        .scores
        .iter()
        .find(|s| s.products.contains(&product.id))
        .or_else(|| vulnerability.scores.iter().find(|s| s.products.is_empty()))
        .map(|s| Cvss {
            base_score: s.base_score,
            vector: s.vector.clone(),
        });
    let matched = Match {
        advisory: advisory.id.clone(),
        advisory_version: advisory.version.clone(),
        title: advisory.title.clone(),
        cve: vulnerability.cve.clone(),
        cwe: vulnerability.cwe.as_ref().map(|id| Cwe {
            id: id.clone(),
            name: vulnerability.cwe_name.clone(),
        }),
        cvss,
        vendor: product.vendor.trim().to_owned(),
        vendor_key: vendor_key.to_owned(),
        product_id: product.id.clone(),
        product: product.full_name.clone(),
        remediations,
        confidence: Confidence::Possible,
        reason: None,
        evidence: Vec::new(),
        range: product.version.as_ref().map(|v| v.text.clone()),
    };
    (matched, fixes)
}

/// A version line a product name states: `Version 12.4`, `V16`, `V4.x`
/// (a word `V<digits>…` or `Version <version>`); the text and the line.
fn version_in_name(name: &str) -> Option<(String, Version)> {
    let cleaned = drop_remarks(name);
    let mut previous = "";
    for word in cleaned.split_whitespace() {
        let lower = previous.to_ascii_lowercase();
        let designator = matches!(word.chars().next(), Some('V' | 'v'))
            && word.chars().nth(1).is_some_and(|c| c.is_ascii_digit())
            && word
                .chars()
                .skip(1)
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'x' | 'X'));
        let after_version_word = lower == "version"
            && word
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == 'V' || c == 'v');
        // `family < V4.x`: a range in the name, not a line; left to the range text.
        if (designator || after_version_word)
            && (previous.starts_with(['<', '>', '='])
                || matches!(lower.as_str(), "prior" | "before" | "to"))
        {
            return None;
        }
        if designator || after_version_word {
            if let Some(version) = Version::parse(word) {
                let text = if after_version_word {
                    format!("{previous} {word}")
                } else {
                    word.to_owned()
                };
                return Some((text, version.line()));
            }
        }
        previous = word;
    }
    None
}

/// The product's name for matching: the product name branch, else the innermost family, else the full name.
fn product_name(product: &Product) -> &str {
    if !product.product_name.trim().is_empty() {
        &product.product_name
    } else if let Some(family) = product.families.last() {
        family
    } else {
        &product.full_name
    }
}

impl Index {
    /// Indexes advisories.
    pub fn new(advisories: &[Advisory]) -> Index {
        let mut index = Index {
            advisories: advisories.len(),
            ..Index::default()
        };
        for (a, advisory) in advisories.iter().enumerate() {
            for product in &advisory.products {
                let applicable: Vec<&Vulnerability> = advisory
                    .vulnerabilities
                    .iter()
                    .filter(|v| {
                        v.affected.contains(&product.id)
                            && !v.fixed.contains(&product.id)
                            && !v.not_affected.contains(&product.id)
                    })
                    .collect();
                if applicable.is_empty() {
                    continue;
                }
                let vendor_keys = vendor::keys(&product.vendor);
                let vendor_words: HashSet<String> = vendor_keys
                    .iter()
                    .flat_map(|k| vendor::words(k))
                    .chain(tokens(&product.vendor, false))
                    .collect();
                let name = product_name(product);
                let mut models: Vec<String> = product
                    .model_numbers
                    .iter()
                    .map(|m| compact_model(m))
                    .collect();
                for number in order_numbers_in(name)
                    .into_iter()
                    .chain(order_numbers_in(&product.full_name))
                {
                    if !models.contains(&number) {
                        models.push(number);
                    }
                }
                let mut required = required_tokens(name, &vendor_words);
                // An order number alone as the product name is a model number, not a name.
                let name_models: Vec<String> = models
                    .iter()
                    .map(|m| m.to_lowercase().replace('-', ""))
                    .collect();
                required.retain(|g| !g.iter().any(|t| name_models.contains(t)));
                let vendor_key = vendor_keys.first().cloned().unwrap_or_default();
                let mut range = product.version.as_ref().map(|v| Range::parse(&v.text));
                let mut name_line = None;
                if range.as_ref().is_some_and(Range::is_all) {
                    if let Some((text, line)) = version_in_name(name) {
                        range = Some(Range::Constraints {
                            scheme: None,
                            constraints: vec![Constraint {
                                comparator: Comparator::Equal,
                                version: line,
                            }],
                            condition: None,
                            note: None,
                        });
                        name_line = Some(text);
                    }
                }
                let vulnerabilities = applicable
                    .iter()
                    .map(|v| template(advisory, product, v, &vendor_key))
                    .collect();
                let entry = Entry {
                    advisory: a,
                    product: product.clone(),
                    vendor_keys,
                    required,
                    models,
                    range,
                    name_line,
                    vulnerabilities,
                };
                let id = index.entries.len();
                // Under its longest plain token (the rarest, mostly), for each vendor key;
                // else under each alternative of a requirement; else by vendor alone.
                let plain = |t: &&String| !has_wildcard(t);
                // A designation (a token with a digit) is always required when
                // there is one; plain words then are not all (see `requirements_met`).
                let designations = entry.required.iter().any(|g| is_designation(g));
                let key_tokens: Vec<String> = match entry
                    .required
                    .iter()
                    .filter(|g| !designations || is_designation(g))
                    .filter_map(|g| match g.as_slice() {
                        [one] if !has_wildcard(one) => Some(one),
                        _ => None,
                    })
                    .max_by_key(|t| t.len())
                {
                    Some(token) => vec![token.clone()],
                    None => entry
                        .required
                        .iter()
                        .find(|g| g.iter().all(|t| plain(&t)))
                        .cloned()
                        .unwrap_or_default(),
                };
                for vendor_key in &entry.vendor_keys {
                    for token in &key_tokens {
                        index
                            .by_token
                            .entry((vendor_key.clone(), token.clone()))
                            .or_default()
                            .push(id);
                    }
                    if key_tokens.is_empty() && !entry.required.is_empty() {
                        index
                            .by_vendor_wildcard
                            .entry(vendor_key.clone())
                            .or_default()
                            .push(id);
                    }
                }
                for model in &entry.models {
                    let prefix: String = model.chars().take(4).collect();
                    if !has_wildcard(model) {
                        index.by_model.entry(model.clone()).or_default().push(id);
                    } else if has_wildcard(&prefix) {
                        index.model_wildcards.push(id);
                    } else {
                        index.by_model_prefix.entry(prefix).or_default().push(id);
                    }
                }
                index.entries.push(entry);
            }
        }
        for list in index
            .by_token
            .values_mut()
            .chain(index.by_model_prefix.values_mut())
            .chain(index.by_model.values_mut())
        {
            list.dedup();
        }
        index.model_wildcards.dedup();
        index
    }

    /// How many advisories and products (with an affected status) are indexed.
    pub fn size(&self) -> (usize, usize) {
        (self.advisories, self.entries.len())
    }

    /// The advisories' vulnerabilities that apply to `identity`, one per (advisory, CVE).
    pub fn matches(&self, identity: &AssetIdentity) -> Vec<Match> {
        // Vendor: announced, else the weak hint.
        let (vendor_attr, weak) = match (&identity.vendor, &identity.vendor_hint) {
            (Some(v), _) => (Some(v), false),
            (None, Some(h)) => (Some(h), true),
            (None, None) => (None, false),
        };
        let asset_vendor_keys: Vec<String> = vendor_attr
            .map(|v| vendor::keys(&v.value))
            .unwrap_or_default();
        // Model numbers the asset reports.
        let models: Vec<(&Attr, String)> = identity
            .model
            .iter()
            .chain(identity.also.iter().filter(|a| {
                matches!(
                    a.attribute.as_str(),
                    "order_number" | "product_code" | "model_name" | "product_and_model"
                ) && !a.source.starts_with("derived from")
            }))
            .map(|a| (a, compact_model(&a.value)))
            .filter(|(_, m)| m.len() >= 3)
            .collect();
        // Tokens of every name the asset gives.
        let mut asset_tokens: HashMap<String, &Attr> = HashMap::new();
        for attr in identity.names() {
            for token in asset_name_tokens(&attr.value) {
                asset_tokens.entry(token).or_insert(attr);
            }
        }
        // Candidates: (entry, model evidence).
        let mut candidates: Vec<(usize, Option<(&Attr, &str)>)> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        for (attr, model) in &models {
            let prefix: String = model.chars().take(4).collect();
            // `1756-EN2T/D` is also looked up as `1756-EN2T`.
            let base = model
                .split(['/', '('])
                .next()
                .filter(|b| b.len() < model.len());
            let exact = self.by_model.get(model.as_str()).into_iter().flatten();
            let by_base = base
                .and_then(|b| self.by_model.get(b))
                .into_iter()
                .flatten();
            let listed = self.by_model_prefix.get(&prefix).into_iter().flatten();
            for &id in exact
                .chain(by_base)
                .chain(listed)
                .chain(self.model_wildcards.iter())
            {
                let Some(entry) = self.entries.get(id) else {
                    continue;
                };
                if seen.contains(&id) {
                    continue;
                }
                let Some(advisory_model) = entry.models.iter().find(|m| model_matches(m, model))
                else {
                    continue;
                };
                // An announced vendor must agree; an unannounced one may not contradict.
                if !asset_vendor_keys.is_empty()
                    && !entry
                        .vendor_keys
                        .iter()
                        .any(|k| asset_vendor_keys.contains(k))
                {
                    continue;
                }
                seen.insert(id);
                candidates.push((id, Some((*attr, advisory_model.as_str()))));
            }
        }
        for vendor_key in &asset_vendor_keys {
            let by_token = asset_tokens
                .keys()
                .filter_map(|t| self.by_token.get(&(vendor_key.clone(), t.clone())))
                .flatten();
            let wildcard = self
                .by_vendor_wildcard
                .get(vendor_key)
                .into_iter()
                .flatten();
            for &id in by_token.chain(wildcard) {
                if seen.contains(&id) {
                    continue;
                }
                let Some(entry) = self.entries.get(id) else {
                    continue;
                };
                // The model numbers decide when both sides have them.
                if !entry.models.is_empty() && !models.is_empty() {
                    continue;
                }
                if requirements_met(&entry.required, |r| present(&asset_tokens, r).is_some()) {
                    seen.insert(id);
                    candidates.push((id, None));
                }
            }
        }
        let firmware_version = identity
            .firmware
            .as_ref()
            .and_then(|f| Version::parse(&f.value));
        let mut best: HashMap<(usize, String), Match> = HashMap::new();
        for (id, model) in candidates {
            let Some(entry) = self.entries.get(id) else {
                continue;
            };
            self.evaluate(
                entry,
                identity,
                firmware_version.as_ref(),
                vendor_attr,
                weak,
                model,
                &asset_tokens,
                &mut best,
            );
        }
        let mut out: Vec<Match> = best.into_values().collect();
        out.sort_by(|a, b| {
            (&a.advisory, &a.cve, &a.product_id).cmp(&(&b.advisory, &b.cve, &b.product_id))
        });
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        entry: &Entry,
        identity: &AssetIdentity,
        firmware_version: Option<&Version>,
        vendor_attr: Option<&Attr>,
        weak: bool,
        model: Option<(&Attr, &str)>,
        asset_tokens: &HashMap<String, &Attr>,
        best: &mut HashMap<(usize, String), Match>,
    ) {
        let firmware = identity.firmware.as_ref();
        // A condition naming CVEs (`(only affected by CVE-2019-10943)`) is evaluated here.
        let only_cves = entry
            .range
            .as_ref()
            .map(Range::only_cves)
            .unwrap_or_default();
        let unconditional;
        let range = if only_cves.is_empty() {
            entry.range.as_ref()
        } else {
            unconditional = entry.range.as_ref().map(Range::without_condition);
            unconditional.as_ref()
        };
        let (mut confidence, mut reason) = match (range, firmware) {
            (None, _) => (
                Confidence::Possible,
                Some("the advisory gives no version for the product".to_owned()),
            ),
            (Some(_), None) => (
                Confidence::Possible,
                Some("the asset reports no firmware version".to_owned()),
            ),
            (Some(range), Some(f)) if range.is_all() => {
                let _ = f;
                (
                    Confidence::Possible,
                    Some("the advisory names all versions".to_owned()),
                )
            }
            (Some(range), Some(f)) => match range.contains_parsed(firmware_version, &f.value) {
                Containment::Out => return,
                Containment::In => (
                    if model.is_some() {
                        Confidence::Confirmed
                    } else {
                        Confidence::Likely
                    },
                    None,
                ),
                Containment::Unknown(why) => (Confidence::Possible, Some(why)),
            },
        };
        if weak {
            confidence = match confidence {
                Confidence::Confirmed => Confidence::Likely,
                _ => Confidence::Possible,
            };
            reason = Some(match reason {
                Some(r) => format!("{r}; the vendor is only the MAC OUI's"),
                None => "the vendor is only the MAC OUI's".to_owned(),
            });
        }
        let mut evidence = Vec::new();
        if let Some(v) = vendor_attr {
            evidence.push(Evidence {
                attribute: v.attribute.clone(),
                value: v.value.clone(),
                source: v.source.clone(),
                field: "vendor".to_owned(),
                advisory_value: entry.product.vendor.trim().to_owned(),
            });
        }
        match model {
            Some((attr, advisory_model)) => evidence.push(Evidence {
                attribute: attr.attribute.clone(),
                value: attr.value.clone(),
                source: attr.source.clone(),
                field: "model_numbers".to_owned(),
                advisory_value: advisory_model.to_owned(),
            }),
            None => {
                // Each asset attribute that supplied a required token, once.
                let mut shown: Vec<&str> = Vec::new();
                for group in &entry.required {
                    let attr = group.iter().find_map(|t| present(asset_tokens, t));
                    if let Some(attr) = attr {
                        if !shown.contains(&attr.attribute.as_str())
                            || !shown.contains(&attr.value.as_str())
                        {
                            shown.push(&attr.attribute);
                            shown.push(&attr.value);
                            evidence.push(Evidence {
                                attribute: attr.attribute.clone(),
                                value: attr.value.clone(),
                                source: attr.source.clone(),
                                field: "product_name".to_owned(),
                                advisory_value: product_name(&entry.product).to_owned(),
                            });
                        }
                    }
                }
            }
        }
        if let (Some(f), Some(branch)) = (firmware, &entry.product.version) {
            evidence.push(Evidence {
                attribute: f.attribute.clone(),
                value: f.value.clone(),
                source: f.source.clone(),
                field: match branch.kind {
                    VersionKind::Version => "product_version",
                    VersionKind::Range => "product_version_range",
                }
                .to_owned(),
                advisory_value: match &entry.name_line {
                    Some(line) => format!("{} ({line} in the product name)", branch.text),
                    None => branch.text.clone(),
                },
            });
        }
        for (template, fixes) in &entry.vulnerabilities {
            if !only_cves.is_empty()
                && !template
                    .cve
                    .as_ref()
                    .is_some_and(|cve| only_cves.iter().any(|c| c.eq_ignore_ascii_case(cve)))
            {
                continue;
            }
            // Fixed: at or above every fixed version the vendor names for the product. A
            // "fix" inside the product's own constraints contradicts them (CISA's
            // `>= 4.4.0` product with 'Update to v4.4.0'): the range is trusted.
            if let Some(version) = firmware_version {
                let fixes: Vec<&Version> = fixes
                    .iter()
                    .filter(|fix| !range.is_some_and(|r| r.constrains_in(fix)))
                    .collect();
                if !fixes.is_empty()
                    && fixes
                        .iter()
                        .all(|fix| version.compare(fix) != std::cmp::Ordering::Less)
                {
                    continue;
                }
            }
            let key = (
                entry.advisory,
                template
                    .cve
                    .clone()
                    .unwrap_or_else(|| template.title.clone()),
            );
            if best.get(&key).is_some_and(|b| b.confidence >= confidence) {
                continue;
            }
            let mut matched = template.clone();
            matched.confidence = confidence;
            matched.reason = reason.clone();
            matched.evidence = evidence.clone();
            best.insert(key, matched);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intel::model::{Remediation, Score, VersionBranch};

    fn product(id: &str, vendor: &str, name: &str, range: &str, models: &[&str]) -> Product {
        Product {
            id: id.to_owned(),
            vendor: vendor.to_owned(),
            families: Vec::new(),
            product_name: name.to_owned(),
            full_name: name.to_owned(),
            version: Some(VersionBranch {
                kind: VersionKind::Range,
                text: range.to_owned(),
            }),
            model_numbers: models.iter().map(|m| (*m).to_owned()).collect(),
            cpe: None,
        }
    }

    fn advisory(products: Vec<Product>, fix: Option<&str>) -> Advisory {
        let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
        Advisory {
            id: "ICSA-00-000-00".to_owned(),
            version: "1".to_owned(),
            released: "2023-01-01T00:00:00Z".to_owned(),
            title: "Test".to_owned(),
            publisher: "CISA".to_owned(),
            products,
            vulnerabilities: vec![Vulnerability {
                cve: Some("CVE-2023-0001".to_owned()),
                cwe: Some("CWE-20".to_owned()),
                cwe_name: Some("Improper Input Validation".to_owned()),
                title: "t".to_owned(),
                affected: ids.clone(),
                scores: vec![Score {
                    base_score: 7.5,
                    vector: "CVSS:3.1/AV:N".to_owned(),
                    products: ids.clone(),
                }],
                remediations: fix
                    .map(|f| Remediation {
                        category: "vendor_fix".to_owned(),
                        details: f.to_owned(),
                        products: ids.clone(),
                        url: None,
                    })
                    .into_iter()
                    .collect(),
                ..Vulnerability::default()
            }],
        }
    }

    #[test]
    fn trailing_xs_after_a_digit_are_wildcards() {
        assert_eq!(x_as_wildcard("p34x"), "p34*");
        assert_eq!(x_as_wildcard("82xx"), "82*");
        assert_eq!(x_as_wildcard("1756l7x"), "1756l7*");
        for plain in ["x200", "xl", "box", "s71200", "x"] {
            assert_eq!(x_as_wildcard(plain), plain);
        }
        let req: Vec<Vec<String>> = required_tokens("M340 CPUs BMX P34x", &HashSet::new());
        assert!(req.contains(&vec!["p34*".to_owned()]), "{req:?}");
    }

    #[test]
    fn tokens_and_required_tokens() {
        assert_eq!(
            tokens("SIMATIC S7-1200 CPU family (incl. SIPLUS variants)", true),
            ["simatic", "s71200", "cpu", "family"]
        );
        let req = |name: &str| -> Vec<String> {
            required_tokens(name, &HashSet::new())
                .iter()
                .map(|g| g.join("|"))
                .collect()
        };
        assert_eq!(
            req("SIMATIC S7-1200 CPU family (incl. SIPLUS variants)"),
            ["s71200"]
        );
        assert_eq!(
            req("SIMATIC S7-1500 CPU family (incl. related ET200 CPUs and SIPLUS"),
            ["s71500"]
        );
        assert_eq!(
            req("SIMATIC S7-1500 Software Controller"),
            ["s71500", "software"]
        );
        assert_eq!(
            req("SIMATIC NET PC Software V16"),
            ["net", "pc", "software"]
        );
        assert!(req("SIMATIC").is_empty());
        assert_eq!(req("MELSEC iQ-R Series R08PSFCPU Firmware"), ["r08psfcpu"]);
        assert_eq!(req("iQ-R series"), ["iqr"]);
        assert_eq!(req("AFS660/AFS665"), ["afs660|afs665"]);
        assert_eq!(req("1756-EN2F Series B"), ["1756en2f", "seriesb"]);
        assert_eq!(req("WebAccess/SCADA"), ["webaccess", "scada"]);
    }

    #[test]
    fn version_lines_in_product_names() {
        let line = |name: &str| version_in_name(name).map(|(text, _)| text);
        assert_eq!(line("SINEMA Server V14").as_deref(), Some("V14"));
        assert_eq!(
            line("RTU500 series CMU Firmware Version 12.4").as_deref(),
            Some("Version 12.4")
        );
        assert_eq!(
            line("SIMATIC S7-1200 CPU family < V4.x (incl. SIPLUS variants)"),
            None
        );
        assert_eq!(line("SIMATIC S7-1500 CPU 1515R-2 PN"), None);
        let (_, v16) =
            version_in_name("SIMATIC NET PC Software V16").unwrap_or_else(|| panic!("no line"));
        assert_eq!(
            v16.compare(&Version::parse("V16 Update 3").unwrap_or_else(|| panic!("v"))),
            std::cmp::Ordering::Equal
        );
    }

    #[test]
    fn globs() {
        assert!(glob("6ES7211-1?E40-0XB0", "6ES7211-1AE40-0XB0"));
        assert!(glob("6ES7*-0XB0", "6ES7214-1AG40-0XB0"));
        assert!(!glob("6ES7211-1?E40-0XB0", "6ES7211-1AE40-0XB1"));
        assert!(glob("cs1dcpu**s", "cs1dcpu67s"));
        assert!(model_matches("1756-EN2T", "1756-EN2T/D"));
        assert!(!model_matches("1756-EN2T", "1756-EN2TR"));
        assert!(model_matches("6ES7214-1AG40-0XB0", "6ES7214-1AG40-0XB0"));
    }

    #[test]
    fn fixed_versions_from_remediation_text() {
        assert_eq!(
            fixed_version("Update to V4.6 or later version").as_deref(),
            Some("V4.6")
        );
        assert_eq!(
            fixed_version("1756-EN4TR Series A: Update to 5.002 or later").as_deref(),
            Some("5.002")
        );
        assert_eq!(
            fixed_version("Update to V14 SP1 Update 10 or later version").as_deref(),
            Some("V14 SP1 Update 10")
        );
        assert_eq!(
            fixed_version("Update firmware to version 2.14.0.").as_deref(),
            Some("2.14.0")
        );
        assert_eq!(fixed_version("Update WinCC to V7.3 Upd 13"), None);
        assert_eq!(fixed_version("Contact customer support"), None);
    }

    fn s7(order: &str, firmware: Option<&str>) -> AssetIdentity {
        AssetIdentity::given(Some("Siemens"), None, Some(order), firmware)
    }

    #[test]
    fn confidence_follows_what_matched() {
        let index = Index::new(&[advisory(
            vec![
                product(
                    "P1",
                    "Siemens",
                    "SIMATIC S7-1200 CPU family (incl. SIPLUS variants)",
                    "vers:all/<V4.5.0",
                    &[],
                ),
                product(
                    "P2",
                    "Siemens",
                    "SIMATIC S7-1500 CPU 1515R-2 PN (6ES7515-2RM00-0AB0)",
                    "vers:all/<V2.9.7",
                    &["6ES7515-2RM00-0AB0"],
                ),
            ],
            None,
        )]);
        let m = index.matches(&s7("6ES7 214-1AG40-0XB0", Some("V4.2.3")));
        assert_eq!(m.len(), 1);
        assert_eq!(m.first().map(|m| m.confidence), Some(Confidence::Likely));
        assert!(
            index
                .matches(&s7("6ES7 214-1AG40-0XB0", Some("V4.5.0")))
                .is_empty()
        );
        let m = index.matches(&s7("6ES7515-2RM00-0AB0", Some("V2.9.6")));
        assert_eq!(m.first().map(|m| m.confidence), Some(Confidence::Confirmed));
        assert_eq!(m.first().map(|m| m.product_id.as_str()), Some("P2"));
        let m = index.matches(&s7("6ES7 515-2RM00-0AB0", None));
        assert_eq!(m.first().map(|m| m.confidence), Some(Confidence::Possible));
        // Another S7-1500 CPU does not match the 1515R by name: its order number decides.
        assert!(
            index
                .matches(&s7("6ES7516-3AN01-0AB0", Some("V2.0")))
                .is_empty()
        );
        // Another vendor's device with the same tokens does not match.
        let other = AssetIdentity::given(
            Some("Rockwell Automation"),
            Some("S7-1200"),
            None,
            Some("V1.0"),
        );
        assert!(index.matches(&other).is_empty());
    }

    #[test]
    fn a_fixed_firmware_is_not_matched_and_the_fix_is_stated() {
        let index = Index::new(&[advisory(
            vec![product("P1", "Moxa", "EDS-405A Series", "vers:all/*", &[])],
            Some("Update to V3.9 or later version"),
        )]);
        let device = |fw: &str| {
            AssetIdentity::given(
                Some("Moxa Technologies Co., Ltd."),
                Some("EDS-405A-MM-SC"),
                None,
                Some(fw),
            )
        };
        assert!(index.matches(&device("V3.9")).is_empty());
        let m = index.matches(&device("V3.8"));
        assert_eq!(m.len(), 1, "{m:?}");
        let m = m.first().unwrap_or_else(|| panic!("no match"));
        assert_eq!(m.confidence, Confidence::Possible);
        assert_eq!(
            m.remediations
                .first()
                .and_then(|r| r.fixed_version.as_deref()),
            Some("V3.9")
        );
        assert_eq!(m.cvss.as_ref().map(|c| c.base_score), Some(7.5));
        let json = serde_json::to_value(m).unwrap_or_default();
        assert_eq!(json["confidence"], "possible");
    }

    #[test]
    fn not_affected_and_fixed_products_never_match() {
        let mut a = advisory(
            vec![product("P1", "WAGO", "PFC200", "<= 03.10.08", &[])],
            None,
        );
        if let Some(v) = a.vulnerabilities.first_mut() {
            v.not_affected = vec!["P1".to_owned()];
        }
        let index = Index::new(&[a]);
        assert!(
            index
                .matches(&AssetIdentity::given(
                    Some("WAGO"),
                    Some("PFC200"),
                    None,
                    Some("03.00.00")
                ))
                .is_empty()
        );
    }
}
