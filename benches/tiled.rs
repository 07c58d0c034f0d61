//! Criterion benches of the tiled format: each kernel (dispatched and scalar reference) on a
//! tile's worth of data, and compress/decompress end to end, single-threaded.
//!
//! cargo bench --bench tiled

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lilcom::{compress, decompress_with, CompressOptions, DecompressOptions};
use lilcom_kernels::difference::{self, Axes, Shape3};
use lilcom_kernels::{multi_decode, quantize, raw_segments, token_decode, token_encode, token_lanes, tokens, Kernels};
use std::hint::black_box;

fn kernels(c: &mut Criterion) {
    let values = common::tile_values();
    let shape = Shape3 { outer: 256, middle: 1, inner: 256 };
    let mut codes = vec![0i32; values.len()];
    quantize::quantize_f32_scalar(&values, 256.0, &mut codes);
    let mut group = c.benchmark_group("kernels_64k");
    group.throughput(Throughput::Elements(values.len() as u64));
    for (name, k) in [("dispatched", Kernels::detect()), ("scalar", Kernels::scalar())] {
        let mut out = vec![0i32; values.len()];
        group.bench_function(format!("quantize_f32/{name}"), |b| {
            b.iter(|| quantize::quantize_f32(k, black_box(&values), 256.0, &mut out))
        });
        let mut floats = vec![0f32; values.len()];
        group.bench_function(format!("dequantize_f32/{name}"), |b| {
            b.iter(|| quantize::dequantize_f32(k, black_box(&codes), 1.0 / 256.0, &mut floats))
        });
        group.bench_function(format!("difference_lorenzo/{name}"), |b| {
            b.iter(|| {
                out.copy_from_slice(&codes);
                difference::difference(k, &mut out, shape, Axes::ALL)
            })
        });
        group.bench_function(format!("integrate_lorenzo/{name}"), |b| {
            b.iter(|| {
                out.copy_from_slice(&codes);
                difference::integrate(k, &mut out, shape, Axes::ALL)
            })
        });
        group.bench_function(format!("quantize_difference_lorenzo_f32/{name}"), |b| {
            b.iter(|| difference::quantize_difference_f32(k, black_box(&values), 256.0, &mut out, shape, Axes::ALL))
        });
        group.bench_function(format!("integrate_dequantize_lorenzo_f32/{name}"), |b| {
            b.iter(|| {
                out.copy_from_slice(&codes);
                difference::integrate_dequantize_f32(k, &mut out, shape, Axes::ALL, 1.0 / 256.0)
            })
        });
        let mut toks = vec![0u8; values.len()];
        group.bench_function(format!("split/{name}"), |b| {
            b.iter(|| {
                out.copy_from_slice(&codes);
                tokens::split(k, black_box(&mut out), &mut toks)
            })
        });
        for (data, smooth) in [("smooth", true), ("speechlike", false)] {
            let (table, body, starts) = common::lanes(smooth);
            group.bench_function(format!("lane_decode/{data}/{name}"), |b| {
                b.iter(|| {
                    let mut positions = starts;
                    token_decode::decode_groups(k, &table, black_box(&body), &mut positions, &mut out, false)
                })
            });
            let (multi, _) = multi_decode::multi_entries(&table);
            group.bench_function(format!("lane_decode_multi/{data}/{name}"), |b| {
                b.iter(|| {
                    let mut positions = starts;
                    multi_decode::decode_lanes(k, &multi, &table, black_box(&body), &mut positions, &mut out)
                })
            });
        }
        // The writer on what split made of the codes, with every token's code 12 bits long.
        out.copy_from_slice(&codes);
        tokens::split(k, &mut out, &mut toks);
        let merged: [u64; tokens::TOKEN_COUNT] =
            std::array::from_fn(|t| token_encode::merged_code(t as u32, 12, tokens::raw_bits_of_token(t as u8)));
        let mut lanes = vec![0u8; values.len() * 6];
        let starts: [usize; 4] = std::array::from_fn(|lane| lane * values.len() * 6 / 4);
        group.bench_function(format!("lane_encode/{name}"), |b| {
            b.iter(|| token_encode::encode_lanes(k, &merged, black_box(&toks), &out, &mut lanes, starts))
        });
        // Format 1.4: the tokens alone in four lanes (a code of six bits each), the raw bits in
        // four segments; written, then read.
        let (codes, single, multi) = common::flat_token_code();
        group.bench_function(format!("token_lanes_encode/{name}"), |b| {
            b.iter(|| token_lanes::encode(k, &codes, black_box(&toks), &mut lanes, starts))
        });
        let token_bits = token_lanes::encode(k, &codes, &toks, &mut lanes, starts);
        let mut decoded = vec![0u8; toks.len()];
        group.bench_function(format!("token_lanes_decode/{name}"), |b| {
            b.iter(|| {
                let mut positions = starts.map(|s| s * 8);
                token_lanes::decode(k, &multi, &single, black_box(&lanes), &mut positions, &mut decoded)
            })
        });
        debug_assert!(token_bits.iter().all(|&bits| bits == toks.len() / 4 * 6));
        let mut segments = vec![0u8; values.len() * 4 + 64];
        let segment_starts: [usize; 4] = std::array::from_fn(|lane| lane * (values.len() + 16));
        group.bench_function(format!("raw_pack/{name}"), |b| {
            b.iter(|| raw_segments::pack(k, black_box(&toks), &out, &mut segments, segment_starts))
        });
        let bits = raw_segments::pack(k, &toks, &out, &mut segments, segment_starts);
        let stream: Vec<u8> = (0..4)
            .flat_map(|l| segments[segment_starts[l]..segment_starts[l] + bits[l].div_ceil(8)].to_vec())
            .collect();
        let mut residuals = vec![0i32; values.len()];
        group.bench_function(format!("raw_unpack/{name}"), |b| {
            b.iter(|| raw_segments::unpack(k, black_box(&toks), &stream, &mut residuals))
        });
    }
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let one = CompressOptions::default().with_tick_power(-5).with_threads(Some(1));
    let one_decode = DecompressOptions::default().with_threads(Some(1));
    for (name, array) in [("fbank_500x80", common::fbank_chunk()), ("fbank_whole", common::fbank())] {
        let bytes = compress(&array, &one).unwrap();
        let mut group = c.benchmark_group(format!("tiled_{name}"));
        group.throughput(Throughput::Elements(array.len() as u64));
        group.bench_function("compress", |b| b.iter(|| compress(black_box(&array), &one).unwrap()));
        group.bench_function("decompress", |b| {
            b.iter(|| decompress_with::<f32>(black_box(&bytes), &one_decode).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, kernels, end_to_end);
criterion_main!(benches);
