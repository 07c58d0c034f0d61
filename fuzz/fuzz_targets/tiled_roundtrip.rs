//! Arbitrary arrays through the tiled format: every regular element within half a tick, every
//! exception bit-exact, the same bytes from the scalar and the dispatched kernels, and row ranges
//! equal to slices of the whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lilcom::{compress, decompress_with, CompressOptions, DecompressOptions};
use ndarray::{ArrayD, IxDyn};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let tick_power = i32::from(data[0] % 129) - 64;
    let rank = usize::from(data[1] % 4);
    let dims: Vec<usize> = (0..rank).map(|i| usize::from(data.get(2 + i).copied().unwrap_or(1) % 40)).collect();
    let count: usize = dims.iter().product();
    let payload = &data[(2 + rank).min(data.len())..];
    let values: Vec<f32> = (0..count)
        .map(|i| {
            let at = (i * 4) % payload.len().max(1);
            let chunk: [u8; 4] = std::array::from_fn(|k| payload.get(at + k).copied().unwrap_or(0));
            f32::from_le_bytes(chunk)
        })
        .collect();
    let array = ArrayD::from_shape_vec(IxDyn(&dims), values).unwrap();
    let options = CompressOptions::default().with_tick_power(tick_power);
    let bytes = compress(&array, &options).expect("every f32 array compresses");
    let scalar = compress(&array, &options.clone().with_scalar_kernels(true)).unwrap();
    assert_eq!(bytes, scalar, "dispatched and scalar kernels wrote different bytes");
    let back = decompress_with::<f32>(&bytes, &DecompressOptions::default()).unwrap();
    let tick = 2f64.powi(tick_power);
    for (&x, &y) in array.iter().zip(back.iter()) {
        if (f64::from(x) / tick).abs() < (1u64 << 30) as f64 {
            assert!((f64::from(x) - f64::from(y)).abs() <= tick / 2.0, "{x} -> {y}");
        } else {
            assert_eq!(x.to_bits(), y.to_bits());
        }
    }
    if let Some(&rows) = dims.first() {
        let range = rows / 3..rows - rows / 4;
        let part = decompress_with::<f32>(&bytes, &DecompressOptions::default().with_rows(range.clone())).unwrap();
        let want = back.slice_axis(ndarray::Axis(0), ndarray::Slice::from(range));
        assert_eq!(part.mapv(f32::to_bits), want.mapv(f32::to_bits));
    }
});
