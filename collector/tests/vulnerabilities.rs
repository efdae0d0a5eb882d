//! Known vulnerabilities through the collector: the real shared advisories
//! and KEV catalog (`../shared/intel`) and a generated EPSS file imported;
//! the shipped sample plant's identities (as `faro-sensor analyze
//! samples/plant-modbus.pcap` reports them) ingested in a signed summary;
//! matching, scoring, the worklist, the API's list and filters, the CSV
//! export, triage by CSAF's state names, CEF's selection, a firmware update
//! seen on the wire, a revision that changes nothing, and incremental work.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use faro_collector::intel::import::import;
use faro_collector::store::{Store, params};
use faro_collector::triage::{self, TriageChange};
use faro_collector::views::{self, VulnerabilityFilter};
use faro_collector::vulnerabilities::{self, Matcher};
use faro_collector::{export, ingest, rescore};
use faro_protocols::uplink::{
    AssetDelta, SCHEMA, SigningKey, Summary, ZoneRef, fingerprint, generate_key, sign,
    verifying_key_to_pem,
};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/intel");
const SITE: &str = "sample";

fn shared() -> PathBuf {
    let dir = Path::new(SHARED);
    assert!(
        dir.join("csaf").is_dir() && dir.join("kev").is_dir(),
        "the shared intelligence data is missing: expected {}/csaf and {}/kev \
         (the workspace's ../shared/intel, see its README.md)",
        dir.display(),
        dir.display()
    );
    dir.to_owned()
}

/// An asset as the sensor reports it: identity attributes from Modbus
/// Read Device Identification (function 43/14).
fn asset(ip: &str, mac: &str, identity: &[(&str, &str)]) -> AssetDelta {
    AssetDelta {
        ip: ip.to_owned(),
        mac: Some(mac.to_owned()),
        roles: vec!["modbus_server".to_owned(), "plc".to_owned()],
        protocols: vec!["modbus".to_owned()],
        identity: identity
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        identity_sources: identity
            .iter()
            .map(|(k, _)| ((*k).to_owned(), "modbus:fc43-14".to_owned()))
            .collect(),
        posture: BTreeMap::new(),
        first_seen: "2026-01-10T08:00:00Z".to_owned(),
        last_seen: "2026-01-10T08:05:00Z".to_owned(),
        zone: Some(ZoneRef {
            name: "cell".to_owned(),
            purdue_level: "1".to_owned(),
            criticality: "high".to_owned(),
        }),
        known: None,
    }
}

/// The shipped sample plant's controllers, as `analyze` reports them.
fn sample_plant() -> Vec<AssetDelta> {
    vec![
        asset(
            "10.20.1.11",
            "00:80:f4:0a:14:0b",
            &[
                ("product_code", "BMX P34 2020"),
                ("revision", "v3.10"),
                ("vendor", "Schneider Electric"),
            ],
        ),
        asset(
            "10.20.1.12",
            "00:0e:8c:0a:14:0c",
            &[
                ("model_name", "CPU 1215C DC/DC/DC"),
                ("product_code", "6ES7 215-1AG40-0XB0"),
                ("product_name", "SIMATIC S7-1200"),
                ("revision", "V4.5.2"),
                ("vendor", "Siemens"),
                ("vendor_url", "www.siemens.com"),
            ],
        ),
        asset(
            "10.20.1.13",
            "00:30:de:0a:14:0d",
            &[
                ("model_name", "750-8202"),
                ("product_code", "750-8202"),
                ("product_name", "PFC200 CS 2ETH RS"),
                ("revision", "03.10.08(22)"),
                ("vendor", "WAGO"),
                ("vendor_url", "www.wago.com"),
            ],
        ),
        asset(
            "10.20.1.15",
            "00:24:59:0a:14:0f",
            &[
                ("product_code", "1SAP130300R0271"),
                ("revision", "V2.8.3"),
                ("vendor", "ABB"),
            ],
        ),
        asset(
            "10.20.20.14",
            "00:a0:45:14:14:0e",
            &[
                ("model_name", "AXC F 2152"),
                ("product_code", "2404267"),
                ("product_name", "PLCnext Control"),
                ("revision", "2023.0.4 LTS"),
                ("vendor", "Phoenix Contact"),
                ("vendor_url", "www.phoenixcontact.com"),
            ],
        ),
    ]
}

struct Sensor {
    key: SigningKey,
    sequence: u64,
}

impl Sensor {
    fn enroll(store: &Store) -> Sensor {
        let key = generate_key();
        store
            .enroll(
                "s1",
                &verifying_key_to_pem(&key.verifying_key()).unwrap(),
                Some(SITE),
                false,
            )
            .unwrap();
        Sensor { key, sequence: 0 }
    }

