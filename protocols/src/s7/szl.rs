//! System Status List (SZL) records of Read SZL responses, decoded for the inventory.
//!
//! The SZL id splits into module class (bits 12-15), extract number (8-11)
//! and partial list number (0-7); records are laid out by partial list:
//!
//! ```text
//!  xy11 module identification (28 bytes):  index (2) | order number (20) | module type (2) | ausbg (2) | ausbe (2)
//!  xy1C component identification (34):     index (2) | text (32, NUL-padded; index 9 binary)
//!  0132 index 4 protection (40):           index (2) | key (2) | param (2) | real (2) | bart_sch (2) | crst_wrst (2) | reserved
//!  0424 current mode transition (20):      event id (2) | 0xFF | mode ids (requested: bits 0-3, previous: 4-7) | ...
//! ```
//!
//! Layouts follow Wireshark's `packet-s7comm_szl_ids.c`; iteration is bounded
//! by the record count and the bytes present, so a truncated response yields
//! the complete records it holds and stops.

use crate::cursor::Reader;
use crate::error::Layer;

use super::comm::SzlResponse;

/// Length of a module identification record (SZL xy11).
pub const MODULE_IDENTIFICATION_LEN: usize = 28;
/// Length of the order number (MLFB) in a module identification record.
pub const ORDER_NUMBER_LEN: usize = 20;
/// Length of a protection record (SZL 0132 index 4), reserved bytes included.
pub const PROTECTION_LEN: usize = 40;
/// Length of a mode transition record (SZL 0424).
pub const OPERATING_MODE_LEN: usize = 20;

/// Partial list numbers (low byte of the SZL id).
pub mod partial_list {
    /// Module identification.
    pub const MODULE_IDENTIFICATION: u8 = 0x11;
    /// Component identification.
    pub const COMPONENT_IDENTIFICATION: u8 = 0x1C;
    /// Modes (mode transitions).
    pub const MODES: u8 = 0x24;
    /// Communication status data.
    pub const COMMUNICATION_STATUS: u8 = 0x32;
}

/// SZL ids the inventory asks for.
pub mod id {
    /// All module identification records.
    pub const MODULE_IDENTIFICATION: u16 = 0x0011;
    /// One module identification record, by index.
    pub const MODULE_IDENTIFICATION_ONE: u16 = 0x0111;
    /// All component identification records.
    pub const COMPONENT_IDENTIFICATION: u16 = 0x001C;
    /// One component identification record, by index.
    pub const COMPONENT_IDENTIFICATION_ONE: u16 = 0x011C;
    /// Communication status data, by index (4: protection).
    pub const COMMUNICATION_STATUS: u16 = 0x0132;
    /// Information about the last mode transition.
    pub const LAST_MODE_TRANSITION: u16 = 0x0124;
    /// The current mode transition.
    pub const CURRENT_MODE_TRANSITION: u16 = 0x0424;
}

/// Index of the protection record in SZL 0132.
pub const PROTECTION_INDEX: u16 = 0x0004;

/// Component identification indexes (SZL xy1C).
pub mod component {
    /// Name of the automation system.
    pub const AUTOMATION_SYSTEM_NAME: u16 = 0x0001;
    /// Name of the module.
    pub const MODULE_NAME: u16 = 0x0002;
    /// Plant designation of the module.
    pub const PLANT_DESIGNATION: u16 = 0x0003;
    /// Copyright entry.
    pub const COPYRIGHT: u16 = 0x0004;
    /// Serial number of the module.
    pub const SERIAL_NUMBER: u16 = 0x0005;
    /// Module type name.
    pub const MODULE_TYPE_NAME: u16 = 0x0007;
    /// Serial number of the memory card.
    pub const MEMORY_CARD_SERIAL: u16 = 0x0008;
    /// Manufacturer and profile of a CPU module (binary).
    pub const MANUFACTURER_PROFILE: u16 = 0x0009;
    /// OEM id (binary).
    pub const OEM_ID: u16 = 0x000A;
    /// Location designation of the module.
    pub const LOCATION: u16 = 0x000B;
}

