//! What each subcommand does, apart from argument parsing.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use lilcom::{CompressOptions, Format};

use crate::checkpoint::{self, CheckpointSettings};
use crate::container::{self, ContainerReader, Encoding};
use crate::npy;
use crate::output::{open_input, AtomicOutput};
use crate::progress::Progress;
use crate::tensor::TickRule;

/// What an input file holds, told by its first bytes (and, for safetensors, which has no magic,
/// by its extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A `.npy` array.
    Npy,
    /// A `.safetensors` checkpoint.
    Safetensors,
    /// One lilcom stream (`L\x00` or tiled).
    Stream,
    /// A checkpoint container.
    Container,
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Tells what `path` holds.
pub fn input_kind(path: &Path) -> Result<InputKind> {
    if path.is_dir() {
        bail!("{} is a directory, not a file", path.display());
    }
    let mut prefix = Vec::with_capacity(8);
    open_input(path)?.take(8).read_to_end(&mut prefix).with_context(|| format!("cannot read {}", path.display()))?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if extension == "npy" && !prefix.starts_with(NPY_MAGIC) {
        bail!("{} is not a .npy file: it does not begin with numpy's magic bytes", path.display());
    }
    Ok(if prefix.starts_with(NPY_MAGIC) {
        InputKind::Npy
    } else if container::is_container(&prefix) {
        // A safetensors file cannot begin so: it would claim a header of over a gigabyte.
        InputKind::Container
    } else if extension == "safetensors" {
        InputKind::Safetensors
    } else if prefix.first() == Some(&b'L') {
        InputKind::Stream
    } else {
        bail!(
            "{}: cannot tell what this file is; expected a .npy array, a .safetensors checkpoint, or lilcom output",
            path.display()
        )
    })
}

/// Options of `lilcom compress`.
#[derive(Clone, Debug)]
pub struct CompressArgs {
    /// How each array's tick is chosen.
    pub tick: TickRule,
    /// The wire format of each array.
    pub format: Format,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Replace an existing output.
    pub force: bool,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

/// `lilcom compress IN OUT`: a `.npy` becomes one lilcom stream, a `.safetensors` a container.
pub fn compress(input: &Path, output: &Path, args: &CompressArgs) -> Result<String> {
    let started = Instant::now();
    let kind = input_kind(input)?;
    let options = CompressOptions::default().with_format(args.format).with_threads(args.threads);
    let in_bytes = std::fs::metadata(input)?.len();
    match kind {
        InputKind::Npy => {
            let array = npy::read(input)?;
            let tick_power = args.tick.tick_power(&array.values);
            let stream = array
                .values
                .compress(&array.shape, array.fortran, &options.with_tick_power(tick_power))
                .with_context(|| format!("cannot compress {}", input.display()))?;
            let mut out = AtomicOutput::create(output, args.force)?;
            out.write_all(&stream)?;
            out.commit()?;
        }
        InputKind::Safetensors => {
            if args.format != Format::Tiled {
                bail!("a checkpoint is always written in the tiled format (--format lilcom applies to .npy arrays)");
            }
            let mut out = AtomicOutput::create(output, args.force)?;
            let settings = CheckpointSettings { tick: args.tick, options };
            checkpoint::compress(input, &mut out, &settings, &Progress::new("compressing", args.progress))?;
            out.commit()?;
        }
        InputKind::Stream | InputKind::Container => {
            bail!("{} is already lilcom output; use `lilcom decompress`", input.display())
        }
    }
    Ok(summary(input, in_bytes, output, started))
}

/// `lilcom decompress IN OUT`: a stream becomes a `.npy`, a container a `.safetensors`.
pub fn decompress(input: &Path, output: &Path, threads: Option<usize>, force: bool, progress: bool) -> Result<String> {
    let started = Instant::now();
    let kind = input_kind(input)?;
    let in_bytes = std::fs::metadata(input)?.len();
    let out_extension = output.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match kind {
        InputKind::Stream => {
            if out_extension == "safetensors" {
                bail!("{} holds one array; it decompresses to .npy, not .safetensors", input.display());
            }
            let mut stream = Vec::new();
            open_input(input)?.read_to_end(&mut stream)?;
            let mut out = AtomicOutput::create(output, force)?;
            npy::write_stream(&stream, &mut out, threads)
                .with_context(|| format!("cannot decode {}", input.display()))?;
            out.commit()?;
        }
        InputKind::Container => {
            if out_extension == "npy" {
                bail!("{} is a compressed checkpoint; it decompresses to .safetensors, not .npy", input.display());
            }
            let mut out = AtomicOutput::create(output, force)?;
            let reader = BufReader::with_capacity(1 << 20, open_input(input)?);
            checkpoint::decompress(reader, &mut out, threads, &Progress::new("decompressing", progress))
                .with_context(|| format!("cannot decode {}", input.display()))?;
            out.commit()?;
        }
        InputKind::Npy | InputKind::Safetensors => {
            bail!("{} is not lilcom output; use `lilcom compress`", input.display())
        }
    }
    Ok(summary(input, in_bytes, output, started))
}

/// One line for stderr: sizes, ratio, and speed in megabytes of uncompressed data per second.
fn summary(input: &Path, in_bytes: u64, output: &Path, started: Instant) -> String {
    let out_bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let (raw, packed) = if in_bytes >= out_bytes { (in_bytes, out_bytes) } else { (out_bytes, in_bytes) };
    format!(
        "{} -> {}: {in_bytes} -> {out_bytes} bytes (ratio {:.3}) in {seconds:.2} s, {:.0} MB/s",
        input.display(),
        output.display(),
        raw as f64 / packed.max(1) as f64,
        raw as f64 / 1e6 / seconds
    )
}

/// One row of `lilcom info`.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSummary {
    /// The tensor's name (empty for a lone stream).
    pub name: String,
    /// Format of its payload: "tiled", "lilcom" (L\x00) or "raw".
    pub format: &'static str,
    /// Its dtype as stored in the checkpoint, or the stream's.
    pub dtype: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its tick power, for compressed payloads.
    pub tick_power: Option<i32>,
    /// Its number of tiles, for compressed payloads.
    pub tiles: Option<usize>,
    /// Uncompressed bytes over stored bytes (`None` for an empty tensor).
    pub ratio: Option<f64>,
}

