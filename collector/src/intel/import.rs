//! The offline import: files an operator carries into the plant (CSAF
//! advisories, a ROLIE feed with its files beside it, the KEV catalog, an
//! EPSS CSV) read into the store.
//!
//! - A path is a file or a directory (walked recursively for `*.json`,
//!   `*.csv`, `*.csv.gz`). A file's kind is told by its content: CSAF has
//!   `document.csaf_version`, KEV `catalogVersion`, ROLIE `feed`, EPSS its
//!   gzip magic, `#model_version` comment or `cve,epss` header.
//! - `<file>.sha512` beside a file (`sha512sum` format) is checked; a
//!   mismatch keeps that document out.
//! - A document that cannot be read is reported with its path and reason;
//!   the others are still imported.
//! - Idempotent: the same files again change nothing and leave the
//!   generation where it was. A later revision of an advisory (same
//!   tracking id; `tracking.version` compared number by number, then
//!   `current_release_date`) replaces the stored one; an earlier one is
//!   skipped and counted. A KEV catalog or EPSS file replaces the stored one
//!   unless it is older (catalog version, score date).
//!
//! Everything is read and parsed first, then written in one transaction.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use super::model::{Advisory, Epss, SourceStatus};
use super::{csaf, epss, kev};
use crate::store::intel as intel_db;
use crate::store::{Db, Store};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Files read (ROLIE feeds and the files they list included).
    pub files: u64,
    /// `.sha512` files checked and matching.
    pub checksums_verified: u64,
    /// Advisories not held before.
    pub advisories_new: u64,
    /// Advisories that replaced an earlier revision (or the same revision
    /// stored differently).
    pub advisories_replaced: u64,
    /// Advisories already held exactly so.
    pub advisories_unchanged: u64,
    /// Advisories older than the revision held: skipped.
    pub advisories_older_skipped: u64,
    /// Products in the advisories read.
    pub products: u64,
    /// Entries of the KEV catalog read (0 if none).
    pub kev_entries: u64,
    /// Its `catalogVersion`.
    pub kev_version: Option<String>,
    /// Whether it replaced the stored catalog.
    pub kev_changed: bool,
    /// EPSS scores read (0 if none).
    pub epss_scores: u64,
    /// Its `model_version` and `score_date`.
    pub epss_model_version: Option<String>,
    /// Its `score_date`.
    pub epss_score_date: Option<String>,
    /// Whether it replaced the stored scores.
    pub epss_changed: bool,
    /// EPSS rows that did not read (reported in `notes` by line, not fatal).
    pub epss_bad_rows: u64,
    /// Documents that were not imported, with why.
    pub errors: Vec<Problem>,
    /// Things worth knowing that kept nothing out (EPSS bad rows, an older
    /// catalog skipped).
    pub notes: Vec<Problem>,
    /// The intelligence generation after the import.
    pub generation: u64,
    /// Whether the import changed anything (and so moved the generation).
    pub changed: bool,
}

/// A file and what is wrong with it (or worth saying about it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "files read: {} ({} SHA-512 checked)",
            self.files, self.checksums_verified
        )?;
        writeln!(
            f,
            "advisories: {} new, {} replaced, {} unchanged, {} older skipped ({} products)",
            self.advisories_new,
            self.advisories_replaced,
            self.advisories_unchanged,
            self.advisories_older_skipped,
            self.products
        )?;
        if let Some(v) = &self.kev_version {
            let what = if self.kev_changed {
                "loaded"
            } else {
                "unchanged"
            };
            writeln!(f, "KEV: catalog {v}, {} entries, {what}", self.kev_entries)?;
        }
        if self.epss_scores > 0 || self.epss_changed {
            let what = if self.epss_changed {
                "loaded"
            } else {
                "unchanged"
            };
            writeln!(
                f,
                "EPSS: model {}, scores of {}, {} scores ({} bad rows), {what}",
                self.epss_model_version.as_deref().unwrap_or("?"),
                self.epss_score_date.as_deref().unwrap_or("?"),
                self.epss_scores,
                self.epss_bad_rows
            )?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        writeln!(
            f,
            "{} error(s); intel generation {}{}",
            self.errors.len(),
            self.generation,
            if self.changed {
                " (changed)"
            } else {
                " (nothing changed)"
            }
        )
    }
}