/// One decoded SZL record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SzlRecord<'a> {
    /// SZL xy11: module identification (index 1 module, 6 basic hardware, 7 basic firmware).
    ModuleIdentification {
        /// Record index: 1 module, 6 basic hardware, 7 basic firmware, 0x81 boot loader...
        index: u16,
        /// Order number (MLFB), space-padded: `6ES7 315-2EH14-0AB0 `; see [`trim`].
        order_number: &'a [u8],
        /// Module type id (BGTyp).
        module_type: u16,
        /// Version of the module or release of the operating system (Ausbg); see [`firmware_version`].
        ausbg: u16,
        /// Release of the PG description file (Ausbe).
        ausbe: u16,
    },
    /// SZL xy1C: component identification; `text` is NUL-padded ASCII
    /// (binary for indexes 9 and 10), see [`trim`] and [`component`].
    ComponentIdentification {
        /// Record index, see [`component`].
        index: u16,
        /// The record after its index.
        text: &'a [u8],
    },
    /// SZL 0132 index 4: protection status.
    Protection {
        /// Protection level set by the key switch (1, 2 or 3).
        key_switch: u16,
        /// Assigned protection level (0: no password assigned, 1-3).
        protection_level_param: u16,
        /// Effective protection level of the CPU (1-3).
        protection_level_real: u16,
        /// Position of the mode selector (bart_sch): 1 RUN, 2 RUN-P, 3 STOP, 4 MRES, 0 undefined.
        mode_selector: u16,
        /// Position of the startup switch (crst_wrst): 1 CRST, 2 WRST, 0 undefined.
        startup_switch: u16,
    },
    /// SZL 0424 (or 0124): the current (or last) mode transition.
    OperatingMode {
        /// Event id of the transition (ereig).
        event_id: u16,
        /// The mode entered (bits 0-3 of bzu-id), see [`mode_name`].
        requested_mode: u8,
        /// The mode left (bits 4-7 of bzu-id), see [`mode_name`].
        previous_mode: u8,
    },
    /// Any other record, undecoded.
    Unknown {
        /// The response's SZL id.
        szl_id: u16,
        /// The response's index.
        index: u16,
        /// The record bytes.
        record: &'a [u8],
    },
}

/// Mode selector positions of the protection record (bart_sch).
pub mod mode_selector {
    /// RUN.
    pub const RUN: u16 = 1;
    /// RUN-P (programming allowed).
    pub const RUN_P: u16 = 2;
    /// STOP.
    pub const STOP: u16 = 3;
    /// MRES (memory reset).
    pub const MRES: u16 = 4;
}

/// The `snake_case` name of a mode selector position (bart_sch).
pub fn mode_selector_name(position: u16) -> Option<&'static str> {
    Some(match position {
        0 => "undefined",
        mode_selector::RUN => "run",
        mode_selector::RUN_P => "run_p",
        mode_selector::STOP => "stop",
        mode_selector::MRES => "mres",
        _ => return None,
    })
}

/// The `snake_case` name of a mode id of SZL 0424 (bzu-id nibble).
pub fn mode_name(mode: u8) -> Option<&'static str> {
    Some(match mode {
        0x1 => "stop_update",
        0x2 => "stop_memory_reset",
        0x3 => "stop_self_initialization",
        0x4 => "stop_internal",
        0x5 => "startup_complete_restart",
        0x7 => "restart",
        0x8 => "run",
        0xA => "hold",
        0xD => "defect",
        _ => return None,
    })
}

/// The firmware version of a module identification record whose Ausbg starts
/// with `V` (index 7, basic firmware): `V3.2.6` is `[3, 2, 6]`.
pub fn firmware_version(ausbg: u16, ausbe: u16) -> Option<[u8; 3]> {
    let [tag, major] = ausbg.to_be_bytes();
    let [minor, patch] = ausbe.to_be_bytes();
    (tag == b'V').then_some([major, minor, patch])
}

