//! The sensor on captures the project's own generator writes, whose truth is
//! computed by the generator: TCP reassembly cases, link types and IPv6, the
//! shipped sample, and a 1-million-flow SYN flood in bounded memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use faro_e2e::{
    analyze_json, capgen, report_counts, scratch_dir, sensor_with_peak_rss, truth_file_counts,
    workspace_root,
};

#[test]
fn reassembly_cases_match_the_generators_truth_on_every_link_type() {
    let dir = scratch_dir("reassembly");
    for (linktype, ipv6) in [
        ("ethernet", false),
        ("ethernet", true),
        ("sll", false),
        ("sll2", true),
        ("raw", false),
    ] {
        let pcap = dir.join(format!("reasm-{linktype}-{ipv6}.pcap"));
        let truth = dir.join(format!("reasm-{linktype}-{ipv6}.json"));
        let mut args = vec![
            "reassembly",
            "-o",
            pcap.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
            "--linktype",
            linktype,
        ];
        if ipv6 {
            args.push("--ipv6");
        }
        capgen(&args);
        let report = analyze_json(&[&pcap], &[]);
        let expected = truth_file_counts(&truth);
        assert_eq!(expected.len(), 9, "one edge per case");
        assert_eq!(
            report_counts(&report, "modbus"),
            expected,
            "{linktype} ipv6={ipv6}"
        );
        let stats = &report["stats"];
        assert!(stats["reassembly"]["retransmitted_bytes"].as_u64().unwrap() > 0);
        assert!(
            stats["reassembly"]["out_of_order_segments"]
                .as_u64()
                .unwrap()
                > 0
        );
        assert!(stats["reassembly"]["gaps"].as_u64().unwrap() > 0);
        assert_eq!(
            report["inputs"][0]["link_type"],
            match linktype {
                "sll" => "linux_sll",
                "sll2" => "linux_sll2",
                "raw" => "raw_ip",
                other => other,
            }
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn shipped_sample_matches_its_truth_and_inventory() {
    // The sample in the repository is the generator's output for its defaults.
    let shipped = workspace_root().join("samples/plant-modbus.pcap");
    let dir = scratch_dir("sample");
    let fresh = dir.join("sample.pcap");
    let truth = dir.join("sample.json");
    capgen(&[
        "sample",
        "-o",
        fresh.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&shipped).unwrap(),
        std::fs::read(&fresh).unwrap(),
        "samples/plant-modbus.pcap is stale: regenerate it with `faro-capgen sample -o samples/plant-modbus.pcap`"
    );
    let report = analyze_json(&[&shipped], &[]);
    assert_eq!(report_counts(&report, "modbus"), truth_file_counts(&truth));
    let assets = report["assets"].as_array().unwrap();
    let servers: Vec<_> = assets
        .iter()
        .filter(|a| {
            a["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "modbus_server")
        })
        .collect();
    assert_eq!(servers.len(), 5, "five PLCs");
    for plc in &servers {
        let identity = plc["identity"].as_object().unwrap();
        for key in ["vendor", "product_code", "revision"] {
            assert!(
                identity
                    .get(key)
                    .is_some_and(|v| !v.as_str().unwrap().is_empty()),
                "{plc}"
            );
            assert_eq!(plc["identity_sources"][key], "modbus:fc43-14", "{plc}");
        }
        assert!(plc["mac"].is_string(), "{plc}");
        // They name themselves: no MAC vendor hint.
        assert!(identity.get("mac_vendor").is_none(), "{plc}");
    }
    // The HMIs announce nothing: their MAC's vendor, from the IEEE registry, as a hint.
    let hmi = assets.iter().find(|a| a["ip"] == "10.20.0.21").unwrap();
    assert_eq!(hmi["identity"]["mac_vendor"], "Dell Inc.", "{hmi}");
    assert_eq!(hmi["identity_sources"]["mac_vendor"], "oui", "{hmi}");
    assert!(
        assets.iter().any(|a| a["vlans"] == serde_json::json!([20])),
        "the PLC on VLAN 20"
    );
    // HTTP on TCP 502 is seen and not taken for Modbus.
    assert!(report["stats"]["flows"]["unrecognised"].as_u64().unwrap() >= 1);
    assert_eq!(report["stats"]["malformed"]["modbus"], 0);
    let exceptions: u64 = report["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["function_details"].as_array().unwrap().iter())
        .map(|f| f["exceptions"].as_u64().unwrap())
        .sum();
    assert_eq!(exceptions, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn s7_plant_matches_the_generators_truth() {
    let dir = scratch_dir("s7");
    let pcap = dir.join("s7.pcap");
    let truth_path = dir.join("s7.json");
    capgen(&[
        "s7",
        "-o",
        pcap.to_str().unwrap(),
        "--truth",
        truth_path.to_str().unwrap(),
    ]);
    let report = analyze_json(&[&pcap], &[]);
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
    let expected = report_counts(&truth, "s7comm");
    // Among them a PLC served on port 10102 and a session picked up mid-stream
    // (no handshake, no COTP connection request): both found by content.
    assert!(expected.keys().any(|(_, _, port)| *port == 10102));
    assert_eq!(report_counts(&report, "s7comm"), expected);
    let assets = report["assets"].as_array().unwrap();
    for (ip, attributes) in truth["identity"].as_object().unwrap() {
        let asset = assets.iter().find(|a| a["ip"] == ip.as_str()).unwrap();
        assert!(
            asset["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "plc"),
            "{asset}"
        );
        for (name, value) in attributes.as_object().unwrap() {
            assert_eq!(&asset["identity"][name], value, "{ip} {name}");
            let source = asset["identity_sources"][name].as_str().unwrap();
            assert!(
                ["s7:szl-0x0011", "s7:szl-0x001c", "s7plus:response"].contains(&source),
                "{ip} {name} from {source}"
            );
        }
    }
    // Posture from SZL 0x0132 index 4 and 0x0424, and rack/slot from the COTP CR.
    let plc = assets.iter().find(|a| a["ip"] == "10.40.1.11").unwrap();
    assert_eq!(plc["posture"]["mode_selector"], "run_p");
    assert_eq!(plc["posture"]["password_protected"], "false");
    assert_eq!(plc["posture"]["cpu_mode"], "run");
    assert_eq!(plc["identity"]["rack"], "0");
    assert_eq!(plc["identity_sources"]["rack"], "s7:cotp-cr");
    assert_eq!(plc["identity_sources"]["firmware_version"], "s7:szl-0x0011");
    assert_eq!(report["stats"]["malformed"]["s7"], 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn dnp3_substation_matches_the_generators_truth() {
    let dir = scratch_dir("dnp3");
    let pcap = dir.join("dnp3.pcap");
    let truth_path = dir.join("dnp3.json");
    capgen(&[
        "dnp3",
        "-o",
        pcap.to_str().unwrap(),
        "--truth",
        truth_path.to_str().unwrap(),
    ]);
    let report = analyze_json(&[&pcap], &[]);
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
    assert_eq!(
        report_counts(&report, "dnp3"),
        report_counts(&truth, "dnp3")
    );
    let edges = report["edges"].as_array().unwrap();
    for expected in truth["edges"].as_array().unwrap() {
        let edge = edges
            .iter()
            .find(|e| {
                e["client"] == expected["client"]
                    && e["server"] == expected["server"]
                    && e["server_port"] == expected["server_port"]
                    && e["transport"] == expected["transport"]
            })
            .unwrap_or_else(|| panic!("no edge {expected}"));
        assert_eq!(edge["objects"], expected["objects"], "{expected}");
        assert_eq!(
            edge["secure_authentication"], expected["secure_authentication"],
            "{expected}"
        );
    }
    // An outstation on an unusual port, and DNP3 over UDP, both found by content.
    assert!(
        edges
            .iter()
            .any(|e| e["protocol"] == "dnp3" && e["server_port"] != 20000)
    );
    assert!(
        edges
            .iter()
            .any(|e| e["protocol"] == "dnp3" && e["transport"] == "udp")
    );
    let assets = report["assets"].as_array().unwrap();
    for (ip, addresses) in truth["addresses"].as_object().unwrap() {
        let asset = assets.iter().find(|a| a["ip"] == ip.as_str()).unwrap();
        assert_eq!(&asset["dnp3_addresses"], addresses, "{ip}");
    }
    for (ip, attributes) in truth["identity"].as_object().unwrap() {
        let asset = assets.iter().find(|a| a["ip"] == ip.as_str()).unwrap();
        assert!(
            asset["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "dnp3_outstation")
        );
        for (name, value) in attributes.as_object().unwrap() {
            assert_eq!(&asset["identity"][name], value, "{ip} {name}");
            let source = asset["identity_sources"][name].as_str().unwrap();
            assert!(source.starts_with("dnp3:g0v"), "{ip} {name} from {source}");
        }
    }
    // g50v4 (indexed absolute time and interval): tshark 4.0 does not know this
    // variation and marks such frames malformed; Faro decodes it.
    assert!(
        edges
            .iter()
            .any(|e| e["objects"]["g50v4"].as_u64() == Some(1))
    );
    assert_eq!(
        report["stats"]["malformed"]["dnp3"], 1,
        "only the corrupted frame"
    );
    // The frame with a corrupted data CRC is counted and dropped.
    assert_eq!(report["stats"]["dnp3"]["crc_errors"], 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn syn_flood_of_a_million_flows_stays_in_bounded_memory() {
    let dir = scratch_dir("synflood");
    let pcap = dir.join("synflood.pcap");
    capgen(&[
        "synflood",
        "--flows",
        "1000000",
        "-o",
        pcap.to_str().unwrap(),
    ]);
    let (out, peak_kib) = sensor_with_peak_rss(&[
        "analyze",
        "--format",
        "json",
        "--no-progress",
        pcap.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stats = &report["stats"];
    let max_flows = 65_536u64; // CapacityLimits::default().max_flows
    assert_eq!(stats["flows"]["created"], 1_000_000);
    assert_eq!(stats["flows"]["peak"], max_flows);
    assert_eq!(
        stats["shed"]["flows"],
        1_000_000 - max_flows,
        "every eviction is counted"
    );
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB for 1M flows (limit 64 MiB)"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The sets a JSON array of strings holds.
fn string_set(value: &serde_json::Value) -> std::collections::BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn opcua_plant_matches_the_generators_truth() {
    let dir = scratch_dir("opcua");
    let pcap = dir.join("opcua.pcap");
    let truth_path = dir.join("opcua.json");
    capgen(&[
        "opcua",
        "-o",
        pcap.to_str().unwrap(),
        "--truth",
        truth_path.to_str().unwrap(),
    ]);
    let report = analyze_json(&[&pcap], &[]);
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
    let stats = &report["stats"]["opcua"];
    for (code, name) in [
        ("HEL", "hello"),
        ("ACK", "acknowledge"),
        ("ERR", "error"),
        ("OPN", "open"),
        ("MSG", "message"),
        ("CLO", "close"),
    ] {
        assert_eq!(stats[name], truth["message_types"][code], "{code}");
    }
    assert_eq!(report["stats"]["malformed"]["opcua"], 0);
    let edges: Vec<&serde_json::Value> = report["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["protocol"] == "opcua")
        .collect();
    let truth_edges = truth["edges"].as_array().unwrap();
    assert_eq!(edges.len(), truth_edges.len());
    for expected in truth_edges {
        let edge = edges
            .iter()
            .find(|e| {
                e["client"] == expected["client"]
                    && e["server"] == expected["server"]
                    && e["server_port"] == expected["server_port"]
            })
            .unwrap_or_else(|| panic!("no edge for {expected}"));
        let name = format!("{} -> {}", expected["client"], expected["server"]);
        assert_eq!(edge["functions"], expected["requests"], "{name} requests");
        for (function, column) in [("responses", "responses"), ("faults", "exceptions")] {
            let faro: serde_json::Map<String, serde_json::Value> = edge["function_details"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f[column].as_u64().unwrap() > 0)
                .map(|f| {
                    (
                        f["function"].as_str().unwrap().to_owned(),
                        f[column].clone(),
                    )
                })
                .collect();
            assert_eq!(
                serde_json::Value::Object(faro),
                expected[function],
                "{name} {function}"
            );
        }
        let opcua = &edge["opcua"];
        if opcua.is_null() {
            // Picked up mid-stream, or refused at Hello: nothing about security was seen.
            for list in ["policies", "modes", "token_types"] {
                assert!(expected[list].as_array().unwrap().is_empty(), "{name}");
            }
            continue;
        }
        assert_eq!(
            string_set(&opcua["security_policies"]),
            string_set(&expected["policies"]),
            "{name}"
        );
        assert_eq!(
            string_set(&opcua["security_modes"]),
            string_set(&expected["modes"]),
            "{name}"
        );
        assert_eq!(
            string_set(&opcua["token_types"]),
            string_set(&expected["token_types"]),
            "{name}"
        );
        assert_eq!(
            opcua["cleartext_passwords"], expected["cleartext_passwords"],
            "{name}"
        );
    }
    let assets = report["assets"].as_array().unwrap();
    let asset = |ip: &serde_json::Value| {
        assets
            .iter()
            .find(|a| a["ip"] == *ip)
            .unwrap_or_else(|| panic!("no asset {ip}"))
    };
    let certificates = |a: &serde_json::Value| -> std::collections::BTreeSet<String> {
        a["opcua"]["certificates"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| c["sha256"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for server in truth["servers"].as_array().unwrap() {
        let a = asset(&server["ip"]);
        assert!(string_set(&a["roles"]).contains("opcua_server"), "{a}");
        for name in [
            "application_uri",
            "product_uri",
            "application_name",
            "application_type",
        ] {
            assert_eq!(a["identity"][name], server[name], "{} {name}", server["ip"]);
            let source = &a["identity_sources"][name];
            assert!(
                server[name].is_null()
                    || source == "opcua:GetEndpoints"
                    || source == "opcua:CreateSession",
                "{} {name} from {source}",
                server["ip"]
            );
        }
        let offered: Vec<serde_json::Value> = a["opcua"]["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let tokens: std::collections::BTreeSet<&str> = e["user_tokens"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["token_type"].as_str().unwrap())
                    .collect();
                serde_json::json!({
                    "url": e["url"], "mode": e["security_mode"], "policy": e["security_policy"],
                    "token_types": tokens, "security_level": e["security_level"],
                })
            })
            .collect();
        let mut expected: Vec<serde_json::Value> = server["endpoints"].as_array().unwrap().clone();
        for e in &mut expected {
            let tokens = string_set(&e["token_types"]);
            e["token_types"] = serde_json::json!(tokens);
        }
        let key = |v: &serde_json::Value| v.to_string();
        let mut offered = offered;
        offered.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(offered, expected, "{} endpoints", server["ip"]);
        assert_eq!(
            certificates(a),
            string_set(&server["certificates"]),
            "{}",
            server["ip"]
        );
    }
    for client in truth["clients"].as_array().unwrap() {
        let a = asset(&client["ip"]);
        for name in ["application_uri", "application_name"] {
            assert_eq!(a["identity"][name], client[name], "{} {name}", client["ip"]);
            if !client[name].is_null() {
                assert_eq!(
                    a["identity_sources"][name], "opcua:CreateSession",
                    "{} {name}",
                    client["ip"]
                );
            }
        }
        assert_eq!(
            certificates(a),
            string_set(&client["certificates"]),
            "{}",
            client["ip"]
        );
    }
    // The engineering station's legacy certificate is read as what it is.
    let legacy = assets
        .iter()
        .flat_map(|a| a["opcua"]["certificates"].as_array().into_iter().flatten())
        .find(|c| c["key_bits"] == 1024)
        .expect("the RSA-1024 client certificate");
    assert_eq!(legacy["signature_algorithm"], "sha1WithRSAEncryption");
    assert_eq!(legacy["self_signed"], true);
    // The password went over the wire in clear; the sensor must never repeat it.
    let json = report.to_string();
    assert!(!json.contains("Line1-Maint!2026"));
    let out = faro_e2e::sensor(&["analyze", pcap.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Line1-Maint!2026"));
    assert!(
        std::fs::read(&pcap)
            .unwrap()
            .windows(16)
            .any(|w| w == b"Line1-Maint!2026")
    );
}

/// `faro-capgen pivots`: exactly the IT conduits the scenario built, named by
/// port and classified by the client's first bytes; no ICS edge, no finding.
#[test]
fn pivots_scenario_shows_exactly_its_it_service_edges() {
    let dir = scratch_dir("pivots");
    let pcap = dir.join("pivots.pcap");
    capgen(&["pivots", "-o", pcap.to_str().unwrap()]);
    let report = analyze_json(&[&pcap], &[]);
    assert_eq!(report["edges"].as_array().unwrap().len(), 0, "{report:#}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    // client server:port transport protocol tls/cleartext/unknown
    let services: Vec<String> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let c = &s["channels"];
            format!(
                "{} {}:{} {} {} {}/{}/{}",
                s["client"].as_str().unwrap(),
                s["server"].as_str().unwrap(),
                s["server_port"],
                s["transport"].as_str().unwrap(),
                s["protocol"].as_str().unwrap(),
                c["tls"],
                c["cleartext"],
                c["unknown"],
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            "10.40.0.20 10.30.1.10:22 tcp ssh 0/1/0",
            "10.40.0.20 10.30.1.10:3389 tcp rdp 1/0/0",
            "10.40.0.20 10.30.1.50:23 tcp telnet 0/1/0",
        ]
    );
    assert_eq!(report["stats"]["shed"]["service_edges"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}
