//! Arbitrary bytes after an `L\x00` magic: the decoder returns a value or an error, never
//! panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Streams may legitimately describe huge arrays of zeros in a few bytes (zero runs); cap what
/// the target decodes so that the fuzzer measures robustness, not memory.
const MAX_ELEMENTS: usize = 1 << 22;

fuzz_target!(|data: &[u8]| {
    let mut bytes = Vec::with_capacity(data.len() + 2);
    bytes.extend_from_slice(b"L\x00");
    bytes.extend_from_slice(data);
    let _ = lilcom::info(&bytes);
    if let Ok(shape) = lilcom::shape(&bytes) {
        if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_some_and(|n| n <= MAX_ELEMENTS) {
            if let Ok(decoded) = lilcom::decompress::<f32>(&bytes) {
                assert_eq!(decoded.shape(), &shape[..]);
            }
        }
    }
    // The unprefixed bytes exercise the magic checks.
    let _ = lilcom::shape(data);
});
