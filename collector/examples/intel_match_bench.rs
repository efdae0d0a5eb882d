//! Matching speed on one core: reads the shared CISA advisories
//! (`../shared/intel/csaf`), builds the index, generates synthetic asset
//! identities from realistic mixes and matches them all, then rematches
//! one asset whose firmware changed.
//!
//!     taskset -c 0 cargo run --release -p faro-collector --example intel_match_bench [ASSETS]
//!
//! The mix (default 100,000 assets): 45 % Siemens (order numbers drawn from
//! the advisories' own model numbers, S7-1200/S7-1500 CPUs, unknown order
//! numbers; firmware V1.0–V4.9 or none), 15 % Schneider by Modbus product
//! code, 10 % Rockwell by product name, 10 % other vendors by product name
//! (Moxa, Mitsubishi, GE, Advantech, Omron, Kepware, WAGO), 20 % devices no
//! advisory names (unknown vendors, nothing announced).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use faro_collector::intel::csaf;
use faro_collector::intel::identity::AssetIdentity;
use faro_collector::intel::matching::Index;
use faro_collector::intel::model::Confidence;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn identity(pairs: &[(&str, String)]) -> AssetIdentity {
    let attributes: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let sources: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, _)| ((*k).to_owned(), "bench".to_owned()))
        .collect();
    AssetIdentity::from_attributes(&attributes, &sources)
}

