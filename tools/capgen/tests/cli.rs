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
}
