//! `faro-sensor check-config`: the shipped example passes; a broken file
//! fails with status 2 and every problem as FILE:LINE:COLUMN: FIELD: MESSAGE.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use faro_e2e::{sensor, workspace_root};

#[test]
fn example_config_passes() {
    let path = workspace_root().join("firmware-config/faro.example.toml");
    let path = path.to_str().unwrap();
    let out = sensor(&["check-config", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{path}: ok (5 zones, 5 known assets, 4 policy rules)\n")
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn broken_config_fails_naming_every_problem() {
    let dir = std::env::temp_dir().join(format!("faro-e2e-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        "[sensor]\nid = \"edge-01\"\nsite = \"plant north\"\n\n\
         [[zones]]\nname = \"control\"\ncidrs = [\"10.10.1.0/24\", \"10.10.1.0/33\"]\npurdue_level = 1\n\n\
         [uplink]\ncollector_url = \"http://collector.example\"\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let out = sensor(&["check-config", file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{file}:3:8: sensor.site: `plant north` is not allowed: use 1 to 64 characters among letters, digits, `.`, `_` and `-`"
            ),
            format!(
                "{file}:7:26: zones[0].cidrs[1]: `10.10.1.0/33` is not a CIDR network (e.g. 10.10.1.0/24 or fd00:10::/64)"
            ),
            format!("{file}:10:1: uplink.ca: missing required field `ca` in this [uplink] table"),
        ]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_config_fails_at_line_0() {
    let out = sensor(&["check-config", "/nonexistent/faro.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .starts_with("/nonexistent/faro.toml:0:0: file: cannot read the configuration file: "),
        "{stderr}"
    );
}