/// What is loaded, as a table for people.
pub fn status_table(sources: &[SourceStatus], generation: u64) -> String {
    let mut t = comfy_table::Table::new();
    t.set_header(["source", "count", "version", "date", "imported at"]);
    for s in sources {
        t.add_row([
            s.kind.clone(),
            s.count.to_string(),
            s.version.clone().unwrap_or_default(),
            s.date.clone().unwrap_or_default(),
            s.imported_at.clone(),
        ]);
    }
    if sources.is_empty() {
        return format!("no intelligence imported (generation {generation})\n");
    }
    format!("{t}\nintel generation {generation}\n")
}

/// Imports `paths` (files, directories, ROLIE feeds) into `store`.
pub fn import(store: &Store, paths: &[PathBuf]) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let read = read_all(paths, &mut report);
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let generation = store.write(|txn| write(txn, read, &now, &mut report))?;
    report.generation = generation;
    Ok(report)
}

/// What was read, before it is written.
#[derive(Default)]
struct Read {
    advisories: Vec<(Advisory, PathBuf)>,
    kev: Option<(kev::Catalog, PathBuf)>,
    epss: Option<(epss::Scores, PathBuf)>,
}

fn read_all(paths: &[PathBuf], report: &mut ImportReport) -> Read {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files, report);
    }
    let mut seen = BTreeSet::new();
    let mut out = Read::default();
    let mut queue: std::collections::VecDeque<PathBuf> = files.into();
    while let Some(path) = queue.pop_front() {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.insert(key) {
            continue;
        }
        report.files += 1;
        let problem = |reason: String| Problem {
            path: path.clone(),
            reason,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                report.errors.push(problem(format!("cannot read: {e}")));
                continue;
            }
        };
        match checksum(&path, &bytes) {
            Ok(true) => report.checksums_verified += 1,
            Ok(false) => {}
            Err(reason) => {
                report.errors.push(problem(reason));
                continue;
            }
        }
        match kind(&bytes) {
            Ok(Kind::Csaf) => match csaf::parse(&bytes) {
                Ok(a) => {
                    report.products += u64::try_from(a.products.len()).unwrap_or(u64::MAX);
                    out.advisories.push((a, path));
                }
                Err(e) => report.errors.push(problem(format!("CSAF: {e}"))),
            },
            Ok(Kind::Kev) => match kev::parse(&bytes) {
                Ok(c) => {
                    let newer = match &out.kev {
                        Some((held, _)) => {
                            compare_versions(&c.version, &held.version) == Ordering::Greater
                        }
                        None => true,
                    };
                    if newer {
                        out.kev = Some((c, path));
                    } else {
                        report.notes.push(problem(format!(
                            "KEV catalog {} skipped: a later one is in this import",
                            c.version
                        )));
                    }
                }
                Err(e) => report.errors.push(problem(format!("KEV: {e}"))),
            },
            Ok(Kind::Epss) => match epss::parse(&bytes) {
                Ok(s) => {
                    for (line, why) in &s.bad {
                        report
                            .notes
                            .push(problem(format!("EPSS line {line} skipped: {why}")));
                    }
                    if s.bad_rows > u64::try_from(s.bad.len()).unwrap_or(u64::MAX) {
                        report.notes.push(problem(format!(
                            "EPSS: {} bad rows in all, the first {} shown",
                            s.bad_rows,
                            s.bad.len()
                        )));
                    }
                    report.epss_bad_rows += s.bad_rows;
                    let newer = match &out.epss {
                        Some((held, _)) => s.score_date > held.score_date,
                        None => true,
                    };
                    if newer {
                        out.epss = Some((s, path));
                    } else {
                        report.notes.push(problem(
                            "EPSS file skipped: a later one is in this import".to_owned(),
                        ));
                    }
                }
                Err(e) => report.errors.push(problem(format!("EPSS: {e}"))),
            },
            Ok(Kind::Rolie) => match rolie(&path, &bytes) {
                Ok(listed) => {
                    for entry in listed {
                        match entry {
                            Ok(file) => queue.push_back(file),
                            Err(reason) => report.errors.push(problem(reason)),
                        }
                    }
                }
                Err(reason) => report.errors.push(problem(format!("ROLIE feed: {reason}"))),
            },
            Err(reason) => report.errors.push(problem(reason)),
        }
    }
    out
}

