//! What firmware-config/ ships for a box: the default configuration passes
//! `check-config`, `install.sh --root` lays out the files with their modes and
//! keeps the configuration and key on a second run, the documented uplink
//! steps give a valid configuration, and the systemd unit passes
//! `systemd-analyze verify` with an exposure of at most 2.0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faro_e2e::{binary, scratch_dir, sensor, workspace_root};

fn firmware_config() -> PathBuf {
    workspace_root().join("firmware-config")
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `install.sh --root ROOT --binary faro-sensor --keygen` with `extra`.
fn install(root: &Path, extra: &[&str]) -> Output {
    let out = Command::new(firmware_config().join("install.sh"))
        .arg("--root")
        .arg(root)
        .arg("--binary")
        .arg(binary("faro-sensor"))
        .arg("--keygen")
        .args(extra)
        .output()
        .unwrap();
    assert_success("install.sh", &out);
    out
}

fn check_config(path: &Path) {
    let out = sensor(&["check-config", path.to_str().unwrap()]);
    assert_success(
        &format!("faro-sensor check-config {}", path.display()),
        &out,
    );
}

#[test]
fn default_configuration_passes_check_config() {
    check_config(&firmware_config().join("faro.default.toml"));
}

#[test]
fn install_lays_out_the_box_and_keeps_configuration_and_key() {
    let root = scratch_dir("install");
    let out = install(
        &root,
        &["--sensor-id", "box 7.plant", "--site", "plant-north"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("fingerprint: SHA256:"),
        "keygen's fingerprint not shown for enrollment:\n{stdout}"
    );

    let etc = root.join("etc/faro");
    let expected_modes = [
        ("etc/faro", 0o750),
        ("etc/faro/faro.toml", 0o640),
        ("etc/faro/keys", 0o700),
        ("etc/faro/keys/sensor.key", 0o600),
        ("etc/faro/keys/sensor.pub", 0o644),
        ("var/lib/faro", 0o750),
        ("usr/local/bin/faro-sensor", 0o755),
        ("etc/systemd/system/faro-sensor.service", 0o644),
    ];
    for (path, expected) in expected_modes {
        assert_eq!(mode(&root.join(path)), expected, "mode of {path}");
    }
    assert_eq!(
        fs::read(root.join("etc/systemd/system/faro-sensor.service")).unwrap(),
        fs::read(firmware_config().join("systemd/faro-sensor.service")).unwrap(),
        "the installed unit is the shipped one"
    );
    assert_eq!(
        fs::read(root.join("usr/local/bin/faro-sensor")).unwrap(),
        fs::read(binary("faro-sensor")).unwrap()
    );

    // The new configuration carries the id (a host name made valid) and site.
    let config = etc.join("faro.toml");
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.contains("\nid = \"box-7.plant\"\n"), "{text}");
    assert!(text.contains("\nsite = \"plant-north\"\n"), "{text}");
    check_config(&config);

    // A second run (an upgrade) keeps the operator's configuration and the key.
    let edited = format!("{text}\n# edited on the box\n");
    fs::write(&config, &edited).unwrap();
    let key = fs::read(etc.join("keys/sensor.key")).unwrap();
    let out = install(&root, &["--sensor-id", "other"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("keeping the existing"));
    assert_eq!(fs::read_to_string(&config).unwrap(), edited);
    assert_eq!(fs::read(etc.join("keys/sensor.key")).unwrap(), key);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("fingerprint"));

    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn install_without_keygen_into_a_root_makes_no_key() {
    // An image built with --root must not carry a key every box would share.
    let root = scratch_dir("install-image");
    let out = Command::new(firmware_config().join("install.sh"))
        .arg("--root")
        .arg(&root)
        .arg("--binary")
        .arg(binary("faro-sensor"))
        .output()
        .unwrap();
    assert_success("install.sh", &out);
    assert!(root.join("etc/faro/faro.toml").exists());
    assert!(!root.join("etc/faro/keys/sensor.key").exists());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn install_refuses_bad_arguments() {
    let root = scratch_dir("install-refused");
    for args in [
        vec!["--binary", "/nonexistent/faro-sensor"],
        vec!["--site", "a site/with slash"],
        vec!["--bogus"],
    ] {
        let out = Command::new(firmware_config().join("install.sh"))
            .arg("--root")
            .arg(&root)
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "install.sh {args:?} succeeded");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("install.sh: "),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    fs::remove_dir_all(&root).unwrap();
}

/// Following the default configuration's uplink steps (the key install.sh
/// made, TLS files in /etc/faro/tls, the section uncommented) gives a
/// configuration check-config accepts.
#[test]
fn documented_uplink_steps_give_a_valid_configuration() {
    let root = scratch_dir("install-uplink");
    install(&root, &[]);
    let etc = root.join("etc/faro");
    let tls = etc.join("tls");
    fs::create_dir_all(&tls).unwrap();
    for (file, mode) in [
        ("ca.pem", 0o644),
        ("sensor.pem", 0o644),
        ("sensor.key", 0o600),
    ] {
        fs::write(tls.join(file), "placeholder\n").unwrap();
        fs::set_permissions(tls.join(file), fs::Permissions::from_mode(mode)).unwrap();
    }
    let config = etc.join("faro.toml");
    let text = fs::read_to_string(&config).unwrap();
    let start = text
        .find("\n# [uplink]\n")
        .expect("a commented [uplink] section");
    let (head, tail) = text.split_at(start + 1);
    let uncommented: String = tail
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .map(|l| {
            format!(
                "{}\n",
                l.replace("\"/etc/faro/", &format!("\"{}/", etc.display()))
            )
        })
        .collect();
    assert!(uncommented.contains("\nsigning_key = "), "{uncommented}");
    fs::write(&config, format!("{head}{uncommented}")).unwrap();
    check_config(&config);
    fs::remove_dir_all(&root).unwrap();
}

fn systemd_analyze(args: &[&str]) -> Output {
    Command::new("systemd-analyze")
        .args(args)
        .output()
        .expect("systemd-analyze (Debian package systemd; scripts/setup installs it)")
}

#[test]
fn unit_passes_systemd_analyze_verify_and_security() {
    let unit = firmware_config().join("systemd/faro-sensor.service");
    // verify checks that ExecStart's binary exists: point it at one that does.
    let dir = scratch_dir("unit");
    let text = fs::read_to_string(&unit).unwrap();
    assert!(text.contains(
        "\nExecStart=/usr/local/bin/faro-sensor run --config /etc/faro/faro.toml --state /var/lib/faro\n"
    ));
    let copy = dir.join("faro-sensor.service");
    let sensor_bin = binary("faro-sensor");
    fs::write(
        &copy,
        text.replace("/usr/local/bin/faro-sensor", sensor_bin.to_str().unwrap()),
    )
    .unwrap();
    let out = systemd_analyze(&["verify", "--man=no", copy.to_str().unwrap()]);
    assert_success("systemd-analyze verify", &out);
    assert!(
        out.stderr.is_empty(),
        "systemd-analyze verify warned:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Exposure at most 2.0 (the threshold is in tenths).
    let out = systemd_analyze(&[
        "security",
        "--offline=yes",
        "--threshold=20",
        "--no-pager",
        unit.to_str().unwrap(),
    ]);
    assert_success("systemd-analyze security --threshold=20", &out);
    fs::remove_dir_all(&dir).unwrap();
}
