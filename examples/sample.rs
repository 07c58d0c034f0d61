//! The main job on the sample the repository ships: real speech filterbank features (lhotse's
//! layout), compressed as lhotse does (500-frame chunks, tick_power -5); prints ratio, error and
//! speed.
//!
//! cargo run --release --example sample [-- path/to/features.npy]

use std::time::Instant;

use lilcom::{compress, decompress, CompressOptions, Format};
use ndarray::{s, Array2, Axis};
use ndarray_npy::read_npy;

const CHUNK_FRAMES: usize = 500;
const TICK_POWER: i32 = -5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/fbank_sample.npy").to_string());
    let features: Array2<f32> = read_npy(&path)?;
    let elements = features.len();
    let options = CompressOptions::default().with_format(Format::Lilcom).with_tick_power(TICK_POWER);
    println!("input: {path}, shape {:?}, float32", features.shape());
    println!("format: L\\x00 (lilcom 1.8.2 compatible), tick_power {TICK_POWER}, chunks of {CHUNK_FRAMES} frames");

    let chunks: Vec<_> = features.axis_chunks_iter(Axis(0), CHUNK_FRAMES).collect();
    let streams: Vec<Vec<u8>> = chunks.iter().map(|c| compress(c, &options)).collect::<Result<_, _>>()?;
    let bytes: usize = streams.iter().map(Vec::len).sum();

    let mut max_error = 0.0f32;
    let mut row = 0;
    for stream in &streams {
        let decoded = decompress::<f32>(stream)?.into_dimensionality::<ndarray::Ix2>()?;
        let original = features.slice(s![row..row + decoded.nrows(), ..]);
        for (x, y) in original.iter().zip(decoded.iter()) {
            max_error = max_error.max((x - y).abs());
        }
        row += decoded.nrows();
    }
    assert_eq!(row, features.nrows());

    let repeats = 20;
    let start = Instant::now();
    for _ in 0..repeats {
        for chunk in &chunks {
            std::hint::black_box(compress(chunk, &options)?);
        }
    }
    let encode_rate = (repeats * elements) as f64 / start.elapsed().as_secs_f64() / 1e6;
    let start = Instant::now();
    for _ in 0..repeats {
        for stream in &streams {
            std::hint::black_box(decompress::<f32>(stream)?);
        }
    }
    let decode_rate = (repeats * elements) as f64 / start.elapsed().as_secs_f64() / 1e6;

    let tick = 2f32.powi(TICK_POWER);
    let bits_per_element = bytes as f64 * 8.0 / elements as f64;
    println!("compressed: {bytes} bytes from {} ({:.2}x)", elements * 4, (elements * 4) as f64 / bytes as f64);
    println!("bits per element: {bits_per_element:.3}");
    println!("max abs error: {max_error:.6} ({:.4} ticks; bound 0.5 tick = {})", max_error / tick, tick / 2.0);
    println!("compress: {encode_rate:.1} M elements/s, decompress: {decode_rate:.1} M elements/s (one thread)");
    if max_error > tick / 2.0 * 1.001 {
        return Err(format!("error {max_error} exceeds the bound {}", tick / 2.0).into());
    }
    Ok(())
}
