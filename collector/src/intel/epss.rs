//! FIRST's EPSS scores: the daily CSV (`epss_scores-YYYY-MM-DD.csv.gz`),
//! plain or gzipped (told by its magic bytes, not its name).
//!
//! ```text
//! #model_version:v2023.03.01,score_date:2023-03-21T00:00:00+0000
//! cve,epss,percentile
//! CVE-1999-0001,0.01269,0.84396
//! ```
//!
//! The comment line is optional. A row that does not read (a CVE id that
//! is not one, a score that is not a number in 0 … 1) is counted and
//! reported by its line number; the other rows still load. Only a file
//! that is not EPSS at all (no `cve,epss,percentile` header, a broken gzip
//! stream) is an error.

use std::io::Read;

use super::model::Epss;

/// At most this many bytes are decompressed (a day's file is about 10 MB).
pub const MAX_DECOMPRESSED: u64 = 512 << 20;

/// At most this many bad rows are kept with their reasons (all are counted).
pub const MAX_BAD_ROWS_KEPT: usize = 100;

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One EPSS file, read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    /// `model_version` from the comment line (`v2023.03.01`).
    pub model_version: Option<String>,
    /// `score_date` from the comment line (`2023-03-21T00:00:00+0000`).
    pub score_date: Option<String>,
    /// The scores, CVE ids upper-cased, in file order.
    pub scores: Vec<(String, Epss)>,
    /// Rows that did not read, all of them counted.
    pub bad_rows: u64,
    /// The first [`MAX_BAD_ROWS_KEPT`] bad rows: line number (1-based) and why.
    pub bad: Vec<(u64, String)>,
}

/// Why bytes are not an EPSS file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EpssError {
    /// Gzip magic, but the stream does not decompress.
    #[error("gzip stream does not decompress: {0}")]
    Gzip(String),
    /// Decompresses to more than [`MAX_DECOMPRESSED`] bytes.
    #[error("decompresses to more than {MAX_DECOMPRESSED} bytes")]
    TooLarge,
    /// No `cve,epss,percentile` header (at `line`, after the optional comment).
    #[error("line {line}: expected the header cve,epss,percentile, found {found:?}")]
    Header {
        /// 1-based line number.
        line: u64,
        /// The line found there (cut to 80 characters).
        found: String,
    },
}

/// Whether `bytes` look like an EPSS file: gzip, or a CSV starting with
/// the `#model_version` comment or the `cve,epss` header.
pub fn looks_like(bytes: &[u8]) -> bool {
    if bytes.starts_with(&GZIP_MAGIC) {
        return true;
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let head = bytes.get(..bytes.len().min(64)).unwrap_or_default();
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.starts_with("#model_version") || head.starts_with("cve,epss")
}

/// Reads an EPSS file, plain or gzipped.
pub fn parse(bytes: &[u8]) -> Result<Scores, EpssError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut text)
            .map_err(|e| EpssError::Gzip(e.to_string()))?;
        if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_DECOMPRESSED {
            return Err(EpssError::TooLarge);
        }
        parse_csv(&text)
    } else {
        parse_csv(bytes)
    }
}

fn parse_csv(bytes: &[u8]) -> Result<Scores, EpssError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut out = Scores::default();
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .zip(1u64..)
        .filter(|(l, _)| !l.iter().all(u8::is_ascii_whitespace));

    let mut header = lines.next();
    if let Some((line, _)) = header
        && line.starts_with(b"#")
    {
        comment(&String::from_utf8_lossy(line), &mut out);
        header = lines.next();
    }
    let (line, number) = header.unwrap_or((b"", 1));
    let text = String::from_utf8_lossy(line);
    let names: Vec<String> = text
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let column = |name: &str| names.iter().position(|n| n == name);
    let (Some(cve_at), Some(epss_at), Some(pct_at)) =
        (column("cve"), column("epss"), column("percentile"))
    else {
        return Err(EpssError::Header {
            line: number,
            found: text.chars().take(80).collect(),
        });
    };

    for (line, number) in lines {
        match row(line, cve_at, epss_at, pct_at) {
            Ok(score) => out.scores.push(score),
            Err(why) => {
                out.bad_rows += 1;
                if out.bad.len() < MAX_BAD_ROWS_KEPT {
                    out.bad.push((number, why));
                }
            }
        }
    }
    Ok(out)
}

