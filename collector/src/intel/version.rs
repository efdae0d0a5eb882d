//! A lenient version evaluator for the versions devices report and the
//! version branches advisories write.
//!
//! Devices and advisories spell versions many ways: `V4.2.3`, `V4.0 SP2
//! Update 2`, `V05.00.01.00`, `V0209_0105`, `R1.30.0`, `Firmware_6.62`,
//! `2.8.x`, `V2.1.1 HF3`, `1.0.0-beta`, `15.2(6)E0a`. [`Version::parse`]
//! reads them all into one comparable shape:
//!
//! - prefixes carry no order and are dropped: `V`, `R`, `Firmware_`,
//!   `Version`, `FW`, and one or two letters glued to the digits (`SE2021MP3`);
//! - the *base* is the dotted core, split at `.`, `_`, `-`, `(`, `)` and at
//!   digit/letter boundaries; numbers compare numerically (`05` = `5`), a
//!   missing number counts as 0 (`V4.0` = `V4.0.0`), one or two letters
//!   compare as text and order after the bare base (`10.0a` > `10.0`);
//!   `x`, `X` and `*` are wildcards (`2.8.x` equals every `2.8.…`);
//! - a pre-release word (`alpha`, `beta`, `rc`, `pre`, `dev`) orders before
//!   the bare base (`1.0.0-beta` < `1.0.0`);
//! - qualifiers order after the base: hot fixes, updates and patches
//!   (`HF3`, `Update 2`, `Upd 2`, `Patch 05`) within a service pack, service
//!   packs (`SP2`) above them (`V4.7` < `V4.7 HF33` < `V4.7 SP1` < `V4.7 SP1 HF2`).
//!
//! What follows the version (`_Utilizes_Wibu-Systems_CodeMeter_7.60c`,
//! `(build 2149)`) is returned as the rest, never silently merged.
//!
//! Ranges ([`Range::parse`]) are read from `vers:` (the package-url version
//! range specification: `vers:<scheme>/<constraint>|…`, comparators `<`,
//! `<=`, `>`, `>=`, `=`, `!=`, `*`), including CISA's non-conforming
//! `vers:all/*`, `vers:all/<V7.0.3` and `vers:all/>=V7.80<V9.40`, every
//! scheme compared by the lenient order above; and from free text: `<V4.0
//! SP2`, `All versions < V1.5 SP3 Update 2`, `All BIOS versions < V21.01.15`,
//! `>=V2.0 <V2.5`, `All versions between V2.5 (including) and V2.7
//! (excluding)`, `V3.0 and prior`, `prior to 4.2`, `Versions 2.00 to 6.11`,
//! `V15, V15.1 and V16`, `All versions`, `V2.8.x`. Text after the
//! constraints that restricts them further (`with WinCC V7.3 Upd 13`,
//! `and Function State (FS) <= 10`, `(only with activated debug support)`)
//! is kept as a *condition*: a version inside the constraints is then
//! [`Containment::Unknown`], not `In`, since the condition was not
//! evaluated. A text that cannot be read at all is [`Range::Unreadable`] and
//! every containment question on it is `Unknown` with the text.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::model::VersionBranch;

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    base: Vec<Segment>,
    /// A pre-release marker's rank (alpha 0, beta 1, pre 2, rc 3, dev 0) and what follows it.
    pre: Option<(u8, Vec<Segment>)>,
    /// Qualifiers (rank, number), in the order written.
    qualifiers: Vec<(u8, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(u64),
    Text(String),
    Any,
}

/// Qualifier ranks: fixes within a service pack, then service packs.
const FIX: u8 = 1;
const SERVICE_PACK: u8 = 2;

fn qualifier_rank(word: &str) -> Option<u8> {
    match word {
        "hf" | "hotfix" | "update" | "upd" | "patch" | "uc" => Some(FIX),
        "sp" => Some(SERVICE_PACK),
        _ => None,
    }
}

fn pre_rank(word: &str) -> Option<u8> {
    match word {
        "dev" | "alpha" => Some(0),
        "beta" => Some(1),
        "pre" => Some(2),
        "rc" => Some(3),
        _ => None,
    }
}

/// Words written before a version that carry no order.
const PREFIX_WORDS: [&str; 8] = [
    "firmware", "version", "release", "ver.", "ver", "rev.", "rev", "fw",
];

fn number(digits: &str) -> u64 {
    digits.parse().unwrap_or(u64::MAX)
}

/// Splits a piece (`0MP12`, `E0a`, `212N`) into digit and letter runs.
fn runs(piece: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut last: Option<bool> = None;
    for (i, c) in piece.char_indices() {
        let digit = c.is_ascii_digit();
        if last.is_some_and(|d| d != digit) {
            out.push(piece.get(start..i).unwrap_or_default());
            start = i;
        }
        last = Some(digit);
    }
    if start < piece.len() {
        out.push(piece.get(start..).unwrap_or_default());
    }
    out
}

/// Splits a version core at `.`, `_`, `-`, `(`, `)`: (offset, piece).
fn pieces(core: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in core.char_indices() {
        if is_separator(c) {
            if i > start {
                out.push((start, core.get(start..i).unwrap_or_default()));
            }
            start = i + c.len_utf8();
        }
    }
    if start < core.len() {
        out.push((start, core.get(start..).unwrap_or_default()));
    }
    out
}

fn is_core_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '(' | ')' | '*')
}

fn is_separator(c: char) -> bool {
    matches!(c, '.' | '_' | '-' | '(' | ')')
}

