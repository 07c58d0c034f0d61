//! Criterion benches of the `L\x00` format on lhotse's pattern: 500x80 chunks of real speech
//! filterbank features at tick_power -5.
//!
//! cargo bench --bench legacy

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lilcom::{compress, decompress, CompressOptions, Format};

fn legacy_fbank_chunk(c: &mut Criterion) {
    let chunk = common::fbank_chunk();
    let options = CompressOptions::default().with_format(Format::Lilcom).with_tick_power(-5);
    let stream = compress(&chunk, &options).unwrap();

    let mut group = c.benchmark_group("legacy_fbank_500x80");
    group.throughput(Throughput::Elements(chunk.len() as u64));
    group.bench_function("decompress", |b| b.iter(|| decompress::<f32>(std::hint::black_box(&stream)).unwrap()));
    group.bench_function("compress", |b| b.iter(|| compress(std::hint::black_box(&chunk), &options).unwrap()));
    group.finish();
}

criterion_group!(benches, legacy_fbank_chunk);
criterion_main!(benches);
