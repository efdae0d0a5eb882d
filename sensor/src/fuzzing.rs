//! The body of the whole-pipeline cargo-fuzz target, here so that the fuzzer
//! and the corpus-replay test run exactly the same code.
//!
//! Input layout: one byte choosing the link type, then frames, each a
//! big-endian `u16` length and that many bytes. Small capacity limits make the
//! fuzzer reach every shedding path.

use faro_firmware_config::CapacityLimits;

use crate::capture::Frame;
use crate::decode::LinkType;
use crate::pipeline::Pipeline;
use crate::report::table;

/// Link types in the order the first input byte selects them.
pub const LINK_TYPES: [LinkType; 5] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::RawIp,
    LinkType::Loopback,
];

/// Encodes frames in the layout [`pipeline`] reads (used to write seeds).
pub fn encode_frames<'a>(link_index: u8, frames: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![link_index];
    for frame in frames {
        let len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(frame.get(..usize::from(len)).unwrap_or(frame));
    }
    out
}

/// Runs frames through the whole pipeline and renders the report both ways.
pub fn pipeline(data: &[u8]) {
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let link = LINK_TYPES
        .get(usize::from(selector) % LINK_TYPES.len())
        .copied()
        .unwrap_or(LinkType::Ethernet);
    let limits = CapacityLimits {
        max_flows: 8,
        reassembly_window_bytes: 4096,
        reassembly_max_segments: 4,
        reassembly_budget_bytes: 8192,
        max_pending_transactions: 4,
        max_assets: 16,
        max_edges: 8,
        max_ranges_per_table: 4,
        ..CapacityLimits::default()
    };
    let mut pipeline = Pipeline::new(limits).with_max_findings(16);
    let mut ts = 1_700_000_000_000_000_000u64;
    while let (Some(len), Some(after)) = (rest.get(..2), rest.get(2..)) {
        let len = usize::from(u16::from_be_bytes([
            len.first().copied().unwrap_or(0),
            len.get(1).copied().unwrap_or(0),
        ]));
        let frame = after.get(..len).unwrap_or(after);
        rest = after.get(frame.len()..).unwrap_or_default();
        pipeline.process(
            link,
            &Frame {
                ts_nanos: ts,
                wire_len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
                data: frame,
            },
        );
        ts += 1_000_000;
    }
    let outcome = pipeline.finish();
    // The rules run over whatever the frames made of the inventory, in a
    // configuration with zones and a policy so every rule is evaluated.
    static CONFIG: std::sync::OnceLock<faro_firmware_config::Config> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(fuzz_config);
    let report = outcome.into_report(Vec::new(), config);
    let _ = serde_json::to_string(&report);
    let _ = table::render(&report);
}

/// Two zones at different Purdue levels, a read-only policy, a silenced rule.
fn fuzz_config() -> faro_firmware_config::Config {
    const TEXT: &str = r#"
[sensor]
id = "fuzz"
site = "fuzz"

[[zones]]
name = "control"
cidrs = ["10.0.0.0/16", "fd00::/16"]
purdue_level = 1

[[zones]]
name = "operations"
cidrs = ["10.1.0.0/16"]
purdue_level = 3

[[policy]]
from = "any"
to = "control"
protocol = "any"
access = ["read"]

[[silence]]
rule = "modbus.write"
address = "10.0.0.1"
reason = "fuzzing"

[findings]
learning_period_secs = 0
"#;
    faro_firmware_config::parse(TEXT, std::path::Path::new("fuzz.toml"), &[])
        .unwrap_or_else(|_| faro_firmware_config::Config::for_analyze())
}
