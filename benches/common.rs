//! Inputs shared by the benches.
#![allow(dead_code)]

use ndarray::{s, Array2};

/// The shipped speech features.
pub fn fbank() -> Array2<f32> {
    ndarray_npy::read_npy(concat!(env!("CARGO_MANIFEST_DIR"), "/data/fbank_sample.npy")).expect("data/fbank_sample.npy")
}

/// lhotse's unit of work: a 500x80 chunk.
pub fn fbank_chunk() -> Array2<f32> {
    fbank().slice(s![..500, ..]).to_owned()
}

/// 64K floats, smooth with noise: a tile's worth of kernel input.
pub fn tile_values() -> Vec<f32> {
    (0..1 << 16).map(|i| ((i as f32) * 0.001).sin() * 100.0 + ((i * 7919 % 1000) as f32) * 0.001).collect()
}
