//! Replays the committed fuzz corpus and crash reproducers of the protocol
//! targets, so a fixed crash stays fixed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                run(&std::fs::read(&path).unwrap());
                count += 1;
            }
        }
    }
    assert!(count > 0, "no corpus for {target} under {}", fuzz.display());
}

#[test]
fn modbus_stream_corpus() {
    replay("modbus_stream", faro_protocols::fuzzing::modbus_stream);
}

#[test]
fn s7_tpkt_cotp_corpus() {
    replay("s7_tpkt_cotp", faro_protocols::fuzzing::s7_tpkt_cotp);
}

#[test]
fn s7comm_corpus() {
    replay("s7comm", faro_protocols::fuzzing::s7comm);
}

#[test]
fn s7plus_corpus() {
    replay("s7plus", faro_protocols::fuzzing::s7plus);
}

#[test]
fn dnp3_link_corpus() {
    replay("dnp3_link", faro_protocols::fuzzing::dnp3_link);
}

#[test]
fn dnp3_app_corpus() {
    replay("dnp3_app", faro_protocols::fuzzing::dnp3_app);
}

#[test]
fn opcua_transport_corpus() {
    replay("opcua_transport", faro_protocols::fuzzing::opcua_transport);
}

#[test]
fn opcua_service_corpus() {
    replay("opcua_service", faro_protocols::fuzzing::opcua_service);
}

#[test]
fn uplink_envelope_corpus() {
    replay("uplink_envelope", faro_protocols::fuzzing::uplink_envelope);
}
