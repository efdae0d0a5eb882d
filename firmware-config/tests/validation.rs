//! Validation: every kind of mistake is reported with its file, line, column
//! and setting; several at once; never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use faro_firmware_config::{
    Access, AssetAddress, AssetRole, Config, Criticality, PurdueLevel, load, parse,
};

const FILE: &str = "/etc/faro/faro.toml";

const SENSOR: &str = "[sensor]\nid = \"edge-01\"\nsite = \"plant-north\"\n";

/// The problems found in `text` (after the [sensor] section's 3 lines), as
/// displayed.
fn problems_with(text: &str, rules: &[&str]) -> Vec<String> {
    let text = format!("{SENSOR}{text}");
    match parse(&text, Path::new(FILE), rules) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

fn problems(text: &str) -> Vec<String> {
    problems_with(text, &[])
}

fn ok(text: &str) -> Config {
    let text = format!("{SENSOR}{text}");
    parse(&text, Path::new(FILE), &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("faro.example.toml")
}

/// A fresh empty directory under the system's temporary directory.
fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "faro-config-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn one(text: &str) -> String {
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap()
}

const ZONE_A: &str = "[[zones]]\nname = \"a\"\ncidrs = [\"10.1.0.0/16\"]\npurdue_level = 1\n";

// ---- the shipped example --------------------------------------------------

#[test]
fn example_is_valid() {
    let config = load(&example_path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.path.as_deref(), Some(example_path().as_path()));
    assert_eq!(config.sensor.id, "edge-01");
    assert_eq!(config.sensor.site, "plant-north");
    assert_eq!(config.interfaces.len(), 1);
    let levels: Vec<&str> = config.zones.iter().map(|z| z.purdue_level.name()).collect();
    assert_eq!(levels, ["1", "2", "3", "3.5", "4"]);
    assert_eq!(config.assets.len(), 5);
    assert!(config.has_policy());
    assert_eq!(config.silence.len(), 1);
    assert!(config.uplink.is_none());
    assert_eq!(
        config.limits,
        faro_firmware_config::CapacityLimits::default()
    );
}

#[test]
fn example_with_its_uplink_enabled_is_valid() {
    let dir = temp_dir();
    for name in ["ca.pem", "sensor.pem", "sensor.key", "signing.key"] {
        std::fs::write(dir.join(name), "x").unwrap();
    }
    #[cfg(unix)]
    for name in ["sensor.key", "signing.key"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut text = std::fs::read_to_string(example_path()).unwrap();
    // Uncomment the [uplink] section, with the files relative to the config.
    let start = text.find("\n# [uplink]\n").unwrap() + 1;
    let uplink: String = text[start..]
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .map(|l| l.replace("/etc/faro/", ""))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&uplink);
    let origin = dir.join("faro.toml");
    let config = parse(&text, &origin, &[]).unwrap_or_else(|e| panic!("{e}"));
    let uplink = config.uplink.unwrap();
    assert_eq!(uplink.collector_url, "https://collector.example:8443");
    assert_eq!(uplink.client_key, dir.join("sensor.key"));
    assert_eq!(uplink.interval_secs, 60);
    assert_eq!(uplink.spool_max_mib, 256);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn example_rule_ids_are_checked_when_known() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let rules = ["opcua.channel_without_security", "s7.program_download"];
    assert!(parse(&text, &example_path(), &rules).is_ok());
    let err = parse(&text, &example_path(), &["modbus.write"]).unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
}

// ---- defaults and queries -------------------------------------------------

#[test]
fn minimal_file_takes_the_defaults() {
    let config = ok("");
    assert!(config.interfaces.is_empty() && config.zones.is_empty());
    assert!(!config.has_policy());
    assert_eq!(config.findings.learning_period_secs, 900);
    assert_eq!(config.findings.max_findings, 4096);
    assert_eq!(
        config.limits,
        faro_firmware_config::CapacityLimits::default()
    );
    let config = ok(
        "[[interfaces]]\nname = \"eth1\"\n[[zones]]\nname = \"z\"\ncidrs = [\"10.0.0.0/8\"]\npurdue_level = 2\n[limits]\nmax_flows = 1024\n",
    );
    let i = &config.interfaces[0];
    assert_eq!(
        (i.snaplen, i.buffer_mib, i.promiscuous, i.bpf.as_deref()),
        (65535, 32, true, None)
    );
    assert_eq!(config.zones[0].criticality, Criticality::Medium);
    assert_eq!(config.limits.max_flows, 1024);
    assert_eq!(config.limits.max_assets, 16_384);
}

#[test]
fn queries_answer_from_the_example() {
    let config = load(&example_path(), &[]).unwrap();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let control = config.zone_of(ip("10.10.1.20")).unwrap();
    assert_eq!(control.name, "control");
    assert_eq!(control.purdue_level, PurdueLevel::CONTROL);
    assert_eq!(config.zone_of(ip("fd00:10:1::5")).unwrap().name, "control");
    assert_eq!(
        config
            .zone_of(ip("172.20.0.9"))
            .unwrap()
            .purdue_level
            .name(),
        "3.5"
    );
    assert!(config.zone_of(ip("8.8.8.8")).is_none());

    let plc = config.known_asset(ip("10.10.1.20"), None).unwrap();
    assert_eq!(
        (plc.name.as_str(), plc.role),
        ("PLC-1", Some(AssetRole::Plc))
    );
    let gw = config
        .known_asset(ip("10.99.0.1"), Some([0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56]))
        .unwrap();
    assert_eq!(gw.address.to_string(), "00:1b:1b:12:34:56");
    assert!(config.known_asset(ip("10.99.0.1"), None).is_none());

    assert!(config.is_silenced("opcua.channel_without_security", ip("10.10.2.3")));
    assert!(!config.is_silenced("opcua.channel_without_security", ip("10.10.2.30")));
    assert!(config.is_silenced("s7.program_download", ip("10.10.3.15")));
    assert!(!config.is_silenced("s7.program_download", ip("10.10.3.16")));

    let zone = |name: &str| config.zones.iter().find(|z| z.name == name);
    assert!(config.allows(zone("scada"), zone("control"), "modbus", Access::Write));
    assert!(!config.allows(zone("scada"), zone("control"), "modbus", Access::Program));
    assert!(!config.allows(zone("scada"), zone("control"), "dnp3", Access::Read));
    assert!(config.allows(zone("operations"), zone("control"), "dnp3", Access::Control));
    assert!(!config.allows(zone("enterprise"), zone("control"), "modbus", Access::Read));
    assert!(!config.allows(None, zone("control"), "modbus", Access::Read));
}

#[test]
fn any_matches_hosts_in_no_zone() {
    let config = ok(&format!(
        "{ZONE_A}[[policy]]\nfrom = \"any\"\nto = \"a\"\nprotocol = \"any\"\naccess = [\"read\"]\n"
    ));
    assert!(config.allows(None, config.zones.first(), "opcua", Access::Read));
    assert!(!config.allows(None, config.zones.first(), "opcua", Access::Write));
    assert!(!config.allows(None, None, "opcua", Access::Read));
}

#[test]
fn for_analyze_covers_the_private_ranges() {
    let config = Config::for_analyze();
    assert_eq!(
        (config.sensor.id.as_str(), config.sensor.site.as_str()),
        ("analyze", "offline")
    );
    assert!(config.path.is_none() && !config.has_policy());
    assert!(config.allows(None, None, "modbus", Access::Program));
    for ip in ["10.1.2.3", "172.31.0.1", "192.168.1.1", "fd12::1"] {
        let zone = config.zone_of(ip.parse().unwrap()).unwrap();
        assert_eq!(zone.name, "plant");
        assert_eq!(zone.purdue_level.name(), "2");
        assert_eq!(zone.criticality, Criticality::Medium);
    }
    assert!(config.zone_of("8.8.8.8".parse().unwrap()).is_none());
}

#[test]
fn most_specific_network_wins() {
    // Zones cannot overlap, so this builds one by hand.
    let mut config = Config::for_analyze();
    let mut inner = config.zones[0].clone();
    inner.name = "inner".into();
    inner.cidrs = vec!["10.1.0.0/16".parse().unwrap()];
    config.zones.push(inner);
    assert_eq!(
        config.zone_of("10.1.2.3".parse().unwrap()).unwrap().name,
        "inner"
    );
    assert_eq!(
        config.zone_of("10.2.2.3".parse().unwrap()).unwrap().name,
        "plant"
    );
}

#[test]
fn names_and_ordering() {
    assert!(Criticality::Low < Criticality::Critical);
    assert_eq!("high".parse::<Criticality>(), Ok(Criticality::High));
    assert!(
        PurdueLevel::OPERATIONS < PurdueLevel::DMZ && PurdueLevel::DMZ < PurdueLevel::ENTERPRISE
    );
    assert_eq!(PurdueLevel::from_number(3.5), Some(PurdueLevel::DMZ));
    assert_eq!(PurdueLevel::from_number(2.5), None);
    assert_eq!(PurdueLevel::DMZ.tenths(), 35);
    assert_eq!("program".parse::<Access>(), Ok(Access::Program));
    assert_eq!(Access::Control.name(), "control");
    assert!("delete".parse::<Access>().is_err());
    assert_eq!(
        "AA:bb:cc:00:11:22".parse::<AssetAddress>(),
        Ok(AssetAddress::Mac([0xaa, 0xbb, 0xcc, 0x00, 0x11, 0x22]))
    );
}

// ---- one test per kind of problem -----------------------------------------

#[test]
fn unreadable_file_is_one_problem_at_line_0() {
    let path = Path::new("/nonexistent/faro.toml");
    let err = load(path, &[]).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    let p = &err.problems[0];
    assert_eq!(
        (p.file.as_path(), p.line, p.column, p.field.as_str()),
        (path, 0, 0, "file")
    );
    assert!(
        p.message
            .starts_with("cannot read the configuration file: "),
        "{}",
        p.message
    );
}

#[test]
fn toml_syntax_error() {
    assert_eq!(
        one("[[zones]]\nname = \"a\ncidrs = []\n"),
        "/etc/faro/faro.toml:5:10: syntax: invalid TOML: invalid basic string, expected `\"`"
    );
}

#[test]
fn unknown_field() {
    assert_eq!(
        one("[[interfaces]]\nname = \"eth1\"\nsnap_len = 1500\n"),
        "/etc/faro/faro.toml:6:1: interfaces[0].snap_len: unknown field `snap_len`, expected one of `name`, `bpf`, `snaplen`, `buffer_mib`, `promiscuous`"
    );
}

#[test]
fn unknown_section() {
    assert_eq!(
        one("[zone]\nname = \"a\"\n"),
        "/etc/faro/faro.toml:4:2: zone: unknown section `zone`, expected one of `sensor`, `interfaces`, `zones`, `assets`, `policy`, `silence`, `findings`, `uplink`, `limits`"
    );
}

#[test]
fn unknown_field_in_limits() {
    assert_eq!(
        one("[limits]\nmax_flow = 10\n"),
        "/etc/faro/faro.toml:5:1: limits.max_flow: unknown field `max_flow`, expected one of `max_flows`, `flow_idle_timeout_secs`, `reassembly_window_bytes`, `reassembly_max_segments`, `reassembly_budget_bytes`, `message_budget_bytes`, `max_pending_transactions`, `max_assets`, `max_edges`, `max_service_edges`, `max_ranges_per_table`"
    );
}

#[test]
fn missing_required_field_points_at_the_table() {
    assert_eq!(
        one("\n[[zones]]\nname = \"a\"\npurdue_level = 1\n"),
        "/etc/faro/faro.toml:5:1: zones[0].cidrs: missing required field `cidrs` in this [[zones]] table"
    );
}

#[test]
fn missing_sensor_section() {
    let err = parse("[findings]\n", Path::new(FILE), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/etc/faro/faro.toml:1:1: sensor: missing required section [sensor] (with `id` and `site`)"
    );
}

#[test]
fn wrong_type() {
    assert_eq!(
        one("[[zones]]\nname = \"a\"\ncidrs = \"10.0.0.0/8\"\npurdue_level = 1\n"),
        "/etc/faro/faro.toml:6:9: zones[0].cidrs: invalid type: string \"10.0.0.0/8\", expected a sequence"
    );
    assert_eq!(
        one("[limits]\nmax_flows = -1\n"),
        "/etc/faro/faro.toml:5:13: limits.max_flows: invalid value: integer `-1`, expected a non-negative integer"
    );
    let err = parse(&format!("zones = 3\n{SENSOR}"), Path::new(FILE), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/etc/faro/faro.toml:1:9: zones: must be an array of tables, written [[zones]]"
    );
}

#[test]
fn bad_sensor_id_and_site() {
    let err = parse(
        "[sensor]\nid = \"edge 01\"\nsite = \"\"\n",
        Path::new(FILE),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "/etc/faro/faro.toml:2:6: sensor.id: `edge 01` is not allowed: use 1 to 64 characters among letters, digits, `.`, `_` and `-`\n\
         /etc/faro/faro.toml:3:8: sensor.site: `` is not allowed: use 1 to 64 characters among letters, digits, `.`, `_` and `-`"
    );
}

#[test]
fn cidr_that_does_not_parse() {
    assert_eq!(
        one(
            "[[zones]]\nname = \"a\"\ncidrs = [\"10.1.0.0/16\", \"10.2.0.0/33\"]\npurdue_level = 1\n"
        ),
        "/etc/faro/faro.toml:6:25: zones[0].cidrs[1]: `10.2.0.0/33` is not a CIDR network (e.g. 10.10.1.0/24 or fd00:10::/64)"
    );
    assert_eq!(
        one("[[zones]]\nname = \"a\"\ncidrs = [\"10.1.2.3\"]\npurdue_level = 1\n"),
        "/etc/faro/faro.toml:6:10: zones[0].cidrs[0]: `10.1.2.3` is an address, not a network: write 10.1.2.3/32 for one host"
    );
    assert_eq!(
        one("[[zones]]\nname = \"a\"\ncidrs = [\"10.1.2.3/24\"]\npurdue_level = 1\n"),
        "/etc/faro/faro.toml:6:10: zones[0].cidrs[0]: `10.1.2.3/24` has host bits set: the network is 10.1.2.0/24"
    );
}

#[test]
fn overlapping_zones_are_reported_on_the_later_one() {
    assert_eq!(
        one(&format!(
            "{ZONE_A}[[zones]]\nname = \"b\"\ncidrs = [\"fd00::/64\", \"10.1.2.0/24\"]\npurdue_level = 2\n"
        )),
        "/etc/faro/faro.toml:10:23: zones[1].cidrs[1]: 10.1.2.0/24 overlaps 10.1.0.0/16 of zone `a` (zones[0]): zones must not overlap"
    );
}

#[test]
fn duplicate_zone_name() {
    assert_eq!(
        one(&format!(
            "{ZONE_A}[[zones]]\nname = \"a\"\ncidrs = [\"10.2.0.0/16\"]\npurdue_level = 2\n"
        )),
        "/etc/faro/faro.toml:9:8: zones[1].name: duplicate zone name `a`: already used by zones[0]"
    );
}

#[test]
fn purdue_level_not_allowed() {
    assert_eq!(
        one("[[zones]]\nname = \"a\"\ncidrs = [\"10.1.0.0/16\"]\npurdue_level = 2.5\n"),
        "/etc/faro/faro.toml:7:16: zones[0].purdue_level: 2.5 is not a Purdue level: allowed 0, 1, 2, 3, 3.5 (DMZ), 4 or 5"
    );
}

#[test]
fn unknown_criticality() {
    assert_eq!(
        one(
            "[[zones]]\nname = \"a\"\ncidrs = [\"10.1.0.0/16\"]\npurdue_level = 1\ncriticality = \"severe\"\n"
        ),
        "/etc/faro/faro.toml:8:15: zones[0].criticality: unknown criticality `severe`, expected one of `low`, `medium`, `high`, `critical`"
    );
}

#[test]
fn unknown_role() {
    assert_eq!(
        one("[[assets]]\naddress = \"10.1.0.5\"\nname = \"X\"\nrole = \"dcs\"\n"),
        "/etc/faro/faro.toml:7:8: assets[0].role: unknown role `dcs`, expected one of `plc`, `rtu`, `hmi`, `engineering_station`, `historian`, `scada_server`, `opcua_server`, `gateway`, `safety_controller`, `other`"
    );
}

#[test]
fn unknown_access() {
    assert_eq!(
        one(&format!(
            "{ZONE_A}[[policy]]\nfrom = \"any\"\nto = \"a\"\nprotocol = \"modbus\"\naccess = [\"read\", \"delete\"]\n"
        )),
        "/etc/faro/faro.toml:12:19: policy[0].access[1]: unknown access `delete`, expected one of `read`, `write`, `program`, `control`"
    );
    assert_eq!(
        one(&format!(
            "{ZONE_A}[[policy]]\nfrom = \"any\"\nto = \"a\"\nprotocol = \"modbus\"\naccess = []\n"
        )),
        "/etc/faro/faro.toml:12:10: policy[0].access: must list at least one of `read`, `write`, `program`, `control`"
    );
}

#[test]
fn unknown_protocol() {
    assert_eq!(
        one(&format!(
            "{ZONE_A}[[policy]]\nfrom = \"any\"\nto = \"a\"\nprotocol = \"profinet\"\naccess = [\"read\"]\n"
        )),
        "/etc/faro/faro.toml:11:12: policy[0].protocol: unknown protocol `profinet`, expected one of `any`, `modbus`, `s7comm`, `s7comm_plus`, `dnp3`, `opcua`"
    );
}

#[test]
fn policy_naming_an_unknown_zone() {
    assert_eq!(
        one(&format!(
            "{ZONE_A}[[policy]]\nfrom = \"scada\"\nto = \"a\"\nprotocol = \"any\"\naccess = [\"read\"]\n"
        )),
        "/etc/faro/faro.toml:9:8: policy[0].from: unknown zone `scada`, expected `any` or a zone: `any`, `a`"
    );
}

#[test]
fn asset_address_neither_ip_nor_mac() {
    assert_eq!(
        one("[[assets]]\naddress = \"plc-1.local\"\nname = \"PLC-1\"\n"),
        "/etc/faro/faro.toml:5:11: assets[0].address: `plc-1.local` is neither an IP address nor a MAC address (aa:bb:cc:dd:ee:ff)"
    );
}

#[test]
fn duplicate_asset_address() {
    assert_eq!(
        one(
            "[[assets]]\naddress = \"00:1B:1B:12:34:56\"\nname = \"A\"\n[[assets]]\naddress = \"00:1b:1b:12:34:56\"\nname = \"B\"\n"
        ),
        "/etc/faro/faro.toml:8:11: assets[1].address: duplicate asset address 00:1b:1b:12:34:56: already assets[0] (`A`)"
    );
}

#[test]
fn silenced_rule_unknown() {
    let found = problems_with(
        "[[assets]]\naddress = \"10.1.0.5\"\nname = \"X\"\nsilence = [\"modbus.write\", \"modbus.wirte\"]\n\
         [[silence]]\nrule = \"s7.stop\"\naddress = \"10.1.0.0/16\"\nreason = \"r\"\n",
        &["modbus.write", "s7comm.stop"],
    );
    assert_eq!(
        found,
        [
            "/etc/faro/faro.toml:7:28: assets[0].silence[1]: unknown rule id `modbus.wirte`, expected one of `modbus.write`, `s7comm.stop`",
            "/etc/faro/faro.toml:9:8: silence[0].rule: unknown rule id `s7.stop`, expected one of `modbus.write`, `s7comm.stop`",
        ]
    );
}

#[test]
fn silence_address_not_an_ip_or_cidr() {
    assert_eq!(
        one("[[silence]]\nrule = \"modbus.write\"\naddress = \"10.1.0.0/40\"\nreason = \"r\"\n"),
        "/etc/faro/faro.toml:6:11: silence[0].address: `10.1.0.0/40` is not an IP address or a CIDR network (e.g. 10.10.1.0/24 or fd00:10::/64)"
    );
    let config =
        ok("[[silence]]\nrule = \"modbus.write\"\naddress = \"10.1.0.5\"\nreason = \"r\"\n");
    assert_eq!(config.silence[0].address.to_string(), "10.1.0.5/32");
}

#[test]
fn silence_without_reason() {
    assert_eq!(
        one("[[silence]]\nrule = \"modbus.write\"\naddress = \"10.1.0.5\"\n"),
        "/etc/faro/faro.toml:4:1: silence[0].reason: missing required field `reason`: say who accepted the risk and why"
    );
    assert_eq!(
        one("[[silence]]\nrule = \"modbus.write\"\naddress = \"10.1.0.5\"\nreason = \" \"\n"),
        "/etc/faro/faro.toml:7:10: silence[0].reason: must not be empty: say who accepted the risk and why"
    );
}

/// An [uplink] section in a fresh directory holding its four files, the keys
/// with `key_mode`; `url` as given.
fn uplink(url: &str, key_mode: u32, missing: &str) -> (PathBuf, String) {
    let dir = temp_dir();
    for name in ["ca.pem", "sensor.pem", "sensor.key", "signing.key"] {
        if name != missing {
            std::fs::write(dir.join(name), "x").unwrap();
        }
    }
    #[cfg(unix)]
    for name in ["sensor.key", "signing.key"] {
        use std::os::unix::fs::PermissionsExt;
        if name != missing {
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(key_mode))
                .unwrap();
        }
    }
    let _ = key_mode;
    let text = format!(
        "{SENSOR}[uplink]\ncollector_url = \"{url}\"\nca = \"ca.pem\"\nclient_certificate = \"sensor.pem\"\nclient_key = \"sensor.key\"\nsigning_key = \"{}/signing.key\"\n",
        dir.display()
    );
    (dir, text)
}

