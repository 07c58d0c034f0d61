//! The main job on the sample the repository ships: real speech filterbank features (lhotse's
//! layout), compressed at tick_power -5 in both formats, in lhotse's 500-frame chunks and whole;
//! prints ratio, error and speed.
//!
//! cargo run --release --example sample [-- path/to/features.npy]

use std::time::Instant;

use lilcom::{compress, decompress, CompressOptions, Format};
use ndarray::{Array2, ArrayView2, Axis};
use ndarray_npy::read_npy;

const CHUNK_FRAMES: usize = 500;
const TICK_POWER: i32 = -5;
const REPEATS: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/fbank_sample.npy").to_string());
    let features: Array2<f32> = read_npy(&path)?;
    println!("input: {path}, shape {:?}, float32, tick_power {TICK_POWER}", features.shape());
    println!(
        "{:<34} {:>9} {:>7} {:>10} {:>14} {:>16}",
        "format", "bytes", "bits/el", "max error", "compress M/s", "decompress M/s"
    );
    let chunks: Vec<ArrayView2<f32>> = features.axis_chunks_iter(Axis(0), CHUNK_FRAMES).collect();
    let whole = vec![features.view()];
    let lilcom = CompressOptions::default().with_format(Format::Lilcom).with_tick_power(TICK_POWER);
    let tiled = CompressOptions::default().with_format(Format::Tiled).with_tick_power(TICK_POWER).with_threads(Some(1));
    let mut worst = 0.0f32;
    for (name, options, parts) in [
        ("L\\x00 (lilcom 1.8.2), 500-frame chunks", &lilcom, &chunks),
        ("tiled, 500-frame chunks, 1 thread", &tiled, &chunks),
        ("tiled, whole array, 1 thread", &tiled, &whole),
    ] {
        let (bytes, error, encode, decode) = measure(parts, options)?;
        worst = worst.max(error);
        let tick = 2f32.powi(TICK_POWER);
        println!(
            "{name:<34} {bytes:>9} {:>7.3} {:>8.4} t {encode:>14.1} {decode:>16.1}",
            bytes as f64 * 8.0 / features.len() as f64,
            error / tick
        );
    }
    println!("(max error in ticks; the bound is 0.5 tick = {})", 2f32.powi(TICK_POWER - 1));
    if worst > 2f32.powi(TICK_POWER - 1) {
        return Err(format!("error {worst} exceeds the bound").into());
    }
    Ok(())
}

/// Compresses and decompresses every part; returns total bytes, max abs error, and compress and
/// decompress speeds in million elements per second.
fn measure(parts: &[ArrayView2<f32>], options: &CompressOptions) -> lilcom::Result<(usize, f32, f64, f64)> {
    let elements: usize = parts.iter().map(|p| p.len()).sum();
    let streams: Vec<Vec<u8>> = parts.iter().map(|p| compress(p, options)).collect::<Result<_, _>>()?;
    let mut error = 0.0f32;
    for (part, stream) in parts.iter().zip(&streams) {
        let back = decompress::<f32>(stream)?;
        for (x, y) in part.iter().zip(back.iter()) {
            error = error.max((x - y).abs());
        }
    }
    let start = Instant::now();
    for _ in 0..REPEATS {
        for part in parts {
            std::hint::black_box(compress(part, options)?);
        }
    }
    let encode = (REPEATS * elements) as f64 / start.elapsed().as_secs_f64() / 1e6;
    let start = Instant::now();
    for _ in 0..REPEATS {
        for stream in &streams {
            std::hint::black_box(decompress::<f32>(stream)?);
        }
    }
    let decode = (REPEATS * elements) as f64 / start.elapsed().as_secs_f64() / 1e6;
    Ok((streams.iter().map(Vec::len).sum(), error, encode, decode))
}
