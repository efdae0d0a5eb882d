//! The generator's command line: captures are written, deterministic, and
//! libpcap reads them back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

fn capgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faro-capgen"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn same_arguments_same_bytes() {
    let dir = std::env::temp_dir().join(format!("faro-capgen-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.pcap"), dir.join("b.pcap"));
    for path in [&a, &b] {
        let out = capgen(&["reassembly", "-o", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let mut capture = pcap::Capture::from_file(&a).unwrap();
    let mut packets = 0;
    while capture.next_packet().is_ok() {
        packets += 1;
    }
    assert!(packets > 100);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_arguments_are_refused() {
    let out = capgen(&["polling", "--packets", "many", "-o", "/dev/null"]);
    assert!(!out.status.success());
    let out = capgen(&["polling", "--s7-share", "101", "-o", "/dev/null"]);
    assert!(!out.status.success());
    let out = capgen(&["polling", "--dnp3-share", "101", "-o", "/dev/null"]);
    assert!(!out.status.success());
    let out = capgen(&["polling", "--opcua-share", "101", "-o", "/dev/null"]);
    assert!(!out.status.success());
    let out = capgen(&[
        "polling",
        "--s7-share",
        "40",
        "--dnp3-share",
        "30",
        "--opcua-share",
        "31",
        "--packets",
        "10",
        "-o",
        "/dev/null",
    ]);
    assert!(!out.status.success());
    let out = capgen(&[
        "polling",
        "--s7-share",
        "60",
        "--dnp3-share",
        "41",
        "--packets",
        "10",
        "-o",
        "/dev/null",
    ]);
    assert!(!out.status.success());
}

#[test]
fn dnp3_substation_is_deterministic_with_its_truth() {
    let dir = std::env::temp_dir().join(format!("faro-capgen-cli-dnp3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut outputs = Vec::new();
    for name in ["a", "b"] {
        let pcap = dir.join(format!("{name}.pcap"));
        let truth = dir.join(format!("{name}.json"));
        let out = capgen(&[
            "dnp3",
            "-o",
            pcap.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push((
            std::fs::read(&pcap).unwrap(),
            std::fs::read(&truth).unwrap(),
        ));
    }
    assert_eq!(outputs[0], outputs[1]);
    let mut capture = pcap::Capture::from_file(dir.join("a.pcap")).unwrap();
    let mut packets = 0;
    while capture.next_packet().is_ok() {
        packets += 1;
    }
    assert!(packets > 300);
    let truth: serde_json::Value = serde_json::from_slice(&outputs[0].1).unwrap();
    let edges = truth["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 4);
    assert!(edges.iter().all(|e| e["protocol"] == "dnp3"));
    assert!(edges.iter().any(|e| e["server_port"] == 20100));
    assert!(edges.iter().any(|e| e["transport"] == "udp"));
    assert!(
        edges
            .iter()
            .any(|e| e["functions"]["3"] == 1 && e["objects"]["crob-3"] == 4)
    );
    assert_eq!(
        edges
            .iter()
            .filter(|e| e["secure_authentication"] == true)
            .count(),
        1
    );
    assert_eq!(truth["addresses"]["10.50.0.1"], serde_json::json!([1]));
    assert_eq!(
        truth["identity"]["10.50.1.10"]["device_name"],
        "RTU-NORTH-01"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn s7_plant_is_deterministic_with_its_truth() {
    let dir = std::env::temp_dir().join(format!("faro-capgen-cli-s7-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut outputs = Vec::new();
    for name in ["a", "b"] {
        let pcap = dir.join(format!("{name}.pcap"));
        let truth = dir.join(format!("{name}.json"));
        let out = capgen(&[
            "s7",
            "-o",
            pcap.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push((
            std::fs::read(&pcap).unwrap(),
            std::fs::read(&truth).unwrap(),
        ));
    }
    assert_eq!(outputs[0], outputs[1]);
    let mut capture = pcap::Capture::from_file(dir.join("a.pcap")).unwrap();
    let mut packets = 0;
    while capture.next_packet().is_ok() {
        packets += 1;
    }
    assert!(packets > 300);
    let truth: serde_json::Value = serde_json::from_slice(&outputs[0].1).unwrap();
    let edges = truth["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 6);
    assert!(edges.iter().all(|e| e["protocol"] == "s7comm"));
    assert!(edges.iter().any(|e| e["server_port"] == 10102));
    assert!(
        edges
            .iter()
            .any(|e| e["functions"]["ud-4-1"] == 4 && e["functions"]["41"] == 1)
    );
    assert_eq!(
        truth["identity"]["10.40.1.11"]["serial_number"],
        "S C-C2UR28922012"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn opcua_plant_is_deterministic_on_every_link_type() {
    let dir = std::env::temp_dir().join(format!("faro-capgen-cli-opcua-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut truths = Vec::new();
    for linktype in ["ethernet", "ethernet", "sll2", "raw"] {
        let pcap = dir.join(format!("{linktype}.pcap"));
        let truth = dir.join(format!("{linktype}.json"));
        let out = capgen(&[
            "opcua",
            "--linktype",
            linktype,
            "-o",
            pcap.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        truths.push(std::fs::read(&truth).unwrap());
    }
    // The truth does not depend on the link type.
    assert!(truths.windows(2).all(|pair| pair[0] == pair[1]));
    let truth: serde_json::Value = serde_json::from_slice(&truths[0]).unwrap();
    assert_eq!(truth["message_types"]["ERR"], 1);
    assert_eq!(truth["edges"].as_array().unwrap().len(), 7);
    std::fs::remove_dir_all(dir).unwrap();
}