/// `text` without leading spaces and trailing NULs and spaces.
pub fn trim(text: &[u8]) -> &[u8] {
    let end = text
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |i| i + 1);
    let text = text.get(..end).unwrap_or_default();
    let start = text.iter().position(|&b| b != b' ').unwrap_or(text.len());
    text.get(start..).unwrap_or_default()
}

fn decode<'a>(szl_id: u16, index: u16, record: &'a [u8]) -> Option<SzlRecord<'a>> {
    let mut r = Reader::new(record, Layer::S7comm);
    let [_, list] = szl_id.to_be_bytes();
    match list {
        partial_list::MODULE_IDENTIFICATION if record.len() >= MODULE_IDENTIFICATION_LEN => {
            Some(SzlRecord::ModuleIdentification {
                index: r.be_u16().ok()?,
                order_number: r.take(ORDER_NUMBER_LEN).ok()?,
                module_type: r.be_u16().ok()?,
                ausbg: r.be_u16().ok()?,
                ausbe: r.be_u16().ok()?,
            })
        }
        partial_list::COMPONENT_IDENTIFICATION => Some(SzlRecord::ComponentIdentification {
            index: r.be_u16().ok()?,
            text: r.rest(),
        }),
        partial_list::COMMUNICATION_STATUS
            if szl_id == id::COMMUNICATION_STATUS && index == PROTECTION_INDEX =>
        {
            if r.be_u16().ok()? != PROTECTION_INDEX {
                return None;
            }
            Some(SzlRecord::Protection {
                key_switch: r.be_u16().ok()?,
                protection_level_param: r.be_u16().ok()?,
                protection_level_real: r.be_u16().ok()?,
                mode_selector: r.be_u16().ok()?,
                startup_switch: r.be_u16().ok()?,
            })
        }
        partial_list::MODES
            if szl_id == id::CURRENT_MODE_TRANSITION || szl_id == id::LAST_MODE_TRANSITION =>
        {
            let event_id = r.be_u16().ok()?;
            r.skip(1).ok()?;
            let modes = r.u8().ok()?;
            Some(SzlRecord::OperatingMode {
                event_id,
                requested_mode: modes & 0x0F,
                previous_mode: modes >> 4,
            })
        }
        _ => None,
    }
}

/// The records of a Read SZL response, decoded where the layout is known.
///
/// Yields at most `record_count` records of `record_len` bytes each, stopping
/// at the first that the response does not hold completely (and at once for
/// a record length of 0). A record too short for its layout is `Unknown`.
pub fn records<'a>(response: &SzlResponse<'a>) -> Records<'a> {
    Records {
        szl_id: response.szl_id,
        index: response.index,
        record_len: usize::from(response.record_len),
        left: if response.record_len == 0 {
            0
        } else {
            response.record_count
        },
        r: Reader::new(response.records, Layer::S7comm),
    }
}

/// Iterator over SZL records, see [`records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    szl_id: u16,
    index: u16,
    record_len: usize,
    left: u16,
    r: Reader<'a>,
}

impl<'a> Iterator for Records<'a> {
    type Item = SzlRecord<'a>;

