//! A finding as a SIEM takes it: a CEF event (ArcSight Common Event Format,
//! version 0) in an RFC 5424 syslog message, octet-counted (RFC 6587 §3.4.1;
//! RFC 5425 §4.3 frames syslog over TLS the same way). The field mapping is
//! documented in docs/cef.md.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::triage::severity_rank;
use crate::views::ChangedFinding;

/// CEF header: Device Vendor.
pub const VENDOR: &str = "Faro";
/// CEF header: Device Product; also the syslog APP-NAME.
pub const PRODUCT: &str = "faro-collector";
/// CEF header: Device Version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The syslog MSGID of every message.
pub const MSGID: &str = "finding";
/// The syslog facility unless configured: local4.
pub const DEFAULT_FACILITY: u8 = 20;
/// The highest syslog facility (local7).
pub const MAX_FACILITY: u8 = 23;

/// CEF Severity (0–10) by severity rank (info, low, medium, high, critical).
const CEF_SEVERITY: [u8; 5] = [1, 3, 5, 8, 10];
/// Syslog severity by severity rank: informational, notice, warning, error, critical.
const SYSLOG_SEVERITY: [u8; 5] = [6, 5, 4, 3, 2];

fn by_rank(table: &[u8; 5], severity: &str) -> u8 {
    let rank = usize::try_from(severity_rank(severity)).unwrap_or(0);
    table.get(rank).or(table.first()).copied().unwrap_or(0)
}

/// The CEF Severity of a finding's severity (unknown names count as info).
pub fn cef_severity(severity: &str) -> u8 {
    by_rank(&CEF_SEVERITY, severity)
}

/// The syslog severity (RFC 5424 §6.2.1) of a finding's severity.
pub fn syslog_severity(severity: &str) -> u8 {
    by_rank(&SYSLOG_SEVERITY, severity)
}

/// A CEF header field: backslash and pipe escaped; line breaks, which the
/// header may not hold, become spaces.
pub fn escape_header(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A CEF extension value: backslash, equals sign and line breaks escaped
/// (a pipe needs none there).
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// An RFC 3339 time as milliseconds since the epoch (CEF's date form that
/// needs no time zone); `None` when it does not parse.
pub fn epoch_ms(rfc3339: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(rfc3339).ok()?;
    let ms = t.duration_since(UNIX_EPOCH).ok()?.as_millis();
    u64::try_from(ms).ok()
}

/// Extension pairs, `key=value` separated by spaces; empty values left out.
#[derive(Default)]
struct Extension(String);

impl Extension {
    fn push(&mut self, key: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(key);
        self.0.push('=');
        self.0.push_str(&escape_value(value));
    }

    fn push_opt(&mut self, key: &str, value: Option<&str>) {
        self.push(key, value.unwrap_or(""));
    }

    /// A custom field and its label (`cs1` and `cs1Label`), when it has a value.
    fn labelled(&mut self, key: &str, label: &str, value: &str) {
        if !value.is_empty() {
            self.push(key, value);
            self.push(&format!("{key}Label"), label);
        }
    }

    fn time(&mut self, key: &str, rfc3339: Option<&str>) {
        if let Some(ms) = rfc3339.and_then(epoch_ms) {
            self.push(key, &ms.to_string());
        }
    }
}

/// One finding as a CEF:0 event.
pub fn event(changed: &ChangedFinding) -> String {
    let row = &changed.row;
    let f = &row.finding;
    let name = if f.title.trim().is_empty() {
        &f.rule
    } else {
        &f.title
    };
    let mut ext = Extension::default();
    ext.time("rt", Some(&changed.updated_at));
    ext.push("externalId", &row.id.to_string());
    ext.push("deviceExternalId", &row.sensor_id);
    if let Some(edge) = &f.edge {
        ext.push("src", &edge.client);
        ext.push("dpt", &edge.server_port.to_string());
    }
    ext.push("dst", &row.target);
    ext.push("cnt", &f.count.to_string());
    ext.time("start", Some(&f.first_seen));
    ext.time("end", Some(&f.last_seen));
    ext.labelled("cs1", "site", &row.site);
    ext.labelled("cs2", "status", &row.status);
    ext.labelled("cs3", "exposure", &row.exposure);
    ext.labelled("cs4", "protocol", &row.protocol);
    ext.labelled("cs5", "attack", &f.attack.join(" "));
    ext.labelled("cs6", "owner", row.owner.as_deref().unwrap_or(""));
    ext.labelled("cn1", "priority", &row.priority.to_string());
    if let Some(ms) = row.due.as_deref().and_then(epoch_ms) {
        ext.labelled("deviceCustomDate1", "due", &ms.to_string());
    }
    if let Some(ms) = row.expires.as_deref().and_then(epoch_ms) {
        ext.labelled("deviceCustomDate2", "expires", &ms.to_string());
    }
    ext.push_opt("suser", changed.updated_by.as_deref());
    ext.push_opt("reason", row.reason.as_deref());
    let mut msg = String::new();
    if let Some(flow) = &f.sample_flow {
        let _ = write!(msg, "flow {flow}");
    }
    if !f.values.is_empty() {
        let sep = if msg.is_empty() { "" } else { "; " };
        let _ = write!(msg, "{sep}values {}", f.values.join(", "));
    }
    ext.push("msg", &msg);
    format!(
        "CEF:0|{}|{}|{}|{}|{}|{}|{}",
        escape_header(VENDOR),
        escape_header(PRODUCT),
        escape_header(VERSION),
        escape_header(&f.rule),
        escape_header(name),
        cef_severity(&f.severity),
        ext.0
    )
}

/// What every syslog message of this collector says about its origin.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Facility (0–23; local4 is 20).
    pub facility: u8,
    /// HOSTNAME: printable ASCII, or `-`.
    pub hostname: String,
    /// PROCID: the collector's process id.
    pub procid: String,
}

