#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| faro_protocols::fuzzing::uplink_envelope(data));
