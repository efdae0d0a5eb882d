//! The offline intelligence import on the real shared data
//! (`../shared/intel`: 2,035 CISA CSAF advisories with their `.sha512`
//! files, the KEV catalog) and on fixtures these tests write into a
//! tempdir from it: an EPSS file (plain and gzipped), revised and tampered
//! copies of advisories, a broken file, a ROLIE feed. `intel import` and
//! `intel status` are run as the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use faro_collector::intel::csaf;
use faro_collector::intel::import::{ImportReport, import};
use faro_collector::store::Store;
use faro_collector::store::intel as db;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/intel");
const BIN: &str = env!("CARGO_BIN_EXE_faro-collector");

/// The shared data directory, or a failure saying what is missing.
fn shared() -> PathBuf {
    let dir = Path::new(SHARED);
    let csaf = dir.join("csaf");
    let kev = kev_file();
    assert!(
        csaf.is_dir() && kev.is_file(),
        "the shared intelligence data is missing: expected the CISA CSAF advisories in {} and \
         the KEV catalog at {} (the workspace's ../shared/intel, see its README.md)",
        csaf.display(),
        kev.display()
    );
    dir.to_owned()
}

fn kev_file() -> PathBuf {
    Path::new(SHARED).join("kev/known_exploited_vulnerabilities.json")
}