impl Origin {
    /// This host and process, with `facility` (capped to local7).
    pub fn local(facility: u8) -> Self {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        Self {
            facility: facility.min(MAX_FACILITY),
            hostname: header_token(name.trim(), 255),
            procid: std::process::id().to_string(),
        }
    }
}

/// An RFC 5424 header field: printable ASCII without spaces, at most `max`
/// characters, `-` (the nil value) when nothing is left.
pub fn header_token(value: &str, max: usize) -> String {
    let token: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if token.is_empty() {
        "-".to_owned()
    } else {
        token
    }
}

/// One finding as an RFC 5424 message (no structured data; the CEF event is
/// the MSG). Its TIMESTAMP is when the finding last changed.
pub fn syslog_message(origin: &Origin, changed: &ChangedFinding) -> String {
    let pri = u16::from(origin.facility.min(MAX_FACILITY)) * 8
        + u16::from(syslog_severity(&changed.row.finding.severity));
    let timestamp = humantime::parse_rfc3339_weak(&changed.updated_at).map_or_else(
        |_| "-".to_owned(),
        |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string(),
    );
    format!(
        "<{pri}>1 {timestamp} {} {PRODUCT} {} {MSGID} - {}",
        origin.hostname,
        origin.procid,
        event(changed)
    )
}