/// Strips one prefix word (`Firmware_`, `Version `, `FW `) when a version follows it.
fn strip_prefix_word(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    for word in PREFIX_WORDS {
        if lower.starts_with(word) {
            let rest = text.get(word.len()..).unwrap_or_default();
            let next = rest.chars().next();
            if matches!(next, Some(' ' | '_' | ':')) {
                return Some(rest.trim_start_matches([' ', '_', ':']));
            }
            if word.ends_with('.') || next.is_some_and(|c| c.is_ascii_digit()) {
                return Some(rest);
            }
        }
    }
    None
}

impl Version {
    /// Reads a version at the start of `text`; returns it and the unread
    /// rest (trimmed). `None` when no version starts there.
    pub fn parse_prefix(text: &str) -> Option<(Version, &str)> {
        let mut text = text.trim();
        while let Some(rest) = strip_prefix_word(text) {
            text = rest;
        }
        // `V4.2`, `V 4.01`, `R1.30.0`, `SE2021MP3`, `HD23`: up to two letters before the digits.
        let letters = text.chars().take_while(char::is_ascii_alphabetic).count();
        if (1..=2).contains(&letters) {
            let rest = text.get(letters..).unwrap_or_default();
            let rest = if letters == 1 && rest.starts_with(' ') {
                rest.trim_start()
            } else {
                rest
            };
            if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                text = rest;
            }
        }
        // `VX.2.14`: a wildcard major version.
        if let Some(rest) = text.strip_prefix(['V', 'v']) {
            if rest.starts_with(['x', 'X']) && rest.get(1..2) == Some(".") {
                text = rest;
            }
        }
        let first = text.chars().next()?;
        // `A.01`, `C.00.04`: a revision letter before the dotted numbers.
        let letter_dot = first.is_ascii_alphabetic()
            && text.get(1..2) == Some(".")
            && text
                .get(2..3)
                .is_some_and(|c| c.chars().all(|c| c.is_ascii_digit()));
        if !(letter_dot || first.is_ascii_digit() || first == '*' || first == 'x' || first == 'X') {
            return None;
        }
        if !first.is_ascii_digit() && !letter_dot {
            // A wildcard alone (`x`, `*`) only when nothing word-like follows.
            let next = text.chars().nth(1);
            if next.is_some_and(|c| c.is_ascii_alphanumeric()) {
                return None;
            }
        }
        let core_len = text
            .char_indices()
            .find(|&(_, c)| !is_core_char(c))
            .map_or(text.len(), |(i, _)| i);
        let core = text.get(..core_len).unwrap_or_default();
        let mut version = Version {
            base: Vec::new(),
            pre: None,
            qualifiers: Vec::new(),
        };
        // Walk the core piece by piece; stop (at a piece boundary) at a word.
        let mut consumed = 0;
        let mut pending: Option<u8> = None;
        for (start, piece) in pieces(core) {
            let piece_runs = runs(piece);
            for (n, run) in piece_runs.iter().enumerate() {
                let lower = run.to_ascii_lowercase();
                let segment = if run.chars().all(|c| c.is_ascii_digit()) {
                    if let Some(rank) = pending.take() {
                        version.qualifiers.push((rank, number(run)));
                        None
                    } else {
                        Some(Segment::Number(number(run)))
                    }
                } else if lower == "x" || lower.chars().all(|c| c == '*') {
                    Some(Segment::Any)
                } else if lower.len() >= 2 && lower.chars().all(|c| c == 'x') {
                    // `1.38.xx` is a wildcard; `750-82xx`, `RLC-4XX` a model-number
                    // pattern, not a version.
                    if piece_runs.len() > 1 {
                        return None;
                    }
                    Some(Segment::Any)
                } else if let Some(rank) = qualifier_rank(&lower) {
                    if let Some(previous) = pending.replace(rank) {
                        version.qualifiers.push((previous, 0));
                    }
                    None
                } else if let Some(rank) = pre_rank(&lower) {
                    version.pre = Some((rank, Vec::new()));
                    None
                } else if run.len() == 1
                    || (run.len() == 2
                        && (piece_runs.len() > 1 || run.chars().all(|c| c.is_ascii_uppercase())))
                {
                    // `10.0a`, `HW00`, `EA`: letters of a version; a lone
                    // lowercase pair (`_up_to_`) is a word.
                    Some(Segment::Text(lower))
                } else if n == 0 && !version.base.is_empty() {
                    // A word starting a piece ends the version before it.
                    break;
                } else {
                    return None;
                };
                if let Some(segment) = segment {
                    if let Some((_, after)) = version.pre.as_mut() {
                        after.push(segment);
                    } else if version.qualifiers.is_empty() && pending.is_none() {
                        version.base.push(segment);
                    }
                    // Letters after a qualifier (`Update3a`) carry no order here.
                }
                if n + 1 == piece_runs.len() {
                    consumed = start + piece.len();
                }
            }
            if consumed < start + piece.len() {
                break;
            }
        }
        if let Some(rank) = pending {
            version.qualifiers.push((rank, 0));
        }
        if version.base.is_empty() {
            return None;
        }
        let mut rest = text.get(consumed..).unwrap_or_default();
        // Qualifier words after the core: `SP2`, `SP 2`, `Update 2`, `Upd2`, `HF 1`, `Patch 05`.
        loop {
            let trimmed = rest.trim_start();
            let word_len = trimmed
                .char_indices()
                .find(|&(_, c)| !c.is_ascii_alphabetic())
                .map_or(trimmed.len(), |(i, _)| i);
            let mut word = trimmed
                .get(..word_len)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let mut word_len = word_len;
            // `Service Pack 1`: a service pack spelled out.
            if word == "service" {
                let after = trimmed.get(word_len..).unwrap_or_default();
                if after.to_ascii_lowercase().starts_with(" pack") {
                    word = "sp".to_owned();
                    word_len += " pack".len();
                }
            }
            let Some(rank) = qualifier_rank(&word) else {
                break;
            };
            let after = trimmed.get(word_len..).unwrap_or_default();
            let after_trim = after.trim_start();
            let digits = after_trim
                .char_indices()
                .find(|&(_, c)| !c.is_ascii_digit())
                .map_or(after_trim.len(), |(i, _)| i);
            if digits == 0 {
                break;
            }
            version
                .qualifiers
                .push((rank, number(after_trim.get(..digits).unwrap_or_default())));
            let mut next = after_trim.get(digits..).unwrap_or_default();
            // `Update 3a`: a letter glued to the number belongs to it.
            let glued = next.chars().take_while(char::is_ascii_alphabetic).count();
            if glued == 1 {
                next = next.get(1..).unwrap_or_default();
            }
            rest = next;
        }
        // A core closed by its own parenthesis (`02.07.07(10)`).
        let rest = rest.strip_prefix(')').unwrap_or(rest);
        let rest = rest.trim_start_matches(['.', ' ']).trim();
        Some((version, rest))
    }

    /// Reads a whole text as a version, ignoring whatever follows it.
    pub fn parse(text: &str) -> Option<Version> {
        Self::parse_prefix(text)
            .or_else(|| Self::revision_letters(text.trim()))
            .or_else(|| Self::parse_prefix(skip_designators(text.trim())?))
            .map(|(version, _)| version)
    }

    /// `FB`, `K`: a hardware revision of one or two uppercase letters.
    fn revision_letters(text: &str) -> Option<(Version, &str)> {
        let letters = text.chars().take_while(char::is_ascii_uppercase).count();
        let after = text.get(letters..).unwrap_or_default();
        if !(1..=2).contains(&letters) || !(after.is_empty() || after.starts_with([' ', '|'])) {
            return None;
        }
        let version = Version {
            base: vec![Segment::Text(text.get(..letters)?.to_ascii_lowercase())],
            pre: None,
            qualifiers: Vec::new(),
        };
        Some((version, after.trim_start()))
    }

    /// The release line of this version: its base with a trailing wildcard
    /// (`V16` → `V16.x`, `12.4` → `12.4.x`).
    pub fn line(&self) -> Version {
        let mut base = self.base.clone();
        if base.last() != Some(&Segment::Any) {
            base.push(Segment::Any);
        }
        Version {
            base,
            pre: None,
            qualifiers: Vec::new(),
        }
    }

    /// The lenient order; wildcards compare equal to anything from their position on.
    pub fn compare(&self, other: &Version) -> Ordering {
        match compare_segments(&self.base, &other.base) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        if self.base.last() == Some(&Segment::Any) || other.base.last() == Some(&Segment::Any) {
            return Ordering::Equal;
        }
        let pre = match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((a, sa)), Some((b, sb))) => a.cmp(b).then_with(|| compare_segments(sa, sb)),
        };
        if pre != Ordering::Equal {
            return pre;
        }
        let mut left = self.qualifiers.iter();
        let mut right = other.qualifiers.iter();
        loop {
            match (left.next(), right.next()) {
                (None, None) => return Ordering::Equal,
                (Some(_), None) => return Ordering::Greater,
                (None, Some(_)) => return Ordering::Less,
                (Some(a), Some(b)) => match a.cmp(b) {
                    Ordering::Equal => {}
                    unequal => return unequal,
                },
            }
        }
    }
}

