//! `faro-sensor keygen`: the key files, their modes, the fingerprint printed
//! for enrollment, and no silent replacement of an enrolled key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use faro_e2e::sensor;
use faro_protocols::uplink;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faro-keygen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_prints_the_fingerprint() {
    let dir = temp_dir("new");
    let out = sensor(&["keygen", "--out", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();

    let key_path = dir.join("sensor.key");
    let pub_path = dir.join("sensor.pub");
    assert_eq!(mode(&key_path), 0o600);
    assert_eq!(mode(&pub_path), 0o644);

    let private = std::fs::read_to_string(&key_path).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    let key = uplink::signing_key_from_pem(&private).unwrap();
    let public_pem = std::fs::read_to_string(&pub_path).unwrap();
    let public = uplink::verifying_key_from_pem(&public_pem).unwrap();
    assert_eq!(key.verifying_key(), public);

    assert!(stdout.starts_with(&public_pem), "{stdout}");
    let printed = stdout
        .lines()
        .find_map(|line| line.strip_prefix("fingerprint: "))
        .unwrap();
    assert_eq!(printed, uplink::fingerprint(&public));
    assert!(printed.starts_with("SHA256:"));
    // No temporary file left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keygen_refuses_to_overwrite_a_key_unless_forced() {
    let dir = temp_dir("again");
    let first = sensor(&["keygen", "--out", dir.to_str().unwrap()]);
    assert!(first.status.success());
    let key_path = dir.join("sensor.key");
    let original = std::fs::read(&key_path).unwrap();

    let again = sensor(&["keygen", "--out", dir.to_str().unwrap()]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(&key_path).unwrap(), original);

    let forced = sensor(&["keygen", "--out", dir.to_str().unwrap(), "--force"]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read(&key_path).unwrap(), original);
    assert_eq!(mode(&key_path), 0o600);
    let key = uplink::signing_key_from_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let public =
        uplink::verifying_key_from_pem(&std::fs::read_to_string(dir.join("sensor.pub")).unwrap())
            .unwrap();
    assert_eq!(key.verifying_key(), public);
    std::fs::remove_dir_all(&dir).unwrap();
}
