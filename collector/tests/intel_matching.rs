//! Identity → advisory cases picked by hand from the shared CISA advisories
//! (`../shared/intel/csaf`), each with its reasoning: the file, the product,
//! its range, and why the identity must (or must not) match and how surely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use faro_collector::intel::csaf;
use faro_collector::intel::identity::AssetIdentity;
use faro_collector::intel::matching::{Index, Match};
use faro_collector::intel::model::{Advisory, Confidence};

const INTEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/intel");

fn advisories() -> &'static [Advisory] {
    static ADVISORIES: OnceLock<Vec<Advisory>> = OnceLock::new();
    ADVISORIES.get_or_init(|| {
        let mut paths = Vec::new();
        let (files, problems) =
            faro_collector::intel::import::files(&[Path::new(INTEL).join("csaf")]);
        assert!(
            problems.is_empty(),
            "the shared intel data (../shared/intel/csaf, see its README) is missing: {problems:?}"
        );
        paths.extend(
            files
                .into_iter()
                .filter(|f| f.extension().is_some_and(|e| e == "json")),
        );
        assert!(
            paths.len() >= 2035,
            "{} CSAF files under {INTEL}/csaf",
            paths.len()
        );
        paths
            .iter()
            .map(|p| {
                csaf::parse(&std::fs::read(p).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            })
            .collect()
    })
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| Index::new(advisories()))
}

/// An identity as the sensor reports it: identity keys, S7 and Modbus sources.
fn asset(attributes: &[(&str, &str)]) -> AssetIdentity {
    let identity: BTreeMap<String, String> = attributes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let sources: BTreeMap<String, String> = attributes
        .iter()
        .filter_map(|(k, _)| {
            let source = match *k {
                "order_number" | "firmware_version" => "s7:szl-0x0011",
                "module_type_name" | "serial_number" => "s7:szl-0x001c",
                _ => return None,
            };
            Some(((*k).to_owned(), source.to_owned()))
        })
        .collect();
    AssetIdentity::from_attributes(&identity, &sources)
}

struct Case {
    /// Why: file, product, range, reasoning.
    why: &'static str,
    identity: &'static [(&'static str, &'static str)],
    /// (advisory, CVE, confidence) that must be among the matches.
    present: &'static [(&'static str, &'static str, Confidence)],
    /// Advisories (`ADVISORY`, or `ADVISORY CVE`) that must not be matched.
    absent: &'static [&'static str],
}

use Confidence::{Confirmed, Likely, Possible};

const SCALANCE_XP216: &[(&str, &str)] = &[
    ("vendor", "Siemens"),
    ("order_number", "6GK5216-0HA00-2ES6"),
];