fn compare_segments(left: &[Segment], right: &[Segment]) -> Ordering {
    let len = left.len().max(right.len());
    for i in 0..len {
        let order = match (left.get(i), right.get(i)) {
            (Some(Segment::Any), _) | (_, Some(Segment::Any)) => {
                let last = left.get(i) == Some(&Segment::Any) && i + 1 == left.len()
                    || right.get(i) == Some(&Segment::Any) && i + 1 == right.len();
                if last {
                    return Ordering::Equal;
                }
                Ordering::Equal
            }
            (Some(Segment::Number(a)), Some(Segment::Number(b))) => a.cmp(b),
            (Some(Segment::Text(a)), Some(Segment::Text(b))) => a.cmp(b),
            (Some(Segment::Number(_)), Some(Segment::Text(_))) => Ordering::Greater,
            (Some(Segment::Text(_)), Some(Segment::Number(_))) => Ordering::Less,
            (Some(Segment::Number(a)), None) => a.cmp(&0),
            (None, Some(Segment::Number(b))) => 0.cmp(b),
            (Some(Segment::Text(_)), None) => Ordering::Greater,
            (None, Some(Segment::Text(_))) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// A comparator of a range constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparator {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `=` (or a bare version)
    Equal,
    /// `!=`
    NotEqual,
}

impl Comparator {
    fn holds(self, order: Ordering) -> bool {
        match self {
            Comparator::Less => order == Ordering::Less,
            Comparator::LessOrEqual => order != Ordering::Greater,
            Comparator::Greater => order == Ordering::Greater,
            Comparator::GreaterOrEqual => order != Ordering::Less,
            Comparator::Equal => order == Ordering::Equal,
            Comparator::NotEqual => order != Ordering::Equal,
        }
    }

    fn is_upper(self) -> bool {
        matches!(self, Comparator::Less | Comparator::LessOrEqual)
    }

    fn is_lower(self) -> bool {
        matches!(self, Comparator::Greater | Comparator::GreaterOrEqual)
    }
}

/// One constraint of a range: a comparator and a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// How a version compares to [`Constraint::version`] to satisfy it.
    pub comparator: Comparator,
    /// The constraint's version.
    pub version: Version,
}

/// A version range, as read from a version branch's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    /// Every version (`vers:all/*`, `All versions`); with a condition when
    /// the text restricts it otherwise (`All versions with Ethernet interface`).
    All {
        /// The restriction, as written.
        condition: Option<String>,
    },
    /// Constraints evaluated by the `vers` algorithm.
    Constraints {
        /// The `vers` scheme, when the text is in `vers:` form.
        scheme: Option<String>,
        /// The constraints.
        constraints: Vec<Constraint>,
        /// Text that restricts the constraints further, not evaluated.
        condition: Option<String>,
        /// Text after the constraints that does not restrict them (a remark).
        note: Option<String>,
    },
    /// Text the evaluator cannot read.
    Unreadable {
        /// Why.
        reason: String,
    },
}