/// Appends `message` octet-counted (`LEN SP MSG`) to `out`.
pub fn frame(message: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(message.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(message.as_bytes());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::views::FindingRow;
    use faro_protocols::uplink::{EdgeKey, FindingDelta};

    fn changed() -> ChangedFinding {
        ChangedFinding {
            row: FindingRow {
                id: 42,
                site: "plant=a".to_owned(),
                target: "10.0.0.2".to_owned(),
                protocol: "modbus".to_owned(),
                exposure: "unauthenticated_control".to_owned(),
                priority: 77,
                status: "accepted_risk".to_owned(),
                owner: Some("ops\\night".to_owned()),
                due: Some("2026-02-01T00:00:00Z".to_owned()),
                reason: Some("line 1\nline 2\r".to_owned()),
                expires: Some("2026-03-01T00:00:00Z".to_owned()),
                sensor_id: "edge-01".to_owned(),
                finding: FindingDelta {
                    rule: "modbus.write|x".to_owned(),
                    severity: "high".to_owned(),
                    attack: vec!["T0836".to_owned(), "T0855".to_owned()],
                    title: "Write a|b \\ c".to_owned(),
                    asset: None,
                    edge: Some(EdgeKey {
                        client: "10.0.0.1".to_owned(),
                        server: "10.0.0.2".to_owned(),
                        server_port: 502,
                        protocol: "modbus".to_owned(),
                    }),
                    first_seen: "2026-01-10T08:00:00Z".to_owned(),
                    last_seen: "2026-01-10T08:05:00Z".to_owned(),
                    count: 9,
                    sample_flow: None,
                    values: vec!["fc=16".to_owned()],
                    exposure: None,
                },
            },
            updated_at: "2026-01-10T08:05:01Z".to_owned(),
            updated_by: Some("analyst".to_owned()),
        }
    }

    #[test]
    fn header_fields_escape_pipes_and_backslashes_and_drop_line_breaks() {
        assert_eq!(escape_header(r"a|b\c"), r"a\|b\\c");
        assert_eq!(escape_header("x=y\r\nz"), "x=y  z");
    }

    #[test]
    fn extension_values_escape_backslashes_equals_and_line_breaks() {
        assert_eq!(escape_value(r"a\b=c|d"), r"a\\b\=c|d");
        assert_eq!(escape_value("1\n2\r3"), r"1\n2\r3");
    }

    #[test]
    fn severities_map_to_cef_and_syslog() {
        let cef: Vec<u8> = ["info", "low", "medium", "high", "critical", "bogus"]
            .iter()
            .map(|s| cef_severity(s))
            .collect();
        assert_eq!(cef, [1, 3, 5, 8, 10, 1]);
        assert_eq!(syslog_severity("critical"), 2);
        assert_eq!(syslog_severity("info"), 6);
    }

    #[test]
    fn an_event_has_the_header_and_escaped_extensions() {
        let e = event(&changed());
        let head =
            format!(r"CEF:0|Faro|faro-collector|{VERSION}|modbus.write\|x|Write a\|b \\ c|8|");
        assert!(e.starts_with(&head), "{e}");
        for part in [
            "rt=1768032301000",
            "externalId=42",
            "deviceExternalId=edge-01",
            "src=10.0.0.1",
            "dpt=502",
            "dst=10.0.0.2",
            "cnt=9",
            "start=1768032000000",
            "end=1768032300000",
            r"cs1=plant\=a cs1Label=site",
            "cs2=accepted_risk cs2Label=status",
            "cs5=T0836 T0855 cs5Label=attack",
            r"cs6=ops\\night cs6Label=owner",
            "cn1=77 cn1Label=priority",
            "deviceCustomDate1=1769904000000 deviceCustomDate1Label=due",
            "suser=analyst",
            r"reason=line 1\nline 2\r",
            r"msg=values fc\=16",
        ] {
            assert!(e.contains(part), "{part} not in {e}");
        }
        assert!(!e.contains('\n'));
    }

    #[test]
    fn a_title_left_empty_names_the_event_by_its_rule() {
        let mut c = changed();
        c.row.finding.title = " ".to_owned();
        assert!(event(&c).contains(r"|modbus.write\|x|modbus.write\|x|8|"));
    }

    #[test]
    fn syslog_messages_are_rfc5424_and_octet_counted() {
        let origin = Origin {
            facility: DEFAULT_FACILITY,
            hostname: header_token("collector one", 255),
            procid: "7".to_owned(),
        };
        let m = syslog_message(&origin, &changed());
        // local4 (20) × 8 + error (3).
        assert!(
            m.starts_with(
                "<163>1 2026-01-10T08:05:01Z collectorone faro-collector 7 finding - CEF:0|"
            ),
            "{m}"
        );
        let mut out = Vec::new();
        frame("héllo", &mut out);
        assert_eq!(out, "6 héllo".as_bytes());
        assert_eq!(header_token("", 10), "-");
    }

    /// A receiver's reading of an extension value: `\\`, `\=`, `\n`, `\r`.
    fn unescape_value(escaped: &str) -> String {
        let mut out = String::new();
        let mut chars = escaped.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn extension_values_read_back_as_written(value in "\\PC*|[=\\\\\n\r|a ]*") {
            let escaped = escape_value(&value);
            proptest::prop_assert!(!escaped.contains(['\n', '\r']));
            proptest::prop_assert_eq!(unescape_value(&escaped), value);
        }

        #[test]
        fn header_fields_hold_no_bare_pipe_and_no_line_break(value in "\\PC*|[|\\\\\n\ra]*") {
            let escaped = escape_header(&value);
            proptest::prop_assert!(!escaped.contains(['\n', '\r']));
            // Every pipe is escaped by an odd run of backslashes before it.
            let bytes = escaped.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                if *b == b'|' {
                    let run = bytes[..i].iter().rev().take_while(|c| **c == b'\\').count();
                    proptest::prop_assert!(run % 2 == 1, "{escaped}");
                }
            }
        }
    }
}
