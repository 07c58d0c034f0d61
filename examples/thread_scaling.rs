//! Thread scaling of the tiled format on the corpus's 16M-element array: best of several
//! alternating runs with 1 and 2 threads (the machine is shared, so single runs mislead).
//!
//! cargo run --release --example thread_scaling -- DIR (made by benches/corpus.py --out DIR)

use std::time::Instant;

use lilcom::{compress, decompress_with, CompressOptions, DecompressOptions};
use ndarray::Array2;
use ndarray_npy::read_npy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: thread_scaling DIR")?;
    let a: Array2<f32> = read_npy(format!("{dir}/large_4096x4096.npy"))?;
    let n = a.len() as f64;
    let mut best = [[0f64; 2]; 2]; // [threads-1][compress, decompress] in M elements/s
    for _ in 0..8 {
        for threads in [1usize, 2] {
            let options = CompressOptions::default().with_tick_power(-8).with_threads(Some(threads));
            let start = Instant::now();
            let bytes = compress(&a, &options)?;
            let c = n / start.elapsed().as_secs_f64() / 1e6;
            let start = Instant::now();
            std::hint::black_box(decompress_with::<f32>(
                &bytes,
                &DecompressOptions::default().with_threads(Some(threads)),
            )?);
            let d = n / start.elapsed().as_secs_f64() / 1e6;
            best[threads - 1][0] = best[threads - 1][0].max(c);
            best[threads - 1][1] = best[threads - 1][1].max(d);
        }
    }
    println!("1 thread:  compress {:.0} M el/s, decompress {:.0} M el/s", best[0][0], best[0][1]);
    println!("2 threads: compress {:.0} M el/s, decompress {:.0} M el/s", best[1][0], best[1][1]);
    println!("scaling:   compress {:.2}x, decompress {:.2}x", best[1][0] / best[0][0], best[1][1] / best[0][1]);
    Ok(())
}
