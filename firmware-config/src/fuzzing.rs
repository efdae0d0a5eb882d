//! The body of the `config_parse` fuzz target, here so that the fuzzer and the
//! corpus-replay test run the same code.

use std::path::Path;

/// Parses `data` as a configuration file (lossily decoded as UTF-8). Whatever
/// the input, parsing returns a configuration or problems that each name a
/// line and column inside the text; it never panics.
pub fn parse(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count().max(1);
    match crate::parse(&text, Path::new("fuzz.toml"), &["modbus.write"]) {
        Ok(_) => true,
        Err(errors) => {
            assert!(!errors.problems.is_empty(), "an error without a problem");
            for problem in &errors.problems {
                assert!(
                    problem.line <= lines + 1,
                    "problem past the end of the text: {problem}"
                );
            }
            false
        }
    }
}
