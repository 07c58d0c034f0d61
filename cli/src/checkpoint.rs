//! `.safetensors` checkpoints to and from the container, one tensor at a time, so that neither the
//! input nor the output is ever held whole.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc;

use anyhow::{bail, ensure, Context, Result};
use lilcom::CompressOptions;
use safetensors::tensor::{Metadata, TensorInfo};

use crate::container::{ContainerReader, ContainerWriter, Encoding};
use crate::progress::Progress;
use crate::tensor::{is_lilcom_dtype, FloatValues, TickRule};

/// The largest JSON header read (the limit the safetensors crate itself applies).
const MAX_HEADER_LEN: u64 = 100_000_000;

/// A `.safetensors` file whose header has been read and checked against the file's size.
pub struct SafetensorsFile {
    file: BufReader<File>,
    data_start: u64,
    metadata: Metadata,
}

impl SafetensorsFile {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let file_len = file.metadata()?.len();
        let mut prefix = [0u8; 8];
        file.read_exact(&mut prefix)
            .map_err(|_| anyhow::anyhow!("{} is too short for a safetensors file", path.display()))?;
        let header_len = u64::from_le_bytes(prefix);
        ensure!(
            header_len <= MAX_HEADER_LEN && 8 + header_len <= file_len,
            "{} is not a safetensors file: its header claims {header_len} bytes in a file of {file_len}",
            path.display()
        );
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header)?;
        let metadata: Metadata = serde_json::from_slice(&header)
            .with_context(|| format!("{} is not a safetensors file: its header is not valid", path.display()))?;
        let data_start = 8 + header_len;
        let expected = data_start + metadata.data_len() as u64;
        ensure!(
            expected == file_len,
            "{}: the header describes {expected} bytes but the file has {file_len} (truncated or damaged)",
            path.display()
        );
        Ok(SafetensorsFile { file: BufReader::with_capacity(1 << 20, file), data_start, metadata })
    }

    /// Tensor names in the order their bytes appear in the file.
    pub fn names(&self) -> Vec<String> {
        self.metadata.offset_keys()
    }

    /// The header entry of tensor `name`.
    pub fn info(&self, name: &str) -> &TensorInfo {
        self.metadata.info(name).expect("names come from the header")
    }

    /// Total bytes of tensor data.
    pub fn data_len(&self) -> u64 {
        self.metadata.data_len() as u64
    }

    /// Positions the reader at tensor `name`'s bytes.
    fn seek_to(&mut self, name: &str) -> Result<&mut BufReader<File>> {
        let start = self.data_start + self.info(name).data_offsets.0 as u64;
        self.file.seek(SeekFrom::Start(start))?;
        Ok(&mut self.file)
    }
}

/// How to compress a checkpoint.
#[derive(Clone, Debug)]
pub struct CheckpointSettings {
    /// The tick of each float tensor.
    pub tick: TickRule,
    /// Codec options; the tick power is set per tensor.
    pub options: CompressOptions,
}

/// A tensor as read from the checkpoint.
enum ReadTensor {
    Float(String, TensorInfo, FloatValues),
    Other(String, TensorInfo, Vec<u8>),
}

/// A tensor ready for the container.
struct Payload {
    name: String,
    info: TensorInfo,
    encoding: Encoding,
    tick_power: Option<i32>,
    bytes: Vec<u8>,
}

impl SafetensorsFile {
    fn read_tensor(&mut self, name: &str) -> Result<ReadTensor> {
        let info = self.info(name).clone();
        let reader = self.seek_to(name)?;
        if is_lilcom_dtype(info.dtype) {
            let values = FloatValues::read(info.dtype, info.shape.iter().product(), reader)?;
            Ok(ReadTensor::Float(name.to_owned(), info, values))
        } else {
            let mut raw = vec![0u8; info.data_offsets.1 - info.data_offsets.0];
            reader.read_exact(&mut raw)?;
            Ok(ReadTensor::Other(name.to_owned(), info, raw))
        }
    }
}

fn encode(tensor: ReadTensor, settings: &CheckpointSettings) -> Result<Payload> {
    Ok(match tensor {
        ReadTensor::Float(name, info, values) => {
            let tick_power = settings.tick.tick_power(&values);
            let options = settings.options.clone().with_tick_power(tick_power);
            let bytes = values
                .compress(&info.shape, false, &options)
                .with_context(|| format!("cannot compress tensor {name:?}"))?;
            Payload { name, info, encoding: Encoding::Lilcom, tick_power: Some(tick_power), bytes }
        }
        ReadTensor::Other(name, info, bytes) => {
            Payload { name, info, encoding: Encoding::Raw, tick_power: None, bytes }
        }
    })
}

