//! Profiling aid: compresses or decompresses one array in the tiled format in a loop, on one
//! thread, and prints the rate.
//!
//! cargo run --release --example profile_tiled -- [decode|encode] [repeats] [FILE.npy TICK_POWER]
//!
//! Without a file it uses the shipped speech sample at tick power -5. `.npy` files may be f32 or
//! f64 of any shape.

use lilcom::{compress, decompress_with, CompressOptions, DecompressOptions};
use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

fn run<T: lilcom::Element + ndarray_npy::ReadableElement>(
    path: &str,
    tick_power: i32,
    what: &str,
    repeats: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let array = ArrayD::<T>::read_npy(std::fs::File::open(path)?)?;
    let options = CompressOptions::default().with_tick_power(tick_power).with_threads(Some(1));
    let bytes = compress(&array, &options)?;
    let decode_options = DecompressOptions::default().with_threads(Some(1));
    let start = std::time::Instant::now();
    for _ in 0..repeats {
        if what == "encode" {
            std::hint::black_box(compress(&array, &options)?);
        } else {
            std::hint::black_box(decompress_with::<T>(&bytes, &decode_options)?);
        }
    }
    let rate = (repeats * array.len()) as f64 / start.elapsed().as_secs_f64() / 1e6;
    let bits = bytes.len() as f64 * 8.0 / array.len() as f64;
    println!("{what}: {rate:.1} M elements/s ({bits:.3} bits/element)");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).cloned().unwrap_or_else(|| "decode".into());
    let repeats: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/data/fbank_sample.npy").to_string();
    let path = args.get(3).cloned().unwrap_or(sample);
    let tick_power: i32 = args.get(4).map_or(Ok(-5), |s| s.parse())?;
    let header = std::fs::read(&path)?;
    let is_f64 = String::from_utf8_lossy(&header[..header.len().min(128)]).contains("<f8");
    if is_f64 {
        run::<f64>(&path, tick_power, &what, repeats)
    } else {
        run::<f32>(&path, tick_power, &what, repeats)
    }
}