fn advisories(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The first `n` shared advisories of 2023.
fn some(n: usize) -> Vec<PathBuf> {
    let files = advisories(&shared().join("csaf/2023"));
    assert!(files.len() >= n, "fewer than {n} advisories of 2023");
    files.into_iter().take(n).collect()
}

/// Copies `file` (and its `.sha512` when `with_sum`) into `dir`.
fn copy(file: &Path, dir: &Path, with_sum: bool) -> PathBuf {
    let to = dir.join(file.file_name().unwrap());
    std::fs::copy(file, &to).unwrap();
    if with_sum {
        let mut sum = file.as_os_str().to_owned();
        sum.push(".sha512");
        let mut to_sum = to.as_os_str().to_owned();
        to_sum.push(".sha512");
        std::fs::copy(sum, to_sum).unwrap();
    }
    to
}

fn tracking_id(file: &Path) -> String {
    csaf::parse(&std::fs::read(file).unwrap()).unwrap().id
}

fn store(dir: &Path) -> Store {
    common::open(&dir.join("data"))
}

fn paths(p: &[&Path]) -> Vec<PathBuf> {
    p.iter().map(|p| p.to_path_buf()).collect()
}

#[test]
fn every_shared_advisory_parses() {
    let files = advisories(&shared().join("csaf"));
    assert_eq!(files.len(), 2035);
    let mut failed = Vec::new();
    for f in &files {
        if let Err(e) = csaf::parse(&std::fs::read(f).unwrap()) {
            failed.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// All shared advisories and KEV, every checksum checked; the same again
/// is a no-op; `intel status` (the binary) says what is loaded.
#[test]
fn the_shared_data_imports_once_and_status_says_so() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = common::open(&data);
    let inputs = vec![shared.join("csaf"), kev_file()];
    let first = import(&store, &inputs).unwrap();
    assert!(first.errors.is_empty(), "{first}");
    assert_eq!(first.advisories_new, 2035, "{first}");
    assert_eq!(first.checksums_verified, 2035, "{first}");
    assert_eq!(first.files, 2036);
    assert_eq!(first.kev_entries, 1404);
    assert_eq!(first.kev_version.as_deref(), Some("2025.08.25"));
    assert!(first.kev_changed && first.changed);
    // Every leaf: 11,516 product_version_range + 2,025 product_version branches.
    assert_eq!(first.products, 13_541, "{first}");
    assert_eq!(first.generation, 1);

    let again = import(&store, &inputs).unwrap();
    assert!(again.errors.is_empty(), "{again}");
    assert_eq!(again.advisories_unchanged, 2035);
    assert_eq!(
        (
            again.advisories_new,
            again.advisories_replaced,
            again.advisories_older_skipped
        ),
        (0, 0, 0)
    );
    assert!(!again.kev_changed && !again.changed, "{again}");
    assert_eq!(again.generation, 1);

    let (held, kev, status, generation) = store
        .read(|c| {
            Ok((
                db::advisories(c)?,
                db::kev(c)?,
                db::status(c)?,
                db::generation(c)?,
            ))
        })
        .unwrap();
    assert_eq!(held.len(), 2035);
    assert_eq!(kev.len(), 1404);
    assert_eq!(generation, 1);
    let csaf = status.iter().find(|s| s.kind == "csaf").unwrap();
    assert_eq!(csaf.count, 2035);
    assert!(csaf.date.as_deref().is_some_and(|d| d.starts_with("202")));
    drop(store);

    let out = common::command(BIN, &data)
        .args(["intel", "status", "--format", "json", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["generation"], 1);
    let sources = json["sources"].as_array().unwrap();
    let kev = sources.iter().find(|s| s["kind"] == "kev").unwrap();
    assert_eq!(kev["count"], 1404);
    assert_eq!(kev["version"], "2025.08.25");
    assert_eq!(kev["date"], "2025-08-25T17:04:19.9796Z");
    let csaf = sources.iter().find(|s| s["kind"] == "csaf").unwrap();
    assert_eq!(csaf["count"], 2035);

    let out = common::command(BIN, &data)
        .args(["intel", "status", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("2025.08.25") && table.contains("2035"),
        "{table}"
    );
}

const EPSS: &str = "#model_version:v2023.03.01,score_date:2023-03-21T00:00:00+0000\n\
    cve,epss,percentile\n\
    CVE-2021-44228,0.97565,0.99995\n\
    CVE-2022-1234,0.00045,0.11\n\
    CVE-2022-bad,0.1,0.1\n\
    CVE-2023-0001,0.5,0.9\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn epss_files_are_read_plain_and_gzipped() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("epss_scores-2023-03-21.csv");
    std::fs::write(&plain, EPSS).unwrap();
    let store = store(tmp.path());
    let r = import(&store, &paths(&[&plain])).unwrap();
    assert!(r.errors.is_empty(), "{r}");
    assert_eq!(r.epss_scores, 3);
    assert_eq!(r.epss_bad_rows, 1);
    assert!(r.notes.iter().any(|n| n.reason.contains("line 5")), "{r}");
    assert_eq!(r.epss_model_version.as_deref(), Some("v2023.03.01"));
    assert_eq!(
        r.epss_score_date.as_deref(),
        Some("2023-03-21T00:00:00+0000")
    );
    assert!(r.epss_changed);
    let (scores, status) = store.read(|c| Ok((db::epss(c)?, db::status(c)?))).unwrap();
    assert_eq!(scores.len(), 3);
    assert_eq!(scores["CVE-2021-44228"].percentile, 0.99995);
    let s = status.iter().find(|s| s.kind == "epss").unwrap();
    assert_eq!(s.version.as_deref(), Some("v2023.03.01"));
    assert_eq!(s.date.as_deref(), Some("2023-03-21T00:00:00+0000"));

    // The same scores gzipped, under a name that does not say so: unchanged.
    let gz = tmp.path().join("scores.csv");
    std::fs::write(&gz, gzip(EPSS.as_bytes())).unwrap();
    let r = import(&store, &paths(&[&gz])).unwrap();
    assert!(r.errors.is_empty(), "{r}");
    assert_eq!(r.epss_scores, 3);
    assert!(!r.epss_changed && !r.changed, "{r}");

    // A later day, gzipped, replaces them; an earlier one is skipped.
    let later = EPSS
        .replace("2023-03-21", "2023-03-22")
        .replace("0.97565", "0.9");
    let later_gz = tmp.path().join("epss_scores-2023-03-22.csv.gz");
    std::fs::write(&later_gz, gzip(later.as_bytes())).unwrap();
    let r = import(&store, &paths(&[&later_gz])).unwrap();
    assert!(r.epss_changed, "{r}");
    let r = import(&store, &paths(&[&plain])).unwrap();
    assert!(!r.epss_changed, "{r}");
    assert!(r.notes.iter().any(|n| n.reason.contains("older")), "{r}");
    let scores = store.read(db::epss).unwrap();
    assert_eq!(scores["CVE-2021-44228"].score, 0.9);
}

/// A later revision (tracking version bumped, a product edited) replaces
/// the held one; the earlier one is then skipped and counted.
#[test]
fn a_newer_revision_replaces_and_an_older_is_skipped() {
    let original = some(1).remove(0);
    let id = tracking_id(&original);
    let tmp = tempfile::tempdir().unwrap();
    let store = store(tmp.path());
    let r = import(&store, &paths(&[&original])).unwrap();
    assert_eq!(r.advisories_new, 1, "{r}");
    let g1 = r.generation;

    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&original).unwrap()).unwrap();
    let old_version = doc["document"]["tracking"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    doc["document"]["tracking"]["version"] = "99.0.0".into();
    let product = &mut doc["product_tree"]["branches"][0]["branches"][0]["name"];
    let edited = format!("{} (edited)", product.as_str().unwrap());
    *product = edited.clone().into();
    let revised_dir = tmp.path().join("revised");
    std::fs::create_dir(&revised_dir).unwrap();
    let revised = revised_dir.join(original.file_name().unwrap());
    std::fs::write(&revised, serde_json::to_vec(&doc).unwrap()).unwrap();

    let r = import(&store, &paths(&[&revised])).unwrap();
    assert!(r.errors.is_empty(), "{r}");
    assert_eq!(r.advisories_replaced, 1, "{r}");
    assert!(r.generation > g1);
    let held = store.read(|c| db::advisory(c, &id)).unwrap().unwrap();
    assert_eq!(held.version, "99.0.0");
    assert!(held.products.iter().any(|p| p.product_name == edited));

    let r = import(&store, &paths(&[&original])).unwrap();
    assert_eq!(r.advisories_older_skipped, 1, "{r}");
    assert!(!r.changed);
    let held = store.read(|c| db::advisory(c, &id)).unwrap().unwrap();
    assert_eq!(held.version, "99.0.0");
    assert_ne!(old_version, "99.0.0");
}

/// A copy edited after its `.sha512` was made is reported and kept out;
/// a broken file is reported with its path and reason; the rest import.
#[test]
fn tampered_and_broken_documents_are_reported_and_the_rest_imported() {
    let files = some(3);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    let copies: Vec<PathBuf> = files.iter().map(|f| copy(f, &dir, true)).collect();
    let tampered = &copies[1];
    let text =
        std::fs::read_to_string(tampered)
            .unwrap()
            .replacen("\"category\"", "\"category\" ", 1);
    std::fs::write(tampered, text).unwrap();
    let broken = dir.join("broken.json");
    std::fs::write(&broken, b"{\"document\": {\"csaf_version\": \"2.0\",").unwrap();

    let store = store(tmp.path());
    let r = import(&store, &paths(&[&dir])).unwrap();
    assert_eq!(r.advisories_new, 2, "{r}");
    assert_eq!(r.checksums_verified, 2, "{r}");
    assert_eq!(r.errors.len(), 2, "{r}");
    let sum = r.errors.iter().find(|e| e.path == *tampered).unwrap();
    assert!(sum.reason.contains("SHA-512 mismatch"), "{sum}");
    let bad = r.errors.iter().find(|e| e.path == broken).unwrap();
    assert!(
        bad.reason.contains("not JSON") && bad.reason.contains("line 1"),
        "{bad}"
    );
    let held = store.read(db::advisories).unwrap();
    let ids: Vec<&str> = held.iter().map(|a| a.id.as_str()).collect();
    assert!(!ids.contains(&tracking_id(&files[1]).as_str()));
    assert!(ids.contains(&tracking_id(&files[0]).as_str()));

    // The binary: the report printed, exit status 2, the good ones in.
    let data = tmp.path().join("cli");
    let out = common::command(BIN, &data)
        .args(["intel", "import", "--data"])
        .arg(&data)
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("2 new"), "{text}");
    assert!(
        text.contains("broken.json") && text.contains("SHA-512 mismatch"),
        "{text}"
    );
}

fn report_ids(store: &Store) -> Vec<String> {
    let mut ids: Vec<String> = store
        .read(db::advisories)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    ids.sort();
    ids
}

/// A ROLIE feed lists copies of three advisories beside it (a fourth lies
/// there unlisted): exactly the three are imported.
#[test]
fn a_rolie_feed_imports_exactly_what_it_lists() {
    let files = some(4);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("feed");
    std::fs::create_dir(&dir).unwrap();
    for f in &files {
        copy(f, &dir, true);
    }
    let listed = &files[..3];
    let entries: Vec<serde_json::Value> = listed
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_str().unwrap();
            let url = format!("https://www.cisa.gov/sites/default/files/csaf/2023/{name}");
            serde_json::json!({
                "id": tracking_id(f),
                "title": name,
                "link": [{"rel": "self", "href": url}, {"rel": "hash", "href": format!("{url}.sha512")}],
                "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"},
                "content": {"type": "application/json", "src": url},
            })
        })
        .collect();
    let feed = serde_json::json!({"feed": {
        "id": "cisa-ot-white", "title": "CISA ICS advisories (test copy)",
        "link": [{"rel": "self", "href": "https://example.invalid/feed.json"}],
        "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
        "updated": "2023-12-31T00:00:00Z",
        "entry": entries,
    }});
    let feed_path = dir.join("ot-white-feed.json");
    std::fs::write(&feed_path, serde_json::to_vec_pretty(&feed).unwrap()).unwrap();

    let store = store(tmp.path());
    let r: ImportReport = import(&store, &paths(&[&feed_path])).unwrap();
    assert!(r.errors.is_empty(), "{r}");
    assert_eq!(r.advisories_new, 3, "{r}");
    assert_eq!(r.checksums_verified, 3, "{r}");
    let mut want: Vec<String> = listed.iter().map(|f| tracking_id(f)).collect();
    want.sort();
    assert_eq!(report_ids(&store), want);

    // The directory with the feed in it: the fourth joins, nothing twice.
    let r = import(&store, &paths(&[&dir, &feed_path])).unwrap();
    assert!(r.errors.is_empty(), "{r}");
    assert_eq!((r.advisories_new, r.advisories_unchanged), (1, 3), "{r}");

    // An entry whose file is not there is reported.
    let mut feed = feed;
    feed["feed"]["entry"][0]["content"]["src"] =
        "https://example.invalid/icsa-00-000-00.json".into();
    std::fs::write(&feed_path, serde_json::to_vec(&feed).unwrap()).unwrap();
    let r = import(&store, &paths(&[&feed_path])).unwrap();
    assert_eq!(r.errors.len(), 1, "{r}");
    assert!(r.errors[0].reason.contains("icsa-00-000-00.json"), "{r}");
}

/// Replays the committed corpus and crash reproducers of the
/// `csaf_document` fuzz target (what it does, here), so a fixed crash
/// stays fixed.
#[test]
fn csaf_document_fuzz_corpus() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    let mut advisories = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join("csaf_document")) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            if let Ok(advisory) = csaf::parse(&data) {
                let stored = serde_json::to_string(&advisory).unwrap();
                let back: faro_collector::intel::model::Advisory =
                    serde_json::from_str(&stored).unwrap();
                assert_eq!(back, advisory, "{}", path.display());
                advisories += 1;
            }
            let _ = faro_collector::intel::kev::parse(&data);
            let _ = faro_collector::intel::epss::looks_like(&data);
            let _ = faro_collector::intel::epss::parse(&data);
            count += 1;
        }
    }
    assert!(
        count >= 6 && advisories >= 2,
        "no corpus for csaf_document under {}",
        fuzz.display()
    );
}
