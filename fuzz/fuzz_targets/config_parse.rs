#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    faro_firmware_config::fuzzing::parse(data);
});
