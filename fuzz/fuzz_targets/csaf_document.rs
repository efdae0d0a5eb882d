#![no_main]
//! The collector's intelligence readers on arbitrary bytes: a CSAF 2.0
//! document, the KEV catalog, an EPSS CSV (plain or gzipped). None may
//! panic; an advisory that reads survives the JSON round trip the store
//! puts it through unchanged.
use faro_collector::intel::model::Advisory;
use faro_collector::intel::{csaf, epss, kev};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(advisory) = csaf::parse(data) {
        let stored = serde_json::to_string(&advisory).expect("an advisory serialises");
        let back: Advisory = serde_json::from_str(&stored).expect("a stored advisory reads");
        assert_eq!(back, advisory);
    }
    let _ = kev::parse(data);
    let _ = epss::looks_like(data);
    let _ = epss::parse(data);
});
