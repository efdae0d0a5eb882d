//! Vendor names, normalised through one alias table.
//!
//! CISA writes one vendor many ways (`Mitsubishi Electric`, `Mitsubishi
//! Electric Corporation`, ` Mitsubishi Electric`; `Schneider Electric`,
//! `Schneider Electric Software, LLC`; `General Electric (GE)`), sometimes
//! several vendors in one name (`ICONICS, Mitsubishi Electric`, `ABB, Phoenix
//! Contact, Schneider Electric, Siemens, and WAGO`); devices write their own
//! (`Siemens AG`, `WAGO Kontakttechnik GmbH & Co. KG`, `Allen-Bradley`,
//! `SEL`). [`canonical`] turns one name into a key: lowercase, accents
//! folded (and CISA's mojibake `GeutebrÃ¼ck` repaired), parenthesised
//! acronyms and punctuation dropped, corporate suffixes (`Inc`, `LLC`, `Ltd`,
//! `Co`, `Corp`, `Corporation`, `GmbH`, `AG`, `SA`, `KG`, …) stripped from the
//! end, then [`ALIASES`] applied. Words such as `Software` or `Automation`
//! are *not* stripped generically (`Rockwell Automation`, `Automation
//! Direct`, `B&R Industrial Automation` need them); the table names the
//! spellings where they are noise (`Schneider Electric Software` →
//! `schneider electric`). [`keys`] gives every key a product's vendor name
//! stands for (each vendor of a multi-vendor name, and [`RELATED`] keys of a
//! renamed business: Hitachi Energy's grid products were ABB's).
//!
//! The table is built from evidence: the distinct vendor strings of the
//! 2,035 shared CISA advisories (`cargo run --example intel_ranges --
//! --vendors` lists them with their keys) and the spellings the sensor's
//! protocols and the IEEE OUI registry give for the same companies.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Canonical key → spellings (after normalisation) that mean it.
pub const ALIASES: &[(&str, &[&str])] = &[
    (
        "siemens",
        &[
            "siemens industry",
            "siemens energy",
            "siemens industrial automation",
        ],
    ),
    (
        "schneider electric",
        &[
            "schneider electric software",
            "schneider",
            "schneider automation",
            "groupe schneider",
            "telemecanique",
            "modicon",
            "square d",
            "schneider electric industries",
            "schneider electric systems",
        ],
    ),
    (
        "rockwell automation",
        &[
            "rockwell",
            "allen bradley",
            "rockwell automation allen bradley",
            "allen bradley rockwell automation",
            "rockwell software",
            "a b",
        ],
    ),
    (
        "general electric",
        &[
            "ge",
            "ge digital",
            "ge vernova",
            "ge grid solutions",
            "ge multilin",
            "multilin",
            "ge intelligent platforms",
            "ge fanuc",
            "ge automation",
            "ge power",
            "ge energy",
        ],
    ),
    (
        "mitsubishi electric",
        &["mitsubishi", "mitsubishi electric india", "melco"],
    ),
    (
        "hitachi energy",
        &[
            "abb power grids",
            "hitachi abb power grids",
            "hitachi energy ltd",
        ],
    ),
    (
        "abb",
        &[
            "abb automation",
            "abb industrial automation",
            "abb power technologies",
        ],
    ),
    (
        "phoenix contact",
        &["phoenix contact electronics", "phoenix contact software"],
    ),
    ("wago", &["wago kontakttechnik"]),
    ("moxa", &["moxa technologies", "moxa networking"]),
    (
        "omron",
        &["omron industrial automation", "omron electronics"],
    ),
    (
        "honeywell",
        &["honeywell international", "honeywell process solutions"],
    ),
    (
        "emerson",
        &[
            "emerson electric",
            "emerson process management",
            "emerson automation solutions",
        ],
    ),
    ("yokogawa", &["yokogawa electric"]),
    ("beckhoff", &["beckhoff automation"]),
    ("delta electronics", &["delta"]),
    ("advantech", &["b b smartworx", "advantech b b smartworx"]),
    ("automationdirect", &["automation direct"]),
    ("jtekt", &["jtekt electronics"]),
    (
        "codesys",
        &["3s smart software solutions", "3s smart software", "3s"],
    ),
    ("wibu systems", &["wibu"]),
    ("aveva", &["aveva software"]),
    ("osisoft", &["osi soft"]),
    ("johnson controls", &["johnson contols"]),
    (
        "schweitzer engineering laboratories",
        &["sel", "schweitzer engineering laboratories sel"],
    ),
    ("pepperl fuchs", &["pepperl and fuchs"]),
    (
        "ls electric",
        &[
            "ls industrial systems",
            "lsis",
            "ls industrial systems lsis",
        ],
    ),
    ("keysight", &["keysight technologies"]),
    ("digi international", &["digi"]),
    (
        "b r",
        &[
            "b r industrial automation",
            "b r automation",
            "br automation",
        ],
    ),
    (
        "hirschmann",
        &["hirschmann automation", "hirschmann automation and control"],
    ),
    ("ptc", &["kepware", "ptc kepware", "kepware technologies"]),
    ("red lion", &["red lion controls"]),
    ("triangle microworks", &["triangle micro works"]),
    ("geutebruck", &[]),
    (
        "lcds leao consultoria e desenvolvimento de sistemas",
        &["lcds leao consultoria e desenvolvimento de sistemas ltda me"],
    ),
    ("fuji electric", &["fuji electric fa components systems"]),
    ("sauter", &["sauter controls", "fr sauter"]),
    ("opto 22", &["opto22"]),
    ("control by web", &["controlbyweb"]),
    ("philips", &["phillips", "koninklijke philips"]),
    ("bently nevada", &["baker hughes bently nevada"]),
    ("subnet solutions", &[]),
    (
        "franklin fueling systems",
        &[
            "franklin fueling system",
            "franklin electric fueling systems",
        ],
    ),
    ("sensormatic electronics", &[]),
    ("unified automation", &[]),
    ("inductive automation", &[]),
    ("prosys opc", &["prosys"]),
    ("b braun", &["b braun medical", "b braun melsungen"]),
    ("real time automation", &["real time automation rta"]),
    ("national instruments", &["ni", "national instruments ni"]),
    ("becton dickinson", &["becton dickinson and", "bd"]),
    ("johnson johnson", &[]),
    ("propump and controls", &[]),
    ("synergy systems solutions", &[]),
    ("ge healthcare", &[]),
    ("silex technology", &[]),
    ("hillrom", &[]),
    ("baxter", &["baxter international"]),
    ("wind river", &["wind river systems"]),
];