fn main() {
    let assets: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |a| a.parse().expect("ASSETS"));
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/intel/csaf"
    ));
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
    let started = Instant::now();
    let advisories: Vec<_> = paths
        .iter()
        .map(|p| csaf::parse(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    let read = started.elapsed();

    let started = Instant::now();
    let index = Index::new(&advisories);
    let built = started.elapsed();
    let (advisory_count, products) = index.size();

    // Siemens order numbers the advisories list, to draw realistic devices from.
    let siemens_models: Vec<String> = advisories
        .iter()
        .flat_map(|a| a.products.iter())
        .filter(|p| p.vendor.trim() == "Siemens")
        .flat_map(|p| p.model_numbers.iter().cloned())
        .filter(|m| !m.contains(['*', '?']))
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut identities = Vec::with_capacity(assets);
    for _ in 0..assets {
        let roll = rng.below(100);
        let firmware =
            |rng: &mut Rng| format!("V{}.{}.{}", 1 + rng.below(4), rng.below(10), rng.below(10));
        let id = if roll < 45 {
            let order = match rng.below(4) {
                0 | 1 if !siemens_models.is_empty() => {
                    let m = &siemens_models[rng.below(siemens_models.len())];
                    // The SZL writes a space after the first four characters.
                    if rng.below(2) == 0 {
                        format!("{} {}", &m[..m.len().min(4)], &m[m.len().min(4)..])
                    } else {
                        m.clone()
                    }
                }
                2 => rng
                    .pick(&[
                        "6ES7 214-1AG40-0XB0",
                        "6ES7 212-1BE40-0XB0",
                        "6ES7 215-1AG40-0XB0",
                        "6ES7 516-3AN01-0AB0",
                        "6ES7 511-1AK02-0AB0",
                        "6ES7 315-2EH14-0AB0",
                        "6ES7 412-5HK06-0AB0",
                    ])
                    .to_owned(),
                _ => format!("6ES7 {:03}-{}AB0", rng.below(1000), rng.below(100_000)),
            };
            let mut pairs = vec![("vendor", "Siemens".to_owned()), ("order_number", order)];
            if rng.below(10) > 0 {
                pairs.push(("firmware_version", firmware(&mut rng)));
            }
            if rng.below(2) == 0 {
                pairs.push(("module_type_name", "CPU 1214C DC/DC/DC".to_owned()));
            }
            identity(&pairs)
        } else if roll < 60 {
            identity(&[
                (
                    "vendor",
                    rng.pick(&["Schneider Electric", "Telemecanique", "SCHNEIDER"])
                        .to_owned(),
                ),
                (
                    "product_code",
                    rng.pick(&[
                        "BMX P34 2020",
                        "BME P58 4040",
                        "TM241CE40R",
                        "140 CPU 651 60",
                        "BMX NOE 0100",
                    ])
                    .to_owned(),
                ),
                (
                    "revision",
                    format!("v{}.{}", 1 + rng.below(3), rng.below(99)),
                ),
            ])
        } else if roll < 70 {
            identity(&[
                (
                    "vendor",
                    rng.pick(&["Rockwell Automation", "Allen-Bradley"])
                        .to_owned(),
                ),
                (
                    "product_name",
                    rng.pick(&[
                        "1756-EN2T",
                        "1756-EN2F Series A",
                        "1769-L33ER CompactLogix",
                        "1756-EN2TR Series C",
                        "PowerFlex 525",
                    ])
                    .to_owned(),
                ),
                (
                    "revision",
                    format!("{}.{:03}", 1 + rng.below(12), rng.below(100)),
                ),
            ])
        } else if roll < 80 {
            let (vendor, product) = [
                ("Moxa", "EDS-405A-MM-SC"),
                ("Mitsubishi Electric Corporation", "R120CPU"),
                ("GE", "369 Motor Protection Relay"),
                ("Advantech", "WebAccess/SCADA"),
                ("OMRON Corporation", "CS1D-CPU67S"),
                ("Kepware", "KEPServerEX"),
                ("WAGO Kontakttechnik GmbH & Co. KG", "750-8202 PFC200"),
            ][rng.below(7)];
            identity(&[
                ("vendor", vendor.to_owned()),
                ("product_name", product.to_owned()),
                (
                    "software_version",
                    format!("{}.{}", 1 + rng.below(8), rng.below(20)),
                ),
            ])
        } else if roll < 90 {
            identity(&[
                ("vendor", format!("Acme Controls {}", rng.below(500))),
                ("product_name", format!("X{}", rng.below(10_000))),
                ("revision", "1.0".to_owned()),
            ])
        } else {
            AssetIdentity::default()
        };
        identities.push(id);
    }

    let started = Instant::now();
    let mut counts = [0usize; 3];
    let mut matched_assets = 0usize;
    for identity in &identities {
        let matches = index.matches(identity);
        if !matches.is_empty() {
            matched_assets += 1;
        }
        for m in &matches {
            counts[match m.confidence {
                Confidence::Possible => 0,
                Confidence::Likely => 1,
                Confidence::Confirmed => 2,
            }] += 1;
        }
    }
    let all = started.elapsed();

    // One asset's firmware changes: rematch it alone.
    let mut changed = identity(&[
        ("vendor", "Siemens".to_owned()),
        ("order_number", "6ES7 214-1AG40-0XB0".to_owned()),
        ("firmware_version", "V4.2.0".to_owned()),
    ]);
    let before_matches = index.matches(&changed);
    let before = before_matches.len();
    if std::env::var_os("SHOW").is_some() {
        for m in &before_matches {
            println!(
                "  {} {} {:?} {} [{}] {:?}",
                m.advisory,
                m.cve.as_deref().unwrap_or("-"),
                m.confidence,
                m.product,
                m.range.as_deref().unwrap_or("-"),
                m.reason
            );
        }
    }
    if let Some(firmware) = changed.firmware.as_mut() {
        firmware.value = "V4.6.0".to_owned();
    }
    let started = Instant::now();
    let after = index.matches(&changed).len();
    let one = started.elapsed();

    println!(
        "read {} advisories in {:.2} s; index of {advisory_count} advisories, {products} affected products built in {:.1} ms",
        advisories.len(),
        read.as_secs_f64(),
        built.as_secs_f64() * 1e3
    );
    println!(
        "matched {assets} assets in {:.2} s ({:.1} µs/asset): {matched_assets} with matches; {} confirmed, {} likely, {} possible",
        all.as_secs_f64(),
        all.as_secs_f64() * 1e6 / assets.max(1) as f64,
        counts[2],
        counts[1],
        counts[0]
    );
    println!(
        "rematched one S7-1200 after V4.2.0 → V4.6.0 in {:.3} ms ({before} → {after} matches)",
        one.as_secs_f64() * 1e3
    );
}
