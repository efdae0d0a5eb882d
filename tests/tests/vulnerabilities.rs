//! Known vulnerabilities end to end, real binaries on loopback: the shared
//! CISA advisories and KEV catalog imported with `faro-collector intel
//! import` into a serving collector; a sensor replays the shipped sample
//! plant (`samples/plant-modbus.pcap`); the collector matches the assets as
//! they arrive, and the API lists exactly the advisories each controller's
//! identity calls for, with the evidence from the wire. `intel match` gives
//! the same answer for one identity without any inventory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use faro_collector::client::Client;
use faro_collector::tls;
use faro_e2e::plant::{Plant, ok, stop};
use faro_e2e::{collector, collector_command, shared, workspace_root};
use serde_json::Value;

/// The shared intelligence, or a failure saying what is missing.
fn shared_intel() -> std::path::PathBuf {
    let dir = shared("intel");
    assert!(
        dir.join("csaf").is_dir() && dir.join("kev").is_dir(),
        "{} is incomplete",
        dir.display()
    );
    dir
}

/// What the sample plant's controllers should be matched with, checked by
/// hand against the advisories (file, product, range as written):
///
/// - 10.20.1.11, Schneider Electric BMX P34 2020 (a Modicon M340) at v3.10:
///   "Modicon M340: all versions" in 18-086-01 and 19-136-01, "M340 CPUs BMX
///   P34x: all versions" in 21-005-01, "part numbers BMXP34*: all versions"
///   in 21-194-02 and 23-227-01 (possible: nothing to compare the firmware
///   with); 23-201-01's `< SV3.51` holds v3.10 (likely). Not: 17-054-03
///   `< 2.9`, 19-183-01 and 20-016-01 `< 3.01`.
/// - 10.20.1.12, Siemens 6ES7 215-1AG40-0XB0 (an S7-1200 CPU 1215C) at
///   V4.5.2: `vers:all/<V4.6.0` in 22-167-14, 22-314-02 and 22-349-03, and
///   19-344-06's `>= 4.4.0 (only affected by CVE-2019-10943)` (likely: the
///   advisory names the family, the device its order number); `vers:all/*`
///   in 23-222-07, 23-222-09, 23-257-01 and the Function State condition of
///   19-318-02 (possible). Not: 22-041-01 `>=V4.5.0<V4.5.2`, 22-104-05
///   `< V4.5.2`, 21-222-09 exactly `V4.5.0`, 21-152-01 `< V4.5.0`.
/// - 10.20.1.13, WAGO 750-8202 (a PFC200) at 03.10.08(22): 20-065-01 (the
///   I/O-CHECK service) lists "Series PFC200" with the model pattern
///   `750-82xx/xxx-xxx` where the version belongs, so no firmware can be
///   compared (possible). Not: 18-044-01 is `< 02.07.07(10)`.
/// - 10.20.1.15, ABB 1SAP130300R0271: no advisory names it.
///   10.20.20.14, Phoenix Contact AXC F 2152 at 2023.0.4 LTS: 19-155-01 is
///   version 1.x.
const EXPECTED: [(&str, &str, &str, &str); 35] = [
    ("10.20.1.11", "ICSA-18-086-01", "CVE-2018-7240", "possible"),
    ("10.20.1.11", "ICSA-18-086-01", "CVE-2018-7241", "possible"),
    ("10.20.1.11", "ICSA-18-086-01", "CVE-2018-7242", "possible"),
    ("10.20.1.11", "ICSA-19-136-01", "CVE-2019-6821", "possible"),
    ("10.20.1.11", "ICSA-21-005-01", "CVE-2020-7562", "possible"),
    ("10.20.1.11", "ICSA-21-005-01", "CVE-2020-7563", "possible"),
    ("10.20.1.11", "ICSA-21-005-01", "CVE-2020-7564", "possible"),
    ("10.20.1.11", "ICSA-21-194-02", "CVE-2020-12525", "possible"),
    ("10.20.1.11", "ICSA-21-194-02", "CVE-2021-22778", "possible"),
    ("10.20.1.11", "ICSA-21-194-02", "CVE-2021-22779", "possible"),
    ("10.20.1.11", "ICSA-21-194-02", "CVE-2021-22780", "possible"),
    ("10.20.1.11", "ICSA-21-194-02", "CVE-2021-22781", "possible"),
    ("10.20.1.11", "ICSA-21-194-02", "CVE-2021-22782", "possible"),
    ("10.20.1.11", "ICSA-23-201-01", "CVE-2022-45788", "likely"),
    ("10.20.1.11", "ICSA-23-227-01", "CVE-2022-45789", "possible"),
    ("10.20.1.12", "ICSA-19-318-02", "CVE-2019-13945", "possible"),
    ("10.20.1.12", "ICSA-19-344-06", "CVE-2019-10943", "likely"),
    ("10.20.1.12", "ICSA-22-167-14", "CVE-2022-0778", "likely"),
    ("10.20.1.12", "ICSA-22-314-02", "CVE-2022-30694", "likely"),
    ("10.20.1.12", "ICSA-22-349-03", "CVE-2021-40365", "likely"),
    ("10.20.1.12", "ICSA-22-349-03", "CVE-2021-44693", "likely"),
    ("10.20.1.12", "ICSA-22-349-03", "CVE-2021-44694", "likely"),
    ("10.20.1.12", "ICSA-22-349-03", "CVE-2021-44695", "likely"),
    ("10.20.1.12", "ICSA-23-222-07", "CVE-2023-0286", "possible"),
    ("10.20.1.12", "ICSA-23-222-09", "CVE-2022-4304", "possible"),
    ("10.20.1.12", "ICSA-23-257-01", "CVE-2023-28831", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5073", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5074", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5075", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5077", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5078", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5079", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5080", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5081", "possible"),
    ("10.20.1.13", "ICSA-20-065-01", "CVE-2019-5082", "possible"),
];