/// Keys whose products a device of the other may carry (renamed or sold businesses).
pub const RELATED: &[(&str, &str)] = &[
    // ABB Power Grids became Hitachi Energy (2020–2022); older firmware says ABB.
    ("hitachi energy", "abb"),
    // Kepware and ThingWorx are PTC's; OSIsoft PI is AVEVA's since 2021.
    ("osisoft", "aveva"),
    // Baker Hughes owns Bently Nevada.
    ("bently nevada", "baker hughes"),
];

/// Corporate suffixes stripped from the end of a name.
const SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "mbh",
    "ag",
    "sa",
    "kg",
    "se",
    "plc",
    "oy",
    "spa",
    "bv",
    "nv",
    "ab",
    "pte",
    "srl",
    "sro",
    "kk",
    "ltda",
    "me",
    "sp",
    "z",
    "o",
];

static ALIAS_MAP: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (canonical, spellings) in ALIASES {
        map.insert(*canonical, *canonical);
        for spelling in *spellings {
            map.insert(*spelling, *canonical);
        }
    }
    map
});

/// Repairs UTF-8 read as Latin-1 (`GeutebrÃ¼ck`), as some advisories carry it.
fn repair(name: &str) -> Cow<'_, str> {
    if !name.contains('Ã') {
        return Cow::Borrowed(name);
    }
    let mut out = name.to_owned();
    for (broken, fixed) in [
        ("Ã¼", "ü"),
        ("Ã¤", "ä"),
        ("Ã¶", "ö"),
        ("Ã£", "ã"),
        ("Ã©", "é"),
        ("Ã¨", "è"),
        ("Ã§", "ç"),
        ("Ã¡", "á"),
        ("Ã³", "ó"),
        ("Ã\u{9c}", "Ü"),
    ] {
        out = out.replace(broken, fixed);
    }
    Cow::Owned(out)
}

fn fold(c: char) -> Option<char> {
    let c = c.to_lowercase().next().unwrap_or(c);
    Some(match c {
        'a'..='z' | '0'..='9' => c,
        'ä' | 'á' | 'à' | 'â' | 'ã' | 'å' => 'a',
        'ö' | 'ó' | 'ò' | 'ô' | 'õ' | 'ø' => 'o',
        'ü' | 'ú' | 'ù' | 'û' => 'u',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ç' => 'c',
        'ñ' => 'n',
        'ß' => 's',
        _ => return None,
    })
}

