#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| artefact_fuzz::dicom(data));
