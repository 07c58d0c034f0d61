//! Profiling aid: compresses and decompresses the shipped sample in the tiled format in a loop.
//!
//! cargo run --release --example profile_tiled -- [decode|encode] [repeats]

use lilcom::{compress, decompress, CompressOptions};
use ndarray::Array2;
use ndarray_npy::read_npy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let what = std::env::args().nth(1).unwrap_or_else(|| "decode".into());
    let repeats: usize = std::env::args().nth(2).map_or(Ok(200), |s| s.parse())?;
    let features: Array2<f32> = read_npy(concat!(env!("CARGO_MANIFEST_DIR"), "/data/fbank_sample.npy"))?;
    let options = CompressOptions::default().with_tick_power(-5).with_threads(Some(1));
    let bytes = compress(&features, &options)?;
    let start = std::time::Instant::now();
    for _ in 0..repeats {
        if what == "encode" {
            std::hint::black_box(compress(&features, &options)?);
        } else {
            std::hint::black_box(decompress::<f32>(&bytes)?);
        }
    }
    let rate = (repeats * features.len()) as f64 / start.elapsed().as_secs_f64() / 1e6;
    println!("{what}: {rate:.1} M elements/s");
    Ok(())
}