/// Lowercase words of a name, parenthesised parts and punctuation dropped,
/// corporate suffixes stripped from the end.
fn normalise(name: &str) -> String {
    let name = repair(name);
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '(' => {
                depth += 1;
                continue;
            }
            ')' => {
                depth = depth.saturating_sub(1);
                continue;
            }
            _ if depth > 0 => continue,
            _ => {}
        }
        match fold(c) {
            Some(c) => word.push(c),
            None => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    while words.len() > 1 && words.last().is_some_and(|w| SUFFIXES.contains(&w.as_str())) {
        words.pop();
    }
    words.join(" ")
}

/// The canonical key of one vendor name (`Siemens AG` → `siemens`,
/// `Schneider Electric Software, LLC` → `schneider electric`). Empty for a
/// name of no words.
pub fn canonical(name: &str) -> Cow<'static, str> {
    let normalised = normalise(name);
    match ALIAS_MAP.get(normalised.as_str()) {
        Some(canonical) => Cow::Borrowed(canonical),
        None => Cow::Owned(normalised),
    }
}

/// The words of a key and of every spelling the table gives it (`ptc` →
/// `ptc`, `kepware`, `technologies`): a product name repeating them
/// (`Kepware KEPServerEX`) names the vendor, not the product.
pub fn words(key: &str) -> Vec<String> {
    let mut out: Vec<String> = key.split(' ').map(str::to_owned).collect();
    for (canonical, spellings) in ALIASES {
        if *canonical == key {
            for spelling in *spellings {
                for word in spelling.split(' ') {
                    if !out.iter().any(|w| w == word) {
                        out.push(word.to_owned());
                    }
                }
            }
        }
    }
    out
}

