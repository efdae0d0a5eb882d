//! A throwaway certificate authority for tests and trying the collector out:
//! the collector's server certificate and one client certificate per sensor.
//! Production enrollment uses the site's own PKI (see the README).

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Writes `ca.pem`, `collector.pem` + `collector.key` and `<id>.pem` + `<id>.key`
/// for every sensor id into `out` (created if missing). Keys are written mode 0600.
pub fn generate(out: &Path, sensors: &[String]) -> Result<()> {
    for id in sensors {
        check_sensor_id(id)?;
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Faro throwaway test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    write_public(&out.join("ca.pem"), &ca.pem())?;

    let mut server = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "faro-collector");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate()?;
    let cert = server.signed_by(&key, &ca)?;
    write_public(&out.join("collector.pem"), &cert.pem())?;
    write_private(&out.join("collector.key"), &key.serialize_pem())?;

    for id in sensors {
        let mut client = CertificateParams::new(Vec::<String>::new())?;
        client
            .distinguished_name
            .push(DnType::CommonName, id.as_str());
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate()?;
        let cert = client.signed_by(&key, &ca)?;
        write_public(&out.join(format!("{id}.pem")), &cert.pem())?;
        write_private(&out.join(format!("{id}.key")), &key.serialize_pem())?;
    }
    Ok(())
}

/// Sensor ids become file names: keep them to a safe alphabet.
pub fn check_sensor_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !ok {
        bail!("sensor id {id:?}: use 1 to 128 of A-Z a-z 0-9 - _ . (not starting with .)");
    }
    if id == "ca" || id == "collector" {
        bail!("sensor id {id:?} would overwrite the CA or collector files");
    }
    Ok(())
}

fn write_public(path: &Path, pem: &str) -> Result<()> {
    fs::write(path, pem).with_context(|| format!("writing {}", path.display()))
}

/// Private keys are created 0600 from the start, never widened then narrowed.
pub fn write_private(path: &Path, pem: &str) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        // An existing file keeps its old mode through open(): narrow it too.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(pem.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writes_loadable_certificates_with_private_keys_0600() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), &["plc-line-1".to_owned()]).unwrap();
        for name in [
            "ca.pem",
            "collector.pem",
            "collector.key",
            "plc-line-1.pem",
            "plc-line-1.key",
        ] {
            assert!(dir.path().join(name).exists(), "{name}");
        }
        #[cfg(unix)]
        for name in ["collector.key", "plc-line-1.key"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        let p = |n: &str| dir.path().join(n);
        crate::tls::server_config(&p("collector.pem"), &p("collector.key"), &p("ca.pem")).unwrap();
        crate::tls::client_config(
            &p("ca.pem"),
            Some((&p("plc-line-1.pem"), &p("plc-line-1.key"))),
        )
        .unwrap();
    }

    #[test]
    fn refuses_ids_that_are_not_file_names() {
        for id in ["", "../x", "a/b", ".hidden", "ca", "collector"] {
            assert!(check_sensor_id(id).is_err(), "{id:?}");
        }
        check_sensor_id("site-A_plc.1").unwrap();
    }
}
