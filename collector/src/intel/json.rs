//! Reading a JSON document into typed structures, with errors that say
//! where: the line and column of malformed JSON, or the path of the field
//! that is missing or of the wrong shape. Every intelligence reader that
//! takes JSON (CSAF, KEV) goes through it.

use serde::de::DeserializeOwned;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not well-formed JSON (or trailing bytes after it).
    #[error("not JSON (line {line}, column {column}): {message}")]
    Json {
        /// 1-based line of the fault.
        line: usize,
        /// 1-based column of the fault.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// Well-formed JSON whose field at `path` is missing or has the wrong shape.
    #[error("at {path}: {message}")]
    Field {
        /// The JSON path (`vulnerabilities[3].scores[0].cvss_v3.baseScore`).
        path: String,
        /// What is wrong there.
        message: String,
    },
}

fn syntax(e: &serde_json::Error) -> JsonError {
    JsonError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// `bytes` as a `T`, and nothing after it.
pub fn read<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            JsonError::Field {
                path,
                message: inner.to_string(),
            }
        } else {
            syntax(&inner)
        }
    })?;
    de.end().map_err(|e| syntax(&e))?;
    Ok(value)
}
