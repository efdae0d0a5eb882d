//! What matching reads of an asset: its identity attributes, each with the
//! asset attribute it came from and the message that carried it.
//!
//! The sensor's identity keys map onto the fields matching needs:
//!
//! | field | identity keys (first present wins; the others join `also`) |
//! |---|---|
//! | vendor | `vendor` (S7, Modbus 43/14, DNP3 g0v252), `manufacturer_name` (OPC UA BuildInfo) |
//! | product | `product_name` (Modbus, OPC UA), `product_and_model` (DNP3), `module_type_name` (S7), `application_name` (OPC UA) |
//! | model | `order_number` (S7), `product_code`, `model_name` (Modbus), `product_and_model` (DNP3) |
//! | firmware | `firmware_version` (S7), `revision` (Modbus), `software_version` (DNP3, OPC UA) |
//! | hardware | `hardware_version` (DNP3) |
//! | serial | `serial_number` |
//!
//! Product lines a model number implies are added to `also` with the
//! source `derived from <attribute>`: Siemens order numbers (MLFB) name the
//! family in their first digits (`6ES7 214-1AG40-0XB0` is an S7-1200,
//! `6ES7 516-…` an S7-1500; `6AG1…` the SIPLUS variant), Schneider
//! product codes theirs (`BMX P34 2020` is a Modicon M340). Advisories often
//! name only the family (`SIMATIC S7-1200 CPU family`), devices only their
//! order number.
//!
//! The MAC OUI vendor is a weak hint, kept apart from the announced vendor
//! ([`AssetIdentity::vendor_hint`]): the sensor's `mac_vendor` (source
//! `oui`), or for older sensors the collector's own lookup of the asset's MAC
//! in `faro_protocols::oui`; the caller disables it for MACs that several
//! addresses share (a router's).

use std::collections::BTreeMap;

use faro_protocols::uplink::AssetDelta;
use serde::{Deserialize, Serialize};

/// One identity attribute with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attr {
    /// The value, as the device gave it.
    pub value: String,
    /// The asset's identity key it came from (`order_number`), or `given`.
    pub attribute: String,
    /// The message it came from (`s7:szl-0x0011`), else `identity attribute <name>`.
    pub source: String,
}

/// What matching reads of an asset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetIdentity {
    /// The vendor the device announced.
    pub vendor: Option<Attr>,
    /// Its product name.
    pub product: Option<Attr>,
    /// Its model or order number.
    pub model: Option<Attr>,
    /// Its firmware or software version.
    pub firmware: Option<Attr>,
    /// Its hardware version.
    pub hardware: Option<Attr>,
    /// Its serial number.
    pub serial: Option<Attr>,
    /// Other product designations (further names, URIs, derived product lines).
    #[serde(default)]
    pub also: Vec<Attr>,
    /// The MAC OUI's vendor: weak, used only when no vendor was announced.
    pub vendor_hint: Option<Attr>,
}

const VENDOR_KEYS: [&str; 2] = ["vendor", "manufacturer_name"];
const PRODUCT_KEYS: [&str; 4] = [
    "product_name",
    "product_and_model",
    "module_type_name",
    "application_name",
];
const MODEL_KEYS: [&str; 4] = [
    "order_number",
    "product_code",
    "model_name",
    "product_and_model",
];
const FIRMWARE_KEYS: [&str; 3] = ["firmware_version", "revision", "software_version"];
const OTHER_NAME_KEYS: [&str; 2] = ["product_uri", "device_name"];

/// Product lines named by the start of a model number (spaces removed, uppercase).
/// Siemens MLFB: 6ES7 21x = S7-1200 (generation digit 3 or 4; S7-200 has 2), 6ES7 31x
/// S7-300, 6ES7 41x S7-400, 6ES7 51x S7-1500; 6AG1 is the SIPLUS variant of 6ES7.
/// Schneider: BMX P34 Modicon M340, BME P58/H58 M580, 140 CPU Quantum, TSX P57 Premium,
/// TM221/241/251/258 M221/M241/M251/M258.
const PRODUCT_LINES: &[(&str, &str)] = &[
    ("6ES731", "SIMATIC S7-300"),
    ("6AG131", "SIPLUS S7-300"),
    ("6ES741", "SIMATIC S7-400"),
    ("6AG141", "SIPLUS S7-400"),
    ("6ES751", "SIMATIC S7-1500"),
    ("6AG151", "SIPLUS S7-1500"),
    ("BMXP34", "Modicon M340"),
    ("BMEP58", "Modicon M580"),
    ("BMEH58", "Modicon M580"),
    ("140CPU", "Modicon Quantum"),
    ("TSXP57", "Modicon Premium"),
    ("TM221", "Modicon M221"),
    ("TM241", "Modicon M241"),
    ("TM251", "Modicon M251"),
    ("TM258", "Modicon M258"),
];

