//! Replays the committed corpus and crash reproducers of the `config_parse`
//! fuzz target, so a fixed crash stays fixed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn config_parse_corpus() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join("config_parse")) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                faro_firmware_config::fuzzing::parse(&std::fs::read(&path).unwrap());
                count += 1;
            }
        }
    }
    assert!(
        count >= 3,
        "no corpus for config_parse under {}",
        fuzz.display()
    );
}
