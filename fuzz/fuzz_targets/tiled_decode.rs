//! Arbitrary bytes after the tiled magic: header and tile parsing return a value or an error,
//! never panic, and never allocate more than the input proves.
//!
//! Random bytes rarely pass the header's and tiles' checksums, so each input is also tried after
//! its checksums are recomputed (at the places docs/format.md gives them): the fuzzer can then
//! reach the header's other checks, the tile parser, the Huffman tables and the lane decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn exercise(bytes: &[u8]) {
    let _ = lilcom::info(bytes);
    let _ = lilcom::decompress::<f32>(bytes);
    if let Ok(shape) = lilcom::shape(bytes) {
        if let Some(&rows) = shape.first() {
            let _ = lilcom::decompress_rows::<f64>(bytes, rows / 3..rows / 2);
        }
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn u64_at(bytes: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?)).ok()
}

/// The stream with the header's crc and every tile's crc recomputed.
fn with_checksums_repaired(bytes: &[u8]) -> Option<Vec<u8>> {
    let axes = usize::from(*bytes.get(5)?);
    let count_at = 8 + 8 * axes + 8;
    let tiles = u32_at(bytes, count_at)?.min(bytes.len() / 8);
    let header_crc_at = count_at + 4 + 8 * tiles;
    let mut out = bytes.get(..header_crc_at + 4)?.to_vec();
    let crc = crc32c::crc32c(&out[..header_crc_at]);
    out[header_crc_at..].copy_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&bytes[header_crc_at + 4..]);
    let first_tile = header_crc_at + 4;
    let mut start = 0;
    for t in 0..tiles {
        let end = u64_at(&out, count_at + 4 + 8 * t)?;
        let (from, to) = (first_tile.checked_add(start)?, first_tile.checked_add(end)?);
        if to > out.len() || to < from + 4 {
            break;
        }
        let crc = crc32c::crc32c(&out[from..to - 4]);
        out[to - 4..to].copy_from_slice(&crc.to_le_bytes());
        start = end;
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Vec::with_capacity(data.len() + 2);
    bytes.extend_from_slice(b"L\x01");
    bytes.extend_from_slice(data);
    exercise(&bytes);
    if let Some(repaired) = with_checksums_repaired(&bytes) {
        exercise(&repaired);
    }
});