fn uplink_problems(url: &str, key_mode: u32, missing: &str) -> (PathBuf, Vec<String>) {
    let (dir, text) = uplink(url, key_mode, missing);
    let origin = dir.join("faro.toml");
    let found = match parse(&text, &origin, &[]) {
        Ok(config) => {
            assert_eq!(config.uplink.unwrap().ca, dir.join("ca.pem"));
            Vec::new()
        }
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    };
    (dir, found)
}

#[test]
fn uplink_with_its_files_is_valid() {
    let (dir, found) = uplink_problems("https://collector.example:8443", 0o600, "");
    assert!(found.is_empty(), "{found:#?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn uplink_url_not_https() {
    let (dir, found) = uplink_problems("http://collector.example:8080", 0o600, "");
    let f = dir.join("faro.toml");
    assert_eq!(
        found,
        [format!(
            "{}:5:17: uplink.collector_url: `http://collector.example:8080` is not an https:// URL: the uplink only speaks HTTPS with mutual TLS (e.g. https://collector.example:8443)",
            f.display()
        )]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn uplink_file_missing() {
    let (dir, found) = uplink_problems("https://c.example", 0o600, "sensor.pem");
    assert_eq!(
        found,
        [format!(
            "{}:7:22: uplink.client_certificate: cannot read {}: No such file or directory (os error 2)",
            dir.join("faro.toml").display(),
            dir.join("sensor.pem").display()
        )]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn private_key_readable_by_others() {
    let (dir, found) = uplink_problems("https://c.example", 0o640, "");
    let f = dir.join("faro.toml");
    assert_eq!(
        found,
        [
            format!(
                "{}:8:14: uplink.client_key: {} has mode 640: a private key must not be readable by group or others (chmod 600)",
                f.display(),
                dir.join("sensor.key").display()
            ),
            format!(
                "{}:9:15: uplink.signing_key: {} has mode 640: a private key must not be readable by group or others (chmod 600)",
                f.display(),
                dir.join("signing.key").display()
            ),
        ]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn numbers_out_of_range() {
    let found = problems(
        "[[interfaces]]\nname = \"eth1\"\nsnaplen = 63\nbuffer_mib = 2048\n\
         [findings]\nmax_findings = 15\nlearning_period_secs = -1\n\
         [uplink]\ncollector_url = \"https://c.example\"\nca = \"/\"\nclient_certificate = \"/\"\nclient_key = \"/\"\nsigning_key = \"/\"\ninterval_secs = 0\nspool_max_mib = 65537\n",
    );
    let numbers: Vec<&String> = found
        .iter()
        .filter(|p| p.contains("out of range"))
        .collect();
    assert_eq!(
        numbers,
        [
            "/etc/faro/faro.toml:6:11: interfaces[0].snaplen: 63 is out of range: allowed 64 to 262144 (default 65535)",
            "/etc/faro/faro.toml:7:14: interfaces[0].buffer_mib: 2048 is out of range: allowed 1 to 1024 (default 32)",
            "/etc/faro/faro.toml:9:16: findings.max_findings: 15 is out of range: allowed 16 to 1000000 (default 4096)",
            "/etc/faro/faro.toml:10:24: findings.learning_period_secs: -1 is out of range: allowed 0 to 9223372036854775807 (default 900)",
            "/etc/faro/faro.toml:17:17: uplink.interval_secs: 0 is out of range: allowed 1 to 86400 (default 60)",
            "/etc/faro/faro.toml:18:17: uplink.spool_max_mib: 65537 is out of range: allowed 1 to 65536 (default 256)",
        ]
    );
    // "/" is a directory, not a key file: one problem for each of the four.
    assert_eq!(
        found
            .iter()
            .filter(|p| p.contains("/ is not a file"))
            .count(),
        4,
        "{found:#?}"
    );
}

// ---- everything at once ---------------------------------------------------

#[test]
fn every_problem_is_reported_at_once() {
    let text = "\
[sensor]
id = \"edge/01\"
site = \"plant-north\"

[[zones]]
name = \"control\"
cidrs = [\"10.10.1.0/24\"]
purdue_level = 1

[[zones]]
name = \"control\"
cidrs = [\"10.10.1.128/25\", \"10.10.300.0/24\"]
purdue_level = 7

[[zones]]
name = \"scada\"
cidr = [\"10.10.2.0/24\"]
purdue_level = 2

[[assets]]
address = \"10.10.1.20\"
name = \"PLC-1\"
criticality = \"extreme\"

[[assets]]
address = \"10.10.1.20\"
name = \"PLC-1 again\"

[[policy]]
from = \"scada\"
to = \"field\"
protocol = \"modbus\"
access = [\"read\", \"erase\"]

[[silence]]
rule = \"modbus.write\"
address = \"10.10.1.20\"

[findings]
max_findings = 2

[limits]
max_flows = \"many\"
";
    let err = parse(text, Path::new("plant.toml"), &[]).unwrap_err();
    let lines: Vec<String> = err.to_string().lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "plant.toml:2:6: sensor.id: `edge/01` is not allowed: use 1 to 64 characters among letters, digits, `.`, `_` and `-`",
            "plant.toml:11:8: zones[1].name: duplicate zone name `control`: already used by zones[0]",
            "plant.toml:12:10: zones[1].cidrs[0]: 10.10.1.128/25 overlaps 10.10.1.0/24 of zone `control` (zones[0]): zones must not overlap",
            "plant.toml:12:28: zones[1].cidrs[1]: `10.10.300.0/24` is not a CIDR network (e.g. 10.10.1.0/24 or fd00:10::/64)",
            "plant.toml:13:16: zones[1].purdue_level: 7 is not a Purdue level: allowed 0, 1, 2, 3, 3.5 (DMZ), 4 or 5",
            "plant.toml:15:1: zones[2].cidrs: missing required field `cidrs` in this [[zones]] table",
            "plant.toml:17:1: zones[2].cidr: unknown field `cidr`, expected one of `name`, `cidrs`, `purdue_level`, `criticality`",
            "plant.toml:23:15: assets[0].criticality: unknown criticality `extreme`, expected one of `low`, `medium`, `high`, `critical`",
            "plant.toml:26:11: assets[1].address: duplicate asset address 10.10.1.20: already assets[0] (`PLC-1`)",
            "plant.toml:31:6: policy[0].to: unknown zone `field`, expected `any` or a zone: `any`, `control`, `scada`",
            "plant.toml:33:19: policy[0].access[1]: unknown access `erase`, expected one of `read`, `write`, `program`, `control`",
            "plant.toml:35:1: silence[0].reason: missing required field `reason`: say who accepted the risk and why",
            "plant.toml:40:16: findings.max_findings: 2 is out of range: allowed 16 to 1000000 (default 4096)",
            "plant.toml:43:13: limits.max_flows: invalid type: string \"many\", expected a non-negative integer",
        ]
    );
    for p in &err.problems {
        assert_eq!(p.file, Path::new("plant.toml"));
        assert!(p.line > 0 && p.column > 0);
    }
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(
        one("[[assets]]\naddress = \"10.1.0.5\"\nname = \"Pümpe\"\nrole = \"pump\"\n"),
        "/etc/faro/faro.toml:7:8: assets[0].role: unknown role `pump`, expected one of `plc`, `rtu`, `hmi`, `engineering_station`, `historian`, `scada_server`, `opcua_server`, `gateway`, `safety_controller`, `other`"
    );
    assert_eq!(
        one("[[assets]] # Pümpe\naddress = \"10.1.0.5\"\nname = \"Pümpe\" ; role = 1\n"),
        "/etc/faro/faro.toml:6:16: syntax: invalid TOML: unexpected key or value, expected newline, `#`"
    );
}

// ---- never a panic ----------------------------------------------------------

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn on_arbitrary_text(text in "\\PC*") {
            let _ = parse(&text, Path::new(FILE), &["modbus.write"]);
        }

        #[test]
        fn on_toml_like_text(text in "(\\[{1,2}[a-z]{1,8}\\]{1,2}\n|[a-z_]{1,12} = (\"[ -~]{0,20}\"|-?[0-9]{1,6}(\\.[0-9])?|true|\\[\"[0-9a-f.:/]{0,20}\"\\])\n){0,20}") {
            let _ = parse(&text, Path::new(FILE), &["modbus.write"]);
        }

        #[test]
        fn on_the_example_damaged(at in 0usize..12_000, len in 0usize..40, insert in "\\PC{0,20}") {
            let example = std::fs::read_to_string(example_path()).unwrap();
            let mut text = example.clone();
            let start = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let end = (start..=(start + len).min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(start);
            text.replace_range(start..end, &insert);
            if let Err(e) = parse(&text, Path::new(FILE), &[]) {
                for p in e.problems {
                    prop_assert!(p.line >= 1 && p.column >= 1);
                    prop_assert!(!p.field.is_empty());
                }
            }
        }
    }
}

#[test]
fn every_bad_key_of_one_table_is_reported() {
    // Two unknown keys and a mistyped one in the same table: all three, in order.
    let found = problems(
        "[[zones]]\nname = \"control\"\ncidr = [\"10.0.0.0/8\"]\ncidrs = [\"10.0.0.0/8\"]\npurdue_level = \"one\"\ncolour = \"red\"\n",
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with(&format!("{FILE}:6:1: zones[0].cidr: unknown field `cidr`")),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with(&format!("{FILE}:8:16: zones[0].purdue_level: ")),
        "{found:#?}"
    );
    assert!(
        found[2].starts_with(&format!(
            "{FILE}:9:1: zones[0].colour: unknown field `colour`"
        )),
        "{found:#?}"
    );
}