    fn next(&mut self) -> Option<SzlRecord<'a>> {
        if self.left == 0 {
            return None;
        }
        let Ok(record) = self.r.take(self.record_len) else {
            self.left = 0;
            return None;
        };
        self.left -= 1;
        Some(
            decode(self.szl_id, self.index, record).unwrap_or(SzlRecord::Unknown {
                szl_id: self.szl_id,
                index: self.index,
                record,
            }),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.left)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(
        szl_id: u16,
        index: u16,
        record_len: u16,
        count: u16,
        records: &[u8],
    ) -> SzlResponse<'_> {
        SzlResponse {
            szl_id,
            index,
            record_len,
            record_count: count,
            records,
        }
    }

    #[test]
    fn module_identification() {
        let mut record = vec![0x00, 0x07]; // index 7: basic firmware
        record.extend_from_slice(b"6ES7 315-2EH14-0AB0 "); // order number
        record.extend_from_slice(&[0x00, 0xC0]); // module type id
        record.extend_from_slice(&[0x56, 0x03]); // ausbg: 'V', 3
        record.extend_from_slice(&[0x02, 0x06]); // ausbe: 2, 6
        let all: Vec<_> = records(&response(0x0011, 0, 28, 1, &record)).collect();
        let [
            SzlRecord::ModuleIdentification {
                index,
                order_number,
                module_type,
                ausbg,
                ausbe,
            },
        ] = all[..]
        else {
            panic!("{all:?}")
        };
        assert_eq!(index, 7);
        assert_eq!(trim(order_number), b"6ES7 315-2EH14-0AB0");
        assert_eq!(module_type, 0x00C0);
        assert_eq!(firmware_version(ausbg, ausbe), Some([3, 2, 6]));
        assert_eq!(firmware_version(4, 4), None);
    }

    #[test]
    fn component_identification_and_truncation() {
        let mut records_bytes = Vec::new();
        for (index, text) in [(1u16, &b"SNAP7-SERVER"[..]), (5, b"S C-C2UR28922012")] {
            records_bytes.extend_from_slice(&index.to_be_bytes());
            let mut padded = [0u8; 32];
            padded.iter_mut().zip(text).for_each(|(s, b)| *s = *b);
            records_bytes.extend_from_slice(&padded);
        }
        let resp = response(0x001C, 0, 34, 10, &records_bytes);
        let texts: Vec<_> = records(&resp)
            .map(|r| match r {
                SzlRecord::ComponentIdentification { index, text } => (index, trim(text)),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            [(1, &b"SNAP7-SERVER"[..]), (5, &b"S C-C2UR28922012"[..])]
        );
        for n in 0..records_bytes.len() {
            let resp = response(0x001C, 0, 34, 2, &records_bytes[..n]);
            assert_eq!(records(&resp).count(), n / 34);
        }
        assert_eq!(
            records(&response(0x001C, 0, 0, 5, &records_bytes)).count(),
            0
        );
    }

    #[test]
    fn protection_and_mode() {
        let mut protection = vec![
            0x00, 0x04, // index 4
            0x00, 0x01, // key switch level 1
            0x00, 0x00, // no password
            0x00, 0x01, // effective level 1
            0x00, 0x02, // mode selector RUN-P
            0x00, 0x00, // startup switch undefined
        ];
        protection.resize(PROTECTION_LEN, 0);
        let all: Vec<_> = records(&response(0x0132, 4, 40, 1, &protection)).collect();
        assert_eq!(
            all,
            [SzlRecord::Protection {
                key_switch: 1,
                protection_level_param: 0,
                protection_level_real: 1,
                mode_selector: mode_selector::RUN_P,
                startup_switch: 0
            }]
        );
        assert_eq!(mode_selector_name(2), Some("run_p"));
        // another 0132 index is not a protection record
        assert!(matches!(
            records(&response(0x0132, 5, 40, 1, &protection)).next(),
            Some(SzlRecord::Unknown { .. })
        ));
        let mode = [
            0x51, 0x44, // event id
            0xFF, // ae
            0x08, // RUN requested, previous 0
            0, 0, 0, 0, 0, 0, 0, 0, // reserved, startup info
            0x24, 0x10, 0x04, 0x21, 0x24, 0x25, 0x00, 0x05, // timestamp
        ];
        assert_eq!(
            records(&response(0x0424, 0, 20, 1, &mode)).next(),
            Some(SzlRecord::OperatingMode {
                event_id: 0x5144,
                requested_mode: 8,
                previous_mode: 0
            })
        );
        assert_eq!(mode_name(8), Some("run"));
    }

    #[test]
    fn trims() {
        assert_eq!(trim(b"  abc \0\0"), b"abc");
        assert_eq!(trim(b"\0\0"), b"");
        assert_eq!(trim(b""), b"");
        assert_eq!(trim(b"a b"), b"a b");
    }
}