const CASES: &[Case] = &[
    // --- Siemens by order number (model_numbers) -------------------------
    Case {
        why: "icsa-22-167-14 and icsa-22-223-07: SCALANCE XP216EEC (6GK5216-0HA00-2ES6), vers:all/<V4.4; \
              V4.3 is inside, the order number is listed: confirmed. icsa-19-085-01 (< V4.1) excludes V4.3.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6GK5216-0HA00-2ES6"),
            ("firmware_version", "V4.3"),
        ],
        present: &[
            ("ICSA-22-167-14", "CVE-2022-0778", Confirmed),
            ("ICSA-22-223-07", "CVE-2022-36323", Confirmed),
        ],
        absent: &["ICSA-19-085-01"],
    },
    Case {
        why: "icsa-19-085-01: SCALANCE XP216EEC < V4.1, the order number written with a space as the \
              SZL gives it (6GK5 216-…): V4.0 is inside: confirmed.",
        identity: &[
            ("vendor", "SIEMENS AG"),
            ("order_number", "6GK5 216-0HA00-2ES6"),
            ("firmware_version", "V4.0"),
        ],
        present: &[("ICSA-19-085-01", "CVE-2019-6569", Confirmed)],
        absent: &[],
    },
    Case {
        why: "icsa-22-167-14 / icsa-22-223-07 / icsa-22-286-11: vers:all/<V4.4 and the fix \
              'Update to V4.4 or later version': V4.4 is fixed, none of them match.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6GK5216-0HA00-2ES6"),
            ("firmware_version", "V4.4"),
        ],
        present: &[],
        absent: &[
            "ICSA-22-167-14",
            "ICSA-22-223-07",
            "ICSA-22-286-11",
            "ICSA-19-085-01",
        ],
    },
    Case {
        why: "The XP216EEC without a firmware version: every advisory for its order number is possible.",
        identity: SCALANCE_XP216,
        present: &[
            ("ICSA-19-085-01", "CVE-2019-6569", Possible),
            ("ICSA-22-223-07", "CVE-2022-36323", Possible),
        ],
        absent: &[],
    },
    Case {
        why: "icsa-23-222-09: SIMATIC S7-1500 CPU 1515R-2 PN (6ES7515-2RM00-0AB0), vers:all/<V2.9.7: \
              V2.9.6 confirmed. icsa-22-314-02 lists it with vers:all/* (all versions): possible.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 515-2RM00-0AB0"),
            ("firmware_version", "V2.9.6"),
        ],
        present: &[
            ("ICSA-23-222-09", "", Confirmed),
            ("ICSA-22-314-02", "CVE-2022-30694", Possible),
        ],
        absent: &[],
    },
    Case {
        why: "icsa-23-222-09: the 1515R-2 PN at V2.9.7 is outside <V2.9.7; icsa-22-314-02 (all versions) \
              still possible.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7515-2RM00-0AB0"),
            ("firmware_version", "V2.9.7"),
        ],
        present: &[("ICSA-22-314-02", "CVE-2022-30694", Possible)],
        absent: &["ICSA-23-222-09"],
    },
    Case {
        why: "icsa-22-132-07: SICAM P855 (7KG8550-0AA00-0AA0) < V3.00: V2.50 confirmed.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "7KG8550-0AA00-0AA0"),
            ("firmware_version", "V2.50"),
        ],
        present: &[("ICSA-22-132-07", "CVE-2022-29872", Confirmed)],
        absent: &[],
    },
    Case {
        why: "icsa-22-132-07: SICAM P855 at V3.00 is at the fix (< V3.00, 'Update to V3.00'): not matched.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "7KG8550-0AA00-0AA0"),
            ("firmware_version", "V03.00"),
        ],
        present: &[],
        absent: &["ICSA-22-132-07"],
    },
    Case {
        why: "SIPLUS S7-1200 CP 1243-1 (6AG1243-1BX30-2AX0): icsa-21-194-07 < V3.3.46, icsa-21-131-03 \
              '>= V3.1.39 and < V3.3.46' (free text), icsa-22-104-05 '>= V3.1 < V3.3.46': V3.2 in all three.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6AG1243-1BX30-2AX0"),
            ("firmware_version", "V3.2.0"),
        ],
        present: &[
            ("ICSA-21-194-07", "CVE-2015-8011", Confirmed),
            ("ICSA-21-131-03", "CVE-2020-25705", Confirmed),
            ("ICSA-22-104-05", "CVE-2021-3449", Confirmed),
        ],
        absent: &[],
    },
    Case {
        why: "The CP 1243-1 at V3.1.30: below icsa-21-131-03's lower bound V3.1.39 (not matched), above \
              icsa-22-104-05's V3.1 (matched).",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6AG1243-1BX30-2AX0"),
            ("firmware_version", "V3.1.30"),
        ],
        present: &[("ICSA-22-104-05", "CVE-2021-3449", Confirmed)],
        absent: &["ICSA-21-131-03"],
    },
    Case {
        why: "icsa-19-253-03 lists SIPLUS S7-1200 CP 1243-1 (6AG1243-1BX30-2AX0) < 3.2 but gives it no \
              product status in any vulnerability: never matched.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6AG1243-1BX30-2AX0"),
            ("firmware_version", "V3.0"),
        ],
        present: &[],
        absent: &["ICSA-19-253-03"],
    },
    // --- S7-1200 / S7-1500 by family (the product line the order number implies) ---
    Case {
        why: "An S7-1200 CPU 1214C (6ES7 214-1AG40-0XB0) at V4.2.0: 'SIMATIC S7-1200 CPU family (incl. \
              SIPLUS variants)' in icsa-17-339-01 (< V4.2.3), icsa-17-129-02 (< V4.2.1), icsa-19-283-02 \
              (vers:all/<V4.4.0): likely (family name, no model number listed).",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 214-1AG40-0XB0"),
            ("module_type_name", "CPU 1214C DC/DC/DC"),
            ("firmware_version", "V4.2.0"),
        ],
        present: &[
            ("ICSA-17-339-01", "CVE-2017-12741", Likely),
            ("ICSA-17-129-02", "CVE-2017-2680", Likely),
            ("ICSA-19-283-02", "CVE-2019-10936", Likely),
        ],
        absent: &[],
    },
    Case {
        why: "The S7-1200 at V4.5.0: icsa-21-152-01 (< V4.5.0) and icsa-17-339-01 (< V4.2.3) exclude it; \
              icsa-22-167-14 lists the S7-1200 family vers:all/<V4.6.0 (fix V4.6.0): likely.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 214-1AG40-0XB0"),
            ("firmware_version", "V4.5.0"),
        ],
        present: &[("ICSA-22-167-14", "CVE-2022-0778", Likely)],
        absent: &["ICSA-21-152-01", "ICSA-17-339-01"],
    },
    Case {
        why: "The S7-1200 without a firmware version: icsa-21-152-01's S7-1200 family (< V4.5.0) is possible.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 214-1AG40-0XB0"),
        ],
        present: &[("ICSA-21-152-01", "CVE-2020-15782", Possible)],
        absent: &[],
    },
    Case {
        why: "icsa-19-318-02: 'SIMATIC S7-1200 CPU family V4.x' 'All versions with Function State (FS) < 11': \
              a condition the evaluator cannot check (the FS is not reported): possible, not dropped.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 214-1AG40-0XB0"),
            ("firmware_version", "V4.2.3"),
        ],
        present: &[("ICSA-19-318-02", "CVE-2019-13945", Possible)],
        absent: &[],
    },
    Case {
        why: "An S7-200 (6ES7 214-1AD23-0XB0: generation digit 2) is not an S7-1200: none of the S7-1200 \
              family advisories match.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 214-1AD23-0XB0"),
            ("firmware_version", "V2.0"),
        ],
        present: &[],
        absent: &["ICSA-17-339-01", "ICSA-21-152-01", "ICSA-19-283-02"],
    },
    Case {
        why: "An S7-1500 CPU 1516-3 PN/DP (6ES7516-3AN01-0AB0) at V2.0.0: 'SIMATIC S7-1500 CPU family (incl. \
              related ET200 CPUs and SIPLUS variants)' in icsa-17-129-02 (< V2.1) and icsa-18-282-05 \
              ('All versions >= V2.0 and < V2.5'): likely. icsa-23-222-09 lists the 1516-3 PN/DP (6ES7516-3AN01-0AB0) itself, \
              vers:all/<V2.9.7: confirmed. icsa-17-339-01 does not match: its S7-1500 family is < V2.0 \
              (V2.0.0 is its fix, 'Upgrade to V2.0 or newer') and its S7-1200 family is another product.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7516-3AN01-0AB0"),
            ("firmware_version", "V2.0.0"),
        ],
        present: &[
            ("ICSA-17-129-02", "CVE-2017-2680", Likely),
            ("ICSA-18-282-05", "CVE-2018-13805", Likely),
            ("ICSA-23-222-09", "", Confirmed),
        ],
        absent: &["ICSA-17-339-01"],
    },
    Case {
        why: "The S7-1500 at V2.6.0: icsa-19-099-03 '>= V2.5 < V2.6.1' includes it; icsa-18-282-05 \
              (>= V2.0 and < V2.5) does not.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7516-3AN01-0AB0"),
            ("firmware_version", "V2.6.0"),
        ],
        present: &[("ICSA-19-099-03", "", Likely)],
        absent: &["ICSA-18-282-05"],
    },
    // --- other vendors by product name -----------------------------------
    Case {
        why: "icsa-19-178-05: Advantech WebAccess/SCADA '<= 8.3.5' (from 'Versions 8.3.5 and prior'): 8.3.4 likely.",
        identity: &[
            ("vendor", "Advantech Co., Ltd."),
            ("product_name", "WebAccess/SCADA"),
            ("software_version", "8.3.4"),
        ],
        present: &[("ICSA-19-178-05", "", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-19-178-05: WebAccess/SCADA 8.3.6 is after 8.3.5: not matched.",
        identity: &[
            ("vendor", "Advantech"),
            ("product_name", "WebAccess/SCADA"),
            ("software_version", "8.3.6"),
        ],
        present: &[],
        absent: &["ICSA-19-178-05"],
    },
    Case {
        why: "icsa-23-193-01: Rockwell '1756-EN2F Series A' '<= 5.008', remediation 'Update to 5.029 or later': \
              firmware 5.008 likely (product name, Allen-Bradley is Rockwell's brand).",
        identity: &[
            ("vendor", "Allen-Bradley"),
            ("model_name", "1756-EN2F/A"),
            ("product_name", "1756-EN2F Series A"),
            ("revision", "5.008"),
        ],
        present: &[("ICSA-23-193-01", "CVE-2023-3595", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-23-193-01: 1756-EN2F at 5.029, the fixed version the remediation names: not matched.",
        identity: &[
            ("vendor", "Rockwell Automation"),
            ("product_name", "1756-EN2F Series A"),
            ("revision", "5.029"),
        ],
        present: &[],
        absent: &["ICSA-23-193-01"],
    },
    Case {
        why: "icsa-18-086-01: vendor 'Schneider Electric Software, LLC', 'Modicon Quantum', vers:all/*; the \
              device says 'Schneider Electric' and product code 140 CPU 651 60 (a Quantum): alias + product \
              line, all versions: possible.",
        identity: &[
            ("vendor", "Schneider Electric"),
            ("product_code", "140 CPU 651 60"),
            ("revision", "v3.20"),
        ],
        present: &[("ICSA-18-086-01", "CVE-2018-7240", Possible)],
        absent: &[],
    },
    Case {
        why: "icsa-19-183-01: 'Modicon M340' < 3.01 (vendor Schneider Electric Software, LLC): an M340 \
              (BMX P34 2020) at v2.90 is likely. It must not match M580's products.",
        identity: &[
            ("vendor", "Schneider Electric"),
            ("product_code", "BMX P34 2020"),
            ("revision", "v2.90"),
        ],
        present: &[("ICSA-19-183-01", "CVE-2019-6819", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-19-136-01: 'Modicon M580' < 2.30 and 'Modicon M340' vers:all/*: an M340 at v3.30 matches \
              the M340 product (possible, all versions), never the M580's range.",
        identity: &[
            ("vendor", "Telemecanique"),
            ("product_code", "BMX P34 2020"),
            ("revision", "v3.30"),
        ],
        present: &[("ICSA-19-136-01", "CVE-2019-6821", Possible)],
        absent: &["ICSA-19-183-01"],
    },
    Case {
        why: "icsa-20-245-01: Mitsubishi Electric 'R120CPU' '<=50': firmware 45 likely; the device writes \
              'Mitsubishi Electric Corporation'.",
        identity: &[
            ("vendor", "Mitsubishi Electric Corporation"),
            ("product_name", "R120CPU"),
            ("revision", "45"),
        ],
        present: &[("ICSA-20-245-01", "CVE-2020-16226", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-20-245-01: R120CPU firmware 51 is after <=50 (the fix says 'Version 51 or later'): not \
              matched; icsa-20-282-02 'iQ-R series R120CPU' '<=52' still matches (likely).",
        identity: &[
            ("vendor", "Mitsubishi Electric"),
            ("product_name", "R120CPU"),
            ("revision", "51"),
        ],
        present: &[("ICSA-20-282-02", "CVE-2020-16850", Likely)],
        absent: &["ICSA-20-245-01"],
    },
    Case {
        why: "icsa-23-262-05: Omron 'CS1D-CPU**S' (a wildcard in the product name) '<= 2.0': a CS1D-CPU67S \
              at 1.3 is likely.",
        identity: &[
            ("vendor", "OMRON Corporation"),
            ("product_name", "CS1D-CPU67S"),
            ("revision", "1.3"),
        ],
        present: &[("ICSA-23-262-05", "", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-19-022-01: Johnson Controls 'Facility Explorer' '< 6.6 (6.x series)' (a remark after the \
              range): 6.5 likely.",
        identity: &[
            ("vendor", "Johnson Controls"),
            ("product_name", "Facility Explorer"),
            ("software_version", "6.5"),
        ],
        present: &[("ICSA-19-022-01", "CVE-2017-16744", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-22-270-01: Hitachi Energy 'AFS660/AFS665' '<= 7.0.02'; the switch still announces ABB \
              (Hitachi Energy's grid business was ABB's): 7.0.01 likely through the related vendor.",
        identity: &[
            ("vendor", "ABB"),
            ("product_name", "AFS660"),
            ("software_version", "7.0.01"),
        ],
        present: &[("ICSA-22-270-01", "CVE-2020-6994", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-17-117-01b: 'General Electric (GE)', '369 Motor Protection Relay' exactly 3.63 and \
              '… firmware' < 3.63: a DNP3 device saying 'GE' at 3.63 is likely (the exact version).",
        identity: &[
            ("vendor", "GE"),
            ("product_and_model", "369 Motor Protection Relay"),
            ("software_version", "3.63"),
        ],
        present: &[("ICSA-17-117-01B", "CVE-2017-7905", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-17-117-01b: the 369 relay at 3.70 is neither 3.63 nor < 3.63: not matched.",
        identity: &[
            ("vendor", "GE Multilin"),
            ("product_and_model", "369 Motor Protection Relay"),
            ("software_version", "3.70"),
        ],
        present: &[],
        absent: &["ICSA-17-117-01B"],
    },
    Case {
        why: "icsa-22-242-10: PTC 'Kepware KEPServerEX' '< 6.12'; an OPC UA server whose BuildInfo says \
              'Kepware' (PTC's), product KEPServerEX 6.11.718.0: likely. icsa-20-352-02 '>= 6.0 | <= 6.9' \
              excludes 6.11.",
        identity: &[
            ("manufacturer_name", "Kepware"),
            ("product_name", "KEPServerEX"),
            ("software_version", "6.11.718.0"),
        ],
        present: &[("ICSA-22-242-10", "CVE-2022-2848", Likely)],
        absent: &["ICSA-20-352-02"],
    },
    Case {
        why: "icsa-20-352-02: KEPServerEX '>= 6.0 | <= 6.9' (CISA's vers-like list): 6.9 is inside.",
        identity: &[
            ("manufacturer_name", "PTC Inc."),
            ("product_name", "KEPServerEX"),
            ("software_version", "6.9"),
        ],
        present: &[("ICSA-20-352-02", "CVE-2020-27265", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-19-057-01: Moxa 'EDS-405A series' '<= 3.8': an EDS-405A-MM-SC (the model extends the \
              family name) at V3.8 is likely.",
        identity: &[
            ("vendor", "Moxa"),
            ("model_name", "EDS-405A-MM-SC"),
            ("revision", "V3.8"),
        ],
        present: &[("ICSA-19-057-01", "CVE-2019-6557", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-19-057-01: the EDS-405A at V3.9 is after <= 3.8: not matched.",
        identity: &[
            ("vendor", "Moxa Technologies Co., Ltd."),
            ("model_name", "EDS-405A-MM-SC"),
            ("revision", "V3.9"),
        ],
        present: &[],
        absent: &["ICSA-19-057-01"],
    },
    Case {
        why: "Negative: icsa-19-353-01 is Moxa 'EDS-G508E Series' <= 6.0; an EDS-405A (similar name, \
              another product) at V3.0 must not match it (while icsa-19-057-01's EDS-405A does).",
        identity: &[
            ("vendor", "Moxa"),
            ("model_name", "EDS-405A"),
            ("revision", "V3.0"),
        ],
        present: &[("ICSA-19-057-01", "CVE-2019-6557", Likely)],
        absent: &["ICSA-19-353-01"],
    },
    Case {
        why: "Negative: an S7-1200 must not match Rockwell's or Schneider's advisories, and no \
              'SIMATIC'-only similarity counts: the S7-1500 Software Controller of icsa-17-339-01 is not it.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 214-1AG40-0XB0"),
            ("firmware_version", "V4.0.0"),
        ],
        present: &[("ICSA-17-339-01", "CVE-2017-12741", Likely)],
        absent: &["ICSA-23-193-01", "ICSA-18-086-01"],
    },
    Case {
        why: "Negative: an asset announcing nothing matches nothing.",
        identity: &[],
        present: &[],
        absent: &["ICSA-17-339-01"],
    },
    Case {
        why: "Negative: a product name without the vendor matches nothing (vendor → product walk).",
        identity: &[
            ("product_name", "WebAccess/SCADA"),
            ("software_version", "8.3.4"),
        ],
        present: &[],
        absent: &["ICSA-19-178-05"],
    },
    Case {
        why: "icsa-22-069-12 (RUGGEDCOM RS910LNC, vers:all/<V4.3.8) without model numbers: a RUGGEDCOM \
              device naming itself RS910LNC at ROS V4.3.7 is likely.",
        identity: &[
            ("vendor", "Siemens"),
            ("product_name", "RUGGEDCOM RS910LNC"),
            ("software_version", "ROS v4.3.7"),
        ],
        present: &[("ICSA-22-069-12", "", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-22-104-04: SCALANCE WAM763-1 (6GK5763-1AL00-7DA0) vers:all/* with the vendor fix \
              'Update to V1.2 or later version' for CVE-2020-24588: V1.1 is possible (all versions) with \
              the fix shown.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6GK5763-1AL00-7DA0"),
            ("firmware_version", "V1.1"),
        ],
        present: &[("ICSA-22-104-04", "CVE-2020-24588", Possible)],
        absent: &[],
    },
    Case {
        why: "icsa-22-104-04: the WAM763-1 at V1.2, the version the vendor fix names: CVE-2020-24588 is not \
              matched although the range says all versions.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6GK5763-1AL00-7DA0"),
            ("firmware_version", "V1.2"),
        ],
        present: &[],
        absent: &["ICSA-22-104-04 CVE-2020-24588"],
    },
    Case {
        why: "icsa-19-211-01 (URGENT/11): Wind River 'VxWorks 7' 'SR620' is known_not_affected by \
              CVE-2019-12256: never matched for it (the 'VxWorks' '>=5.3|<=6.4' product excludes SR620 too).",
        identity: &[
            ("vendor", "Wind River"),
            ("product_name", "VxWorks 7"),
            ("software_version", "SR620"),
        ],
        present: &[],
        absent: &["ICSA-19-211-01 CVE-2019-12256"],
    },
    Case {
        why: "icsa-20-245-01: Mitsubishi 'Q03UDVCPU' '<=the_first_5_digits_of_serial_number_22031': a \
              range the evaluator cannot read (a serial-number bound): possible, with the text, not dropped.",
        identity: &[
            ("vendor", "Mitsubishi Electric"),
            ("product_name", "Q03UDVCPU"),
            ("revision", "22"),
        ],
        present: &[("ICSA-20-245-01", "", Possible)],
        absent: &[],
    },
    Case {
        why: "icsa-17-045-03: SIMATIC Logon 'All versions < V1.5 SP3 Update 2' (free text with SP and \
              Update): V1.5 SP3 Update 1 is inside: likely.",
        identity: &[
            ("vendor", "Siemens"),
            ("product_name", "SIMATIC Logon"),
            ("software_version", "V1.5 SP3 Update 1"),
        ],
        present: &[("ICSA-17-045-03", "", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-17-045-03: SIMATIC Logon V1.5 SP3 Update 2 is the first fixed version: not matched.",
        identity: &[
            ("vendor", "Siemens"),
            ("product_name", "SIMATIC Logon"),
            ("software_version", "V1.5 SP3 Update 2"),
        ],
        present: &[],
        absent: &["ICSA-17-045-03"],
    },
    Case {
        why: "icsa-21-222-05: 'SIMATIC ET 200SP Open Controller CPU 1515SP PC2 (incl. SIPLUS variants)' \
              'All versions < V0209_0105' (an underscore version): V0209_0104 likely.",
        identity: &[
            ("vendor", "Siemens"),
            (
                "product_name",
                "SIMATIC ET 200SP Open Controller CPU 1515SP PC2",
            ),
            ("software_version", "V0209_0104"),
        ],
        present: &[("ICSA-21-222-05", "", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-19-043-05: SIMATIC IPC547E 'All versions < R1.30.0' (an R-prefixed BIOS version): \
              R1.29.0 likely.",
        identity: &[
            ("vendor", "Siemens"),
            ("product_name", "SIMATIC IPC547E"),
            ("firmware_version", "R1.29.0"),
        ],
        present: &[("ICSA-19-043-05", "", Likely)],
        absent: &[],
    },
    Case {
        why: "icsa-19-344-06: the S7-1200 family '< 4.4.0' (both CVEs) and '>= 4.4.0 (only affected by \
              CVE-2019-10943)': V4.5.0 gets CVE-2019-10943 only (likely: the condition names the CVE), \
              not CVE-2019-10929; the remediation 'Update to v4.4.0', inside the product's own range, does \
              not hide it.",
        identity: &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 214-1AG40-0XB0"),
            ("firmware_version", "V4.5.0"),
        ],
        present: &[("ICSA-19-344-06", "CVE-2019-10943", Likely)],
        absent: &["ICSA-19-344-06 CVE-2019-10929"],
    },
    Case {
        why: "icsa-22-069-03: 'SINEMA Server V14' vers:all/*: all versions of the V14 line the product name \
              states: V14 SP2 is in it (likely). icsa-22-104-05 'All versions V14 < V14 SP3' (free text, \
              from V14 below SP3) includes it; icsa-20-161-04 '< V14 SP3' too; icsa-19-099-03 '< V14 SP2' not.",
        identity: &[
            ("vendor", "Siemens"),
            ("product_name", "SINEMA Server"),
            ("software_version", "V14 SP2"),
        ],
        present: &[
            ("ICSA-22-069-03", "CVE-2022-24281", Likely),
            ("ICSA-22-104-05", "CVE-2021-3449", Likely),
            ("ICSA-20-161-04", "CVE-2020-7580", Likely),
        ],
        absent: &["ICSA-19-099-03"],
    },
    Case {
        why: "icsa-22-069-03: 'SINEMA Server V14' vers:all/*: a SINEMA Server V15 is another line: not \
              matched.",
        identity: &[
            ("vendor", "Siemens"),
            ("product_name", "SINEMA Server"),
            ("software_version", "V15"),
        ],
        present: &[],
        absent: &["ICSA-22-069-03", "ICSA-22-104-05"],
    },
    Case {
        why: "icsa-20-065-01: WAGO 'Series PFC200' with the version branch '750-82xx/xxx-xxx' (CISA put the \
              order number pattern where the version goes): unreadable as a version, so the PFC200 is \
              possible with the text shown, not dropped.",
        identity: &[
            ("vendor", "WAGO Kontakttechnik GmbH & Co. KG"),
            ("product_name", "750-8202 PFC200"),
            ("software_version", "03.00.39"),
        ],
        present: &[("ICSA-20-065-01", "CVE-2019-5073", Possible)],
        absent: &[],
    },
];

#[test]
fn a_vendor_from_the_oui_alone_lowers_the_confidence() {
    // icsa-22-167-14: the XP216EEC's order number at V4.3 is confirmed when the device announces
    // Siemens; when only the MAC OUI says Siemens, the same match is likely.
    let identity: BTreeMap<String, String> = [
        ("vendor", "Siemens AG"),
        ("order_number", "6GK5216-0HA00-2ES6"),
        ("firmware_version", "V4.3"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let sources: BTreeMap<String, String> = [("vendor".to_owned(), "oui".to_owned())].into();
    let matches = index().matches(&AssetIdentity::from_attributes(&identity, &sources));
    let m = matches
        .iter()
        .find(|m| m.advisory == "ICSA-22-167-14")
        .unwrap_or_else(|| panic!("no match:\n{}", describe(&matches)));
    assert_eq!(m.confidence, Likely);
    assert!(
        m.reason.as_deref().is_some_and(|r| r.contains("OUI")),
        "{:?}",
        m.reason
    );
}

#[test]
fn a_match_carries_its_evidence_scores_and_remediations() {
    // icsa-22-223-07: SCALANCE XP216EEC (6GK5216-0HA00-2ES6), vers:all/<V4.4, 'Update to V4.4 or later
    // version'.
    let matches = index().matches(&asset(&[
        ("vendor", "Siemens"),
        ("order_number", "6GK5 216-0HA00-2ES6"),
        ("firmware_version", "V4.3"),
    ]));
    let m = matches
        .iter()
        .find(|m| m.advisory == "ICSA-22-223-07" && m.cve.as_deref() == Some("CVE-2022-36323"))
        .unwrap_or_else(|| panic!("no match:\n{}", describe(&matches)));
    let fields: Vec<&str> = m.evidence.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["vendor", "model_numbers", "product_version_range"]);
    let model = &m.evidence[1];
    assert_eq!(
        (model.attribute.as_str(), model.source.as_str()),
        ("order_number", "s7:szl-0x0011")
    );
    assert_eq!(model.advisory_value, "6GK5216-0HA00-2ES6");
    assert_eq!(m.range.as_deref(), Some("vers:all/<V4.4"));
    assert!(m.cvss.is_some(), "{m:?}");
    assert!(m.cwe.is_some(), "{m:?}");
    assert!(
        m.remediations
            .iter()
            .any(|r| r.category == "vendor_fix" && r.fixed_version.as_deref() == Some("V4.4")),
        "{:?}",
        m.remediations
    );
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["confidence"], "confirmed");
}

fn describe(matches: &[Match]) -> String {
    matches
        .iter()
        .map(|m| {
            format!(
                "  {} {} {:?} {} [{}]",
                m.advisory,
                m.cve.as_deref().unwrap_or("-"),
                m.confidence,
                m.product,
                m.range.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn hand_picked_identities_match_the_advisories_they_should() {
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let index = index();
    let mut failures = Vec::new();
    for case in CASES {
        let matches = index.matches(&asset(case.identity));
        for (advisory, cve, confidence) in case.present {
            let found = matches.iter().find(|m| {
                m.advisory == *advisory && (cve.is_empty() || m.cve.as_deref() == Some(cve))
            });
            match found {
                Some(m) if m.confidence == *confidence => {}
                Some(m) => failures.push(format!(
                    "{}\n  {advisory} {cve}: {:?}, expected {confidence:?} ({:?})",
                    case.why, m.confidence, m.reason
                )),
                None => failures.push(format!(
                    "{}\n  {advisory} {cve} missing; matched:\n{}",
                    case.why,
                    describe(&matches)
                )),
            }
        }
        for absent in case.absent {
            // `ADVISORY` or `ADVISORY CVE`.
            let (advisory, cve) = absent.split_once(' ').unwrap_or((absent, ""));
            if let Some(m) = matches.iter().find(|m| {
                m.advisory == advisory && (cve.is_empty() || m.cve.as_deref() == Some(cve))
            }) {
                failures.push(format!(
                    "{}\n  {advisory} matched ({:?}, {}, range {:?})",
                    case.why, m.confidence, m.product, m.range
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Prints what typical devices match, for reading by eye:
/// `cargo test -p faro-collector --test intel_matching -- --ignored --nocapture`.
#[test]
#[ignore = "an audit to read, not a check"]
fn audit_typical_devices() {
    let devices: &[&[(&str, &str)]] = &[
        &[
            ("vendor", "Schneider Electric"),
            ("product_code", "BMX P34 2020"),
            ("revision", "v2.90"),
        ],
        &[
            ("vendor", "Schneider Electric"),
            ("product_code", "TM241CE40R"),
            ("revision", "v5.0"),
        ],
        &[
            ("vendor", "Rockwell Automation"),
            ("product_name", "1756-EN2T"),
            ("revision", "5.008"),
        ],
        &[
            ("vendor", "Moxa"),
            ("model_name", "EDS-405A-MM-SC"),
            ("revision", "V3.8"),
        ],
        &[
            ("vendor", "WAGO"),
            ("product_name", "750-8202 PFC200"),
            ("software_version", "03.00.39"),
        ],
        &[
            ("vendor", "Phoenix Contact"),
            ("product_name", "AXC F 2152"),
            ("software_version", "2021.0"),
        ],
        &[
            ("vendor", "Mitsubishi Electric"),
            ("product_name", "R120CPU"),
            ("revision", "45"),
        ],
        &[
            ("vendor", "Beckhoff"),
            ("product_name", "TwinCAT"),
            ("software_version", "3.1"),
        ],
        &[
            ("vendor", "Hitachi Energy"),
            ("product_name", "RTU500"),
            ("software_version", "12.7.1"),
        ],
        &[
            ("vendor", "Siemens"),
            ("order_number", "6ES7 516-3AN01-0AB0"),
            ("firmware_version", "V2.8.3"),
        ],
        &[
            ("vendor", "Siemens"),
            ("product_name", "SCALANCE X208"),
            ("firmware_version", "V4.0"),
        ],
        &[
            ("vendor", "Schweitzer Engineering Laboratories"),
            ("product_and_model", "SEL-751"),
            ("software_version", "R100"),
        ],
    ];
    for device in devices {
        let matches = index().matches(&asset(device));
        println!(
            "{device:?}: {} matches\n{}\n",
            matches.len(),
            describe(&matches)
        );
    }
}
