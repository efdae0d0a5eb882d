//! `faro-sensor analyze` against tshark's dissection of every shared capture
//! that carries S7comm or S7comm-plus: per (client, server, server port), the
//! same requests by function (S7comm jobs by parameter function, userdata
//! requests as `ud-<group>-<subfunction>`, S7comm-plus requests by function),
//! and the same identity strings from SZL responses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};

use faro_e2e::{
    EdgeCounts, Explained, TruthRow, analyze_json, assert_no_differences, count_differences,
    report_counts, shared_pcaps, truth_rows, truth_summary,
};

/// ISO-on-TCP's port: the server side of S7 connections in these captures.
const S7_PORT: u16 = 102;

use faro_e2e::truth_field as field;

fn values<'a>(row: &'a TruthRow, name: &str) -> std::vec::IntoIter<&'a str> {
    faro_e2e::truth_values(row, name).into_iter()
}

fn hex(value: &str) -> u32 {
    u32::from_str_radix(value.trim_start_matches("0x"), 16).unwrap()
}

fn endpoints(row: &TruthRow) -> (String, String) {
    let ip = |v4: &str, v6: &str| {
        let a = field(row, v4);
        if a.is_empty() { field(row, v6) } else { a }.to_owned()
    };
    (ip("ip.src", "ipv6.src"), ip("ip.dst", "ipv6.dst"))
}

