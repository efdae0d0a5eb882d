//! Measures the version branches of real advisories: reads every CSAF file
//! under a directory (default `../shared/intel/csaf`) with `intel::csaf::parse`,
//! counts version branches by form (vers with a real scheme, CISA's
//! `vers:all`, free text starting with a comparator, other free text, exact
//! `product_version`s), how many of each the evaluator reads, and lists every
//! text it cannot read, with how often it occurs. Also lists the distinct
//! vendor strings with their canonical keys (`--vendors`), the evidence the
//! alias table in `intel::vendor` is built from.
//!
//!     cargo run --release -p faro-collector --example intel_ranges [DIR] [--vendors] [--conditions]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use faro_collector::intel::csaf;
use faro_collector::intel::vendor;
use faro_collector::intel::version::{Form, Range};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.iter().find(|a| !a.starts_with("--")).map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/intel/csaf"
            ))
        },
        PathBuf::from,
    );
    let show_vendors = args.iter().any(|a| a == "--vendors");
    let show_conditions = args.iter().any(|a| a == "--conditions");
    let mut paths = Vec::new();
    let (files, problems) = faro_collector::intel::import::files(std::slice::from_ref(&dir));
    assert!(
        problems.is_empty(),
        "the shared intel data (../shared/intel/csaf, see its README) is missing: {problems:?}"
    );
    paths.extend(
        files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "json")),
    );
    paths.sort();
    let mut read = 0;
    let mut failed = Vec::new();
    let mut products = 0;
    let mut with_models = 0;
    let mut forms: BTreeMap<Form, [usize; 5]> = BTreeMap::new();
    let mut unreadable: BTreeMap<String, usize> = BTreeMap::new();
    let mut conditions: BTreeMap<String, usize> = BTreeMap::new();
    let mut vendors: BTreeMap<String, usize> = BTreeMap::new();
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let advisory = match csaf::parse(&bytes) {
            Ok(advisory) => advisory,
            Err(error) => {
                failed.push(format!("{}: {error}", path.display()));
                continue;
            }
        };
        read += 1;
        for product in &advisory.products {
            products += 1;
            if !product.model_numbers.is_empty() {
                with_models += 1;
            }
            *vendors.entry(product.vendor.clone()).or_default() += 1;
            let Some(branch) = &product.version else {
                continue;
            };
            // [branches, read, all, constraints, conditional]
            let counts = forms.entry(Form::of(branch)).or_default();
            counts[0] += 1;
            match Range::parse(&branch.text) {
                Range::Unreadable { .. } => {
                    *unreadable.entry(branch.text.clone()).or_default() += 1;
                }
                Range::All { condition } => {
                    counts[1] += 1;
                    counts[2] += 1;
                    if let Some(condition) = condition {
                        counts[4] += 1;
                        *conditions.entry(branch.text.clone()).or_default() += 1;
                        let _ = condition;
                    }
                }
                Range::Constraints { condition, .. } => {
                    counts[1] += 1;
                    counts[3] += 1;
                    if condition.is_some() {
                        counts[4] += 1;
                        *conditions.entry(branch.text.clone()).or_default() += 1;
                    }
                }
            }
        }
    }
    println!(
        "{} files, {read} read, {} not read",
        paths.len(),
        failed.len()
    );
    for line in &failed {
        println!("  not read: {line}");
    }
    println!("{products} products, {with_models} with model numbers");
    println!(
        "{:<16} {:>8} {:>8} {:>8} {:>12} {:>12} {:>10}",
        "form", "branches", "read", "all", "constraints", "conditional", "unreadable"
    );
    let mut total = [0usize; 5];
    for (form, counts) in &forms {
        println!(
            "{:<16} {:>8} {:>8} {:>8} {:>12} {:>12} {:>10}",
            format!("{form:?}"),
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            counts[4],
            counts[0] - counts[1]
        );
        for (t, c) in total.iter_mut().zip(counts) {
            *t += c;
        }
    }
    println!(
        "{:<16} {:>8} {:>8} {:>8} {:>12} {:>12} {:>10}",
        "total",
        total[0],
        total[1],
        total[2],
        total[3],
        total[4],
        total[0] - total[1]
    );
    println!(
        "{} distinct unreadable texts ({} branches):",
        unreadable.len(),
        unreadable.values().sum::<usize>()
    );
    for (text, count) in &unreadable {
        println!("  {count:>4}  {text:?}");
    }
    if show_conditions {
        println!(
            "{} distinct texts with an unevaluated condition:",
            conditions.len()
        );
        for (text, count) in &conditions {
            println!("  {count:>4}  {text:?}");
        }
    }
    if show_vendors {
        println!("{} distinct vendor strings:", vendors.len());
        for (name, count) in &vendors {
            println!("  {count:>5}  {name:?} -> {:?}", vendor::keys(name));
        }
    }
}