/// Whether a version is in a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "containment", content = "reason")]
pub enum Containment {
    /// In the range.
    In,
    /// Outside the range.
    Out,
    /// Cannot be said; why (the range text, an unread condition, an unreadable version).
    Unknown(String),
}

/// How a version branch's text is written, for measuring the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// `vers:<scheme>/…` with a real scheme.
    VersScheme,
    /// CISA's `vers:all/…`.
    VersAll,
    /// Free text starting with a comparator (`<V4.0 SP2`).
    FreeComparison,
    /// Other free text (`All versions < V1.5`, `V3.0 and prior`).
    FreeText,
    /// A `product_version` branch (one version).
    Exact,
}

impl Form {
    /// The form of a version branch.
    pub fn of(branch: &VersionBranch) -> Form {
        let text = branch.text.trim();
        if branch.kind == super::model::VersionKind::Version {
            Form::Exact
        } else if text.starts_with("vers:all/") {
            Form::VersAll
        } else if text.starts_with("vers:") {
            Form::VersScheme
        } else if text.starts_with(['<', '>', '=', '!']) {
            Form::FreeComparison
        } else {
            Form::FreeText
        }
    }
}

/// Phrases before the constraints that say "all versions" (longest first).
const ALL_PHRASES: [&str; 9] = [
    "all bios versions",
    "all firmware versions",
    "all software versions",
    "all versions of",
    "all versions",
    "all version",
    "versions",
    "bios",
    "all",
];

/// Words after a version meaning "this one and below".
const AND_BELOW: [&str; 12] = [
    "and prior",
    "and earlier",
    "and below",
    "and older",
    "and lower",
    "and before",
    "or prior",
    "or earlier",
    "or below",
    "or older",
    "or lower",
    "and previous",
];

/// Words after a version meaning "this one and above".
const AND_ABOVE: [&str; 8] = [
    "and later",
    "and above",
    "and newer",
    "and higher",
    "or later",
    "or above",
    "or newer",
    "or higher",
];

/// Words before a version meaning "below it".
const BELOW: [&str; 5] = ["prior to", "earlier than", "before", "below", "up to"];

fn starts_with_word<'a>(text: &'a str, phrase: &str) -> Option<&'a str> {
    let lower = text.get(..phrase.len())?.to_ascii_lowercase();
    if lower != phrase {
        return None;
    }
    let rest = text.get(phrase.len()..)?;
    if rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some(rest.trim_start())
}

fn comparator_prefix(text: &str) -> Option<(Comparator, &str)> {
    for (symbol, comparator) in [
        ("<=", Comparator::LessOrEqual),
        (">=", Comparator::GreaterOrEqual),
        ("!=", Comparator::NotEqual),
        ("=<", Comparator::LessOrEqual),
        ("=>", Comparator::GreaterOrEqual),
        ("<", Comparator::Less),
        (">", Comparator::Greater),
        ("=", Comparator::Equal),
    ] {
        if let Some(rest) = text.strip_prefix(symbol) {
            return Some((comparator, rest.trim_start()));
        }
    }
    for phrase in BELOW {
        if let Some(rest) = starts_with_word(text, phrase) {
            return Some((Comparator::Less, rest));
        }
    }
    None
}

/// Skips up to four capitalised words (`ROS`, `CPCI85`, `SIMATIC WinAC RTX`)
/// before a version; returns the rest if a version follows them.
fn skip_designators(text: &str) -> Option<&str> {
    let mut rest = text;
    for _ in 0..4 {
        let word_len = rest.find([' ', '_']).unwrap_or(rest.len());
        let word = rest.get(..word_len)?;
        if !word.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            return None;
        }
        rest = rest.get(word_len..)?.trim_start_matches(['_', ' ']);
        if Version::parse_prefix(rest).is_some() || comparator_prefix(rest).is_some() {
            return Some(rest);
        }
    }
    None
}