    /// Sends `assets` in the next summary and merges it.
    fn send(&mut self, store: &Store, assets: Vec<AssetDelta>) {
        self.sequence += 1;
        let summary = Summary {
            schema: SCHEMA.to_owned(),
            sensor_id: "s1".to_owned(),
            site: SITE.to_owned(),
            sequence: self.sequence,
            window_start: "2026-01-10T08:00:00Z".to_owned(),
            window_end: "2026-01-10T08:05:00Z".to_owned(),
            assets,
            edges: Vec::new(),
            findings: Vec::new(),
            counters: serde_json::json!({}),
        };
        let jws = sign(
            &serde_json::to_vec(&summary).unwrap(),
            &self.key,
            &fingerprint(&self.key.verifying_key()),
        );
        let decision = ingest::ingest(store, jws.into_bytes()).unwrap();
        assert_eq!(decision.outcome, ingest::Outcome::Stored);
        ingest::merge_stored(store, Vec::new()).unwrap();
    }
}

/// An EPSS file in FIRST's format for a few CVEs.
fn epss_file(dir: &Path, rows: &[(&str, f64, f64)]) -> PathBuf {
    let mut text =
        "#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\n"
            .to_owned();
    for (cve, score, percentile) in rows {
        text.push_str(&format!("{cve},{score},{percentile}\n"));
    }
    let path = dir.join("epss_scores-2025-08-25.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every vulnerability the filter lists, page by page.
fn listed(store: &Store, mut filter: VulnerabilityFilter) -> Vec<views::VulnerabilityRow> {
    filter.limit = Some(7);
    let mut out = Vec::new();
    loop {
        let page = views::vulnerabilities(store, &filter).unwrap();
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => return out,
        }
    }
}

/// (ip, advisory, cve, confidence) of every match.
fn matched(store: &Store) -> BTreeSet<(String, String, String, String)> {
    listed(store, VulnerabilityFilter::default())
        .into_iter()
        .map(|r| {
            (
                r.ip,
                r.matched.matched.advisory,
                r.matched.matched.cve.unwrap_or_default(),
                r.matched.matched.confidence.name().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_sample_plant_is_matched_scored_listed_and_triaged() {
    let shared = shared();
    let dir = tempfile::tempdir().unwrap();
    let store = common::open(&dir.path().join("data"));
    let epss = epss_file(
        dir.path(),
        &[("CVE-2022-0001", 0.5, 0.9), ("CVE-2022-0778", 0.42, 0.975)],
    );
    let report = import(
        &store,
        &[
            shared.join("csaf"),
            shared.join("kev/known_exploited_vulnerabilities.json"),
            epss,
        ],
    )
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    let mut sensor = Sensor::enroll(&store);
    sensor.send(&store, sample_plant());
    let matcher = Matcher::load(&store).unwrap();
    let done = vulnerabilities::rematch(&store, &matcher, vulnerabilities::Scope::All).unwrap();
    assert_eq!(done.assets, 5);
    assert_eq!(done.sites, BTreeSet::from([SITE.to_owned()]));
    rescore::rescore_site(&store, SITE).unwrap();
    // Nothing changed: nothing is matched again.
    let again = vulnerabilities::rematch(&store, &matcher, vulnerabilities::Scope::All).unwrap();
    assert_eq!((again.assets, again.new, again.gone), (0, 0, 0));

    // Which advisories exactly is pinned, with the reasoning, by the
    // end-to-end test (tests/tests/vulnerabilities.rs) on the real sensor's
    // output; here what the rest of this test rests on.
    let all = matched(&store);
    assert_eq!(all.len(), 35, "{all:#?}");
    let ips: BTreeSet<&str> = all.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(
        ips,
        BTreeSet::from(["10.20.1.11", "10.20.1.12", "10.20.1.13"])
    );
    let s7: Vec<_> = all.iter().filter(|m| m.0 == "10.20.1.12").collect();
    assert_eq!(s7.len(), 11);
    assert!(all.contains(&(
        "10.20.1.12".into(),
        "ICSA-22-167-14".into(),
        "CVE-2022-0778".into(),
        "likely".into()
    )));
    for (ip, advisory, cve, _) in &all {
        let id = vulnerabilities::finding_id(&store, SITE, ip, advisory, cve)
            .unwrap()
            .unwrap();
        let f = views::finding(&store, id).unwrap().unwrap().finding;
        assert_eq!(f.finding.rule, vulnerabilities::RULE);
        assert_eq!(
            (f.target.as_str(), f.status.as_str()),
            (ip.as_str(), "open")
        );
        assert_eq!(f.exposure, "known_vulnerabilities");
        assert!(f.due.is_some() && f.priority > 0, "{f:?}");
    }
    // The PLC's score carries the factor, with its evidence.
    let exposure = views::exposure(&store, SITE).unwrap().unwrap();
    let plc = exposure["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ip"] == "10.20.1.12")
        .unwrap();
    let factor = plc["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["factor"] == "known_vulnerabilities")
        .unwrap();
    // CVE-2022-0778, likely, at EPSS's 97.5th percentile: 12 × 60 % × no
    // initiator 50 % = 3.6, rounded 4; and 7 more advisories.
    assert_eq!(factor["points"], 11, "{factor}");

    check_the_views(&store);
    check_a_kev_match(&store, &mut sensor);
    check_triage(&store);
    check_a_firmware_update(&store, &mut sensor, &matcher);
    check_revisions(&store, dir.path());
}

/// Filters, paging, the asset detail, the CSV export.
fn check_the_views(store: &Store) {
    let filter = |f: fn(&mut VulnerabilityFilter)| {
        let mut filter = VulnerabilityFilter::default();
        f(&mut filter);
        listed(store, filter)
    };
    let all = filter(|_| {});
    // Highest priority first, no row twice.
    assert!(all.windows(2).all(|w| w[0].priority >= w[1].priority));
    let ids: BTreeSet<i64> = all.iter().map(|r| r.finding_id).collect();
    assert_eq!(ids.len(), all.len());

    let schneider = filter(|f| f.vendor = Some("Schneider Electric Software, LLC".into()));
    assert!(!schneider.is_empty());
    assert!(schneider.iter().all(|r| r.ip == "10.20.1.11"));
    assert_eq!(
        filter(|f| f.vendor = Some("SIEMENS AG".into())).len(),
        all.iter().filter(|r| r.ip == "10.20.1.12").count()
    );
    let likely = filter(|f| f.confidence = Some("likely,confirmed".into()));
    assert!(
        likely
            .iter()
            .all(|r| r.matched.matched.confidence.name() != "possible")
    );
    assert!(filter(|f| f.min_cvss = Some(7.0)).iter().all(|r| {
        r.matched
            .matched
            .cvss
            .as_ref()
            .is_some_and(|c| c.base_score >= 7.0)
    }));
    assert_eq!(
        filter(|f| f.advisory = Some("ICSA-22-349-03".into())).len(),
        4
    );
    assert_eq!(filter(|f| f.cve = Some("CVE-2022-0778".into())).len(), 1);
    assert_eq!(filter(|f| f.asset = Some("10.20.1.13".into())).len(), 9);
    assert_eq!(filter(|f| f.asset = Some("10.20.1.15".into())).len(), 0);
    assert_eq!(
        filter(|f| f.status = Some("not_remediated".into())).len(),
        all.len()
    );
    assert_eq!(filter(|f| f.min_epss = Some(0.99)).len(), 0);
    // The EPSS file's scores are joined to the CVE.
    let scored = filter(|f| f.min_epss = Some(0.4));
    assert_eq!(scored.len(), 1);
    let epss = scored[0].matched.epss.unwrap();
    assert_eq!((epss.score, epss.percentile), (0.42, 0.975));
    // Misspelt values are refused, not answered with nothing.
    for bad in [
        VulnerabilityFilter {
            confidence: Some("sure".into()),
            ..Default::default()
        },
        VulnerabilityFilter {
            status: Some("open-ish".into()),
            ..Default::default()
        },
        VulnerabilityFilter {
            kev: Some("yes".into()),
            ..Default::default()
        },
        VulnerabilityFilter {
            min_cvss: Some(11.0),
            ..Default::default()
        },
        VulnerabilityFilter {
            min_epss: Some(-1.0),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            views::vulnerabilities(store, &bad),
            Err(views::ViewError::BadRequest(_))
        ));
    }
    // Each row says what it rests on.
    let row = all
        .iter()
        .find(|r| r.matched.matched.cve.as_deref() == Some("CVE-2022-0778"))
        .unwrap();
    assert_eq!(row.state, "not_remediated");
    assert_eq!(
        row.matched.matched.range.as_deref(),
        Some("vers:all/<V4.6.0")
    );
    assert!(
        row.matched
            .matched
            .evidence
            .iter()
            .any(|e| e.source == "modbus:fc43-14"),
        "{row:?}"
    );
    assert!(
        row.matched
            .matched
            .remediations
            .iter()
            .any(|r| r.category == "vendor_fix" && r.fixed_version.as_deref() == Some("V4.6.0"))
    );
    let json = serde_json::to_value(row).unwrap();
    assert_eq!(json["cve"], "CVE-2022-0778");
    assert_eq!(json["finding_id"], row.finding_id);

    let detail = views::asset(store, SITE, "10.20.1.12").unwrap().unwrap();
    assert_eq!(
        detail.vulnerabilities.len(),
        all.iter().filter(|r| r.ip == "10.20.1.12").count()
    );

    let csv = String::from_utf8(export::vulnerabilities_csv(store, Some(SITE)).unwrap()).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        export::VULNERABILITY_COLUMNS
    );
    assert_eq!(reader.records().count(), all.len());
}

/// A Stratix switch whose Cisco IOS CVEs are in KEV: critical, due when
/// CISA says, and the only known vulnerabilities a SIEM is sent.
fn check_a_kev_match(store: &Store, sensor: &mut Sensor) {
    let mut switch = asset(
        "10.20.1.30",
        "00:00:bc:0a:14:1e",
        &[
            ("vendor", "Rockwell Automation"),
            ("product_name", "Allen-Bradley Stratix 5700"),
            ("revision", "15.2(4)EA3"),
        ],
    );
    switch.roles = vec!["gateway".to_owned()];
    let mut plant = sample_plant();
    plant.push(switch);
    sensor.send(store, plant);
    let matcher = Matcher::load(store).unwrap();
    let done = vulnerabilities::rematch(store, &matcher, vulnerabilities::Scope::All).unwrap();
    // Only the new asset is matched.
    assert_eq!(done.assets, 1);
    rescore::rescore_site(store, SITE).unwrap();
    let kev = listed(
        store,
        VulnerabilityFilter {
            kev: Some("true".into()),
            ..Default::default()
        },
    );
    let cves: BTreeSet<&str> = kev
        .iter()
        .map(|r| r.matched.matched.cve.as_deref().unwrap())
        .collect();
    // ICSA-18-107-04: the Stratix 5700 at 15.2(6)E0a and earlier, eight
    // CVEs; 17-094-03 and 17-208-04: at 15.2(5)EA.fc4 and earlier, one each.
    assert_eq!(
        cves,
        BTreeSet::from([
            "CVE-2017-3881",
            "CVE-2017-6736",
            "CVE-2018-0156",
            "CVE-2018-0158",
            "CVE-2018-0167",
            "CVE-2018-0171",
            "CVE-2018-0172",
            "CVE-2018-0173",
            "CVE-2018-0174",
            "CVE-2018-0175",
        ])
    );
    for r in &kev {
        assert_eq!(r.ip, "10.20.1.30");
        let k = r.matched.kev.as_ref().unwrap();
        assert_eq!(
            r.due.as_deref(),
            Some(format!("{}T00:00:00Z", k.due_date).as_str())
        );
        let f = views::finding(store, r.finding_id)
            .unwrap()
            .unwrap()
            .finding;
        assert_eq!(f.finding.severity, "critical");
    }
    // KEV matches lead the worklist of known vulnerabilities.
    let all = listed(store, VulnerabilityFilter::default());
    assert!(all.iter().take(kev.len()).all(|r| r.matched.kev.is_some()));
    // CEF: of the known vulnerabilities, only likely or confirmed KEV ones go out.
    let behind = views::findings_changed_count(store, &views::ChangeCursor::default()).unwrap();
    assert_eq!(behind, kev.len() as u64);
}

/// Triage by CSAF's names, recorded in the history.
fn check_triage(store: &Store) {
    let row = listed(
        store,
        VulnerabilityFilter {
            cve: Some("CVE-2022-0778".into()),
            ..Default::default()
        },
    )
    .pop()
    .unwrap();
    let change = TriageChange {
        status: Some("remediation_in_progress".into()),
        owner: Some("controls team".into()),
        ..Default::default()
    };
    triage::apply(store, row.finding_id, &change, "token analyst (t1)").unwrap();
    let now = views::vulnerabilities(
        store,
        &VulnerabilityFilter {
            status: Some("remediation_in_progress".into()),
            ..Default::default()
        },
    )
    .unwrap()
    .items;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].owner.as_deref(), Some("controls team"));
    let detail = views::finding(store, row.finding_id).unwrap().unwrap();
    assert_eq!(detail.finding.status, "acknowledged");
    assert!(
        detail
            .history
            .iter()
            .any(|h| h.field == "status" && h.actor.as_deref() == Some("token analyst (t1)"))
    );
    // An owner typed as a formula reaches both exports as text, not a formula.
    let formula = TriageChange {
        owner: Some("=SUM(1+1)".into()),
        ..Default::default()
    };
    triage::apply(store, row.finding_id, &formula, "token analyst (t1)").unwrap();
    for csv in [
        export::findings_csv(store, Some(SITE)).unwrap(),
        export::vulnerabilities_csv(store, Some(SITE)).unwrap(),
    ] {
        let text = String::from_utf8(csv).unwrap();
        assert!(text.contains("'=SUM(1+1)"), "{text}");
        assert!(!text.contains(",=SUM"), "{text}");
    }
}

/// The PLC announces V4.6.0: the `< V4.6.0` matches are remediated, seen on
/// the wire; the all-versions ones stay.
fn check_a_firmware_update(store: &Store, sensor: &mut Sensor, matcher: &Matcher) {
    let before = listed(store, VulnerabilityFilter::default());
    let mut plant = sample_plant();
    plant[1]
        .identity
        .insert("revision".to_owned(), "V4.6.0".to_owned());
    let last_row = || -> i64 { store.last_merge().unwrap() };
    let after = last_row();
    sensor.send(store, plant);
    // As the collector's scorer does: the assets the new summary wrote.
    let scope = vulnerabilities::Scope::Summaries {
        after,
        through: last_row(),
    };
    let done = vulnerabilities::rematch(store, matcher, scope).unwrap();
    // The summary carried five assets; one changed its identity.
    assert_eq!(done.assets, 1);
    // 22-167-14, 22-314-02 and 22-349-03 (four CVEs) were below V4.6.0.
    assert_eq!((done.new, done.gone), (0, 6));
    let after = listed(store, VulnerabilityFilter::default());
    assert_eq!(after.len(), before.len() - 6);
    let gone = before
        .iter()
        .find(|r| r.matched.matched.cve.as_deref() == Some("CVE-2022-0778"))
        .unwrap();
    let f = views::finding(store, gone.finding_id).unwrap().unwrap();
    assert_eq!(f.finding.status, "resolved");
    assert!(
        f.history
            .iter()
            .any(|h| h.actor.as_deref().is_some_and(|a| a.starts_with("intel:")))
    );
}

/// A revision that changes nothing the match rests on alerts nobody; one
/// that changes the remediation does.
fn check_revisions(store: &Store, dir: &Path) {
    let source = Path::new(SHARED).join("csaf/2023/icsa-23-222-07.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&source).unwrap()).unwrap();
    let updated = |store: &Store| -> String {
        let row = listed(
            store,
            VulnerabilityFilter {
                advisory: Some("ICSA-23-222-07".into()),
                ..Default::default()
            },
        )
        .pop()
        .unwrap();
        let changed =
            views::findings_changed(store, &views::ChangeCursor::default(), "9999", 100_000)
                .unwrap_or_default();
        let _ = changed;
        store
            .read(|db| {
                db.query_value(
                    "SELECT updated_at || ' ' || status FROM findings WHERE id = ?1",
                    params![row.finding_id],
                )
            })
            .unwrap()
    };
    let before = updated(store);
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let write = |doc: &serde_json::Value, name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(doc).unwrap()).unwrap();
        path
    };
    // Same substance, a later revision: no alert.
    doc["document"]["tracking"]["version"] = "9".into();
    doc["document"]["title"] = "Siemens SIMATIC (revised wording)".into();
    let path = write(&doc, "revised.json");
    assert_eq!(import(store, &[path]).unwrap().advisories_replaced, 1);
    let matcher = Matcher::load(store).unwrap();
    let done = vulnerabilities::rematch(store, &matcher, vulnerabilities::Scope::All).unwrap();
    let assets = store.counts().unwrap().0 as usize;
    assert_eq!(done.assets, assets, "new intelligence: every asset again");
    assert_eq!((done.new, done.changed, done.gone), (0, 0, 0));
    assert_eq!(updated(store), before);

    // A new remediation for the product: an alert.
    doc["document"]["tracking"]["version"] = "10".into();
    let vulnerability = &mut doc["vulnerabilities"][0];
    let products = vulnerability["product_status"]["known_affected"].clone();
    vulnerability["remediations"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "category": "vendor_fix",
            "details": "Update to V9.9 or later version",
            "product_ids": products,
        }));
    let path = write(&doc, "fixed.json");
    import(store, &[path]).unwrap();
    let matcher = Matcher::load(store).unwrap();
    let done = vulnerabilities::rematch(store, &matcher, vulnerabilities::Scope::All).unwrap();
    assert!(done.changed >= 1, "{done:?}");
    assert_ne!(updated(store), before);
}
