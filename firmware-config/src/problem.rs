//! What is wrong with a configuration file, and where.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One thing wrong with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line (0 when the file could not be read at all).
    pub line: usize,
    /// 1-based column, in characters (0 when the file could not be read).
    pub column: usize,
    /// The setting, as a dotted path: `zones[1].cidrs[0]`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.field,
            self.message
        )
    }
}

/// Every problem found in a configuration file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    /// The problems (never empty).
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigErrors {
    /// One line per problem: `FILE:LINE:COLUMN: FIELD: MESSAGE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects problems, turning byte offsets into lines and columns.
pub(crate) struct Problems<'a> {
    file: &'a Path,
    text: &'a str,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
    found: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Problems {
            file,
            text,
            line_starts,
            found: Vec::new(),
        }
    }

    /// 1-based line and column (in characters) of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, column + 1)
    }

    /// A problem with `field` at the start of `span`.
    pub(crate) fn add(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (line, column) = self.position(span.start);
        self.found.push(Problem {
            file: self.file.to_owned(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The problems in file order.
    pub(crate) fn finish(mut self) -> Vec<Problem> {
        self.found.sort_by_key(|p| (p.line, p.column));
        self.found
    }
}