/// `#model_version:v2023.03.01,score_date:2023-03-21T00:00:00+0000`
fn comment(line: &str, out: &mut Scores) {
    for pair in line.trim_start_matches('#').split(',') {
        let Some((key, value)) = pair.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "model_version" => out.model_version = Some(value.to_owned()),
            "score_date" => out.score_date = Some(value.to_owned()),
            _ => {}
        }
    }
}

fn row(
    line: &[u8],
    cve_at: usize,
    epss_at: usize,
    pct_at: usize,
) -> Result<(String, Epss), String> {
    let line = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_owned())?;
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let field = |at: usize, name: &str| {
        fields
            .get(at)
            .copied()
            .ok_or_else(|| format!("no {name} column ({} fields)", fields.len()))
    };
    let cve = field(cve_at, "cve")?.to_ascii_uppercase();
    let number = cve.strip_prefix("CVE-").unwrap_or_default();
    let well_formed = number.split_once('-').is_some_and(|(year, seq)| {
        year.len() == 4
            && seq.len() >= 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && seq.bytes().all(|b| b.is_ascii_digit())
    });
    if !well_formed {
        return Err(format!("{cve:?} is not a CVE id"));
    }
    let probability = |at: usize, name: &str| -> Result<f64, String> {
        let text = field(at, name)?;
        match text.parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
            _ => Err(format!("{name} {text:?} is not a number in 0 … 1")),
        }
    };
    let score = probability(epss_at, "epss")?;
    let percentile = probability(pct_at, "percentile")?;
    Ok((cve, Epss { score, percentile }))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const FILE: &str = "#model_version:v2023.03.01,score_date:2023-03-21T00:00:00+0000\r\n\
        cve,epss,percentile\r\n\
        CVE-1999-0001,0.01269,0.84396\r\n\
        cve-2023-12345,0.5,0.99\r\n\
        \r\n\
        CVE-2023-1,0.1,0.2\r\n\
        CVE-2023-0002,1.5,0.2\r\n\
        CVE-2023-0003,0.1\r\n\
        CVE-2023-0004,x,0.2\r\n";

    #[test]
    fn a_plain_file_is_read_and_bad_rows_are_counted() {
        let s = parse(FILE.as_bytes()).unwrap();
        assert_eq!(s.model_version.as_deref(), Some("v2023.03.01"));
        assert_eq!(s.score_date.as_deref(), Some("2023-03-21T00:00:00+0000"));
        assert_eq!(
            s.scores,
            [
                (
                    "CVE-1999-0001".to_owned(),
                    Epss {
                        score: 0.01269,
                        percentile: 0.84396
                    }
                ),
                (
                    "CVE-2023-12345".to_owned(),
                    Epss {
                        score: 0.5,
                        percentile: 0.99
                    }
                ),
            ]
        );
        assert_eq!(s.bad_rows, 4);
        let lines: Vec<u64> = s.bad.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [6, 7, 8, 9]);
        assert!(s.bad[0].1.contains("not a CVE id"), "{:?}", s.bad);
        assert!(s.bad[2].1.contains("no percentile column"), "{:?}", s.bad);
    }

    #[test]
    fn a_gzipped_file_is_read_by_its_magic() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(FILE.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        assert!(looks_like(&bytes));
        assert_eq!(parse(&bytes).unwrap(), parse(FILE.as_bytes()).unwrap());
        let truncated = bytes.get(..bytes.len() / 2).unwrap();
        assert!(matches!(parse(truncated), Err(EpssError::Gzip(_))));
    }

    #[test]
    fn the_comment_is_optional_and_columns_go_by_name() {
        let s = parse(b"percentile,cve,epss\n0.3,CVE-2020-0001,0.4\n").unwrap();
        assert_eq!(s.model_version, None);
        assert_eq!(
            s.scores,
            [(
                "CVE-2020-0001".to_owned(),
                Epss {
                    score: 0.4,
                    percentile: 0.3
                }
            )]
        );
        assert!(looks_like(b"cve,epss,percentile\n"));
        assert!(!looks_like(b"{\"feed\": {}}"));
    }

    #[test]
    fn a_file_without_the_header_is_not_epss() {
        assert_eq!(
            parse(b"#model_version:v1\nid,score\n"),
            Err(EpssError::Header {
                line: 2,
                found: "id,score".into()
            })
        );
        assert!(matches!(parse(b""), Err(EpssError::Header { .. })));
    }
}
