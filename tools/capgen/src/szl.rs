//! System Status List records, as an S7-300/400 CPU lays them out in a Read SZL response.
//! `faro_protocols::s7` decodes these records but has no encoder for them, so their layouts are
//! written here, once, from Wireshark's `packet-s7comm_szl_ids.c` (facts only) and the lengths
//! the project's decoder declares:
//!
//! ```text
//!  xy11 module identification (28):   index (2) | order number (20, space-padded) | module type (2) | ausbg (2) | ausbe (2)
//!  xy1C component identification (34): index (2) | text (32, NUL-padded)
//!  0132 index 4 protection (40):       index (2) | key (2) | param (2) | real (2) | bart_sch (2) | crst_wrst (2) | reserved (28)
//!  0424 mode transition (20):          ereig (2) | ae (1) | bzu-id (1) | reserved (4) | anlinfo1-4 (4) | time stamp (8)
//! ```
//!
//! The partial list header around the records (id, index, record length, count) is the
//! project's `write_szl_response`.

use anyhow::{Result, bail};
use faro_protocols::s7::szl::{
    MODULE_IDENTIFICATION_LEN, OPERATING_MODE_LEN, ORDER_NUMBER_LEN, PROTECTION_INDEX,
    PROTECTION_LEN,
};

/// Length of the text of a component identification record.
pub(crate) const COMPONENT_TEXT_LEN: usize = 32;
/// Length of a component identification record: index and text.
pub(crate) const COMPONENT_IDENTIFICATION_LEN: usize = 2 + COMPONENT_TEXT_LEN;

/// Module identification record indexes (SZL xy11).
pub(crate) mod module_index {
    /// The module itself.
    pub(crate) const MODULE: u16 = 0x0001;
    /// Basic hardware.
    pub(crate) const BASIC_HARDWARE: u16 = 0x0006;
    /// Basic firmware: Ausbg is `V` and the major version, Ausbe minor and patch.
    pub(crate) const BASIC_FIRMWARE: u16 = 0x0007;
}

/// `text` in a field of `len` bytes, padded with `pad`; refuses text that does not fit.
fn padded(out: &mut Vec<u8>, text: &[u8], len: usize, pad: u8) -> Result<()> {
    if text.len() > len {
        bail!(
            "SZL text {:?} is longer than {len} bytes",
            String::from_utf8_lossy(text)
        );
    }
    out.extend_from_slice(text);
    out.resize(out.len() + len - text.len(), pad);
    Ok(())
}

/// Appends a module identification record (SZL xy11).
pub(crate) fn module_identification(
    out: &mut Vec<u8>,
    index: u16,
    order_number: &str,
    module_type: u16,
    ausbg: u16,
    ausbe: u16,
) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&index.to_be_bytes());
    padded(out, order_number.as_bytes(), ORDER_NUMBER_LEN, b' ')?;
    for field in [module_type, ausbg, ausbe] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    debug_assert_eq!(out.len() - start, MODULE_IDENTIFICATION_LEN);
    Ok(())
}

/// Appends a component identification record (SZL xy1C).
pub(crate) fn component_identification(out: &mut Vec<u8>, index: u16, text: &str) -> Result<()> {
    out.extend_from_slice(&index.to_be_bytes());
    padded(out, text.as_bytes(), COMPONENT_TEXT_LEN, 0)
}

/// The protection record of SZL 0132 index 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Protection {
    /// Protection level set by the key switch (1-3).
    pub(crate) key_switch: u16,
    /// Assigned protection level (0 none assigned, 1-3); 1 is full access without a password.
    pub(crate) assigned: u16,
    /// Valid protection level of the CPU (1-3).
    pub(crate) valid: u16,
    /// Mode selector position (bart_sch): 1 RUN, 2 RUN-P, 3 STOP, 4 MRES.
    pub(crate) mode_selector: u16,
    /// Startup switch position (crst_wrst): 0 none, 1 CRST, 2 WRST.
    pub(crate) startup_switch: u16,
}

/// Appends the protection record (SZL 0132 index 4).
pub(crate) fn protection(out: &mut Vec<u8>, p: &Protection) {
    let start = out.len();
    for field in [
        PROTECTION_INDEX,
        p.key_switch,
        p.assigned,
        p.valid,
        p.mode_selector,
        p.startup_switch,
    ] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    out.resize(start + PROTECTION_LEN, 0);
}