/// Compresses every tensor of `input` into a container written to `out`.
///
/// Reading, compressing and writing run on three threads with one tensor in flight between
/// each, so the kernel's file copies overlap the codec (which uses `settings.options.threads`).
/// At most about four tensors are in memory at once.
pub fn compress(
    input: &Path,
    out: impl Write + Send,
    settings: &CheckpointSettings,
    progress: &Progress,
) -> Result<()> {
    let mut checkpoint = SafetensorsFile::open(input)?;
    let names = checkpoint.names();
    let metadata = checkpoint.metadata.metadata().clone();
    progress.start(checkpoint.data_len());
    std::thread::scope(|scope| {
        let (read_sender, read_receiver) = mpsc::sync_channel::<Result<ReadTensor>>(1);
        let (write_sender, write_receiver) = mpsc::sync_channel::<Payload>(1);
        scope.spawn(move || {
            for name in names {
                let tensor = checkpoint.read_tensor(&name);
                let failed = tensor.is_err();
                if read_sender.send(tensor).is_err() || failed {
                    break;
                }
            }
        });
        let writer = scope.spawn(move || -> Result<()> {
            let mut container = ContainerWriter::new(out)?;
            for p in write_receiver {
                container.add(&p.name, p.info.dtype, &p.info.shape, p.encoding, p.tick_power, &p.bytes)?;
                progress.advance((p.info.data_offsets.1 - p.info.data_offsets.0) as u64);
            }
            container.finish(metadata)?;
            Ok(())
        });
        // Dropping the receiver and sender when this returns stops the other two threads.
        let compressed = move || -> Result<()> {
            for tensor in read_receiver {
                if write_sender.send(encode(tensor?, settings)?).is_err() {
                    break; // the writer failed; its error is reported below
                }
            }
            Ok(())
        };
        let compressed = compressed();
        let written = writer.join().expect("the writer thread does not panic");
        compressed.and(written)
    })?;
    progress.finish();
    Ok(())
}

/// Decodes a container read from `input` into a `.safetensors` file written to `out`.
///
/// Writing runs on its own thread, one tensor behind the decoder (which uses `threads`).
pub fn decompress<R: Read + Seek>(
    input: R,
    mut out: impl Write + Send,
    threads: Option<usize>,
    progress: &Progress,
) -> Result<()> {
    let mut container = ContainerReader::open(input)?;
    let index = container.index().clone();
    let mut offset = 0usize;
    let mut tensors = Vec::with_capacity(index.tensors.len());
    for entry in &index.tensors {
        let len = entry.decoded_len().expect("validated when the index was read") as usize;
        let info = TensorInfo { dtype: entry.dtype, shape: entry.shape.clone(), data_offsets: (offset, offset + len) };
        tensors.push((entry.name.clone(), info));
        offset += len;
    }
    let metadata = index.metadata.clone().map(|m| m.into_iter().collect());
    let header = safetensors_header(metadata, tensors)?;
    progress.start(offset as u64);
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(&header)?;
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel::<Vec<u8>>(1);
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for bytes in receiver {
                out.write_all(&bytes)?;
                progress.advance(bytes.len() as u64);
            }
            out.flush()
        });
        let decoded = decode_all(&mut container, &index.tensors, threads, sender);
        let written = writer.join().expect("the writer thread does not panic");
        decoded.and(written.map_err(anyhow::Error::from))
    })?;
    progress.finish();
    Ok(())
}

/// Decodes each tensor and hands it to the writer; returns when done, on an error, or when the
/// writer has stopped (taking `sender` by value drops it on return, which ends the writer).
fn decode_all<R: Read + Seek>(
    container: &mut ContainerReader<R>,
    entries: &[crate::container::Entry],
    threads: Option<usize>,
    sender: mpsc::SyncSender<Vec<u8>>,
) -> Result<()> {
    for (i, entry) in entries.iter().enumerate() {
        let bytes = container.tensor_bytes(i, threads)?;
        let expected = entry.decoded_len().expect("validated when the index was read");
        if bytes.len() as u64 != expected {
            bail!("tensor {:?} decoded to {} bytes, expected {expected}", entry.name, bytes.len());
        }
        if sender.send(bytes).is_err() {
            break; // the writer failed; its error is reported by its thread
        }
    }
    Ok(())
}

/// The JSON header of a safetensors file, padded with spaces to a multiple of 8 bytes as the
/// safetensors writer does, so the data that follows is aligned.
fn safetensors_header(
    metadata: Option<HashMap<String, String>>,
    tensors: Vec<(String, TensorInfo)>,
) -> Result<Vec<u8>> {
    let metadata = Metadata::new(metadata, tensors).context("the container's index is not a valid checkpoint")?;
    let mut header = serde_json::to_vec(&metadata)?;
    header.resize(header.len().next_multiple_of(8), b' ');
    Ok(header)
}