/// `lilcom info IN`: one row per array.
pub fn info(input: &Path) -> Result<Vec<TensorSummary>> {
    match input_kind(input)? {
        InputKind::Stream => {
            let mut stream = Vec::new();
            open_input(input)?.read_to_end(&mut stream)?;
            let info =
                lilcom::info(&stream).with_context(|| format!("{} is not a valid lilcom stream", input.display()))?;
            let element_bytes = match info.dtype {
                lilcom::DType::F64 => 8,
                _ => 4,
            };
            let elements: usize = info.shape.iter().product();
            Ok(vec![TensorSummary {
                name: String::new(),
                format: format_name(info.format),
                dtype: format!("{:?}", info.dtype).to_lowercase(),
                shape: info.shape,
                tick_power: Some(info.tick_power),
                tiles: Some(info.tiles),
                ratio: ratio((elements * element_bytes) as u64, stream.len() as u64),
            }])
        }
        InputKind::Container => {
            let mut reader = ContainerReader::open(BufReader::new(File::open(input)?))
                .with_context(|| format!("cannot read {}", input.display()))?;
            let entries = reader.index().tensors.clone();
            let mut rows = Vec::with_capacity(entries.len());
            for (i, entry) in entries.iter().enumerate() {
                // Reading every payload checks every checksum, so `info` doubles as a verifier.
                let payload = reader.payload(i)?;
                let tiles = match entry.encoding {
                    Encoding::Raw => None,
                    Encoding::Lilcom => {
                        let info = lilcom::info(&payload).with_context(|| format!("tensor {:?}", entry.name))?;
                        Some(info.tiles)
                    }
                };
                rows.push(TensorSummary {
                    name: entry.name.clone(),
                    format: if entry.encoding == Encoding::Raw { "raw" } else { "tiled" },
                    dtype: entry.dtype.to_string(),
                    shape: entry.shape.clone(),
                    tick_power: entry.tick_power,
                    tiles,
                    ratio: ratio(entry.decoded_len().unwrap_or(0), entry.length),
                });
            }
            Ok(rows)
        }
        InputKind::Npy | InputKind::Safetensors => {
            bail!("{} is not lilcom output; `lilcom info` describes compressed files", input.display())
        }
    }
}

fn ratio(decoded: u64, stored: u64) -> Option<f64> {
    (decoded > 0 && stored > 0).then(|| decoded as f64 / stored as f64)
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Lilcom => "lilcom",
        _ => "tiled",
    }
}

/// Renders `lilcom info`'s rows as an aligned table.
pub fn render_info(rows: &[TensorSummary]) -> String {
    let header = ["name", "format", "dtype", "shape", "tick_power", "tiles", "ratio"].map(String::from);
    let mut table: Vec<[String; 7]> = vec![header];
    for row in rows {
        table.push([
            if row.name.is_empty() { "-".into() } else { row.name.clone() },
            row.format.into(),
            row.dtype.clone(),
            format!("{:?}", row.shape),
            row.tick_power.map_or("-".into(), |p| p.to_string()),
            row.tiles.map_or("-".into(), |t| t.to_string()),
            row.ratio.map_or("-".into(), |r| format!("{r:.3}")),
        ]);
    }
    let widths: Vec<usize> = (0..7).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in &table {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}
