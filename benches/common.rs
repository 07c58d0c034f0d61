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

/// Four lanes of pseudo-random bits and a complete code to read 64K elements from them with
/// (`multi_decode::unary_table`): under any complete code every bit pattern decodes, and with
/// random bits each code turns up as often as an optimal code makes it. `smooth` gives short
/// codes to small values without raw bits (as in a smooth field's tiles); otherwise the short
/// codes go to tokens with 4 to 12 raw bits (as in speech features' tiles).
pub fn lanes(smooth: bool) -> (Box<lilcom_kernels::token_decode::DecodeEntries>, Vec<u8>, [usize; 4]) {
    use lilcom_kernels::tokens::Alphabet;
    let tokens: &[u8] = if smooth {
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 40]
    } else {
        &[20, 22, 18, 24, 26, 16, 28, 30, 32, 34, 17, 21, 25]
    };
    let table = lilcom_kernels::multi_decode::unary_table(Alphabet::SmallExact, tokens);
    // Enough for 16K elements of up to 12 + 23 bits per lane.
    let lane_bytes = (1 << 14) * 35 / 8 + 16;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let body = (0..4 * lane_bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    (table, body, std::array::from_fn(|lane| lane * lane_bytes * 8))
}

/// A complete code of six bits for every token, for the token-lane kernels of format 1.4: the
/// writer codes and the decoder's one-token and several-token tables.
pub fn flat_token_code(
) -> ([u32; 64], Box<lilcom_kernels::token_lanes::SingleEntries>, Box<lilcom_kernels::token_lanes::MultiEntries>) {
    use lilcom_kernels::token_lanes::{multi_entries, single_entry, writer_code};
    use lilcom_kernels::Kernels;
    let codes: [u32; 64] = std::array::from_fn(|t| writer_code((t as u32).reverse_bits() >> 26, 6));
    let single = Box::new(std::array::from_fn(|i| single_entry(((i as u32 & 63).reverse_bits() >> 26) as u8, 6)));
    let multi = multi_entries(Kernels::detect(), &codes, &single);
    (codes, single, multi)
}
