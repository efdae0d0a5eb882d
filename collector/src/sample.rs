//! Synthetic summaries shaped like a sensor's (PLCs, HMIs, polling edges,
//! findings) for tests and the ingestion benchmark.

use std::collections::BTreeMap;

use faro_protocols::uplink::{
    AssetDelta, EdgeDelta, EdgeKey, FindingDelta, KnownRef, SCHEMA, Summary, ZoneRef,
};

/// A summary of `sensor` at `site` with sequence `sequence` and the given
/// numbers of assets, edges and findings; counts grow with the sequence, as
/// cumulative counts do.
pub fn summary(
    sensor: &str,
    site: &str,
    sequence: u64,
    assets: usize,
    edges: usize,
    findings: usize,
) -> Summary {
    let ip = |i: usize| format!("10.10.{}.{}", i / 200, i % 200 + 10);
    let asset_list = (0..assets)
        .map(|i| AssetDelta {
            ip: ip(i),
            mac: Some(format!("00:1b:1b:00:{:02x}:{:02x}", i / 256, i % 256)),
            roles: vec![if i % 5 == 0 { "hmi" } else { "plc" }.to_owned()],
            protocols: vec!["modbus".to_owned(), "s7comm".to_owned()],
            identity: BTreeMap::from([
                ("vendor".to_owned(), "Siemens".to_owned()),
                ("order_number".to_owned(), format!("6ES7 315-2EH14-0AB{i}")),
                ("firmware".to_owned(), "V3.2.6".to_owned()),
                ("serial".to_owned(), format!("S C-X4U{i:08}")),
            ]),
            identity_sources: BTreeMap::new(),
            posture: BTreeMap::from([
                ("cpu_mode".to_owned(), "run".to_owned()),
                ("protection_level".to_owned(), "1".to_owned()),
            ]),
            first_seen: "2026-01-10T08:00:00Z".to_owned(),
            last_seen: format!("2026-01-10T08:{:02}:00Z", sequence % 60),
            zone: Some(if i % 5 == 0 {
                ZoneRef {
                    name: "supervisory".to_owned(),
                    purdue_level: "2".to_owned(),
                    criticality: "medium".to_owned(),
                }
            } else {
                ZoneRef {
                    name: format!("cell-{}", i / 50),
                    purdue_level: "1".to_owned(),
                    criticality: "high".to_owned(),
                }
            }),
            known: (i % 7 == 0).then(|| KnownRef {
                name: format!("PLC-{i:03}"),
                owner: Some("process control".to_owned()),
                criticality: Some("critical".to_owned()),
                role: None,
            }),
        })
        .collect();
    // Distinct for i < 2 × assets: each asset polled over Modbus, then over S7, by one of three hosts.
    let n = assets.max(1);
    let edge = |i: usize| {
        let s7 = (i / n) % 2 == 1;
        EdgeKey {
            client: format!("10.10.99.{}", 10 + i % 3),
            server: ip(i % n),
            server_port: if s7 { 102 } else { 502 },
            protocol: if s7 { "s7comm" } else { "modbus" }.to_owned(),
        }
    };
    let edge_list = (0..edges)
        .map(|i| {
            let k = edge(i);
            EdgeDelta {
                client: k.client,
                server: k.server,
                server_port: k.server_port,
                transport: "tcp".to_owned(),
                protocol: k.protocol,
                functions: BTreeMap::from([
                    ("3".to_owned(), 1000 * sequence + i as u64),
                    ("16".to_owned(), 10 * sequence),
                    ("ud-4-1".to_owned(), sequence),
                ]),
                first_seen: "2026-01-10T08:00:00Z".to_owned(),
                last_seen: format!("2026-01-10T08:{:02}:00Z", sequence % 60),
            }
        })
        .collect();
    let finding_list = (0..findings)
        .map(|i| FindingDelta {
            rule: format!("modbus.write.{}", i % 4),
            severity: "high".to_owned(),
            attack: vec!["T0836".to_owned(), "T0855".to_owned()],
            title: "Modbus write to a controller".to_owned(),
            asset: if i % 2 == 0 { Some(ip(i)) } else { None },
            edge: if i % 2 == 0 { None } else { Some(edge(i)) },
            first_seen: "2026-01-10T08:00:00Z".to_owned(),
            last_seen: format!("2026-01-10T08:{:02}:00Z", sequence % 60),
            count: sequence * 3,
            sample_flow: Some(format!("10.10.0.10:49152 -> {}:502", ip(i))),
            values: vec!["unit 1".to_owned(), "holding 40001-40010".to_owned()],
            exposure: Some("unauthenticated_control".to_owned()),
        })
        .collect();
    Summary {
        schema: SCHEMA.to_owned(),
        sensor_id: sensor.to_owned(),
        site: site.to_owned(),
        sequence,
        window_start: "2026-01-10T08:00:00Z".to_owned(),
        window_end: "2026-01-10T08:05:00Z".to_owned(),
        assets: asset_list,
        edges: edge_list,
        findings: finding_list,
        counters: serde_json::json!({ "packets": 120_000 * sequence, "malformed": 0, "shed": {} }),
    }
}
