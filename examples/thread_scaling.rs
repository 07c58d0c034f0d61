//! Thread scaling of the tiled format on the corpus's 16M-element array: best of several
//! alternating runs with 1 and 2 threads (the machine is shared, so single runs mislead).
//! Decompression is timed twice: into a new array (whose 64 MiB of fresh pages the kernel
//! faults in and zeroes as they are first written), and into one array reused across runs.
//!
//! cargo run --release --example thread_scaling -- DIR (made by benches/corpus.py --out DIR)

use std::time::Instant;

use lilcom::{compress, decompress_into_with, decompress_with, CompressOptions, DecompressOptions};
use ndarray::Array2;
use ndarray_npy::read_npy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: thread_scaling DIR")?;
    let a: Array2<f32> = read_npy(format!("{dir}/large_4096x4096.npy"))?;
    let n = a.len() as f64;
    // [threads-1][compress, decompress, decompress into a reused array] in M elements/s
    let mut best = [[0f64; 3]; 2];
    let mut reused = Array2::<f32>::zeros(a.dim());
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
            let start = Instant::now();
            decompress_into_with(&bytes, &mut reused, &DecompressOptions::default().with_threads(Some(threads)))?;
            let r = n / start.elapsed().as_secs_f64() / 1e6;
            for (slot, rate) in best[threads - 1].iter_mut().zip([c, d, r]) {
                *slot = slot.max(rate);
            }
        }
    }
    let line = |b: &[f64; 3]| format!("compress {:.0}, decompress {:.0}, into a reused array {:.0}", b[0], b[1], b[2]);
    println!("1 thread (M el/s):  {}", line(&best[0]));
    println!("2 threads (M el/s): {}", line(&best[1]));
    println!(
        "scaling:   compress {:.2}x, decompress {:.2}x, into a reused array {:.2}x",
        best[1][0] / best[0][0],
        best[1][1] / best[0][1],
        best[1][2] / best[0][2]
    );
    Ok(())
}
