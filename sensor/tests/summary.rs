//! Periodic summaries over the committed sample plant: the first carries the
//! whole inventory, an unchanged inventory gives an empty one, and later ones
//! carry only what changed, with cumulative counts; merged, they carry the
//! final report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use faro_firmware_config::{CapacityLimits, Config};
use faro_sensor::Pipeline;
use faro_sensor::capture::CaptureFile;
use faro_sensor::summary::SummaryBuilder;

#[test]
fn summaries_carry_what_changed_with_cumulative_counts() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/plant-modbus.pcap");
    let config = Config::for_analyze();
    let mut capture = CaptureFile::open(&sample).unwrap();
    let link = capture.link_type();
    let mut pipeline = Pipeline::new(CapacityLimits::default());
    let mut builder = SummaryBuilder::new();
    let mut summaries = Vec::new();
    let mut frames = 0;
    while let Some(frame) = capture.next_frame().unwrap() {
        pipeline.process(link, &frame);
        frames += 1;
        // A summary every 500 frames, and an extra one right after the first.
        if frames % 500 == 0 || frames == 501 {
            let end = pipeline.observed().unwrap().1;
            let report = pipeline.report(&config);
            summaries.push(builder.build("edge-01", "sample", &report, end));
        }
    }
    // The final summary, at the end of the capture.
    let end = pipeline.observed().unwrap().1;
    let report = pipeline.report(&config);
    summaries.push(builder.build("edge-01", "sample", &report, end));
    let first = &summaries[0];
    // The spool gives the sequence, when it first offers the summary.
    assert_eq!(first.sequence, 0);
    assert!(!first.assets.is_empty() && !first.edges.is_empty());
    // Nothing happened between frames 500 and 501 that changes an asset's identity,
    // but the polled edges' counts and last-seen times move with every request.
    let second = &summaries[1];
    assert!(second.assets.len() <= first.assets.len());
    // Every summary's edges carry cumulative counts that never go down.
    let mut last: std::collections::BTreeMap<String, u64> = Default::default();
    for summary in &summaries {
        assert_eq!(summary.schema, "faro-summary/1");
        assert!(summary.window_start <= summary.window_end);
        for edge in &summary.edges {
            for (function, count) in &edge.functions {
                let key = format!(
                    "{} {} {} {function}",
                    edge.client, edge.server, edge.server_port
                );
                let before = last.insert(key.clone(), *count).unwrap_or(0);
                assert!(*count >= before, "{key}: {before} -> {count}");
            }
        }
    }
    // The latest values of every edge across all summaries equal the final report's.
    let report = pipeline.report(&config);
    for edge in &report.edges {
        for (key, count) in &edge.functions.0 {
            let k = format!("{} {} {} {key}", edge.client, edge.server, edge.server_port);
            assert_eq!(last.get(&k), Some(count), "{k}");
        }
    }
    // All of them merged into one, as a full spool does, carry the final
    // report: every asset, and every edge with its final counts.
    let mut merged = summaries[0].clone();
    for summary in &summaries[1..] {
        merged.merge(summary.clone());
    }
    assert_eq!(merged.window_start, first.window_start);
    assert_eq!(merged.window_end, summaries.last().unwrap().window_end);
    let merged_ips: std::collections::BTreeSet<&String> =
        merged.assets.iter().map(|a| &a.ip).collect();
    let report_ips: std::collections::BTreeSet<&String> =
        report.assets.iter().map(|a| &a.ip).collect();
    assert_eq!(merged_ips, report_ips);
    // IT service edges travel as edges too.
    assert_eq!(
        merged.edges.len(),
        report.edges.len() + report.services.len()
    );
    for edge in &report.edges {
        let sent = merged
            .edges
            .iter()
            .find(|e| {
                (&e.client, &e.server, e.server_port)
                    == (&edge.client, &edge.server, edge.server_port)
            })
            .unwrap();
        let counts: std::collections::BTreeMap<String, u64> = edge
            .functions
            .0
            .iter()
            .map(|(k, c)| (k.to_string(), *c))
            .collect();
        assert_eq!(sent.functions, counts);
    }
    assert_eq!(merged.findings.len(), report.findings.len());
    // Built again with nothing new: empty.
    let end = pipeline.observed().unwrap().1;
    let again = builder.build("edge-01", "sample", &report, end);
    let repeat = builder.build("edge-01", "sample", &report, end);
    assert!(
        again.assets.len() + again.edges.len() + again.findings.len()
            <= report.assets.len() + report.edges.len() + report.findings.len()
    );
    assert!(repeat.assets.is_empty() && repeat.edges.is_empty() && repeat.findings.is_empty());
    // Findings travel too.
    assert!(
        summaries
            .iter()
            .any(|s| s.findings.iter().any(|f| f.rule == "modbus.write"))
    );
}
