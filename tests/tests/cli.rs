//! The sensor's command line: bad inputs get one clear line each, exit status
//! 2, and do not stop the other files from being analysed; the JSON output
//! follows the schema shipped in the repository.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use faro_e2e::{analyze_json, sensor, shared_pcaps, workspace_root};

/// A minimal classic pcap file: global header, then `records` as (bytes) with a zero timestamp.
fn pcap_bytes(linktype: u32, records: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic, microseconds
    out.extend_from_slice(&2u16.to_le_bytes()); // version major
    out.extend_from_slice(&4u16.to_le_bytes()); // version minor
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    out.extend_from_slice(&linktype.to_le_bytes());
    for r in records {
        out.extend_from_slice(&1u32.to_le_bytes()); // ts_sec
        out.extend_from_slice(&0u32.to_le_bytes()); // ts_usec
        out.extend_from_slice(&(r.len() as u32).to_le_bytes()); // incl_len
        out.extend_from_slice(&(r.len() as u32).to_le_bytes()); // orig_len
        out.extend_from_slice(r);
    }
    out
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faro-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_inputs_are_named_once_each_and_the_rest_is_analysed() {
    let dir = temp_dir("bad-inputs");
    let missing = dir.join("missing.pcap");
    let not_capture = dir.join("notes.txt");
    std::fs::write(&not_capture, "this is not a capture\n").unwrap();
    let usb = dir.join("usb.pcap");
    std::fs::write(&usb, pcap_bytes(189, &[&[0u8; 48]])).unwrap(); // LINKTYPE_USB_LINUX_MMAPPED
    let cut = dir.join("cut.pcap");
    let mut bytes = pcap_bytes(1, &[&[0u8; 60], &[0u8; 60]]);
    bytes.truncate(bytes.len() - 20); // the second record ends early
    std::fs::write(&cut, bytes).unwrap();
    let good = shared_pcaps().join("modbus-suricata-modbus.pcap");

    let args: Vec<String> = ["analyze", "--format", "json"]
        .iter()
        .map(|s| s.to_string())
        .chain(
            [&missing, &not_capture, &usb, &cut, &good]
                .iter()
                .map(|p| p.display().to_string()),
        )
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sensor(&args);
    assert_eq!(out.status.code(), Some(2), "exit status");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "one line per bad input:\n{stderr}");
    for (line, path, reason) in [
        (lines[0], &missing, "No such file"),
        (lines[1], &not_capture, "format"),
        (lines[2], &usb, "unsupported link type"),
        (lines[3], &cut, "truncated"),
    ] {
        assert!(line.contains(&path.display().to_string()), "{line}");
        assert!(
            line.to_lowercase().contains(&reason.to_lowercase()),
            "{line}"
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"].as_array().unwrap().len(), 5);
    assert_eq!(
        report["inputs"][3]["packets"], 1,
        "the good record before the cut is kept"
    );
    assert!(report["inputs"][4]["error"].is_null());
    assert!(
        !report["edges"].as_array().unwrap().is_empty(),
        "the good file was analysed"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn json_output_follows_the_shipped_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("sensor/schema/analyze.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for file in [
        "modbus-suricata-modbus.pcap",
        "modbus-iti-modicon-test.pcap",
        "mixed-agentcarter-teb.pcapng",
        "modbus-zeek-fuzz-72.pcap",
        "modbus-iti-modbustcp.pcap",
    ] {
        let report = analyze_json(&[&shared_pcaps().join(file)], &[]);
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {}", errors.join("\n"));
    }
}

#[test]
fn table_output_names_assets_and_edges() {
    let out = sensor(&[
        "analyze",
        shared_pcaps()
            .join("modbus-suricata-modbus.pcap")
            .to_str()
            .unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Assets (") && text.contains("Edges ("),
        "{text}"
    );
    assert!(text.contains("10.0.0.57"), "{text}");
}
