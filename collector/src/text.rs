//! Text from devices and advisories made fit to show: one line of bounded
//! length, control characters (line breaks, escapes) replaced, so that it
//! can neither forge a log or table line nor grow one without limit.

/// `text` as one printable line of at most `max` characters, with `…` when cut.
pub fn one_line(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .by_ref()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_printable_and_bounded() {
        assert_eq!(one_line("a\nb\x1b[31mc", 20), "a b [31mc");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("abc", 3), "abc");
        assert_eq!(one_line("", 3), "");
    }
}