/// A mode transition record (SZL 0424, or 0124 for the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModeTransition {
    /// Event id of the transition (ereig).
    pub(crate) event_id: u16,
    /// Mode entered (bzu-id bits 0-3): 4 STOP (internal), 8 RUN...
    pub(crate) requested: u8,
    /// Mode left (bzu-id bits 4-7): 5 STARTUP (complete restart)...
    pub(crate) previous: u8,
    /// Startup information (anlinfo1-4).
    pub(crate) startup_info: [u8; 4],
    /// When, as an S7 DATE_AND_TIME (BCD).
    pub(crate) time: [u8; 8],
}

/// `ae`, always B#16#FF.
const MODE_TRANSITION_AE: u8 = 0xFF;

/// Appends a mode transition record (SZL 0424).
pub(crate) fn mode_transition(out: &mut Vec<u8>, m: &ModeTransition) {
    let start = out.len();
    out.extend_from_slice(&m.event_id.to_be_bytes());
    out.push(MODE_TRANSITION_AE);
    out.push((m.previous << 4) | (m.requested & 0x0F));
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&m.startup_info);
    out.extend_from_slice(&m.time);
    debug_assert_eq!(out.len() - start, OPERATING_MODE_LEN);
}

#[cfg(test)]
mod tests {
    use faro_protocols::s7::comm::SzlResponse;
    use faro_protocols::s7::szl::{self, SzlRecord};

    use super::*;

    fn decoded(szl_id: u16, index: u16, record_len: usize, records: &[u8]) -> Vec<SzlRecord<'_>> {
        let response = SzlResponse {
            szl_id,
            index,
            record_len: u16::try_from(record_len).unwrap(),
            record_count: u16::try_from(records.len() / record_len).unwrap(),
            records,
        };
        szl::records(&response).collect()
    }

    #[test]
    fn the_project_decoder_reads_every_record_back() {
        let mut out = Vec::new();
        module_identification(&mut out, 1, "6ES7 315-2EH14-0AB0", 0x00C0, 4, 1).unwrap();
        module_identification(&mut out, 7, "", 0x00C0, 0x5603, 0x0206).unwrap();
        let records = decoded(0x0011, 0, MODULE_IDENTIFICATION_LEN, &out);
        let SzlRecord::ModuleIdentification { order_number, .. } = records[0] else {
            panic!("{records:?}")
        };
        assert_eq!(szl::trim(order_number), b"6ES7 315-2EH14-0AB0");
        let SzlRecord::ModuleIdentification { ausbg, ausbe, .. } = records[1] else {
            panic!("{records:?}")
        };
        assert_eq!(szl::firmware_version(ausbg, ausbe), Some([3, 2, 6]));

        let mut out = Vec::new();
        component_identification(&mut out, 5, "S C-C2UR28922012").unwrap();
        assert_eq!(out.len(), COMPONENT_IDENTIFICATION_LEN);
        assert_eq!(
            decoded(0x001C, 0, COMPONENT_IDENTIFICATION_LEN, &out),
            [SzlRecord::ComponentIdentification {
                index: 5,
                text: &out[2..]
            }]
        );
        assert!(component_identification(&mut out, 1, &"x".repeat(33)).is_err());

        let mut out = Vec::new();
        let p = Protection {
            key_switch: 1,
            assigned: 1,
            valid: 1,
            mode_selector: szl::mode_selector::RUN_P,
            startup_switch: 0,
        };
        protection(&mut out, &p);
        assert_eq!(
            decoded(0x0132, 4, PROTECTION_LEN, &out),
            [SzlRecord::Protection {
                key_switch: 1,
                protection_level_param: 1,
                protection_level_real: 1,
                mode_selector: 2,
                startup_switch: 0
            }]
        );

        let mut out = Vec::new();
        mode_transition(
            &mut out,
            &ModeTransition {
                event_id: 0x4302,
                requested: 0x8,
                previous: 0x5,
                startup_info: [0; 4],
                time: [0x26, 0x01, 0x05, 0x07, 0x58, 0x12, 0x34, 0x52],
            },
        );
        assert_eq!(
            decoded(0x0424, 0, OPERATING_MODE_LEN, &out),
            [SzlRecord::OperatingMode {
                event_id: 0x4302,
                requested_mode: 8,
                previous_mode: 5
            }]
        );
    }
}
