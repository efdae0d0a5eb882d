//! Every detection rule against real captures: each one fires on a capture
//! that carries what it describes (a shared capture or one of the generator's
//! plants) with its evidence, and none fires on the generator's benign plant
//! (read-only polling over all four protocols, OPC UA encrypted). Rules are
//! silenced per address by the configuration; malformed packets never make a
//! finding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use faro_e2e::{analyze_json, capgen, scratch_dir, sensor, shared_pcaps};

/// Where a test capture comes from.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// A capture of ../shared/pcaps.
    Shared(&'static str),
    /// `faro-capgen` with these arguments (the output path is added).
    Generated(&'static str, &'static [&'static str]),
}

/// Zones for the generator's Modbus plant (samples/plant-modbus.pcap): the
/// HMIs and the engineering station at level 3, the PLCs at level 1.
const SAMPLE_ZONES: &str = r#"
[sensor]
id = "test"
site = "sample"

[[zones]]
name = "operations"
cidrs = ["10.20.0.0/24"]
purdue_level = 3

[[zones]]
name = "control"
cidrs = ["10.20.1.0/24", "10.20.20.0/24"]
purdue_level = 1
criticality = "high"
"#;

/// The same zones, with a policy that lets operations only read the controllers.
const SAMPLE_POLICY: &str = r#"
[[policy]]
from = "operations"
to = "control"
protocol = "modbus"
access = ["read"]
"#;

/// A learning period shorter than the plant's: the engineering station
/// starts talking to the PLCs ten seconds in.
const SAMPLE_LEARNING: &str = r#"
[findings]
learning_period_secs = 5
"#;

struct Case {
    rule: &'static str,
    trigger: Source,
    /// Configuration text appended to [`SAMPLE_ZONES`], when the rule needs one.
    config: Option<&'static str>,
}

const SAMPLE: Source = Source::Generated("sample", &["sample"]);
const S7: Source = Source::Generated("s7", &["s7"]);
const DNP3: Source = Source::Generated("dnp3", &["dnp3"]);
const OPCUA: Source = Source::Generated("opcua", &["opcua"]);
const BENIGN: Source = Source::Generated(
    "benign",
    &[
        "polling",
        "--packets",
        "20000",
        "--flows",
        "40",
        "--s7-share",
        "25",
        "--dnp3-share",
        "25",
        "--opcua-share",
        "25",
        "--read-only",
        "--opcua-secure",
    ],
);

const fn case(rule: &'static str, trigger: Source) -> Case {
    Case {
        rule,
        trigger,
        config: None,
    }
}

const CASES: &[Case] = &[
    case("modbus.write", SAMPLE),
    case("modbus.file_record_write", SAMPLE),
    case(
        "modbus.restart_communications",
        Source::Shared("modbus-suricata-modbus.pcap"),
    ),
    case(
        "modbus.listen_only",
        Source::Shared("modbus-suricata-modbus.pcap"),
    ),
    case(
        "modbus.clear_counters",
        Source::Shared("modbus-suricata-modbus.pcap"),
    ),
    case("modbus.identification", SAMPLE),
    case(
        "modbus.reserved_function",
        Source::Shared("modbus-iti-modicon-test.pcap"),
    ),
    case(
        "modbus.user_defined_function",
        Source::Shared("modbus-arkime-modbus.pcap"),
    ),
    case("s7.plc_stop", S7),
    case("s7.plc_control", S7),
    case("s7.program_download", S7),
    case("s7.program_upload", S7),
    case("s7.variable_write", S7),
    case(
        "s7.modify_force",
        Source::Shared("s7comm-iti-step7-s300-rwvartab.pcap"),
    ),
    case("s7.reconnaissance", S7),
    case(
        "s7.password_activity",
        Source::Shared("s7comm-iti-step7-s300-authpassword.pcap"),
    ),
    case("s7.unprotected_cpu", S7),
    case(
        "s7plus.set_variable",
        Source::Shared("mixed-icsnpp-s7comm-plus-celr.pcap"),
    ),
    case("dnp3.restart", DNP3),
    case("dnp3.application_control", DNP3),
    case("dnp3.disable_unsolicited", DNP3),
    case("dnp3.control", DNP3),
    case("dnp3.write", DNP3),
    case(
        "dnp3.file_transfer",
        Source::Shared("dnp3-iti-file-write.pcap"),
    ),
    case("dnp3.unauthenticated_control", DNP3),
    case("dnp3.device_health", DNP3),
    case("opcua.channel_without_security", OPCUA),
    case("opcua.sign_only", OPCUA),
    case("opcua.deprecated_policy", OPCUA),
    case("opcua.insecure_endpoint", OPCUA),
    case("opcua.anonymous_access", OPCUA),
    case("opcua.cleartext_credentials", OPCUA),
    case("opcua.change_activity", OPCUA),
    case("certificate.expired", OPCUA),
    case("certificate.not_yet_valid", OPCUA),
    case("certificate.self_signed", OPCUA),
    case("certificate.weak_signature", OPCUA),
    case("certificate.weak_key", OPCUA),
    Case {
        rule: "ics.new_initiator",
        trigger: SAMPLE,
        config: Some(SAMPLE_LEARNING),
    },
    Case {
        rule: "ics.cross_zone_control",
        trigger: SAMPLE,
        config: Some(""),
    },
    Case {
        rule: "ics.policy_violation",
        trigger: SAMPLE,
        config: Some(SAMPLE_POLICY),
    },
    case(
        "ics.internet_peer",
        Source::Shared("modbus-zeek-modbussmall.pcap"),
    ),
    case("ics.nonstandard_port", S7),
    case("ics.engineering_station", S7),
];

/// Captures made or found once per test, by source.
struct Captures {
    dir: PathBuf,
    made: BTreeMap<Source, PathBuf>,
}

impl Captures {
    fn new(name: &str) -> Self {
        Captures {
            dir: scratch_dir(name),
            made: BTreeMap::new(),
        }
    }

    fn path(&mut self, source: Source) -> PathBuf {
        if let Some(path) = self.made.get(&source) {
            return path.clone();
        }
        let path = match source {
            Source::Shared(file) => shared_pcaps().join(file),
            Source::Generated(name, args) => {
                let path = self.dir.join(format!("{name}.pcap"));
                let mut all: Vec<&str> = args.to_vec();
                all.extend(["-o", path.to_str().unwrap()]);
                capgen(&all);
                path
            }
        };
        self.made.insert(source, path.clone());
        path
    }

    fn config(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn findings_of(capture: &Path, config: Option<&Path>) -> serde_json::Value {
    let mut extra = Vec::new();
    if let Some(config) = config {
        extra.extend(["--config", config.to_str().unwrap()]);
    }
    analyze_json(&[capture], &extra)
}

fn rules_fired(report: &serde_json::Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

/// The sensor's catalogue, as `faro-sensor rules --format json` lists it.
fn catalogue() -> Vec<serde_json::Value> {
    let out = sensor(&["rules", "--format", "json"]);
    assert!(out.status.success());
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn every_rule_fires_on_its_capture_with_evidence() {
    let catalogue = catalogue();
    let ids: BTreeSet<&str> = catalogue
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    let covered: BTreeSet<&str> = CASES.iter().map(|c| c.rule).collect();
    assert_eq!(ids, covered, "every rule needs a triggering capture");
    let mut captures = Captures::new("findings-trigger");
    let mut failures = Vec::new();
    for case in CASES {
        let capture = captures.path(case.trigger);
        let config = case.config.map(|extra| {
            captures.config(
                &case.rule.replace('.', "-"),
                &format!("{SAMPLE_ZONES}{extra}"),
            )
        });
        let report = findings_of(&capture, config.as_deref());
        let matching: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == case.rule)
            .collect();
        if matching.is_empty() {
            failures.push(format!(
                "{} did not fire on {}",
                case.rule,
                capture.display()
            ));
            continue;
        }
        let rule = catalogue.iter().find(|r| r["rule"] == case.rule).unwrap();
        for finding in matching {
            let evidence = &finding["evidence"];
            assert!(evidence["count"].as_u64().unwrap() >= 1, "{finding}");
            assert!(
                evidence["first_seen"].as_str() <= evidence["last_seen"].as_str(),
                "{finding}"
            );
            assert!(
                !evidence["values"].as_array().unwrap().is_empty(),
                "{finding}"
            );
            assert_eq!(finding["severity"], rule["severity"], "{finding}");
            assert_eq!(finding["attack"], rule["attack"], "{finding}");
            // About an asset or an edge; an edge's evidence names a flow.
            match (finding["asset"].is_null(), finding["edge"].is_null()) {
                (true, false) => assert!(evidence["sample_flow"].as_str().is_some(), "{finding}"),
                (false, true) => {}
                _ => panic!("a finding concerns an asset or an edge: {finding}"),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rules did not fire:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn no_rule_fires_on_the_benign_plant() {
    let mut captures = Captures::new("findings-benign");
    let capture = captures.path(BENIGN);
    // Without configuration, then with zones and a policy that allow what it does.
    let allowed = captures.config(
        "allowed",
        r#"
[sensor]
id = "test"
site = "benign"

[[zones]]
name = "supervisory"
cidrs = ["10.0.0.0/8"]
purdue_level = 2

[[policy]]
from = "supervisory"
to = "supervisory"
protocol = "any"
access = ["read"]
"#,
    );
    for config in [None, Some(allowed.as_path())] {
        let report = findings_of(&capture, config);
        let protocols = &report["stats"]["flows"]["by_protocol"];
        for protocol in ["modbus", "s7comm", "dnp3", "opcua"] {
            assert!(protocols[protocol].as_u64().unwrap() > 0, "{protocol}");
        }
        assert_eq!(report["findings"], serde_json::json!([]), "with {config:?}");
    }
}

#[test]
fn a_rule_is_silenced_per_address() {
    let mut captures = Captures::new("findings-silence");
    let capture = captures.path(SAMPLE);
    let before = findings_of(&capture, None);
    let writes_to = |report: &serde_json::Value| -> BTreeSet<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "modbus.write")
            .map(|f| f["edge"]["server"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        writes_to(&before),
        BTreeSet::from(["10.20.1.11".to_owned(), "10.20.1.12".to_owned()])
    );
    let config = captures.config(
        "silence",
        r#"
[sensor]
id = "test"
site = "sample"

[[silence]]
rule = "modbus.write"
address = "10.20.1.12"
reason = "setpoint changes by design; compensating control: write window"
"#,
    );
    let after = findings_of(&capture, Some(&config));
    assert_eq!(writes_to(&after), BTreeSet::from(["10.20.1.11".to_owned()]));
    assert_eq!(after["findings_silenced"], 2);
    // The other rules on that address stay.
    assert_eq!(rules_fired(&before), rules_fired(&after));
    // A silenced rule must be one the sensor has.
    let typo = captures.config(
        "typo",
        "[sensor]\nid = \"test\"\nsite = \"sample\"\n\n[[silence]]\nrule = \"modbus.writes\"\naddress = \"10.20.1.12\"\nreason = \"typo\"\n",
    );
    let out = sensor(&[
        "analyze",
        "--config",
        typo.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:6:8: silence[0].rule:", typo.display())),
        "{stderr}"
    );
}

/// A classic pcap of Ethernet/IPv4/TCP frames carrying `payloads`, each from
/// a client port of 10.9.0.1 to `port` on 10.9.0.2.
fn pcap_of(frames: &[(u16, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (i, (port, payload)) in frames.iter().enumerate() {
        let mut frame = Vec::new();
        frame.extend([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let total = u16::try_from(20 + 20 + payload.len()).unwrap();
        frame.extend([0x45, 0]);
        frame.extend(total.to_be_bytes());
        frame.extend([0, 0, 0x40, 0, 64, 6, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2]);
        let client_port = 40000 + u16::try_from(i).unwrap();
        frame.extend(client_port.to_be_bytes());
        frame.extend(port.to_be_bytes());
        frame.extend([0, 0, 0x10, 0, 0, 0, 0, 0, 0x50, 0x18, 0x20, 0, 0, 0, 0, 0]);
        frame.extend(*payload);
        let ts = 1_767_600_000u32 + u32::try_from(i).unwrap();
        out.extend(ts.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        let len = u32::try_from(frame.len()).unwrap();
        out.extend(len.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend(frame);
    }
    out
}

#[test]
fn malformed_packets_make_no_finding() {
    // Each would be a finding if it were well formed.
    let frames: &[(u16, &[u8])] = &[
        // Modbus FC 16 writing 2 registers with a byte count of 9 and 3 bytes.
        (502, &[0, 1, 0, 0, 0, 10, 1, 16, 0, 0, 0, 2, 9, 0, 1, 2]),
        // Modbus FC 5 write single coil with a coil value that is neither ON nor OFF.
        (502, &[0, 2, 0, 0, 0, 6, 1, 5, 0, 1, 0x12, 0x34]),
        // S7 PLC stop whose parameter length runs past the PDU.
        (
            102,
            &[
                3, 0, 0, 0x1b, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0, 1, 0, 0x20, 0, 0, 0x29, 0, 0, 0, 0,
                0, 0, 0, 0, 0,
            ],
        ),
        // DNP3 direct operate whose link header CRC is wrong (not even DNP3).
        (
            20000,
            &[
                0x05, 0x64, 0x18, 0xc4, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00, 0xc0, 0xc0, 0x05, 0x0c,
                0x01, 0x28, 0x01, 0x00, 0x07, 0x00, 0x41, 0x01, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x00,
            ],
        ),
        // An OPC UA Hello whose size says 5, below the header's own 8 (not even OPC UA).
        (4840, b"HELF\x05\x00\x00\x00\x00\x00\x00\x00"),
    ];
    let dir = scratch_dir("findings-malformed");
    let capture = dir.join("malformed.pcap");
    std::fs::write(&capture, pcap_of(frames)).unwrap();
    let report = findings_of(&capture, None);
    assert_eq!(report["findings"], serde_json::json!([]), "{report}");
    let stats = &report["stats"];
    let anomalies: u64 = stats["modbus"]["anomalies"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(anomalies >= 2, "{stats}");
    assert_eq!(stats["malformed"]["s7"], 1, "{stats}");
    assert_eq!(stats["packets"], 5);
    // Shared captures whose every DNP3 control or stop is malformed (a CROB
    // cut short, objects with bad qualifiers and ranges): counted, no finding.
    for file in [
        "dnp3-iti-direct-operate-crob-malform-but-good-crc.pcap",
        "dnp3-iti-malformed.pcap",
    ] {
        let report = findings_of(&shared_pcaps().join(file), None);
        assert_eq!(report["findings"], serde_json::json!([]), "{file}");
        let anomalies: u64 = report["edges"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["anomalies"].as_object().unwrap().values())
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert!(anomalies > 0, "{file}");
    }
}