fn version_after(text: &str) -> Option<(Version, &str)> {
    // `<=(R4.02)`: a version in parentheses.
    if let Some(inner) = text.strip_prefix('(') {
        let (inside, after) = inner.split_once(')')?;
        let (version, rest) = Version::parse_prefix(inside)?;
        return rest.is_empty().then_some((version, after.trim_start()));
    }
    // `<=FB`, `<= K`: a hardware revision of one or two letters after a comparator.
    if let Some(found) = Version::revision_letters(text) {
        return Some(found);
    }
    Version::parse_prefix(text).or_else(|| Version::parse_prefix(skip_designators(text)?))
}

/// Classifies text left after the constraints: a restriction (condition) or a remark (note).
fn is_condition(rest: &str) -> bool {
    let lower = rest.to_ascii_lowercase();
    if lower.contains(['<', '>', '=']) || lower.contains("only") {
        return true;
    }
    if lower.starts_with('(') || lower.starts_with('_') || lower.starts_with("build") {
        return false;
    }
    true
}

impl Range {
    /// Reads a version branch's text.
    pub fn parse(text: &str) -> Range {
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let trimmed = collapsed.as_str();
        if let Some(rest) = trimmed.strip_prefix("vers:") {
            let Some((scheme, constraints)) = rest.split_once('/') else {
                return Range::Unreadable {
                    reason: format!("`{trimmed}`: a vers range without `/`"),
                };
            };
            let constraints = constraints.trim();
            if constraints == "*" {
                return Range::All { condition: None };
            }
            return match parse_constraints(&percent_decode(constraints)) {
                Some(Range::Constraints {
                    constraints,
                    condition,
                    note,
                    ..
                }) => Range::Constraints {
                    scheme: Some(scheme.to_owned()),
                    constraints,
                    condition,
                    note,
                },
                Some(other) => other,
                None => Range::Unreadable {
                    reason: format!("`{trimmed}`: constraints not readable"),
                },
            };
        }
        if trimmed.is_empty() {
            return Range::Unreadable {
                reason: "an empty version text".to_owned(),
            };
        }
        if trimmed == "*" {
            return Range::All { condition: None };
        }
        let mut rest = trimmed;
        let mut all = false;
        for phrase in ALL_PHRASES {
            if let Some(after) = starts_with_word(rest, phrase) {
                all = true;
                rest = after.trim_start_matches(':').trim_start();
                break;
            }
        }
        if all && (rest.is_empty() || rest == "*") {
            return Range::All { condition: None };
        }
        let lower = rest.to_ascii_lowercase();
        if all
            && [
                "with",
                "only",
                "in ",
                "when",
                "using",
                "installed",
                "including",
                "if ",
                "on ",
                "running",
            ]
            .iter()
            .any(|w| lower.starts_with(w))
        {
            return Range::All {
                condition: Some(rest.to_owned()),
            };
        }
        match parse_constraints(rest) {
            Some(range) => range,
            None => Range::Unreadable {
                reason: format!("`{trimmed}`: not a version range the evaluator reads"),
            },
        }
    }

    /// Whether `version` (as a device reports it) is in this range.
    pub fn contains(&self, version: &str) -> Containment {
        self.contains_parsed(Version::parse(version).as_ref(), version)
    }

    /// [`Range::contains`] for a version already parsed (`None`: `text` is unreadable).
    pub fn contains_parsed(&self, parsed: Option<&Version>, version: &str) -> Containment {
        match self {
            Range::All { condition: None } => Containment::In,
            Range::All {
                condition: Some(condition),
            } => Containment::Unknown(format!("all versions, but only {condition}")),
            Range::Unreadable { reason } => Containment::Unknown(reason.clone()),
            Range::Constraints {
                constraints,
                condition,
                ..
            } => {
                let Some(parsed) = parsed else {
                    return Containment::Unknown(format!(
                        "the version `{version}` is not readable"
                    ));
                };
                if !evaluate(constraints, parsed) {
                    Containment::Out
                } else if let Some(condition) = condition {
                    Containment::Unknown(format!(
                        "in range, but the condition `{condition}` is not evaluated"
                    ))
                } else {
                    Containment::In
                }
            }
        }
    }

    /// Whether a parsed version satisfies the range's constraints, its
    /// condition aside (false for `All` and unreadable ranges: they constrain nothing).
    pub fn constrains_in(&self, version: &Version) -> bool {
        match self {
            Range::Constraints { constraints, .. } => evaluate(constraints, version),
            Range::All { .. } | Range::Unreadable { .. } => false,
        }
    }

    /// The CVEs a condition restricts the range to (`>= 4.4.0 (only
    /// affected by CVE-2019-10943)`, `<= 2.4.17 (CVE-2022-3386 and
    /// CVE-2022-3385 only)`); empty when there is no such condition.
    pub fn only_cves(&self) -> Vec<String> {
        let condition = match self {
            Range::All { condition } | Range::Constraints { condition, .. } => condition,
            Range::Unreadable { .. } => &None,
        };
        let Some(condition) = condition else {
            return Vec::new();
        };
        let lower = condition.to_ascii_lowercase();
        if !lower.contains("only") || lower.contains(['<', '>', '=']) {
            return Vec::new();
        }
        let upper = condition.to_ascii_uppercase();
        upper
            .match_indices("CVE-")
            .filter_map(|(at, _)| {
                let id: String = upper
                    .get(at..)?
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                let mut parts = id.split('-').skip(1);
                let year = parts.next()?;
                let number = parts.next()?;
                (year.len() == 4
                    && !number.is_empty()
                    && number.chars().all(|c| c.is_ascii_digit()))
                .then_some(id)
            })
            .collect()
    }

