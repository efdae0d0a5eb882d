//! Where an asset's identity comes from: the vocabulary of identity sources.
//!
//! Every identity attribute the sensor records (vendor, order number,
//! firmware, serial, …) carries the message it was read from, so that a
//! vulnerability match can say what it rests on. The names are short, stable
//! strings, `<protocol>:<message>`, written into summaries
//! ([`crate::uplink::AssetDelta::identity_sources`]) and `analyze --format
//! json`; the collector shows and filters on them. A name, once published, is
//! never changed or reused.
//!
//! | name | message |
//! |---|---|
//! | `s7:cotp-cr` | COTP connection request: rack and slot from the called TSAP, connection type from the calling TSAP |
//! | `s7:szl-0x0011` | S7 SZL 0x0011 / 0x0111, module identification: order number, firmware |
//! | `s7:szl-0x001c` | S7 SZL 0x001C / 0x011C, component identification: names, serial number, … |
//! | `s7plus:response` | plain-text strings of an S7comm-plus response: order number |
//! | `modbus:fc43-14` | Modbus function 43 / MEI 14, Read Device Identification (the object id says which attribute) |
//! | `modbus:fc17` | Modbus function 17, Report Server ID |
//! | `dnp3:g0v242` … `dnp3:g0v252` | DNP3 group 0 (device attributes), the variation named |
//! | `opcua:GetEndpoints` | OPC UA GetEndpoints response: the server's application description |
//! | `opcua:CreateSession` | OPC UA CreateSession: the client's description (request), the server's (response) |
//! | `opcua:ReverseHello` | OPC UA ReverseHello: the server URI |
//! | `oui` | the IEEE registry's vendor of the asset's MAC address (a weak hint, see [`crate::oui`]) |

use std::fmt;
use std::str::FromStr;

/// Declares the sources once: variant, name and description come from one table.
macro_rules! identity_sources {
    ( $( $(#[$doc:meta])* $variant:ident => $name:literal, $description:literal; )* ) => {
        /// The message an identity attribute was read from.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum IdentitySource {
            $( $(#[$doc])* $variant, )*
        }

        impl IdentitySource {
            /// Every source, in declaration order.
            pub const ALL: &'static [IdentitySource] = &[$(IdentitySource::$variant),*];

            /// The source's stable name (`s7:szl-0x0011`, `modbus:fc43-14`, …).
            pub const fn name(self) -> &'static str {
                match self {
                    $( IdentitySource::$variant => $name, )*
                }
            }

            /// One line for people: which message this is.
            pub const fn description(self) -> &'static str {
                match self {
                    $( IdentitySource::$variant => $description, )*
                }
            }
        }
    };
}

identity_sources! {
    /// COTP connection request (rack and slot of the called TSAP, connection
    /// type of the calling TSAP).
    S7CotpConnectionRequest => "s7:cotp-cr",
        "COTP connection request (TSAP rack, slot, connection type)";
    /// SZL 0x0011 / 0x0111, module identification.
    S7SzlModuleIdentification => "s7:szl-0x0011",
        "S7 SZL 0x0011 module identification";
    /// SZL 0x001C / 0x011C, component identification.
    S7SzlComponentIdentification => "s7:szl-0x001c",
        "S7 SZL 0x001C component identification";
    /// Plain-text strings of an S7comm-plus response.
    S7PlusResponse => "s7plus:response",
        "S7comm-plus response text";
    /// Modbus function 43, MEI type 14: Read Device Identification.
    ModbusReadDeviceIdentification => "modbus:fc43-14",
        "Modbus Read Device Identification (43/14)";
    /// Modbus function 17: Report Server ID.
    ModbusReportServerId => "modbus:fc17",
        "Modbus Report Server ID (17)";
    /// DNP3 group 0 variation 242: device manufacturer's software version.
    Dnp3SoftwareVersion => "dnp3:g0v242",
        "DNP3 device attribute g0v242 (software version)";
    /// DNP3 group 0 variation 243: device manufacturer's hardware version.
    Dnp3HardwareVersion => "dnp3:g0v243",
        "DNP3 device attribute g0v243 (hardware version)";
    /// DNP3 group 0 variation 246: user-assigned ID code.
    Dnp3UserAssignedId => "dnp3:g0v246",
        "DNP3 device attribute g0v246 (user-assigned id)";
    /// DNP3 group 0 variation 247: user-assigned device name.
    Dnp3DeviceName => "dnp3:g0v247",
        "DNP3 device attribute g0v247 (device name)";
    /// DNP3 group 0 variation 248: device serial number.
    Dnp3SerialNumber => "dnp3:g0v248",
        "DNP3 device attribute g0v248 (serial number)";
    /// DNP3 group 0 variation 250: device manufacturer's product name and model.
    Dnp3ProductAndModel => "dnp3:g0v250",
        "DNP3 device attribute g0v250 (product name and model)";
    /// DNP3 group 0 variation 252: device manufacturer's name.
    Dnp3Vendor => "dnp3:g0v252",
        "DNP3 device attribute g0v252 (manufacturer name)";
    /// OPC UA GetEndpoints response: the server's application description.
    OpcUaGetEndpoints => "opcua:GetEndpoints",
        "OPC UA GetEndpoints response";
    /// OPC UA CreateSession: the client's application description
    /// (request) or the server's (response).
    OpcUaCreateSession => "opcua:CreateSession",
        "OPC UA CreateSession";
    /// OPC UA ReverseHello: the server URI.
    OpcUaReverseHello => "opcua:ReverseHello",
        "OPC UA ReverseHello";
    /// The IEEE registry's vendor of the asset's own MAC address: a weak hint.
    Oui => "oui",
        "IEEE OUI registry (MAC address vendor)";
}

impl IdentitySource {
    /// The source of the DNP3 device attribute (group 0) of this variation,
    /// `None` for a variation the inventory does not record.
    pub const fn dnp3_device_attribute(variation: u8) -> Option<IdentitySource> {
        Some(match variation {
            242 => IdentitySource::Dnp3SoftwareVersion,
            243 => IdentitySource::Dnp3HardwareVersion,
            246 => IdentitySource::Dnp3UserAssignedId,
            247 => IdentitySource::Dnp3DeviceName,
            248 => IdentitySource::Dnp3SerialNumber,
            250 => IdentitySource::Dnp3ProductAndModel,
            252 => IdentitySource::Dnp3Vendor,
            _ => return None,
        })
    }
}

impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not in the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown identity source {0:?}")]
pub struct UnknownIdentitySource(pub String);

impl FromStr for IdentitySource {
    type Err = UnknownIdentitySource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdentitySource::ALL
            .iter()
            .copied()
            .find(|source| source.name() == s)
            .ok_or_else(|| UnknownIdentitySource(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = IdentitySource::ALL.iter().map(|s| s.name()).collect();
        for source in IdentitySource::ALL {
            assert_eq!(source.name().parse::<IdentitySource>().unwrap(), *source);
            assert_eq!(source.to_string(), source.name());
            assert!(!source.description().is_empty());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), IdentitySource::ALL.len());
        assert!("s7:szl-0x0012".parse::<IdentitySource>().is_err());
    }

    #[test]
    fn dnp3_variations_name_their_source() {
        for (variation, name) in [
            (242, "dnp3:g0v242"),
            (248, "dnp3:g0v248"),
            (252, "dnp3:g0v252"),
        ] {
            assert_eq!(
                IdentitySource::dnp3_device_attribute(variation).map(IdentitySource::name),
                Some(name)
            );
        }
        assert_eq!(IdentitySource::dnp3_device_attribute(211), None);
    }
}
