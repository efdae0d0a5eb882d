//! Every shared capture, malformed and fuzzed ones included, is analysed
//! without a panic and yields a well-formed report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use faro_e2e::{sensor, shared_pcaps};

#[test]
fn every_shared_capture_is_analysed_cleanly() {
    let mut files: Vec<_> = std::fs::read_dir(shared_pcaps())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 100,
        "expected the shared captures, found {}",
        files.len()
    );
    for file in &files {
        let out = sensor(&["analyze", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            report["stats"]["packets"].as_u64().unwrap() > 0,
            "{}",
            file.display()
        );
    }
}