/// tshark's requests per edge: S7comm Job PDUs and userdata requests (type 4);
/// S7comm-plus PDUs with opcode 0x31. Several PDUs in one frame are listed in
/// order: ROSCTR 1 and 3 carry a parameter function, ROSCTR 7 userdata fields.
///
/// The edge is the connection's: client → server on the server port (102),
/// as truth/README.md defines initiator and responder for TCP protocols. It
/// matters for downloads, where the PLC itself sends the Download block (0x1B)
/// and Download ended (0x1C) Jobs to the engineering station.
fn truth_counts(file: &str) -> (EdgeCounts, EdgeCounts) {
    let (mut s7, mut plus) = (EdgeCounts::new(), EdgeCounts::new());
    for row in truth_rows(file) {
        let (src, dst) = endpoints(&row);
        let sport: u16 = field(&row, "tcp.srcport").parse().unwrap_or(0);
        let dport: u16 = field(&row, "tcp.dstport").parse().unwrap_or(0);
        let edge = if sport == S7_PORT && dport != S7_PORT {
            (dst, src, sport)
        } else {
            (src, dst, dport)
        };
        let mut functions = values(&row, "s7comm.param.func");
        let (mut kinds, mut groups, mut subs) = (
            values(&row, "s7comm.param.userdata.type"),
            values(&row, "s7comm.param.userdata.funcgroup"),
            values(&row, "s7comm.param.userdata.subfunc"),
        );
        for rosctr in values(&row, "s7comm.header.rosctr") {
            match rosctr {
                "1" => {
                    let f = functions.next().unwrap();
                    *s7.entry(edge.clone())
                        .or_default()
                        .entry(hex(f).to_string())
                        .or_default() += 1;
                }
                "3" => {
                    functions.next();
                }
                "7" => {
                    let (kind, group, sub) = (kinds.next(), groups.next(), subs.next());
                    if kind == Some("4") {
                        let key = format!("ud-{}-{}", group.unwrap(), sub.unwrap());
                        *s7.entry(edge.clone()).or_default().entry(key).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        let mut plus_functions = values(&row, "s7comm-plus.data.function");
        for opcode in values(&row, "s7comm-plus.data.opcode") {
            match opcode {
                "0x31" => {
                    if let Some(f) = plus_functions.next() {
                        *plus
                            .entry(edge.clone())
                            .or_default()
                            .entry(hex(f).to_string())
                            .or_default() += 1;
                    }
                }
                "0x32" => {
                    plus_functions.next();
                }
                _ => {}
            }
        }
    }
    (s7, plus)
}

/// Known, explained differences; in each tshark is the one that misses a request.
fn explained() -> Explained {
    BTreeMap::from([
        // The PLC's Ack_Data (frames 3573 and 6933, PDU ref 1280) was captured
        // before the Read Var Job it answers (frames 3574 and 6934, in sequence on
        // the stream). tshark flags the Ack_Data "ACKed unseen segment" and never
        // dissects the two Jobs; Faro reassembles by sequence number and counts them.
        (
            (
                "mixed-agentcarter-2.pcapng",
                ("192.168.41.70", "192.168.41.10", 102),
                "4",
            ),
            (194, 192),
        ),
    ])
}

#[test]
fn s7_requests_match_tshark() {
    let files: BTreeSet<String> = truth_summary()
        .into_iter()
        .filter(|s| s.protocol == "s7comm" || s.protocol == "s7comm-plus")
        .map(|s| s.file)
        .collect();
    assert!(
        files.len() >= 40,
        "expected the shared S7 captures, found {}",
        files.len()
    );
    let explained = explained();
    let mut failures = Vec::new();
    for file in &files {
        let (s7, plus) = truth_counts(file);
        let report = analyze_json(&[&shared_pcaps().join(file)], &[]);
        failures.extend(count_differences(
            file,
            &s7,
            &report_counts(&report, "s7comm"),
            &explained,
        ));
        failures.extend(count_differences(
            file,
            &plus,
            &report_counts(&report, "s7comm_plus"),
            &explained,
        ));
    }
    assert_no_differences(&failures);
}

/// The SZL lists each edge's Read SZL requests asked for, with counts, as tshark
/// decodes them (`s7comm.data.userdata.szl_id` and `szl_index` of userdata
/// requests), against the report's `objects`.
#[test]
fn szl_requests_match_tshark() {
    let files: BTreeSet<String> = truth_summary()
        .into_iter()
        .filter(|s| s.protocol == "s7comm")
        .map(|s| s.file)
        .collect();
    let mut compared = 0;
    for file in &files {
        let mut truth: BTreeMap<(String, String, u16), BTreeMap<String, u64>> = BTreeMap::new();
        for row in truth_rows(file) {
            let (src, dst) = endpoints(&row);
            let dport: u16 = field(&row, "tcp.dstport").parse().unwrap_or(0);
            let requests = values(&row, "s7comm.param.userdata.type")
                .filter(|t| *t == "4")
                .count();
            if requests == 0 || field(&row, "s7comm.param.userdata.subfunc") != "1" {
                continue;
            }
            for (id, index) in values(&row, "s7comm.data.userdata.szl_id")
                .zip(values(&row, "s7comm.data.userdata.szl_index"))
            {
                let key = format!("szl-{id}-{index}");
                *truth
                    .entry((src.clone(), dst.clone(), dport))
                    .or_default()
                    .entry(key)
                    .or_default() += 1;
            }
        }
        if truth.is_empty() {
            continue;
        }
        let report = analyze_json(&[&shared_pcaps().join(file)], &[]);
        let mut faro: BTreeMap<(String, String, u16), BTreeMap<String, u64>> = BTreeMap::new();
        for edge in report["edges"].as_array().unwrap() {
            let objects: BTreeMap<String, u64> = edge["objects"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.starts_with("szl-"))
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect();
            if !objects.is_empty() {
                let key = (
                    edge["client"].as_str().unwrap().to_owned(),
                    edge["server"].as_str().unwrap().to_owned(),
                    u16::try_from(edge["server_port"].as_u64().unwrap()).unwrap(),
                );
                faro.insert(key, objects);
            }
        }
        assert_eq!(faro, truth, "{file}");
        compared += truth.values().map(BTreeMap::len).sum::<usize>();
    }
    assert!(compared >= 10, "only {compared} SZL lists compared");
}

/// Identity strings from SZL 0x0011 (order number) and 0x001C (serial number,
/// module type name) as tshark decodes them.
#[test]
fn s7_identity_matches_tshark() {
    let files: BTreeSet<String> = truth_summary()
        .into_iter()
        .filter(|s| s.protocol == "s7comm")
        .map(|s| s.file)
        .collect();
    let mut checked = 0;
    for file in &files {
        let mut expected: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        for row in truth_rows(file) {
            let (src, _) = endpoints(&row);
            for (column, attribute) in [
                ("s7comm.szl.xy11.0001.anz", "order_number"),
                ("s7comm.szl.001c.0005.serialn", "serial_number"),
                ("s7comm.szl.001c.0007.cputypname", "module_type_name"),
                ("s7comm.szl.001c.0002.name", "module_name"),
            ] {
                if let Some(v) = values(&row, column).next() {
                    let v = v.trim();
                    if !v.is_empty() {
                        expected
                            .entry(src.clone())
                            .or_default()
                            .insert((attribute.into(), v.into()));
                    }
                }
            }
        }
        if expected.is_empty() {
            continue;
        }
        let report = analyze_json(&[&shared_pcaps().join(file)], &[]);
        for (ip, attributes) in expected {
            let asset = report["assets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["ip"] == ip.as_str())
                .unwrap_or_else(|| panic!("{file}: no asset {ip}"));
            for (attribute, value) in attributes {
                assert_eq!(
                    asset["identity"][&attribute].as_str(),
                    Some(value.as_str()),
                    "{file}: {ip} {attribute}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "only {checked} identity strings compared");
}
