//! Instruction counts (valgrind's callgrind) of the kernels and of end-to-end cases: stable on a
//! noisy machine, so regressions show as exact numbers. Inputs are built in the `#[bench]`
//! arguments, which callgrind does not count.
//!
//! cargo install iai-callgrind-runner --version 0.16.1   # must match the iai-callgrind crate
//! cargo bench --bench iai

mod common;

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use lilcom::{compress, decompress_with, CompressOptions, DecompressOptions, Format};
use lilcom_kernels::difference::{self, Axes, Shape3};
use lilcom_kernels::{multi_decode, quantize, raw_segments, token_decode, token_lanes, tokens, Kernels};
use std::hint::black_box;

const SHAPE: Shape3 = Shape3 { outer: 256, middle: 1, inner: 256 };

fn codes() -> Vec<i32> {
    let values = common::tile_values();
    let mut codes = vec![0i32; values.len()];
    quantize::quantize_f32_scalar(&values, 256.0, &mut codes);
    codes
}

fn stream(format: Format) -> Vec<u8> {
    compress(&common::fbank_chunk(), &CompressOptions::default().with_tick_power(-5).with_format(format)).unwrap()
}

#[library_benchmark]
#[bench::dispatched(Kernels::detect(), common::tile_values())]
#[bench::scalar(Kernels::scalar(), common::tile_values())]
fn quantize_64k(kernels: Kernels, values: Vec<f32>) -> Vec<i32> {
    let mut codes = vec![0i32; values.len()];
    quantize::quantize_f32(kernels, black_box(&values), 256.0, &mut codes);
    codes
}

#[library_benchmark]
#[bench::dispatched(Kernels::detect(), codes())]
#[bench::scalar(Kernels::scalar(), codes())]
fn lorenzo_round_trip_64k(kernels: Kernels, mut codes: Vec<i32>) -> Vec<i32> {
    difference::difference(kernels, black_box(&mut codes), SHAPE, Axes::ALL);
    difference::integrate(kernels, &mut codes, SHAPE, Axes::ALL);
    codes
}

#[library_benchmark]
#[bench::dispatched(Kernels::detect(), common::tile_values())]
#[bench::scalar(Kernels::scalar(), common::tile_values())]
fn quantize_difference_lorenzo_64k(kernels: Kernels, values: Vec<f32>) -> Vec<i32> {
    let mut codes = vec![0i32; values.len()];
    difference::quantize_difference_f32(kernels, black_box(&values), 256.0, &mut codes, SHAPE, Axes::ALL);
    codes
}

#[library_benchmark]
#[bench::dispatched(Kernels::detect(), codes())]
#[bench::scalar(Kernels::scalar(), codes())]
fn integrate_dequantize_lorenzo_64k(kernels: Kernels, mut codes: Vec<i32>) -> Vec<i32> {
    difference::integrate_dequantize_f32(kernels, black_box(&mut codes), SHAPE, Axes::ALL, 1.0 / 256.0);
    codes
}

#[library_benchmark]
#[bench::dispatched(Kernels::detect(), codes())]
#[bench::scalar(Kernels::scalar(), codes())]
fn split_64k(kernels: Kernels, mut codes: Vec<i32>) -> u64 {
    let mut out = vec![0u8; codes.len()];
    tokens::split(kernels, black_box(&mut codes), &mut out)
}

#[library_benchmark]
#[bench::smooth(common::lanes(true))]
#[bench::speechlike(common::lanes(false))]
fn lane_decode_64k(lanes: (Box<token_decode::DecodeEntries>, Vec<u8>, [usize; 4])) -> Vec<i32> {
    let (table, body, mut positions) = lanes;
    let mut out = vec![0i32; 1 << 16];
    token_decode::decode_groups(Kernels::detect(), &table, black_box(&body), &mut positions, &mut out, false);
    out
}

#[library_benchmark]
#[bench::smooth(common::lanes(true))]
fn lane_decode_multi_64k(lanes: (Box<token_decode::DecodeEntries>, Vec<u8>, [usize; 4])) -> Vec<i32> {
    let (table, body, mut positions) = lanes;
    let (multi, _) = multi_decode::multi_entries(&table);
    let mut out = vec![0i32; 1 << 16];
    multi_decode::decode_lanes(Kernels::detect(), &multi, &table, black_box(&body), &mut positions, &mut out);
    out
}

/// Format 1.4's parts for a tile of [`codes`]: its tokens, their four lanes under a code of six
/// bits each (with the lanes' starting bits), and the raw segments.
fn split_parts() -> (Vec<u8>, Vec<u8>, [usize; 4], Vec<u8>) {
    let mut raw = codes();
    let mut toks = vec![0u8; raw.len()];
    tokens::split_scalar(&mut raw, &mut toks);
    let (codes, _, _) = common::flat_token_code();
    let room = toks.len() / 4 * 6 / 8 + 8;
    let starts = [0, room, 2 * room, 3 * room];
    let mut lanes = vec![0u8; 4 * room];
    token_lanes::encode_scalar(&codes, &toks, &mut lanes, starts);
    let room = toks.len() / 4 * 31 / 8 + 8;
    let segment_starts = [0, room, 2 * room, 3 * room];
    let mut segments = vec![0u8; 4 * room];
    let bits = raw_segments::pack_scalar(&toks, &raw, &mut segments, segment_starts);
    let stream = (0..4).flat_map(|l| segments[segment_starts[l]..][..bits[l].div_ceil(8)].to_vec()).collect();
    (toks, lanes, starts.map(|s| s * 8), stream)
}

#[library_benchmark]
#[bench::flat_code(split_parts())]
fn token_lanes_decode_64k(parts: (Vec<u8>, Vec<u8>, [usize; 4], Vec<u8>)) -> Vec<u8> {
    let (toks, lanes, mut positions, _) = parts;
    let (_, single, multi) = common::flat_token_code();
    let mut out = vec![0u8; toks.len()];
    token_lanes::decode(Kernels::detect(), &multi, &single, black_box(&lanes), &mut positions, &mut out);
    out
}

#[library_benchmark]
#[bench::tile(split_parts())]
fn raw_unpack_64k(parts: (Vec<u8>, Vec<u8>, [usize; 4], Vec<u8>)) -> Vec<i32> {
    let (toks, _, _, stream) = parts;
    let mut out = vec![0i32; toks.len()];
    raw_segments::unpack(Kernels::detect(), &toks, black_box(&stream), &mut out);
    out
}

#[library_benchmark]
#[bench::fbank_chunk(common::fbank_chunk())]
fn tiled_compress(chunk: ndarray::Array2<f32>) -> Vec<u8> {
    compress(black_box(&chunk), &CompressOptions::default().with_tick_power(-5).with_threads(Some(1))).unwrap()
}

#[library_benchmark]
#[bench::tiled(stream(Format::Tiled))]
#[bench::lilcom(stream(Format::Lilcom))]
fn decompress_fbank_chunk(bytes: Vec<u8>) -> usize {
    let options = DecompressOptions::default().with_threads(Some(1));
    decompress_with::<f32>(black_box(&bytes), &options).unwrap().len()
}

library_benchmark_group!(
    name = kernel_group;
    benchmarks = quantize_64k, lorenzo_round_trip_64k, quantize_difference_lorenzo_64k,
        integrate_dequantize_lorenzo_64k, split_64k, lane_decode_64k, lane_decode_multi_64k,
        token_lanes_decode_64k, raw_unpack_64k
);
library_benchmark_group!(name = end_to_end_group; benchmarks = tiled_compress, decompress_fbank_chunk);
main!(library_benchmark_groups = kernel_group, end_to_end_group);