/// The product line a model number implies, if the table knows it.
pub fn product_line(model: &str) -> Option<&'static str> {
    let compact: String = model
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // S7-1200: 6ES721x-1??3x / 4x (the S7-200's generation digit is 2).
    for (prefix, line) in [("6ES721", "SIMATIC S7-1200"), ("6AG121", "SIPLUS S7-1200")] {
        if compact.starts_with(prefix) && matches!(compact.chars().nth(11), Some('3' | '4')) {
            return Some(line);
        }
    }
    PRODUCT_LINES
        .iter()
        .find(|(prefix, _)| compact.starts_with(prefix))
        .map(|(_, line)| *line)
}

impl AssetIdentity {
    /// An identity given by hand (`intel match --vendor … --model …`).
    pub fn given(
        vendor: Option<&str>,
        product: Option<&str>,
        model: Option<&str>,
        firmware: Option<&str>,
    ) -> AssetIdentity {
        let attr = |value: Option<&str>, attribute: &str| {
            value.filter(|v| !v.trim().is_empty()).map(|v| Attr {
                value: v.trim().to_owned(),
                attribute: attribute.to_owned(),
                source: "given".to_owned(),
            })
        };
        let mut identity = AssetIdentity {
            vendor: attr(vendor, "vendor"),
            product: attr(product, "product"),
            model: attr(model, "model"),
            firmware: attr(firmware, "firmware"),
            ..AssetIdentity::default()
        };
        identity.derive_product_lines();
        identity
    }

    /// Reads identity attributes (key → value) with their sources (key → source).
    pub fn from_attributes(
        identity: &BTreeMap<String, String>,
        sources: &BTreeMap<String, String>,
    ) -> AssetIdentity {
        let attr = |key: &str| -> Option<Attr> {
            let value = identity.get(key)?.trim();
            if value.is_empty() {
                return None;
            }
            Some(Attr {
                value: value.to_owned(),
                attribute: key.to_owned(),
                source: sources
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| format!("identity attribute {key}")),
            })
        };
        let is_oui = |key: &str| sources.get(key).is_some_and(|s| s == "oui");
        let first = |keys: &[&str]| keys.iter().filter(|k| !is_oui(k)).find_map(|k| attr(k));
        let mut out = AssetIdentity {
            vendor: first(&VENDOR_KEYS),
            product: first(&PRODUCT_KEYS),
            model: first(&MODEL_KEYS),
            firmware: first(&FIRMWARE_KEYS),
            hardware: attr("hardware_version"),
            serial: attr("serial_number"),
            also: Vec::new(),
            // Any attribute the sensor took from the MAC OUI (`vendor`, `oui_vendor`, …).
            vendor_hint: VENDOR_KEYS
                .iter()
                .copied()
                .chain(
                    sources
                        .iter()
                        .filter(|(_, s)| s.as_str() == "oui")
                        .map(|(k, _)| k.as_str()),
                )
                .filter(|k| is_oui(k))
                .find_map(attr),
        };
        let chosen: Vec<String> = [&out.product, &out.model]
            .iter()
            .filter_map(|a| a.as_ref().map(|a| a.attribute.clone()))
            .collect();
        for key in PRODUCT_KEYS
            .iter()
            .chain(MODEL_KEYS.iter())
            .chain(OTHER_NAME_KEYS.iter())
        {
            if chosen.iter().any(|c| c == key) || out.also.iter().any(|a| a.attribute == *key) {
                continue;
            }
            if let Some(a) = attr(key) {
                out.also.push(a);
            }
        }
        out.derive_product_lines();
        out
    }

    /// Adds the product lines the model numbers imply.
    fn derive_product_lines(&mut self) {
        let mut derived = Vec::new();
        for attr in self.model.iter().chain(self.also.iter()) {
            if let Some(line) = product_line(&attr.value) {
                if !derived.iter().any(|d: &Attr| d.value == line) {
                    derived.push(Attr {
                        value: line.to_owned(),
                        attribute: attr.attribute.clone(),
                        source: format!("derived from {} ({})", attr.attribute, attr.source),
                    });
                }
            }
        }
        self.also.extend(derived);
    }

    /// Sets the weak vendor hint (an OUI registry's vendor of the asset's MAC).
    pub fn with_vendor_hint(mut self, vendor: &str, mac: &str) -> AssetIdentity {
        if !vendor.trim().is_empty() {
            self.vendor_hint = Some(Attr {
                value: vendor.trim().to_owned(),
                attribute: "mac".to_owned(),
                source: format!("oui ({mac})"),
            });
        }
        self
    }

    /// Every product designation: product, model, the others.
    pub fn names(&self) -> impl Iterator<Item = &Attr> {
        self.product
            .iter()
            .chain(self.model.iter())
            .chain(self.also.iter())
    }

    /// Whether the asset says anything matching can use.
    pub fn is_empty(&self) -> bool {
        self.product.is_none() && self.model.is_none() && self.also.is_empty()
    }
}

