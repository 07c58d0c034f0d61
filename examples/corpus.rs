//! Bits per element, error and speed of both formats on the benchmark corpus
//! (`python3 benches/corpus.py --out DIR` writes it).
//!
//! cargo run --release --example corpus -- DIR

use std::time::Instant;

use lilcom::{compress, decompress_with, CompressOptions, DecompressOptions, Element, Format};
use ndarray::ArrayD;
use ndarray_npy::read_npy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: corpus DIR (made by benches/corpus.py --out DIR)")?;
    let manifest = std::fs::read_to_string(format!("{dir}/manifest.tsv"))?;
    println!(
        "| data (tick_power) | format | threads | bits/el | max err (ticks) | compress M el/s | decompress M el/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for line in manifest.lines() {
        let (name, tick) = line.split_once('\t').ok_or("bad manifest line")?;
        let tick_power: i32 = tick.parse()?;
        let path = format!("{dir}/{name}.npy");
        if let Ok(a) = read_npy::<_, ArrayD<f32>>(&path) {
            run(name, &a, tick_power)?;
        } else {
            let a: ArrayD<f64> = read_npy(&path)?;
            run(name, &a, tick_power)?;
        }
    }
    Ok(())
}

fn run<T: Element + Into<f64>>(name: &str, a: &ArrayD<T>, tick_power: i32) -> lilcom::Result<()> {
    let cases: [(&str, Format, Option<usize>); 3] =
        [("L\\x00", Format::Lilcom, Some(1)), ("tiled", Format::Tiled, Some(1)), ("tiled", Format::Tiled, None)];
    for (label, format, threads) in cases {
        let options = CompressOptions::default().with_format(format).with_tick_power(tick_power).with_threads(threads);
        let decode = DecompressOptions::default().with_threads(threads);
        let bytes = compress(a, &options)?;
        let back = decompress_with::<T>(&bytes, &decode).or_else(|_| {
            // An L\x00 stream holds float32: compare in f64.
            decompress_with::<f32>(&bytes, &decode).map(|b| b.mapv(|x| T::from_f32(x)))
        })?;
        let tick = 2f64.powi(tick_power);
        let err = a.iter().zip(back.iter()).fold(0.0f64, |m, (&x, &y)| {
            let (x, y): (f64, f64) = (x.into(), y.into());
            if x.is_finite() {
                m.max((x - y).abs())
            } else {
                m
            }
        });
        let repeats = (20_000_000 / a.len().max(1)).clamp(1, 20);
        let start = Instant::now();
        for _ in 0..repeats {
            std::hint::black_box(compress(a, &options)?);
        }
        let enc = (repeats * a.len()) as f64 / start.elapsed().as_secs_f64() / 1e6;
        let start = Instant::now();
        for _ in 0..repeats {
            if format == Format::Lilcom {
                std::hint::black_box(decompress_with::<f32>(&bytes, &decode)?);
            } else {
                std::hint::black_box(decompress_with::<T>(&bytes, &decode)?);
            }
        }
        let dec = (repeats * a.len()) as f64 / start.elapsed().as_secs_f64() / 1e6;
        let threads = threads.map_or("all".to_string(), |t| t.to_string());
        println!(
            "| {name} ({tick_power}) | {label} | {threads} | {:.3} | {:.3} | {enc:.1} | {dec:.1} |",
            bytes.len() as f64 * 8.0 / a.len() as f64,
            err / tick
        );
    }
    Ok(())
}
