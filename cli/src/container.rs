//! The checkpoint container: many named tensors in one file, written in one pass and read one
//! tensor at a time. Specified bit for bit in `docs/format.md` ("Checkpoint container").
//!
//! ```text
//! "LCKP" major minor 0 0 | payload | payload | ... | index (JSON) | trailer (24 bytes)
//! ```
//!
//! The index sits at the end so that a writer never has to hold or revisit earlier tensors, and
//! the fixed-size trailer lets a reader find it with one seek.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Seek, SeekFrom, Write};

use safetensors::Dtype;
use serde::{Deserialize, Serialize};

/// The first four bytes of a container.
pub const MAGIC: [u8; 4] = *b"LCKP";
/// The major version this code writes and reads; a reader rejects any other.
pub const MAJOR_VERSION: u8 = 1;
/// The minor version this code writes and the newest it reads (a newer one may mean fields or
/// encodings this code would misread).
pub const MINOR_VERSION: u8 = 0;

const HEADER_LEN: u64 = 8;
const TRAILER_LEN: u64 = 24;
/// An index larger than this is rejected before it is read (the same limit safetensors puts on
/// its JSON header).
const MAX_INDEX_LEN: u64 = 100_000_000;

/// How one tensor's bytes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// A tiled lilcom stream (float tensors; f16 and bf16 widened to f32 exactly).
    Lilcom,
    /// The tensor's little-endian bytes, unchanged.
    Raw,
}

/// One tensor of the index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The tensor's name in the checkpoint.
    pub name: String,
    /// Its safetensors dtype.
    pub dtype: Dtype,
    /// Its shape.
    pub shape: Vec<usize>,
    /// How its payload is stored.
    pub encoding: Encoding,
    /// The tick power of a `lilcom` payload; absent for `raw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_power: Option<i32>,
    /// Byte offset of the payload from the start of the file.
    pub offset: u64,
    /// Length of the payload in bytes.
    pub length: u64,
    /// CRC-32C of the payload.
    pub crc32c: u32,
}

impl Entry {
    /// The size of the tensor in its safetensors dtype, or `None` if it overflows.
    pub fn decoded_len(&self) -> Option<u64> {
        let elements = self.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64))?;
        let bits = elements.checked_mul(self.dtype.bitsize() as u64)?;
        (bits % 8 == 0).then_some(bits / 8)
    }
}

/// The container's index: the checkpoint's metadata and its tensors in file order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// The safetensors `__metadata__` map, kept as it was (sorted, so that the bytes written do
    /// not depend on hash order).
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// The tensors, in the order their payloads appear.
    pub tensors: Vec<Entry>,
}

/// What is wrong with a container.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The bytes are not a container of a version this code reads, or are damaged.
    #[error("not a valid lilcom checkpoint container: {0}")]
    Corrupt(String),
    /// A tensor's lilcom payload failed to decode.
    #[error("tensor {name:?}: {source}")]
    Tensor {
        /// The tensor's name.
        name: String,
        /// What the codec reported.
        source: lilcom::Error,
    },
}

fn corrupt(message: impl Into<String>) -> ContainerError {
    ContainerError::Corrupt(message.into())
}

/// Whether `prefix` (the first bytes of a file) begins a container.
pub fn is_container(prefix: &[u8]) -> bool {
    prefix.starts_with(&MAGIC)
}

/// Writes a container in one pass: the header now, each payload as it comes, the index last.
pub struct ContainerWriter<W: Write> {
    out: W,
    position: u64,
    index: Index,
}