    /// The same range without its condition (for a condition evaluated elsewhere).
    pub fn without_condition(&self) -> Range {
        match self {
            Range::All { .. } => Range::All { condition: None },
            Range::Constraints {
                scheme,
                constraints,
                note,
                ..
            } => Range::Constraints {
                scheme: scheme.clone(),
                constraints: constraints.clone(),
                condition: None,
                note: note.clone(),
            },
            Range::Unreadable { reason } => Range::Unreadable {
                reason: reason.clone(),
            },
        }
    }

    /// Whether this range is every version without condition.
    pub fn is_all(&self) -> bool {
        matches!(self, Range::All { condition: None })
    }
}

/// `vers` constraints are percent-encoded; CISA's rarely are.
fn percent_decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            let hex: String = chars.clone().take(2).collect();
            if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                out.push(char::from(byte));
                chars.next();
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Reads constraints from free or `vers` text: comparators with versions,
/// `|`, `,`, `and` as separators, `A to B`, `between A and B`, `A and prior`,
/// `A < B` (from A below B). `None` when nothing is read.
fn parse_constraints(text: &str) -> Option<Range> {
    let mut constraints: Vec<Constraint> = Vec::new();
    let mut rest = text.trim();
    let mut condition = None;
    let mut note = None;
    let mut first = true;
    while !rest.is_empty() {
        rest = rest
            .trim_start_matches([' ', '|', ',', ';', ':'])
            .trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(after) = ["and ", "or "]
            .iter()
            .find_map(|w| starts_with_word(rest, w.trim_end()))
        {
            // A connector, unless what follows is a condition rather than a version.
            if comparator_prefix(after).is_some()
                || Version::parse_prefix(after).is_some()
                || starts_with_word(after, "all versions").is_some()
            {
                rest = after;
                continue;
            }
            break;
        }
        if let Some(after) = starts_with_word(rest, "all versions") {
            rest = after;
            continue;
        }
        if let Some(after) = starts_with_word(rest, "between") {
            let (low, after) = version_after(after)?;
            let mut after = after;
            let mut low_comparator = Comparator::GreaterOrEqual;
            if let Some(a) = starts_with_word(after, "(including)") {
                after = a;
            } else if let Some(a) = starts_with_word(after, "(excluding)") {
                after = a;
                low_comparator = Comparator::Greater;
            }
            let after = starts_with_word(after, "and")?;
            let (high, mut after) = version_after(after)?;
            let mut high_comparator = Comparator::LessOrEqual;
            if let Some(a) = starts_with_word(after, "(excluding)") {
                after = a;
                high_comparator = Comparator::Less;
            } else if let Some(a) = starts_with_word(after, "(including)") {
                after = a;
            }
            constraints.push(Constraint {
                comparator: low_comparator,
                version: low,
            });
            constraints.push(Constraint {
                comparator: high_comparator,
                version: high,
            });
            rest = after;
            first = false;
            continue;
        }
        if let Some((comparator, after)) = comparator_prefix(rest) {
            let (version, after) = version_after(after)?;
            constraints.push(Constraint {
                comparator,
                version,
            });
            rest = after;
            first = false;
            continue;
        }
        if first && Version::parse_prefix(rest).is_none() {
            // `NMC2 <= 6.9.6`, `BIOS < V20.01.10`: a designator before the constraints.
            if let Some(after) = skip_designators(rest) {
                rest = after;
                continue;
            }
        }
        let parsed = Version::parse_prefix(rest);
        let Some((version, after)) = parsed else {
            break;
        };
        first = false;
        if let Some(after_phrase) = AND_BELOW.iter().find_map(|p| starts_with_word(after, p)) {
            constraints.push(Constraint {
                comparator: Comparator::LessOrEqual,
                version,
            });
            rest = after_phrase;
            continue;
        }
        if let Some(after_phrase) = AND_ABOVE.iter().find_map(|p| starts_with_word(after, p)) {
            constraints.push(Constraint {
                comparator: Comparator::GreaterOrEqual,
                version,
            });
            rest = after_phrase;
            continue;
        }
        let dash = after
            .strip_prefix(['-', '—', '–'])
            .map(str::trim_start)
            .filter(|a| Version::parse_prefix(a).is_some());
        if let Some(after_to) = ["to", "through", "thru", "until"]
            .iter()
            .find_map(|p| starts_with_word(after, p))
            .or(dash)
        {
            if let Some((high, after_high)) = Version::parse_prefix(after_to) {
                constraints.push(Constraint {
                    comparator: Comparator::GreaterOrEqual,
                    version,
                });
                constraints.push(Constraint {
                    comparator: Comparator::LessOrEqual,
                    version: high,
                });
                rest = after_high;
                continue;
            }
        }
        let after_label = after.trim_start_matches(':').trim_start();
        if comparator_prefix(after_label).is_some_and(|(c, _)| c.is_upper())
            && !after.starts_with('|')
        {
            // `V14 < V14 SP3`, `16 <= 20`, `V4.7: < V4.7 HF27`: from this version below the next.
            constraints.push(Constraint {
                comparator: Comparator::GreaterOrEqual,
                version,
            });
            rest = after_label;
            continue;
        }
        constraints.push(Constraint {
            comparator: Comparator::Equal,
            version,
        });
        rest = after;
    }
    let rest = rest.trim();
    if !rest.is_empty() {
        if is_condition(rest) {
            condition = Some(rest.to_owned());
        } else {
            note = Some(rest.to_owned());
        }
    }
    if constraints.is_empty() {
        return None;
    }
    Some(Range::Constraints {
        scheme: None,
        constraints,
        condition,
        note,
    })
}

