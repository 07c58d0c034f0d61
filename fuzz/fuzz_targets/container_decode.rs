//! Arbitrary bytes as the CLI's checkpoint container: opening, `info`-style payload reads and
//! decoding to a safetensors file return a value or an error, never panic, and allocate no more
//! than the input proves. A decoded checkpoint must be a valid safetensors file.
//!
//! Random bytes rarely pass the checksums, so each input is also tried after its checksums are
//! recomputed: the fuzzer can then reach index validation and payload decoding.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use lilcom_cli::checkpoint;
use lilcom_cli::container::ContainerReader;
use lilcom_cli::progress::Progress;

const TRAILER: usize = 24;

fn exercise(bytes: &[u8]) {
    if let Ok(mut reader) = ContainerReader::open(Cursor::new(bytes)) {
        for i in 0..reader.index().tensors.len() {
            if let Ok(payload) = reader.payload(i) {
                let _ = lilcom::info(&payload);
            }
        }
    }
    let mut restored = Vec::new();
    if checkpoint::decompress(Cursor::new(bytes), &mut restored, Some(1), &Progress::hidden()).is_ok() {
        if let Err(e) = safetensors::SafeTensors::deserialize(&restored) {
            panic!("a container decoded to an invalid safetensors file: {e}");
        }
    }
}

/// Recomputes every checksum the index and trailer carry, keeping everything else.
fn with_checksums_repaired(bytes: &[u8]) -> Option<Vec<u8>> {
    let trailer = bytes.len().checked_sub(TRAILER)?;
    let index_offset = usize::try_from(u64::from_le_bytes(bytes[trailer..trailer + 8].try_into().ok()?)).ok()?;
    let index_bytes = bytes.get(index_offset..trailer)?;
    let mut index: serde_json::Value = serde_json::from_slice(index_bytes).ok()?;
    for tensor in index.get_mut("tensors")?.as_array_mut()? {
        let offset = usize::try_from(tensor.get("offset")?.as_u64()?).ok()?;
        let length = usize::try_from(tensor.get("length")?.as_u64()?).ok()?;
        let payload = bytes.get(offset..offset.checked_add(length)?)?;
        tensor["crc32c"] = crc32c::crc32c(payload).into();
    }
    let index_bytes = serde_json::to_vec(&index).ok()?;
    let mut repaired = bytes[..index_offset].to_vec();
    repaired.extend_from_slice(&index_bytes);
    repaired.extend_from_slice(&(index_offset as u64).to_le_bytes());
    repaired.extend_from_slice(&(index_bytes.len() as u64).to_le_bytes());
    repaired.extend_from_slice(&crc32c::crc32c(&index_bytes).to_le_bytes());
    repaired.extend_from_slice(&bytes[trailer + 20..]);
    Some(repaired)
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    if let Some(repaired) = with_checksums_repaired(data) {
        exercise(&repaired);
    }
});