/// Files under `path`: the file itself, or a directory's `*.json`, `*.csv`
/// and `*.csv.gz`, recursively, in name order.
/// The files `import` would read under `paths` (directories searched
/// recursively for `.json`, `.csv` and `.csv.gz`), in order, and the paths it
/// could not read or list.
pub fn files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut report = ImportReport::default();
    let mut out = Vec::new();
    for path in paths {
        collect(path, &mut out, &mut report);
    }
    (out, report.errors)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>, report: &mut ImportReport) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            report.errors.push(Problem {
                path: path.to_owned(),
                reason: format!("cannot read: {e}"),
            });
            return;
        }
    };
    if !meta.is_dir() {
        out.push(path.to_owned());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(rd) => rd.collect::<std::io::Result<Vec<_>>>(),
        Err(e) => Err(e),
    };
    let mut entries: Vec<PathBuf> = match entries {
        Ok(es) => es.into_iter().map(|e| e.path()).collect(),
        Err(e) => {
            report.errors.push(Problem {
                path: path.to_owned(),
                reason: format!("cannot list: {e}"),
            });
            return;
        }
    };
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, out, report);
        } else {
            let name = entry
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if name.ends_with(".json") || name.ends_with(".csv") || name.ends_with(".csv.gz") {
                out.push(entry);
            }
        }
    }
}

/// Checks `<path>.sha512` when it exists: `Ok(true)` verified, `Ok(false)`
/// none there, `Err` a mismatch or an unreadable checksum file.
fn checksum(path: &Path, bytes: &[u8]) -> Result<bool, String> {
    let mut name = path.as_os_str().to_owned();
    name.push(".sha512");
    let sum_path = PathBuf::from(name);
    let text = match std::fs::read_to_string(&sum_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("cannot read {}: {e}", sum_path.display())),
    };
    // `sha512sum` format: "<128 hex digits>  <file name>" (or " *<name>").
    let expected = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if expected.len() != 128 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{} holds no SHA-512 digest", sum_path.display()));
    }
    let actual = hex(&Sha512::digest(bytes));
    if actual == expected {
        Ok(true)
    } else {
        Err(format!(
            "SHA-512 mismatch: {} says {}…, the file is {}…; not imported",
            sum_path.display(),
            expected.get(..16).unwrap_or_default(),
            actual.get(..16).unwrap_or_default()
        ))
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csaf,
    Kev,
    Rolie,
    Epss,
}

/// The top-level keys that tell the JSON kinds apart.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    document: Option<ProbeDocument>,
    #[serde(default, rename = "catalogVersion")]
    catalog_version: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    feed: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ProbeDocument {
    #[serde(default)]
    csaf_version: Option<serde::de::IgnoredAny>,
}

fn kind(bytes: &[u8]) -> Result<Kind, String> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        let probe: Probe = serde_json::from_slice(bytes)
            .map_err(|e| format!("not JSON (line {}, column {}): {e}", e.line(), e.column()))?;
        return if probe.document.is_some_and(|d| d.csaf_version.is_some()) {
            Ok(Kind::Csaf)
        } else if probe.catalog_version.is_some() {
            Ok(Kind::Kev)
        } else if probe.feed.is_some() {
            Ok(Kind::Rolie)
        } else {
            Err("JSON, but neither a CSAF document (document.csaf_version), a KEV catalog (catalogVersion) nor a ROLIE feed (feed)".to_owned())
        };
    }
    if epss::looks_like(bytes) {
        return Ok(Kind::Epss);
    }
    Err("not a CSAF document, KEV catalog, ROLIE feed or EPSS CSV".to_owned())
}

#[derive(Deserialize)]
struct RolieDoc {
    feed: RolieFeed,
}

#[derive(Deserialize)]
struct RolieFeed {
    #[serde(default)]
    entry: Vec<RolieEntry>,
}

#[derive(Deserialize)]
struct RolieEntry {
    #[serde(default)]
    id: String,
    #[serde(default)]
    link: Vec<RolieLink>,
    #[serde(default)]
    content: Option<RolieContent>,
}

#[derive(Deserialize)]
struct RolieLink {
    #[serde(default)]
    rel: String,
    #[serde(default)]
    href: String,
}

#[derive(Deserialize)]
struct RolieContent {
    #[serde(default)]
    src: String,
}