/// The `vers` containment algorithm over lenient versions.
fn evaluate(constraints: &[Constraint], version: &Version) -> bool {
    let mut has_not_equal = false;
    let mut has_equal = false;
    for constraint in constraints {
        match constraint.comparator {
            Comparator::Equal => {
                has_equal = true;
                if version.compare(&constraint.version) == Ordering::Equal {
                    return true;
                }
            }
            Comparator::NotEqual => {
                has_not_equal = true;
                if version.compare(&constraint.version) == Ordering::Equal {
                    return false;
                }
            }
            _ => {}
        }
    }
    let mut bounds: Vec<&Constraint> = constraints
        .iter()
        .filter(|c| c.comparator.is_upper() || c.comparator.is_lower())
        .collect();
    if bounds.is_empty() {
        return has_not_equal && !has_equal;
    }
    bounds.sort_by(|a, b| a.version.compare(&b.version));
    let holds = |c: &Constraint| c.comparator.holds(version.compare(&c.version));
    if let [only] = bounds.as_slice() {
        return holds(only);
    }
    let pairs = bounds.len().saturating_sub(1);
    for (i, pair) in bounds.windows(2).enumerate() {
        let [current, next] = pair else { continue };
        if i == 0 && current.comparator.is_upper() && holds(current) {
            return true;
        }
        if i + 1 == pairs && next.comparator.is_lower() && holds(next) {
            return true;
        }
        if current.comparator.is_lower()
            && next.comparator.is_upper()
            && holds(current)
            && holds(next)
        {
            return true;
        }
    }
    false
}

