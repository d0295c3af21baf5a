#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    artefact_fuzz::caught_panics_are_errors();
    artefact_fuzz::raster(data)
});