/// The files a ROLIE feed lists, found by file name beside the feed (or in
/// the sub-directory the URL names, `…/2023/icsa-23-005-01.json`).
fn rolie(feed: &Path, bytes: &[u8]) -> Result<Vec<Result<PathBuf, String>>, String> {
    let doc: RolieDoc = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let dir = feed.parent().unwrap_or_else(|| Path::new("."));
    Ok(doc
        .feed
        .entry
        .iter()
        .map(|entry| {
            let url = entry
                .content
                .as_ref()
                .map(|c| c.src.as_str())
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    entry
                        .link
                        .iter()
                        .find(|l| l.rel == "self" || l.rel.is_empty())
                        .map(|l| l.href.as_str())
                })
                .ok_or_else(|| format!("feed entry {:?} names no file", entry.id))?;
            let path = url.split(['?', '#']).next().unwrap_or_default();
            let mut segments = path.rsplit('/').filter(|s| !s.is_empty());
            let name = segments
                .next()
                .filter(|n| *n != "." && *n != "..")
                .ok_or_else(|| format!("feed entry {:?}: no file name in {url:?}", entry.id))?;
            let beside = dir.join(name);
            if beside.is_file() {
                return Ok(beside);
            }
            if let Some(sub) = segments.next().filter(|s| *s != "." && *s != "..") {
                let under = dir.join(sub).join(name);
                if under.is_file() {
                    return Ok(under);
                }
            }
            Err(format!(
                "feed entry {:?} lists {name}, which is not beside the feed ({})",
                entry.id,
                beside.display()
            ))
        })
        .collect())
}

/// Orders two `tracking.version`s (`1`, `1.2.0`, `2.0.0-rc.1`): the
/// version number by number, a missing part counting as 0 (`1` = `1.0.0`);
/// then a release after its pre-releases (`1.0.0-rc.1` < `1.0.0`, as CSAF's
/// semantic versioning has it), pre-releases part by part (numbers before
/// text). Build metadata (`+…`) is ignored.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn split(s: &str) -> (&str, Option<&str>) {
        let s = s.trim();
        let s = s.split_once('+').map_or(s, |(v, _)| v);
        match s.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (s, None),
        }
    }
    fn parts(a: &str, b: &str) -> Ordering {
        let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
        for i in 0..pa.len().max(pb.len()) {
            let x = pa.get(i).copied().unwrap_or("0");
            let y = pb.get(i).copied().unwrap_or("0");
            let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                (Ok(_), Err(_)) => Ordering::Less,
                (Err(_), Ok(_)) => Ordering::Greater,
                (Err(_), Err(_)) => x.cmp(y),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
    let ((ca, pa), (cb, pb)) = (split(a), split(b));
    parts(ca, cb).then_with(|| match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => parts(x, y),
    })
}

/// How a document's revision stands to the stored one.
fn compare_revisions(version: &str, released: &str, held: &intel_db::Revision) -> Ordering {
    compare_versions(version, &held.version).then_with(|| released.cmp(&held.released))
}