/// Whether `version` is in the version branch `range` (any kind: a
/// `product_version` is read as a range too, since CISA writes ranges there).
pub fn contains(range: &VersionBranch, version: &str) -> Containment {
    Range::parse(&range.text).contains(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        match Version::parse(text) {
            Some(version) => version,
            None => panic!("`{text}` did not parse"),
        }
    }

    fn order(a: &str, b: &str) -> Ordering {
        v(a).compare(&v(b))
    }

    #[test]
    fn orders_versions_as_vendors_write_them() {
        for (a, b) in [
            ("V4.0", "V4.0 SP2"),
            ("V4.0 SP2", "V4.0 SP2 Update 2"),
            ("V4.0 SP2 Update 2", "V4.0.1"),
            ("V4.7 HF33", "V4.7 SP1"),
            ("V4.7 SP1", "V4.7 SP10 HF5"),
            ("V05.00.01.00", "V05.00.02"),
            ("V0209_0105", "V0209_0106"),
            ("R1.29.9", "R1.30.0"),
            ("Firmware_6.61", "6.62"),
            ("V2.1.1", "V2.1.1 HF3"),
            ("1.0.0-beta", "1.0.0"),
            ("1.0.0-alpha", "1.0.0-beta"),
            ("10.0", "V10.0a"),
            ("V10.0a", "V10.1a"),
            ("5.008", "5.028"),
            ("V14 SP1 Upd 9", "V14 SP1 Update 10"),
            ("SE2021MP3", "SE2021MP4"),
            ("V222.0MP11", "V222.0MP12"),
            ("15.2(5)EA.fc4", "15.2(6)E0a"),
            ("V4.2", "V4.10"),
        ] {
            assert_eq!(order(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(order(b, a), Ordering::Greater, "{b} > {a}");
        }
        for (a, b) in [
            ("V4.0", "4.0.0"),
            ("V05.00", "5"),
            ("2.8.x", "2.8.19"),
            ("V 4.01", "4.1"),
            ("Version V2.1", "2.1"),
            ("FW 01", "1"),
            ("ROS v4.3.7", "4.3.7"),
            ("V3.X.17", "3.2.17"),
        ] {
            assert_eq!(order(a, b), Ordering::Equal, "{a} = {b}");
        }
    }

    #[test]
    fn keeps_what_follows_the_version() {
        let (version, rest) = Version::parse_prefix("V4.00_Utilizes_Wibu-Systems_CodeMeter_7.60c")
            .unwrap_or_else(|| panic!("no version"));
        assert_eq!(version, v("4.0"));
        assert_eq!(rest, "_Utilizes_Wibu-Systems_CodeMeter_7.60c");
        assert!(Version::parse("1SAP500900R0101").is_none());
        assert!(Version::parse("No version").is_none());
        assert!(Version::parse("april 1").is_none());
        assert!(Version::parse("750-82xx/xxx-xxx").is_none());
        assert!(matches!(
            Range::parse("750-82xx/xxx-xxx"),
            Range::Unreadable { .. }
        ));
    }

    fn range_in(text: &str, version: &str) -> Containment {
        Range::parse(text).contains(version)
    }

    #[test]
    fn reads_the_forms_of_the_data() {
        use Containment::{In, Out};
        for (text, inside, outside) in [
            ("vers:all/<V7.0.3", "V7.0.2", "V7.0.3"),
            ("vers:intdot/<4.6.0", "4.5.9", "4.6"),
            ("vers:all/>=V7.80<V9.40", "V8.0", "V9.40"),
            ("vers:semver/>=1.0.0|<2.0.0|!=1.5.0", "1.4.0", "1.5.0"),
            ("<V4.0 SP2", "V4.0 SP1", "V4.0 SP2"),
            ("<=Firmware_6.62", "6.62", "6.63"),
            (
                "<V4.00_Utilizes_Wibu-Systems_CodeMeter_7.60c",
                "V3.9",
                "V4.0",
            ),
            (
                "All versions < V1.5 SP3 Update 2",
                "V1.5 SP3 Update 1",
                "V1.5 SP3 Update 2",
            ),
            ("All BIOS versions < V21.01.15", "V21.01.14", "V21.1.15"),
            ("V2.8.x", "2.8.19", "2.9.0"),
            (">=V2.0 <V2.5", "V2.4.9", "V2.5"),
            (">= 1.0 | <= 1.32", "1.32", "1.33"),
            ("V3.0 and prior", "V2.9", "V3.0.1"),
            ("prior to 4.2", "4.1", "4.2"),
            ("4.2 and earlier", "4.2", "4.2.1"),
            ("Versions 2.00 to 6.11", "6.11", "6.12"),
            (
                "All versions between V2.5 (including) and V2.7 (excluding)",
                "V2.5",
                "V2.7",
            ),
            ("All versions >= V2.0 and < V2.5", "V2.0", "V1.9"),
            ("V15, V15.1 and V16", "V15.1", "V15.2"),
            ("All versions V14 < V14 SP3", "V14 SP2", "V13"),
            ("V4.7: < V4.7 HF27", "V4.7 HF26", "V4.8"),
            ("All versions <= V7.x", "V7.9", "V8.0"),
            (
                "2.96 | 3.00 | >= 3.08 | <= 3.10 | >= 4.00 | <= 4.03",
                "3.09",
                "3.50",
            ),
            (
                "V04.00.02 and all versions >= V04.00.15 < 04.00.18",
                "V04.00.16",
                "V04.00.14",
            ),
            ("5.028", "5.028", "5.029"),
            ("< V3.X.17", "V3.4.16", "V3.4.17"),
            ("All versions < ROS V4.3.4", "V4.3.3", "V4.3.4"),
            ("NMC2 <= 6.9.6", "6.9.6", "6.9.7"),
            ("2.3.6 and  below", "2.3.6", "2.3.7"),
            ("<= C.00.04", "C.00.03", "C.00.05"),
            ("<=FB", "FA", "FC"),
            ("<=(R4.02)", "R4.01", "R4.10"),
            ("<=QRTB_2.12.7", "2.12.7", "2.12.8"),
            ("< VX.2.14", "V3.2.13", "V3.2.14"),
            ("1.38.xx | 1.39.00", "1.38.5", "1.40"),
            ("< 02.07.07(10)", "02.07.07(09)", "02.07.08"),
            ("1.265B -1.285X", "1.270", "1.290"),
            ("2.2.3  until 2.2.3.3", "2.2.3.1", "2.2.4"),
            ("<= 3.1 Service Pack 1A", "3.1 SP1", "3.1 SP2"),
        ] {
            assert_eq!(range_in(text, inside), In, "{inside} in {text}");
            assert_eq!(range_in(text, outside), Out, "{outside} not in {text}");
        }
    }

    #[test]
    fn all_conditions_and_unreadable_texts_are_unknown_never_dropped() {
        assert_eq!(range_in("vers:all/*", "anything"), Containment::In);
        assert_eq!(range_in("All versions", "V1"), Containment::In);
        assert!(Range::parse("All versions").is_all());
        for text in [
            "All versions with Ethernet interface",
            "All versions <= V2.2.2 and Function State (FS) <= 10",
            "All versions < V8.1 SP1 with WinCC V7.3 Upd 13",
            "All versions < CPCI85 V05.11 (only with activated debug support)",
            "distributed  < april 1, 2018",
            "No version",
            "3.0 and <",
        ] {
            assert!(
                matches!(range_in(text, "V1.0"), Containment::Unknown(_)),
                "{text}: {:?}",
                Range::parse(text)
            );
        }
        // A conditional range still excludes versions outside its constraints.
        assert_eq!(
            range_in("All versions < V8.1 SP1 with WinCC V7.3 Upd 13", "V9.0"),
            Containment::Out
        );
        assert!(matches!(
            range_in("< V4.1", "unknown firmware"),
            Containment::Unknown(_)
        ));
    }

    #[test]
    fn conditions_naming_cves_are_read() {
        let range = Range::parse(">= 4.4.0 (only affected by CVE-2019-10943)");
        assert_eq!(range.only_cves(), ["CVE-2019-10943"]);
        assert!(matches!(range.contains("V4.5"), Containment::Unknown(_)));
        assert_eq!(range.without_condition().contains("V4.5"), Containment::In);
        assert_eq!(
            Range::parse("<= 2.4.17  (CVE-2022-3386 and CVE-2022-3385 only)").only_cves(),
            ["CVE-2022-3386", "CVE-2022-3385"]
        );
        assert!(
            Range::parse("< V8.1 SP1 with WinCC V7.3 Upd 13")
                .only_cves()
                .is_empty()
        );
    }

    #[test]
    fn keeps_remarks_as_notes_not_conditions() {
        match Range::parse("< 6.6 (6.x series)") {
            Range::Constraints {
                note, condition, ..
            } => {
                assert_eq!(note.as_deref(), Some("(6.x series)"));
                assert_eq!(condition, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn branch_containment_reads_product_versions_as_ranges() {
        let branch = VersionBranch {
            kind: super::super::model::VersionKind::Version,
            text: "vers:all/*".to_owned(),
        };
        assert_eq!(contains(&branch, "V1"), Containment::In);
    }
}