/// Every key a product's vendor name stands for: the whole name's, and
/// when it is not itself a known vendor, each part's of a list (`ICONICS,
/// Mitsubishi Electric`; `General Electric (GE) and Emerson`), with their
/// related keys. Without empty keys or repeats.
pub fn keys(name: &str) -> Vec<String> {
    fn push(out: &mut Vec<String>, key: &str) {
        if !key.is_empty() && !out.iter().any(|k| k == key) {
            out.push(key.to_owned());
        }
    }
    let mut out: Vec<String> = Vec::new();
    let whole = canonical(name);
    push(&mut out, &whole);
    if !ALIAS_MAP.contains_key(whole.as_ref()) {
        let repaired = repair(name).replace(';', ",");
        for part in repaired.split(',') {
            // `…, and WAGO`; `…, a subsidiary of Johnson Controls Inc.`
            let mut part = part.trim();
            for lead in [
                "and ",
                "& ",
                "a subsidiary of ",
                "an affiliate of ",
                "formerly ",
            ] {
                if part.len() > lead.len()
                    && part
                        .get(..lead.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(lead))
                {
                    part = part.get(lead.len()..).unwrap_or_default().trim();
                }
            }
            // `General Electric (GE) and Emerson`, `LLC and Schneider Electric Software`:
            // split at `and` only into known vendors (`Hirschmann Automation and
            // Control` is one company).
            let pieces: Vec<&str> = part.split(" and ").flat_map(|p| p.split(" & ")).collect();
            let known: Vec<Cow<'static, str>> = pieces
                .iter()
                .map(|p| canonical(p))
                .filter(|k| !k.is_empty() && !SUFFIXES.contains(&k.as_ref()))
                .collect();
            if pieces.len() > 1
                && !known.is_empty()
                && known.iter().all(|k| ALIAS_MAP.contains_key(k.as_ref()))
            {
                for key in &known {
                    push(&mut out, key);
                }
                continue;
            }
            let key = canonical(part);
            // Parts that are only a suffix (`, LLC`) normalise to a suffix word: skip them.
            if !SUFFIXES.contains(&key.as_ref()) {
                push(&mut out, &key);
            }
        }
    }
    let direct = out.len();
    for i in 0..direct {
        let Some(key) = out.get(i).cloned() else {
            continue;
        };
        for (a, b) in RELATED {
            if key == *a {
                push(&mut out, b);
            } else if key == *b {
                push(&mut out, a);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_vendor_share_a_key() {
        for (spellings, key) in [
            (
                &["Siemens", "SIEMENS AG", "Siemens AG ", "Siemens Energy"][..],
                "siemens",
            ),
            (
                &[
                    "Schneider Electric",
                    "Schneider Electric Software, LLC",
                    " Schneider Electric",
                    "Schneider Electric ",
                    "Telemecanique",
                    "SCHNEIDER ELECTRIC SE",
                ][..],
                "schneider electric",
            ),
            (
                &[
                    "Rockwell Automation ",
                    "Allen-Bradley",
                    "Rockwell Automation, Inc.",
                ][..],
                "rockwell automation",
            ),
            (
                &[
                    "General Electric (GE)",
                    "GE",
                    "GE Digital",
                    "GE Vernova",
                    "General Electric",
                ][..],
                "general electric",
            ),
            (
                &[
                    "Mitsubishi Electric Corporation",
                    " Mitsubishi Electric",
                    "MITSUBISHI ELECTRIC CORPORATION",
                ][..],
                "mitsubishi electric",
            ),
            (
                &["Hitachi Energy ", " Hitachi Energy"][..],
                "hitachi energy",
            ),
            (&["WAGO", "WAGO Kontakttechnik GmbH & Co. KG"][..], "wago"),
            (
                &["Phoenix Contact", "PHOENIX CONTACT GmbH & Co. KG"][..],
                "phoenix contact",
            ),
            (&["Moxa", "MOXA", "Moxa Technologies Co., Ltd."][..], "moxa"),
            (&["Omron", "OMRON Corporation"][..], "omron"),
            (
                &["Yokogawa", "Yokogawa Electric Corporation"][..],
                "yokogawa",
            ),
            (&["Beckhoff", "Beckhoff Automation GmbH"][..], "beckhoff"),
            (
                &["Delta Electronics", "Delta Electronics, Inc."][..],
                "delta electronics",
            ),
            (&["Advantech", "Advantech Co., Ltd."][..], "advantech"),
            (
                &["Schweitzer Engineering Laboratories, Inc. (SEL)", "SEL"][..],
                "schweitzer engineering laboratories",
            ),
            (&["GeutebrÃ¼ck", "Geutebrück GmbH"][..], "geutebruck"),
            (&["Dahua Technology Co, Ltd"][..], "dahua technology"),
            (
                &["3S-Smart Software Solutions GmbH", "CODESYS, GmbH"][..],
                "codesys",
            ),
        ] {
            for spelling in spellings {
                assert_eq!(canonical(spelling), key, "{spelling}");
            }
        }
    }

    #[test]
    fn multi_vendor_names_give_each_vendor() {
        let keys = keys("ABB, Phoenix Contact, Schneider Electric, Siemens, and WAGO");
        for key in [
            "abb",
            "phoenix contact",
            "schneider electric",
            "siemens",
            "wago",
            "hitachi energy",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
        }
        let keys = super::keys("ICONICS, Mitsubishi Electric");
        assert!(keys.iter().any(|k| k == "mitsubishi electric"), "{keys:?}");
        assert_eq!(
            super::keys("Schneider Electric Software, LLC"),
            ["schneider electric"]
        );
        assert_eq!(
            super::keys("Hirschmann Automation and Control GmbH, Belden Inc."),
            [
                "hirschmann automation and control gmbh belden",
                "hirschmann",
                "belden"
            ]
        );
        assert_eq!(
            super::keys("Sensormatic Electronics, LLC, a subsidiary of Johnson Controls Inc."),
            [
                "sensormatic electronics llc a subsidiary of johnson controls",
                "sensormatic electronics",
                "johnson controls"
            ]
        );
        assert_eq!(
            super::keys("Becton, Dickinson and Company (BD)"),
            ["becton dickinson"]
        );
        assert_eq!(
            super::keys("AVEVA Software, LLC and Schneider Electric Software, LLC"),
            [
                "aveva software llc and schneider electric software",
                "aveva",
                "schneider electric",
                "osisoft"
            ]
        );
        assert_eq!(
            super::keys("General Electric (GE) and Emerson"),
            [
                "general electric and emerson",
                "general electric",
                "emerson"
            ]
        );
    }

    #[test]
    fn software_and_automation_are_not_stripped_blindly() {
        assert_eq!(canonical("Automation Direct"), "automationdirect");
        assert_eq!(canonical("Inductive Automation"), "inductive automation");
        assert_ne!(
            canonical("Rockwell Automation"),
            canonical("Rockwell Collins")
        );
        assert_eq!(canonical(""), "");
    }
}