fn write(txn: &Db<'_>, read: Read, now: &str, report: &mut ImportReport) -> Result<u64> {
    let mut changed_csaf = false;
    for (advisory, path) in read.advisories {
        let value = serde_json::to_string(&advisory)?;
        let held = intel_db::revision(txn, &advisory.id)?;
        let put = match &held {
            None => {
                report.advisories_new += 1;
                true
            }
            Some(held) => match compare_revisions(&advisory.version, &advisory.released, held) {
                Ordering::Greater => {
                    report.advisories_replaced += 1;
                    true
                }
                Ordering::Less => {
                    report.advisories_older_skipped += 1;
                    false
                }
                Ordering::Equal if held.value == value => {
                    report.advisories_unchanged += 1;
                    false
                }
                // The same revision flattened differently (a reader that
                // reads more than the one that stored it): the new reading.
                Ordering::Equal => {
                    report.advisories_replaced += 1;
                    true
                }
            },
        };
        if put {
            intel_db::put_advisory(txn, &advisory, &value, &path.to_string_lossy(), now)?;
            changed_csaf = true;
        }
    }
    if changed_csaf {
        intel_db::set_source(txn, &intel_db::csaf_source(txn, now)?)?;
    }

    let mut changed_kev = false;
    if let Some((catalog, path)) = read.kev {
        report.kev_entries = u64::try_from(catalog.entries.len()).unwrap_or(u64::MAX);
        report.kev_version = Some(catalog.version.clone());
        let held = intel_db::source(txn, "kev")?;
        let older = held
            .as_ref()
            .and_then(|h| h.version.as_deref())
            .is_some_and(|v| compare_versions(&catalog.version, v) == Ordering::Less);
        if older {
            report.notes.push(Problem {
                path,
                reason: format!(
                    "KEV catalog {} is older than the one held; skipped",
                    catalog.version
                ),
            });
        } else {
            let stored = intel_db::kev(txn)?;
            let same = held.as_ref().is_some_and(|h| {
                h.version.as_deref() == Some(catalog.version.as_str())
                    && h.date.as_deref() == Some(catalog.released.as_str())
            }) && stored.len() == catalog.entries.len()
                && catalog
                    .entries
                    .iter()
                    .all(|e| stored.get(&e.cve) == Some(e));
            if !same {
                intel_db::replace_kev(txn, &catalog.entries)?;
                intel_db::set_source(
                    txn,
                    &SourceStatus {
                        kind: "kev".to_owned(),
                        count: from_len(intel_db::kev(txn)?.len()),
                        version: Some(catalog.version),
                        date: Some(catalog.released),
                        imported_at: now.to_owned(),
                    },
                )?;
                changed_kev = true;
            }
        }
    }
    report.kev_changed = changed_kev;

    let mut changed_epss = false;
    if let Some((scores, path)) = read.epss {
        report.epss_scores = from_len(scores.scores.len());
        report.epss_model_version.clone_from(&scores.model_version);
        report.epss_score_date.clone_from(&scores.score_date);
        let held = intel_db::source(txn, "epss")?;
        let older = match (
            held.as_ref().and_then(|h| h.date.as_deref()),
            &scores.score_date,
        ) {
            (Some(h), Some(d)) => d.as_str() < h,
            _ => false,
        };
        if older {
            report.notes.push(Problem {
                path,
                reason: format!(
                    "EPSS scores of {} are older than those held; skipped",
                    scores.score_date.as_deref().unwrap_or("?")
                ),
            });
        } else {
            let new: HashMap<String, Epss> = scores.scores.into_iter().collect();
            let stored = intel_db::epss(txn)?;
            let same = held
                .as_ref()
                .is_some_and(|h| h.version == scores.model_version && h.date == scores.score_date)
                && stored == new;
            if !same {
                intel_db::replace_epss(txn, &new)?;
                intel_db::set_source(
                    txn,
                    &SourceStatus {
                        kind: "epss".to_owned(),
                        count: from_len(new.len()),
                        version: scores.model_version,
                        date: scores.score_date,
                        imported_at: now.to_owned(),
                    },
                )?;
                changed_epss = true;
            }
        }
    }
    report.epss_changed = changed_epss;

    report.changed = changed_csaf || changed_kev || changed_epss;
    if report.changed {
        intel_db::bump_generation(txn)
    } else {
        intel_db::generation(txn)
    }
}

fn from_len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_versions_compare_number_by_number() {
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare_versions("2", "1.9.9"), Ordering::Greater);
        assert_eq!(compare_versions("1", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.0.0", "1.0.1"), Ordering::Less);
        assert_eq!(compare_versions("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(
            compare_versions("1.0.0-rc.2", "1.0.0-rc.10"),
            Ordering::Less
        );
        assert_eq!(compare_versions("1.0.1-alpha", "1.0.0"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.0+build.7", "1"), Ordering::Equal);
        assert_eq!(
            compare_versions("2025.08.25", "2025.08.3"),
            Ordering::Greater
        );
    }

    #[test]
    fn kinds_are_told_by_content() {
        assert_eq!(
            kind(br#"{"document": {"csaf_version": "2.0"}}"#),
            Ok(Kind::Csaf)
        );
        assert_eq!(
            kind(br#"{"catalogVersion": "1", "vulnerabilities": []}"#),
            Ok(Kind::Kev)
        );
        assert_eq!(kind(br#" {"feed": {"entry": []}}"#), Ok(Kind::Rolie));
        assert_eq!(kind(b"cve,epss,percentile\n"), Ok(Kind::Epss));
        assert!(kind(br#"{"document": {}}"#).is_err());
        assert!(kind(b"{\"document\": ").unwrap_err().contains("line 1"));
        assert!(kind(b"hello").is_err());
    }
}