impl<W: Write> ContainerWriter<W> {
    /// Writes the header to `out`.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&MAGIC)?;
        out.write_all(&[MAJOR_VERSION, MINOR_VERSION, 0, 0])?;
        Ok(ContainerWriter { out, position: HEADER_LEN, index: Index::default() })
    }

    /// Appends one tensor's payload and records it in the index.
    pub fn add(
        &mut self,
        name: &str,
        dtype: Dtype,
        shape: &[usize],
        encoding: Encoding,
        tick_power: Option<i32>,
        payload: &[u8],
    ) -> io::Result<()> {
        self.out.write_all(payload)?;
        self.index.tensors.push(Entry {
            name: name.to_owned(),
            dtype,
            shape: shape.to_vec(),
            encoding,
            tick_power,
            offset: self.position,
            length: payload.len() as u64,
            crc32c: crc32c::crc32c(payload),
        });
        self.position += payload.len() as u64;
        Ok(())
    }

    /// Writes the index and the trailer, and returns the writer.
    pub fn finish(mut self, metadata: Option<HashMap<String, String>>) -> io::Result<W> {
        self.index.metadata = metadata.map(|m| m.into_iter().collect());
        let index = serde_json::to_vec(&self.index).map_err(io::Error::other)?;
        self.out.write_all(&index)?;
        let mut trailer = [0u8; TRAILER_LEN as usize];
        trailer[0..8].copy_from_slice(&self.position.to_le_bytes());
        trailer[8..16].copy_from_slice(&(index.len() as u64).to_le_bytes());
        trailer[16..20].copy_from_slice(&crc32c::crc32c(&index).to_le_bytes());
        trailer[20..24].copy_from_slice(&MAGIC);
        self.out.write_all(&trailer)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a container's index, then any tensor on demand.
pub struct ContainerReader<R: Read + Seek> {
    input: R,
    index: Index,
}

impl<R: Read + Seek> ContainerReader<R> {
    /// Checks the header and trailer, reads and validates the index.
    pub fn open(mut input: R) -> Result<Self, ContainerError> {
        let file_len = input.seek(SeekFrom::End(0))?;
        if file_len < HEADER_LEN + TRAILER_LEN {
            return Err(corrupt(format!("{file_len} bytes is shorter than a container's header and trailer")));
        }
        input.seek(SeekFrom::Start(0))?;
        let mut header = [0u8; HEADER_LEN as usize];
        input.read_exact(&mut header)?;
        if header[..4] != MAGIC {
            return Err(corrupt("the file does not begin with \"LCKP\""));
        }
        if header[4] != MAJOR_VERSION || header[5] > MINOR_VERSION {
            return Err(corrupt(format!(
                "container version {}.{} needs newer code; this build reads up to {MAJOR_VERSION}.{MINOR_VERSION}",
                header[4], header[5]
            )));
        }
        if header[6..8] != [0, 0] {
            return Err(corrupt("reserved header bytes are not zero"));
        }
        input.seek(SeekFrom::Start(file_len - TRAILER_LEN))?;
        let mut trailer = [0u8; TRAILER_LEN as usize];
        input.read_exact(&mut trailer)?;
        if trailer[20..24] != MAGIC {
            return Err(corrupt("the trailer does not end with \"LCKP\" (truncated file?)"));
        }
        let index_offset = u64::from_le_bytes(trailer[0..8].try_into().expect("8 bytes"));
        let index_len = u64::from_le_bytes(trailer[8..16].try_into().expect("8 bytes"));
        let index_crc = u32::from_le_bytes(trailer[16..20].try_into().expect("4 bytes"));
        let index_end = index_offset.checked_add(index_len);
        if index_offset < HEADER_LEN || index_end != Some(file_len - TRAILER_LEN) || index_len > MAX_INDEX_LEN {
            return Err(corrupt(format!(
                "the trailer places the index at {index_offset}..+{index_len} in a file of {file_len} bytes"
            )));
        }
        input.seek(SeekFrom::Start(index_offset))?;
        let mut index_bytes = vec![0u8; index_len as usize];
        input.read_exact(&mut index_bytes)?;
        if crc32c::crc32c(&index_bytes) != index_crc {
            return Err(corrupt("the index's checksum does not match"));
        }
        // Unknown fields are refused too: with the crc they can only come from a newer writer,
        // which the version check already turned away.
        let index: Index =
            serde_json::from_slice(&index_bytes).map_err(|e| corrupt(format!("the index is not valid: {e}")))?;
        validate(&index, index_offset)?;
        Ok(ContainerReader { input, index })
    }

    /// The index: metadata and tensors in file order.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Reads tensor `i`'s payload and checks its CRC.
    pub fn payload(&mut self, i: usize) -> Result<Vec<u8>, ContainerError> {
        let entry = &self.index.tensors[i];
        self.input.seek(SeekFrom::Start(entry.offset))?;
        // The index was validated: the payload lies inside the file, so this allocation is
        // bounded by the file's size.
        let mut payload = vec![0u8; entry.length as usize];
        self.input.read_exact(&mut payload)?;
        if crc32c::crc32c(&payload) != entry.crc32c {
            return Err(corrupt(format!("tensor {:?}: the payload's checksum does not match", entry.name)));
        }
        Ok(payload)
    }

    /// Decodes tensor `i` to its safetensors bytes (little-endian, its own dtype).
    pub fn tensor_bytes(&mut self, i: usize, threads: Option<usize>) -> Result<Vec<u8>, ContainerError> {
        let payload = self.payload(i)?;
        let entry = &self.index.tensors[i];
        match entry.encoding {
            Encoding::Raw => Ok(payload),
            Encoding::Lilcom => crate::tensor::decode(entry, &payload, threads)
                .map_err(|source| ContainerError::Tensor { name: entry.name.clone(), source }),
        }
    }
}

/// Checks what the decoder relies on: payloads inside the file and in order, sizes that match
/// shapes, names unique, and lilcom payloads only for float dtypes.
fn validate(index: &Index, payload_end: u64) -> Result<(), ContainerError> {
    let mut position = HEADER_LEN;
    let mut names = std::collections::HashSet::new();
    for entry in &index.tensors {
        if !names.insert(entry.name.as_str()) {
            return Err(corrupt(format!("tensor {:?} appears twice", entry.name)));
        }
        let inside = entry.offset.checked_add(entry.length).is_some_and(|end| end <= payload_end);
        if entry.offset != position || !inside {
            return Err(corrupt(format!("tensor {:?}: its payload is not where the index says", entry.name)));
        }
        position = entry.offset + entry.length;
        let decoded_len = entry
            .decoded_len()
            .ok_or_else(|| corrupt(format!("tensor {:?}: shape {:?} is too large", entry.name, entry.shape)))?;
        match entry.encoding {
            Encoding::Raw if decoded_len != entry.length => {
                return Err(corrupt(format!(
                    "tensor {:?}: {} raw bytes for a tensor of {decoded_len} bytes",
                    entry.name, entry.length
                )));
            }
            Encoding::Lilcom if !crate::tensor::is_lilcom_dtype(entry.dtype) => {
                return Err(corrupt(format!(
                    "tensor {:?}: dtype {} cannot hold a lilcom payload",
                    entry.name, entry.dtype
                )));
            }
            Encoding::Lilcom if entry.tick_power.is_none() => {
                return Err(corrupt(format!("tensor {:?}: a lilcom payload without a tick power", entry.name)));
            }
            _ => {}
        }
    }
    if position != payload_end {
        return Err(corrupt("bytes between the last payload and the index"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::checkpoint;
    use crate::progress::Progress;

    /// A small container: a compressed f32 tensor, a compressed bf16 tensor, raw ints, metadata.
    fn small_container() -> Vec<u8> {
        let mut writer = ContainerWriter::new(Vec::new()).unwrap();
        let values = crate::tensor::FloatValues::F32((0..40).map(|i| (i as f32 * 0.37).sin()).collect());
        let options = lilcom::CompressOptions::default().with_tick_power(-6);
        let stream = values.compress(&[8, 5], false, &options).unwrap();
        writer.add("w", Dtype::F32, &[8, 5], Encoding::Lilcom, Some(-6), &stream).unwrap();
        let halves = crate::tensor::FloatValues::F32(vec![1.5, -2.25, 3.0]);
        let stream = halves.compress(&[3], false, &options).unwrap();
        writer.add("h", Dtype::BF16, &[3], Encoding::Lilcom, Some(-6), &stream).unwrap();
        writer.add("ids", Dtype::I32, &[2], Encoding::Raw, None, &[1, 0, 0, 0, 2, 0, 0, 0]).unwrap();
        writer.finish(Some(HashMap::from([("k".to_string(), "v".to_string())]))).unwrap()
    }

    fn decode(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        checkpoint::decompress(Cursor::new(bytes), &mut out, Some(1), &Progress::hidden())?;
        Ok(out)
    }

    #[test]
    fn a_container_round_trips_to_a_valid_safetensors_file() {
        let restored = decode(&small_container()).unwrap();
        let file = safetensors::SafeTensors::deserialize(&restored).unwrap();
        assert_eq!(file.tensor("ids").unwrap().data(), &[1, 0, 0, 0, 2, 0, 0, 0]);
        let h = file.tensor("h").unwrap();
        assert_eq!(h.dtype(), Dtype::BF16);
        let halves: Vec<f32> = h.data().chunks(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect();
        assert_eq!(halves, vec![1.5, -2.25, 3.0]);
    }

    #[test]
    fn every_single_bit_flip_is_reported() {
        let good = small_container();
        for bit in 0..good.len() * 8 {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(decode(&bad).is_err(), "flipping bit {bit} (byte {}) went unnoticed", bit / 8);
        }
    }

    #[test]
    fn every_truncation_is_reported() {
        let good = small_container();
        for len in 0..good.len() {
            assert!(decode(&good[..len]).is_err(), "truncation to {len} bytes went unnoticed");
            assert!(ContainerReader::open(Cursor::new(&good[..len])).is_err());
        }
    }
}
