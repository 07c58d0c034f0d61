//! Arbitrary bytes after the tiled magic: header and tile parsing return a value or an error,
//! never panic, and never allocate more than the input proves.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = Vec::with_capacity(data.len() + 2);
    bytes.extend_from_slice(b"L\x01");
    bytes.extend_from_slice(data);
    let _ = lilcom::info(&bytes);
    let _ = lilcom::decompress::<f32>(&bytes);
    if let Ok(shape) = lilcom::shape(&bytes) {
        if let Some(&rows) = shape.first() {
            let _ = lilcom::decompress_rows::<f64>(&bytes, rows / 3..rows / 2);
        }
    }
});
