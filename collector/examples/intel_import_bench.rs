//! Import time of the shared intelligence (`../shared/intel`: 2,035 CISA
//! CSAF advisories with their `.sha512` files, and the KEV catalog) into a
//! fresh store, the same again (a no-op), and what was loaded.
//!
//! ```text
//! taskset -c 0 cargo run --release -p faro-collector --example intel_import_bench [-- DIR]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use faro_collector::intel::import;
use faro_collector::intel::model::VersionKind;
use faro_collector::store::Store;
use faro_collector::store::intel as db;

fn main() -> Result<()> {
    let shared = std::env::args().nth(1).map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/intel")),
        PathBuf::from,
    );
    let csaf = shared.join("csaf");
    let kev = shared.join("kev/known_exploited_vulnerabilities.json");
    if !csaf.is_dir() || !kev.is_file() {
        bail!(
            "missing the shared data: {} and {} (pass the intel directory as the argument)",
            csaf.display(),
            kev.display()
        );
    }
    let tmp = tempfile::tempdir()?;
    let store = Store::open_dir(tmp.path()).context("opening a store")?;
    let inputs = vec![csaf, kev];

    let t = Instant::now();
    let first = import::import(&store, &inputs)?;
    let import_time = t.elapsed();
    let t = Instant::now();
    let again = import::import(&store, &inputs)?;
    let again_time = t.elapsed();
    let t = Instant::now();
    let advisories = store.read(db::advisories)?;
    let load_time = t.elapsed();

    let products: Vec<_> = advisories.iter().flat_map(|a| &a.products).collect();
    let ranges = products
        .iter()
        .filter(|p| {
            p.version
                .as_ref()
                .is_some_and(|v| v.kind == VersionKind::Range)
        })
        .count();
    let versions = products
        .iter()
        .filter(|p| {
            p.version
                .as_ref()
                .is_some_and(|v| v.kind == VersionKind::Version)
        })
        .count();
    let with_models = products
        .iter()
        .filter(|p| !p.model_numbers.is_empty())
        .count();
    let models: usize = products.iter().map(|p| p.model_numbers.len()).sum();
    let vulns: usize = advisories.iter().map(|a| a.vulnerabilities.len()).sum();

    println!(
        "import: {:.2} s ({} files, {} SHA-512 checked, {} advisories new, {} errors; KEV {} entries, catalog {})",
        import_time.as_secs_f64(),
        first.files,
        first.checksums_verified,
        first.advisories_new,
        first.errors.len(),
        first.kev_entries,
        first.kev_version.as_deref().unwrap_or("-"),
    );
    for e in &first.errors {
        println!("  error: {e}");
    }
    println!(
        "re-import: {:.2} s ({} unchanged, changed: {})",
        again_time.as_secs_f64(),
        again.advisories_unchanged,
        again.changed
    );
    println!(
        "load from the store: {:.2} s ({} advisories)",
        load_time.as_secs_f64(),
        advisories.len()
    );
    println!(
        "products: {} ({} under a version range, {} under one version, {} none); \
         {} products carry {} model numbers; {} vulnerabilities",
        products.len(),
        ranges,
        versions,
        products.len() - ranges - versions,
        with_models,
        models,
        vulns
    );
    Ok(())
}