fn key(v: &Value) -> (String, String, String, String) {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (s("ip"), s("advisory"), s("cve"), s("confidence"))
}

async fn vulnerabilities(c: &mut Client) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = "/api/v1/vulnerabilities?site=sample&limit=10".to_owned();
    loop {
        let (status, page) = c.get_json(&path).await.unwrap();
        assert_eq!(status, 200, "{page}");
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/vulnerabilities?site=sample&limit=10&cursor={cursor}")
            }
            None => return out,
        }
    }
}

#[test]
fn the_sample_plant_gets_exactly_its_advisories_from_the_wire() {
    let intel = shared_intel();
    let plant = Plant::new("vulnerabilities", 10, "");
    let serving = collector_command(plant.serve_args())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(plant.dir.join("collector.log")).unwrap())
        .spawn()
        .unwrap();
    // Intelligence first: the collector matches the assets as they arrive.
    let imported = ok(
        collector(&[
            "intel",
            "import",
            "--data",
            &plant.path("data"),
            intel.join("csaf").to_str().unwrap(),
            intel
                .join("kev/known_exploited_vulnerabilities.json")
                .to_str()
                .unwrap(),
        ]),
        "intel import",
    );
    assert!(imported.contains("2035 new"), "{imported}");
    let sample = workspace_root().join("samples/plant-modbus.pcap");
    let (code, log) = plant.replay(&sample);
    assert_eq!(code, Some(0), "{log}");

    let token = plant.token("analyst", "read");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let expected: BTreeSet<(String, String, String, String)> = EXPECTED
        .iter()
        .map(|(a, b, c, d)| ((*a).into(), (*b).into(), (*c).into(), (*d).into()))
        .collect();
    let rows = runtime.block_on(async {
        let tls = tls::client_config(Path::new(&plant.path("certs/ca.pem")), None).unwrap();
        let addr = format!("127.0.0.1:{}", plant.port).parse().unwrap();
        let mut c = Client::connect(addr, tls)
            .await
            .unwrap()
            .with_token(Some(&token));
        c.wait_merged(Duration::from_secs(20)).await.unwrap();
        // The scorer matches within a round (2 s) of the merge.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let rows = vulnerabilities(&mut c).await;
            let got: BTreeSet<_> = rows.iter().map(key).collect();
            if got == expected || Instant::now() > deadline {
                assert_eq!(
                    got.symmetric_difference(&expected).collect::<Vec<_>>(),
                    Vec::<&(String, String, String, String)>::new(),
                    "differences from the expected matches"
                );
                let (status, intel) = c.get_json("/api/v1/intel").await.unwrap();
                assert_eq!(status, 200);
                let kinds: BTreeSet<&str> = intel
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["kind"].as_str().unwrap())
                    .collect();
                assert_eq!(kinds, BTreeSet::from(["csaf", "kev"]));
                let (status, plc) = c
                    .get_json("/api/v1/assets/sample/10.20.1.12")
                    .await
                    .unwrap();
                assert_eq!(status, 200);
                assert_eq!(plc["vulnerabilities"].as_array().unwrap().len(), 11);
                let factor = plc["score"].as_u64().unwrap();
                assert!(factor > 0);
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    // The evidence names the messages the identity came from.
    let s7 = rows.iter().find(|r| r["cve"] == "CVE-2022-0778").unwrap();
    let sources: BTreeSet<&str> = s7["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains("modbus:fc43-14"), "{s7}");
    assert_eq!(s7["range"], "vers:all/<V4.6.0");
    assert_eq!(s7["state"], "not_remediated");

    // One identity, no inventory: the same advisories for the S7-1200.
    let answer = ok(
        collector(&[
            "intel",
            "match",
            "--data",
            &plant.path("data"),
            "--vendor",
            "Siemens",
            "--model",
            "6ES7 215-1AG40-0XB0",
            "--firmware",
            "V4.5.2",
            "--format",
            "json",
        ]),
        "intel match",
    );
    let answer: Vec<Value> = serde_json::from_str(&answer).unwrap();
    let cves = |rows: &[Value]| -> BTreeSet<String> {
        rows.iter()
            .map(|r| r["cve"].as_str().unwrap().to_owned())
            .collect()
    };
    let plc: Vec<Value> = rows
        .iter()
        .filter(|r| r["ip"] == "10.20.1.12")
        .cloned()
        .collect();
    assert_eq!(cves(&answer), cves(&plc));
    stop(serving);
}
