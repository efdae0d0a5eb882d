//! The human-readable rendering of a [`Report`].

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::Report;

/// An empty table in the house style, with `header`.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// Renders the report as text tables.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mut assets = table(&[
        "Asset",
        "MAC",
        "VLAN",
        "Roles",
        "Protocols",
        "Identity",
        "Posture",
    ]);
    for a in &report.assets {
        let identity = [
            "vendor",
            "product_name",
            "module_type_name",
            "order_number",
            "product_code",
            "model_name",
            "product_and_model",
            "device_name",
            "revision",
            "firmware_version",
            "software_version",
            "application_name",
            "application_uri",
            "product_uri",
        ]
        .iter()
        .filter_map(|k| a.identity.get(*k).map(String::as_str))
        .collect::<Vec<_>>();
        let mut identity_seen = Vec::new();
        for v in identity {
            if !identity_seen.contains(&v) {
                identity_seen.push(v);
            }
        }
        // The OUI's vendor is a hint, not what the device says: marked so.
        let mac_vendor = a
            .identity
            .get(super::MAC_VENDOR)
            .map(|vendor| format!("{vendor} (MAC OUI)"));
        identity_seen.extend(mac_vendor.as_deref());
        let mut posture: Vec<String> = a.posture.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Some(opcua) = &a.opcua {
            // Short policy names: the URIs share one prefix.
            let short = |uri: &str| uri.rsplit('#').next().unwrap_or(uri).to_owned();
            let list = |items: Vec<String>| items.join(",");
            if !opcua.security_modes.is_empty() {
                posture.push(format!(
                    "offers modes={} policies={} tokens={}",
                    list(opcua.security_modes.iter().cloned().collect()),
                    list(opcua.security_policies.iter().map(|p| short(p)).collect()),
                    list(opcua.token_types.iter().cloned().collect()),
                ));
            }
            for c in &opcua.details.certificates {
                posture.push(format!(
                    "cert {} {}{} {} until {}{}",
                    c.subject,
                    c.key_algorithm,
                    c.key_bits.map(|b| format!("-{b}")).unwrap_or_default(),
                    c.signature_algorithm,
                    c.not_after.get(..10).unwrap_or(&c.not_after),
                    if c.self_signed { " self-signed" } else { "" },
                ));
            }
        }
        let posture = posture.join("\n");
        let mut name = a.ip.clone();
        if let Some(known) = &a.known {
            let _ = write!(name, "\n{}", known.name);
        }
        if let Some(zone) = &a.zone {
            let _ = write!(name, "\n{} (level {})", zone.name, zone.purdue_level);
        }
        assets.add_row(vec![
            name,
            a.mac.clone().unwrap_or_default(),
            a.vlans
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(","),
            a.roles.join(", "),
            a.protocols.join(", "),
            identity_seen.join(" · "),
            posture,
        ]);
    }
    let _ = writeln!(out, "Assets ({})\n{assets}\n", report.assets.len());

    let mut edges = table(&[
        "Client",
        "Server",
        "Protocol",
        "Requests by function",
        "Exceptions",
        "First seen",
        "Last seen",
    ]);
    for e in &report.edges {
        let functions = e
            .function_details
            .iter()
            .filter(|f| f.requests > 0)
            .map(|f| {
                format!(
                    "{}×{}",
                    f.name
                        .map_or_else(|| f.function.clone(), |n| format!("{} {n}", f.function)),
                    f.requests
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let exceptions: u64 = e.function_details.iter().map(|f| f.exceptions).sum();
        let mut protocol = format!("{}/{}", e.protocol, e.transport);
        if let Some(opcua) = &e.opcua {
            let short = |uri: &String| uri.rsplit('#').next().unwrap_or(uri).to_owned();
            let mut security: Vec<String> = opcua.security_policies.iter().map(short).collect();
            security.extend(opcua.security_modes.iter().cloned());
            security.extend(opcua.token_types.iter().cloned());
            if opcua.cleartext_passwords > 0 {
                security.push(format!("{} cleartext passwords", opcua.cleartext_passwords));
            }
            if !security.is_empty() {
                let _ = write!(protocol, "\n{}", security.join(", "));
            }
        }
        edges.add_row(vec![
            e.client.clone(),
            format!("{}:{}", e.server, e.server_port),
            protocol,
            functions,
            exceptions.to_string(),
            e.first_seen.clone(),
            e.last_seen.clone(),
        ]);
    }
    let _ = writeln!(out, "Edges ({})\n{edges}\n", report.edges.len());

    if !report.services.is_empty() {
        let mut services = table(&[
            "Client",
            "Server",
            "Service",
            "Connections",
            "TLS / cleartext / unknown",
            "First seen",
            "Last seen",
        ]);
        for e in &report.services {
            services.add_row(vec![
                e.client.clone(),
                format!("{}:{}", e.server, e.server_port),
                format!("{}/{}", e.protocol, e.transport),
                e.flows.to_string(),
                format!(
                    "{} / {} / {}",
                    e.channels.tls, e.channels.cleartext, e.channels.unknown
                ),
                e.first_seen.clone(),
                e.last_seen.clone(),
            ]);
        }
        let _ = writeln!(out, "IT services ({})\n{services}\n", report.services.len());
    }

    let mut findings = table(&[
        "Severity", "Rule", "Concerns", "Count", "Evidence", "ATT&CK",
    ]);
    for f in &report.findings {
        let concerns = match (&f.asset, &f.edge) {
            (Some(asset), _) => asset.clone(),
            (None, Some(e)) => format!(
                "{} -> {}:{} {}",
                e.client, e.server, e.server_port, e.protocol
            ),
            (None, None) => String::new(),
        };
        let mut evidence = f.evidence.values.clone();
        if let Some(flow) = &f.evidence.sample_flow {
            evidence.push(flow.clone());
        }
        findings.add_row(vec![
            f.severity.to_owned(),
            format!("{}\n{}", f.rule, f.title),
            concerns,
            f.evidence.count.to_string(),
            evidence.join("\n"),
            f.attack.join(", "),
        ]);
    }
    let silenced = if report.findings_silenced > 0 {
        format!(
            ", {} silenced by the configuration",
            report.findings_silenced
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Findings ({}{silenced})\n{findings}\n",
        report.findings.len()
    );

    let s = &report.stats;
    let _ = writeln!(
        out,
        "Packets {} ({} bytes) · flows {} (peak {}, unrecognised {}) · PDUs: Modbus {}, S7comm {}, S7comm-plus {}, DNP3 {}, OPC UA {} · malformed: {} truncated frames, {} Modbus, {} S7, {} DNP3, {} OPC UA",
        s.packets,
        s.bytes,
        s.flows.created,
        s.flows.peak,
        s.flows.unrecognised,
        s.pdus.modbus,
        s.pdus.s7comm,
        s.pdus.s7comm_plus,
        s.pdus.dnp3,
        s.pdus.opcua,
        s.malformed.truncated_packets,
        s.malformed.modbus,
        s.malformed.s7,
        s.malformed.dnp3,
        s.malformed.opcua,
    );
    let shed = [
        ("flows", s.shed.flows),
        ("reassembly holds", s.shed.reassembly_holds),
        ("reassembly bytes", s.shed.reassembly_bytes),
        ("pending transactions", s.shed.pending_transactions),
        ("assets", s.shed.assets),
        ("edges", s.shed.edges),
        ("service edges", s.shed.service_edges),
        ("address ranges", s.shed.address_ranges),
        ("COTP bytes", s.shed.cotp_bytes),
        ("edge objects", s.shed.edge_objects),
        ("DNP3 fragments", s.shed.dnp3_fragments),
        ("OPC UA messages", s.shed.opcua_messages),
        ("OPC UA values", s.shed.opcua_values),
        ("findings", s.shed.findings),
    ];
    let shed: Vec<String> = shed
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{what} {n}"))
        .collect();
    if shed.is_empty() {
        let _ = writeln!(out, "Shed: nothing");
    } else {
        let _ = writeln!(out, "Shed (capacity limits reached): {}", shed.join(", "));
    }
    for input in &report.inputs {
        if let Some(err) = &input.error {
            let _ = writeln!(out, "Input {}: {err}", input.file);
        }
    }
    out
}