/// The identity of a summarised asset. `use_oui`: whether a vendor the
/// sensor took from the MAC OUI (identity source `oui`) may serve as a weak
/// hint; false for MACs several addresses share (a router's).
pub fn from_asset(asset: &AssetDelta, use_oui: bool) -> AssetIdentity {
    let mut identity = AssetIdentity::from_attributes(&asset.identity, &asset.identity_sources);
    if !use_oui {
        identity.vendor_hint = None;
        return identity;
    }
    // Older sensors send no `mac_vendor`: the collector looks the MAC up itself.
    if identity.vendor.is_none() && identity.vendor_hint.is_none() {
        if let Some(mac) = asset.mac.as_deref() {
            if let Some(vendor) = faro_protocols::oui::vendor_from_str(mac) {
                identity = identity.with_vendor_hint(vendor, mac);
            }
        }
    }
    identity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_an_s7_identity_with_sources_and_its_product_line() {
        let identity = AssetIdentity::from_attributes(
            &map(&[
                ("vendor", "Siemens"),
                ("order_number", "6ES7 214-1AG40-0XB0"),
                ("firmware_version", "V4.2.3"),
                ("module_type_name", "CPU 1214C DC/DC/DC"),
                ("serial_number", "S C-X4U421302009"),
            ]),
            &map(&[
                ("order_number", "s7:szl-0x0011"),
                ("firmware_version", "s7:szl-0x0011"),
            ]),
        );
        let model = identity.model.clone().unwrap_or_else(|| panic!("no model"));
        assert_eq!(model.value, "6ES7 214-1AG40-0XB0");
        assert_eq!(model.source, "s7:szl-0x0011");
        assert_eq!(
            identity.vendor.as_ref().map(|v| v.source.as_str()),
            Some("identity attribute vendor")
        );
        assert_eq!(
            identity.firmware.as_ref().map(|v| v.value.as_str()),
            Some("V4.2.3")
        );
        assert_eq!(
            identity.product.as_ref().map(|v| v.value.as_str()),
            Some("CPU 1214C DC/DC/DC")
        );
        assert!(identity.also.iter().any(|a| a.value == "SIMATIC S7-1200"
            && a.source == "derived from order_number (s7:szl-0x0011)"));
    }

    #[test]
    fn product_lines_follow_the_order_number_structure() {
        assert_eq!(product_line("6ES7 214-1AG40-0XB0"), Some("SIMATIC S7-1200"));
        assert_eq!(product_line("6ES7 214-1AD23-0XB0"), None, "an S7-200");
        assert_eq!(product_line("6ES7516-3AN01-0AB0"), Some("SIMATIC S7-1500"));
        assert_eq!(product_line("BMX P34 2020"), Some("Modicon M340"));
        assert_eq!(product_line("unknown"), None);
    }

    #[test]
    fn the_collector_looks_the_mac_up_only_when_allowed() {
        let asset: AssetDelta = match serde_json::from_value(serde_json::json!({
            "ip": "10.0.0.5", "mac": "00:1b:1b:01:02:03", "roles": [], "protocols": [],
            "identity": {"product_name": "X"}, "posture": {},
            "first_seen": "2024-01-01T00:00:00Z", "last_seen": "2024-01-01T00:00:00Z"
        })) {
            Ok(asset) => asset,
            Err(e) => panic!("{e}"),
        };
        let expected = faro_protocols::oui::vendor_from_str("00:1b:1b:01:02:03");
        assert_eq!(
            from_asset(&asset, true).vendor_hint.map(|v| v.value),
            expected.map(str::to_owned)
        );
        assert_eq!(from_asset(&asset, false).vendor_hint, None);
    }

    #[test]
    fn an_oui_vendor_is_only_a_hint() {
        let identity = AssetIdentity::from_attributes(
            &map(&[("vendor", "Siemens AG")]),
            &map(&[("vendor", "oui")]),
        );
        assert_eq!(identity.vendor, None);
        assert_eq!(
            identity.vendor_hint.map(|v| v.value),
            Some("Siemens AG".to_owned())
        );
        let identity = AssetIdentity::from_attributes(
            &map(&[
                ("vendor", "WAGO"),
                ("mac_vendor", "WAGO Kontakttechnik GmbH"),
            ]),
            &map(&[("mac_vendor", "oui")]),
        );
        assert_eq!(identity.vendor.map(|v| v.value), Some("WAGO".to_owned()));
        assert_eq!(
            identity.vendor_hint.map(|v| v.attribute),
            Some("mac_vendor".to_owned())
        );
    }
}
