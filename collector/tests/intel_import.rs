//! The intelligence import on the real shared data (`../shared/intel`):
//! every CISA CSAF advisory reads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use faro_collector::intel::csaf;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/intel");

fn shared() -> PathBuf {
    let dir = Path::new(SHARED).join("csaf");
    assert!(
        dir.is_dir(),
        "the shared intelligence data is missing: expected CISA CSAF advisories in {} (see the issue's README for /work/shared/intel)",
        dir.display()
    );
    Path::new(SHARED).to_owned()
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

#[test]
fn every_shared_advisory_parses() {
    let files = advisories(&shared().join("csaf"));
    assert_eq!(files.len(), 2035);
    let mut failed = Vec::new();
    let mut products = 0;
    for f in &files {
        match csaf::parse(&std::fs::read(f).unwrap()) {
            Ok(a) => products += a.products.len(),
            Err(e) => failed.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    eprintln!("{} advisories, {products} products", files.len());
}
