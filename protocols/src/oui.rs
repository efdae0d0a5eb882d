//! The vendor of a MAC address, from the IEEE registry.
//!
//! The table is generated at build time by `protocols/build.rs` from Debian's
//! `ieee-data` package (`/usr/share/ieee-data/oui.csv`, or `FARO_OUI_CSV`,
//! with `mam.csv` and `oui36.csv` beside it): MA-L (24-bit), MA-M (28-bit)
//! and MA-S (36-bit) assignments, longest prefix first. Blocks the IEEE
//! sub-assigns and private assignments name no vendor and are left out, as
//! are prefixes with the group or local bit set.
//!
//! A vendor from the OUI is a weak hint: it names who made the network
//! interface (or the module it sits on), which for an embedded controller is
//! usually, not always, the device's maker; and a routed asset's MAC is its
//! router's.

include!(concat!(env!("OUT_DIR"), "/oui_table.rs"));

/// The organisation the IEEE registered the prefix of `mac` to; `None` for
/// a prefix it did not assign (or assigned privately), and for group
/// (multicast, broadcast) and locally administered addresses, which no
/// registry entry identifies.
pub fn vendor(mac: [u8; 6]) -> Option<&'static str> {
    let [a, b, c, d, e, _] = mac;
    // The first octet's bit 0 is I/G (group), bit 1 U/L (local).
    if a & 0b11 != 0 {
        return None;
    }
    let ma_l = u32::from_be_bytes([0, a, b, c]);
    let ma_m = (ma_l << 4) | u32::from(d >> 4);
    let ma_s = (u64::from(ma_l) << 12) | (u64::from(d) << 4) | u64::from(e >> 4);
    lookup(&MA_S, &MA_S_NAME, ma_s)
        .or_else(|| lookup(&MA_M, &MA_M_NAME, ma_m))
        .or_else(|| lookup(&MA_L, &MA_L_NAME, ma_l))
}

/// [`vendor`] of a MAC address written `aa:bb:cc:dd:ee:ff` (or with `-`);
/// `None` also when the text is not a MAC address.
pub fn vendor_from_str(text: &str) -> Option<&'static str> {
    vendor(parse_mac(text)?)
}

/// A MAC address written as six two-digit hex octets separated by `:` or `-`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut octets = text.split([':', '-']);
    for slot in &mut mac {
        let octet = octets.next()?;
        if octet.len() != 2 || !octet.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *slot = u8::from_str_radix(octet, 16).ok()?;
    }
    octets.next().is_none().then_some(mac)
}

/// How many assignments the table holds: MA-L, MA-M, MA-S.
pub fn assignments() -> (usize, usize, usize) {
    (MA_L.len(), MA_M.len(), MA_S.len())
}

fn lookup<T: Ord>(prefixes: &'static [T], names: &'static [u16], key: T) -> Option<&'static str> {
    let index = prefixes.binary_search(&key).ok()?;
    name(*names.get(index)?)
}

fn name(id: u16) -> Option<&'static str> {
    let id = usize::from(id);
    let start = match id.checked_sub(1) {
        Some(previous) => *NAME_END.get(previous)?,
        None => 0,
    };
    let end = *NAME_END.get(id)?;
    NAMES.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

#[cfg(test)]
mod tests {
    // The expected names are those of ieee-data 20220827 (Debian bookworm).
    use super::*;

    #[test]
    fn well_known_industrial_ouis() {
        for (mac, expected) in [
            // "Siemens AG," in the registry: the stray comma is cut.
            ("00:1b:1b:01:02:03", "Siemens AG"),
            ("00:0E:8C:00:00:01", "Siemens AG"),
            ("00-00-bc-12-34-56", "Rockwell Automation"),
            // Schneider's Telemecanique brand, as registered.
            ("00:80:f4:00:00:01", "TELEMECANIQUE ELECTRIQUE"),
            ("00:11:00:00:00:01", "Schneider Electric"),
        ] {
            assert_eq!(vendor_from_str(mac), Some(expected), "{mac}");
        }
    }

    #[test]
    fn longer_assignments_win_and_sub_assigned_blocks_name_no_vendor() {
        // MA-S 70:B3:D5:F2:F inside the IEEE Registration Authority's 70:B3:D5.
        assert_eq!(vendor_from_str("70:b3:d5:f2:f0:01"), Some("TELEPLATFORMS"));
        // MA-M 20:85:93:B.
        assert_eq!(
            vendor_from_str("20:85:93:b1:00:00"),
            Some("IOG Products LLC")
        );
        // A part of 70:B3:D5 not sub-assigned: no vendor, not "IEEE Registration Authority".
        assert_eq!(vendor_from_str("70:b3:d5:00:00:01"), None);
        // An assignment listed for several organisations names them all.
        assert_eq!(
            vendor_from_str("08:00:30:00:00:01"),
            Some("CERN / NETWORK RESEARCH CORPORATION / ROYAL MELBOURNE INST OF TECH")
        );
    }

    #[test]
    fn unknown_group_and_local_addresses_have_no_vendor() {
        assert_eq!(vendor_from_str("00:ff:fe:00:00:01"), None);
        // Group bit: multicast and broadcast.
        assert_eq!(vendor([0x01, 0x1b, 0x1b, 0, 0, 1]), None);
        assert_eq!(vendor([0xff; 6]), None);
        // Local bit, on a registered prefix (Siemens' with 0x02 set, and DEC's
        // historic AA:00:04 that DECnet sets on any interface).
        assert_eq!(vendor([0x02, 0x1b, 0x1b, 0, 0, 1]), None);
        assert_eq!(vendor([0xaa, 0x00, 0x04, 0, 0, 1]), None);
    }

    #[test]
    fn mac_text_is_parsed_strictly() {
        assert_eq!(
            parse_mac("00:1B:1b:0a:ff:10"),
            Some([0x00, 0x1b, 0x1b, 0x0a, 0xff, 0x10])
        );
        for bad in [
            "",
            "00:1b:1b:0a:ff",
            "00:1b:1b:0a:ff:10:11",
            "0:1b:1b:0a:ff:10",
            "00:1b:1b:0a:ff:1g",
            "+0:1b:1b:0a:ff:10",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_table_is_the_whole_registry() {
        let (ma_l, ma_m, ma_s) = assignments();
        assert!(ma_l > 30_000, "{ma_l}");
        assert!(ma_m > 4_000 && ma_s > 4_000, "{ma_m} {ma_s}");
        assert!(MA_L.windows(2).all(|w| w.first() < w.get(1)));
        assert!(MA_S.windows(2).all(|w| w.first() < w.get(1)));
    }
}
