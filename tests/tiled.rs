//! The tiled format: the bound, exceptions, dtypes, shapes, threads, row ranges, scalar against
//! dispatched kernels, and corruption detection.

use lilcom::{
    compress, compress_parts, decompress, decompress_into, decompress_rows, decompress_with, info, CompressOptions,
    DecompressOptions, ErrorKind, Format,
};
use ndarray::{Array1, Array2, Array3, ArrayD, IxDyn, ShapeBuilder};
use proptest::prelude::*;

fn tiled(tick_power: i32) -> CompressOptions {
    CompressOptions::default().with_format(Format::Tiled).with_tick_power(tick_power)
}

/// Checks the format's promise element by element: finite values whose code fits are within half
/// a tick; everything else comes back bit for bit.
fn assert_bound_f32(a: &ArrayD<f32>, b: &ArrayD<f32>, tick_power: i32) {
    assert_eq!(a.shape(), b.shape());
    let tick = 2f64.powi(tick_power);
    for (&x, &y) in a.iter().zip(b.iter()) {
        let regular = (f64::from(x) / tick).abs() < (1u64 << 30) as f64;
        if regular {
            assert!((f64::from(x) - f64::from(y)).abs() <= tick / 2.0, "{x} -> {y} at tick 2^{tick_power}");
        } else {
            assert_eq!(x.to_bits(), y.to_bits(), "exception {x} -> {y}");
        }
    }
}

#[test]
fn default_format_is_tiled_and_keeps_dtype() {
    let a = Array2::from_shape_fn((30, 7), |(i, j)| (i * 7 + j) as f64 * 0.01);
    let bytes = compress(&a, &CompressOptions::default()).unwrap();
    assert_eq!(&bytes[..2], b"L\x01");
    let i = info(&bytes).unwrap();
    assert_eq!(
        (i.format, i.dtype, i.shape.clone(), i.tick_power),
        (Format::Tiled, lilcom::DType::F64, vec![30, 7], -8)
    );
    let b = decompress::<f64>(&bytes).unwrap();
    assert!(a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() <= 1.0 / 512.0));
    assert_eq!(decompress::<f32>(&bytes).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let c = compress(&a.mapv(|v| v as f32), &tiled(-8)).unwrap();
    let wide = decompress::<f64>(&c).unwrap();
    assert_eq!(wide, decompress::<f32>(&c).unwrap().mapv(f64::from));
}

#[test]
fn non_finite_huge_and_tiny_values_round_trip_exactly() {
    let values = vec![
        1.0f32,
        f32::NAN,
        f32::from_bits(0x7fc0_1234),
        f32::INFINITY,
        -f32::INFINITY,
        1e30,
        -3e38,
        1e-45,
        -0.0,
        0.3,
    ];
    let a = ArrayD::from_shape_vec(IxDyn(&[values.len()]), values).unwrap();
    for tick_power in [-64, -20, -8, 0, 30, 64] {
        let bytes = compress(&a, &tiled(tick_power)).unwrap();
        assert_bound_f32(&a, &decompress::<f32>(&bytes).unwrap(), tick_power);
    }
}

#[test]
fn empty_zero_d_and_many_axes() {
    let empty = Array2::<f32>::zeros((0, 5));
    let bytes = compress(&empty, &tiled(-8)).unwrap();
    assert_eq!(decompress::<f32>(&bytes).unwrap().shape(), &[0, 5]);
    let empty_inner = Array2::<f32>::zeros((4, 0));
    let bytes = compress(&empty_inner, &tiled(-8)).unwrap();
    assert_eq!(decompress::<f32>(&bytes).unwrap().shape(), &[4, 0]);

    let scalar = ndarray::arr0(2.7182817f32).into_dyn();
    let bytes = compress(&scalar, &tiled(-10)).unwrap();
    let back = decompress::<f32>(&bytes).unwrap();
    assert_eq!(back.shape(), &[] as &[usize]);
    assert_bound_f32(&scalar, &back, -10);

    let mut dims = vec![1usize; 20];
    dims[0] = 3;
    dims[7] = 2;
    dims[19] = 5;
    let a = ArrayD::from_shape_fn(IxDyn(&dims), |ix| ix[0] as f32 + ix[7] as f32 * 0.5 + ix[19] as f32 * 0.25);
    let bytes = compress(&a, &tiled(-4)).unwrap();
    assert_bound_f32(&a, &decompress::<f32>(&bytes).unwrap(), -4);

    let too_many = ArrayD::<f32>::zeros(IxDyn(&[1; 33]));
    assert_eq!(compress(&too_many, &tiled(-8)).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let ok = Array1::<f32>::zeros(3);
    assert_eq!(compress(&ok, &tiled(65)).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

fn smooth(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i as f32) * 0.013).sin() * 5.0 + ((j as f32) * 0.07).cos() + (i * j % 7) as f32 * 0.01
    })
}

#[test]
fn bytes_do_not_depend_on_threads_or_kernels() {
    // Enough elements to run on several threads both ways (smaller arrays stay on the caller's).
    let a = smooth(6000, 70);
    let reference = compress(&a, &tiled(-9).with_threads(Some(1)).with_scalar_kernels(true)).unwrap();
    assert!(info(&reference).unwrap().tiles > 2);
    for threads in [None, Some(1), Some(2), Some(3)] {
        for scalar in [false, true] {
            let bytes = compress(&a, &tiled(-9).with_threads(threads).with_scalar_kernels(scalar)).unwrap();
            assert_eq!(bytes, reference, "threads {threads:?} scalar {scalar}");
            let options = DecompressOptions::default().with_threads(threads).with_scalar_kernels(scalar);
            let b = decompress_with::<f32>(&bytes, &options).unwrap();
            let want =
                decompress_with::<f32>(&reference, &DecompressOptions::default().with_scalar_kernels(true)).unwrap();
            assert_eq!(b.mapv(f32::to_bits), want.mapv(f32::to_bits));
        }
    }
}

#[test]
fn zero_threads_are_refused_whatever_the_array_size() {
    // Small arrays run on the calling thread, but the request is still checked.
    for rows in [10, 6000] {
        let a = smooth(rows, 70);
        let err = compress(&a, &tiled(-9).with_threads(Some(0))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{rows} rows");
        let bytes = compress(&a, &tiled(-9)).unwrap();
        let err = decompress_with::<f32>(&bytes, &DecompressOptions::default().with_threads(Some(0))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{rows} rows");
    }
}

#[test]
fn compressed_parts_write_the_same_stream_and_refuse_a_destination_of_another_length() {
    let a = smooth(300, 70);
    for options in [tiled(-7), tiled(-7).with_threads(Some(2)), CompressOptions::default().with_format(Format::Lilcom)]
    {
        let whole = compress(&a, &options).unwrap();
        let parts = compress_parts(&a, &options).unwrap();
        assert_eq!(parts.len(), whole.len());
        assert!(!parts.is_empty());
        for wrong in [whole.len() - 1, whole.len() + 1] {
            let mut out = vec![7u8; wrong];
            let err = compress_parts(&a, &options).unwrap().write_into(&mut out).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(out.iter().all(|&b| b == 7), "a refused destination is left as it was");
        }
        let mut out = vec![0u8; whole.len()];
        parts.write_into(&mut out).unwrap();
        assert_eq!(out, whole);
        assert_eq!(compress_parts(&a, &options).unwrap().into_vec().unwrap(), whole);
    }
}

#[test]
fn bytes_and_values_do_not_depend_on_what_the_thread_coded_before() {
    // The coder keeps buffers per thread (the tiles' tokens, and codes decoded as f64) and
    // overwrites them without clearing, and keeps the tiles' byte buffers from call to call;
    // after a large, noisy f64 array and a wide one, a small array must code and decode as on a
    // new thread.
    let small = smooth(40, 9);
    let on_new_thread = std::thread::spawn(move || {
        let bytes = compress(&small, &tiled(-6).with_threads(Some(1))).unwrap();
        let values = decompress::<f32>(&bytes).unwrap();
        let wider = decompress::<f64>(&bytes).unwrap();
        (bytes, values, wider)
    });
    let (fresh_bytes, fresh_values, fresh_wider) = on_new_thread.join().unwrap();
    let noisy = Array1::from_shape_fn(200_000, |i| ((i * 7919 % 10007) as f64 - 5000.0) * 37.5);
    let bytes = compress(&noisy, &tiled(-3).with_threads(Some(1))).unwrap();
    decompress::<f64>(&bytes).unwrap();
    let wide = smooth(900, 100);
    let bytes = compress(&wide, &tiled(-12).with_threads(Some(1))).unwrap();
    decompress::<f32>(&bytes).unwrap();
    let bytes = compress(&smooth(40, 9), &tiled(-6).with_threads(Some(1))).unwrap();
    assert_eq!(bytes, fresh_bytes);
    assert_eq!(decompress::<f32>(&bytes).unwrap().mapv(f32::to_bits), fresh_values.mapv(f32::to_bits));
    // Decoding as f64 goes through a buffer of codes kept per thread, last filled by the noisy
    // array's larger tiles.
    decompress::<f64>(&compress(&noisy, &tiled(-3).with_threads(Some(1))).unwrap()).unwrap();
    assert_eq!(decompress::<f64>(&bytes).unwrap().mapv(f64::to_bits), fresh_wider.mapv(f64::to_bits));
}

#[test]
fn row_ranges_match_the_full_decode_and_touch_only_their_tiles() {
    let a = smooth(2500, 60);
    let bytes = compress(&a, &tiled(-7)).unwrap();
    let tiles = info(&bytes).unwrap().tiles;
    assert!(tiles >= 3, "{tiles} tiles");
    let full = decompress::<f32>(&bytes).unwrap();
    for (start, end) in [(0, 0), (0, 1), (17, 18), (0, 2500), (1000, 2222), (2499, 2500), (5, 1500)] {
        let part = decompress_rows::<f32>(&bytes, start..end).unwrap();
        assert_eq!(part, full.slice(ndarray::s![start..end, ..]).into_dyn(), "{start}..{end}");
    }
    assert_eq!(decompress_rows::<f32>(&bytes, 10..2501).unwrap_err().kind(), ErrorKind::InvalidArgument);

    // Corrupting the last tile does not affect rows held by the first one.
    let mut damaged = bytes.clone();
    let n = damaged.len();
    damaged[n - 10] ^= 0x40;
    assert!(decompress::<f32>(&damaged).is_err());
    assert_eq!(decompress_rows::<f32>(&damaged, 0..10).unwrap(), full.slice(ndarray::s![0..10, ..]).into_dyn());
}

#[test]
fn decode_into_any_layout_and_rows() {
    let a = smooth(300, 40);
    let bytes = compress(&a, &tiled(-6)).unwrap();
    let full = decompress::<f32>(&bytes).unwrap();
    let mut fortran = Array2::<f32>::zeros((300, 40).f());
    decompress_into(&bytes, &mut fortran).unwrap();
    assert_eq!(fortran.into_dyn(), full);
    let mut part = Array2::<f32>::zeros((20, 40));
    lilcom::decompress_into_with(&bytes, &mut part, &DecompressOptions::default().with_rows(100..120)).unwrap();
    assert_eq!(part.into_dyn(), full.slice(ndarray::s![100..120, ..]).into_dyn());
    let mut wrong = Array2::<f32>::zeros((300, 41));
    assert_eq!(decompress_into(&bytes, &mut wrong).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn every_single_bit_flip_is_detected_and_every_truncation_rejected() {
    let a = Array3::from_shape_fn((6, 5, 7), |(i, j, k)| (i as f32 - j as f32 * 0.3 + k as f32 * 0.01).sin());
    let mut values = a.clone();
    values[[2, 2, 2]] = f32::NAN;
    for bytes in [compress(&values, &tiled(-8)).unwrap(), compress(&Array1::<f64>::zeros(4), &tiled(0)).unwrap()] {
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let result = decompress_with::<f64>(&flipped, &DecompressOptions::default());
            let result32 = decompress::<f32>(&flipped);
            assert!(result.is_err() && result32.is_err(), "bit {bit} of {} flipped went unnoticed", bytes.len());
        }
        for cut in 0..bytes.len() {
            assert!(decompress::<f64>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decompress::<f64>(&longer).unwrap_err().kind(), ErrorKind::Corruption);
    }
}

#[test]
fn fbank_sample_beats_the_original_format() {
    let features: Array2<f32> =
        ndarray_npy::read_npy(concat!(env!("CARGO_MANIFEST_DIR"), "/data/fbank_sample.npy")).unwrap();
    let ours = compress(&features, &tiled(-5)).unwrap();
    let original = compress(&features, &tiled(-5).with_format(Format::Lilcom)).unwrap();
    assert!(ours.len() < original.len(), "tiled {} bytes, L\\x00 {} bytes", ours.len(), original.len());
    assert_bound_f32(&features.into_dyn(), &decompress::<f32>(&ours).unwrap(), -5);
}

fn values_strategy() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -1.0e3f32..1.0e3,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => prop::num::f32::ANY,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    #[test]
    fn roundtrip_holds_the_bound_on_both_kernel_paths(
        dims in prop::collection::vec(0usize..7, 0..4),
        seed_values in prop::collection::vec(values_strategy(), 0..300),
        tick_power in -30i32..=30,
        scalar: bool,
    ) {
        let n: usize = dims.iter().product();
        let values: Vec<f32> = (0..n).map(|i| if seed_values.is_empty() { 0.0 } else { seed_values[i % seed_values.len()] }).collect();
        let a = ArrayD::from_shape_vec(IxDyn(&dims), values).unwrap();
        let bytes = compress(&a, &tiled(tick_power).with_scalar_kernels(scalar)).unwrap();
        let other = compress(&a, &tiled(tick_power).with_scalar_kernels(!scalar)).unwrap();
        prop_assert_eq!(&bytes, &other);
        let b = decompress_with::<f32>(&bytes, &DecompressOptions::default().with_scalar_kernels(scalar)).unwrap();
        assert_bound_f32(&a, &b, tick_power);
    }

    #[test]
    fn f64_roundtrip_holds_the_bound(values in prop::collection::vec(-1.0e6f64..1.0e6, 1..200), tick_power in -20i32..=10) {
        let a = Array1::from(values);
        let bytes = compress(&a, &tiled(tick_power)).unwrap();
        let b = decompress::<f64>(&bytes).unwrap();
        let tick = 2f64.powi(tick_power);
        for (x, y) in a.iter().zip(b.iter()) {
            if (x / tick).abs() < (1u64 << 30) as f64 {
                prop_assert!((x - y).abs() <= tick / 2.0);
            } else {
                prop_assert_eq!(x.to_bits(), y.to_bits());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_after_the_tiled_magic_never_panic(tail in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = b"L\x01".to_vec();
        bytes.extend(tail);
        let _ = info(&bytes);
        let _ = decompress::<f32>(&bytes);
        let _ = decompress::<f64>(&bytes);
    }
}

#[test]
fn moderately_correlated_rows_round_trip_through_the_scaled_predictor() {
    // Half of the previous value plus noise, along each of the three view axes in turn.
    let mut state = 99u64;
    let mut noise = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 40) % 2001) as f32 - 1000.0
    };
    let n = 20_000;
    let mut series = vec![0.0f32; n];
    for i in 1..n {
        series[i] = series[i - 1] * 0.5 + noise();
    }
    for shape in [vec![n], vec![n / 50, 50], vec![10, 20, 100]] {
        let a = ArrayD::from_shape_vec(IxDyn(&shape), series.clone()).unwrap();
        let bytes = compress(&a, &tiled(0)).unwrap();
        assert_bound_f32(&a, &decompress::<f32>(&bytes).unwrap(), 0);
    }
}

/// A smooth 3-d field with noise of about a tick, as the corpus's field: the interpolation
/// predictor with quadratic edges wins, keeps the bound, and dispatched and scalar kernels agree.
/// Every stream is written in minor version 4, whose coding every tile uses.
#[test]
fn smooth_fields_use_interpolation_with_quadratic_edges() {
    let mut state = 7u64;
    let field = Array3::from_shape_fn((40, 48, 48), |(i, j, k)| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let noise = ((state >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 2e-3;
        let (x, y, z) = (i as f64 / 40.0, j as f64 / 48.0, k as f64 / 48.0);
        ((2.0 * std::f64::consts::PI * (x + 0.5 * y)).sin() * (3.0 * std::f64::consts::PI * z).cos() + noise) as f32
    })
    .into_dyn();
    let bytes = compress(&field, &tiled(-10).with_scalar_kernels(true)).unwrap();
    assert_eq!(bytes[2], 4);
    // The first tile's predictor byte: interpolation with quadratic edges.
    let layout_len = 8 + 3 * 8 + 8 + 4 + 8 * info(&bytes).unwrap().tiles + 4;
    assert_eq!(bytes[layout_len], 0x21);
    assert_bound_f32(&field, &decompress::<f32>(&bytes).unwrap(), -10);
    assert_eq!(compress(&field, &tiled(-10)).unwrap(), bytes, "dispatched kernels wrote other bytes");
    let mut newer = bytes.clone();
    newer[2] = 5;
    assert_eq!(decompress::<f32>(&newer).unwrap_err().kind(), ErrorKind::UnsupportedVersion);
}

/// Tiles aim for 2^16 elements, but arrays of three or more axes get at least 32 rows per tile
/// (interpolation runs along axis 0 too), as far as 2^20 elements allow.
#[test]
fn volumes_get_tiles_of_at_least_32_rows() {
    let tiles = |shape: &[usize]| {
        let a = ArrayD::<f32>::zeros(IxDyn(shape));
        info(&compress(&a, &tiled(-8)).unwrap()).unwrap().tiles
    };
    assert_eq!(tiles(&[64, 4096]), 4, "16 rows of 4096 per tile");
    assert_eq!(tiles(&[96, 64, 64]), 3, "32 rows of 4096 per tile");
    assert_eq!(tiles(&[96, 8, 8]), 1, "1024 rows of 64 per tile hold all 96");
    assert_eq!(tiles(&[10, 512, 512]), 3, "rows of 2^18: 4 per tile, within 2^20 elements");
}

/// The inputs of the golden tiled streams in `tests/golden/tiled/`.
fn golden_field() -> ArrayD<f32> {
    let mut state = 7u64;
    Array3::from_shape_fn((16, 24, 24), |(i, j, k)| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let noise = ((state >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 2e-3;
        let (x, y, z) = (i as f64 / 16.0, j as f64 / 24.0, k as f64 / 24.0);
        ((2.0 * std::f64::consts::PI * (x + 0.5 * y)).sin() * (3.0 * std::f64::consts::PI * z).cos() + noise) as f32
    })
    .into_dyn()
}

fn golden_walk() -> ArrayD<f32> {
    let mut state = 11u64;
    let mut level = 0.0f64;
    Array2::from_shape_fn((40, 30), |_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        level += (state >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
        level as f32
    })
    .into_dyn()
}

/// Streams written by earlier versions of this crate still decode within the bound: format 1.0
/// (differences) and 1.1 (interpolation with linear edges), written by commit b90d744, 1.2
/// (interpolation with quadratic edges), written by commit b5e25aa, all three with the older
/// token alphabet; and 1.3 (the alphabet with small values exact, code and raw bits interleaved in
/// the lanes), written by commit 9ff0773.
#[test]
fn golden_streams_of_older_minor_versions_decode() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/tiled");
    let cases = [
        ("walk_40x30_tick6_v1_0.bin", golden_walk(), -6, 0),
        ("field_16x24x24_tick10_v1_1.bin", golden_field(), -10, 1),
        ("field_16x24x24_tick10_v1_2.bin", golden_field(), -10, 2),
        ("walk_40x30_tick6_v1_3.bin", golden_walk(), -6, 3),
        ("field_16x24x24_tick10_v1_3.bin", golden_field(), -10, 3),
    ];
    for (name, input, tick_power, minor) in cases {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        assert_eq!(bytes[2], minor, "{name}");
        let decoded = decompress::<f32>(&bytes).unwrap();
        assert_bound_f32(&input, &decoded, tick_power);
        // Today's encoder writes minor version 4, which also holds the bound; from minor
        // version 3 on the values are the codes times the tick, so they are the same.
        let today = compress(&input, &tiled(tick_power)).unwrap();
        assert_eq!(today[2], 4, "{name}");
        assert_bound_f32(&input, &decompress::<f32>(&today).unwrap(), tick_power);
        if minor == 3 {
            assert_eq!(decompress::<f32>(&today).unwrap(), decoded, "{name}");
        }
        if (1..3).contains(&minor) {
            // The same stream labelled with an older minor version uses a reserved predictor.
            let mut older_minor = bytes.clone();
            older_minor[2] = minor - 1;
            assert_eq!(decompress::<f32>(&older_minor).unwrap_err().kind(), ErrorKind::Corruption, "{name}");
        }
    }
}

/// Fuzz finding (tiled_decode with repaired checksums): an empty array whose other axes
/// multiply past what memory can address made the decoder panic building its output array.
/// Such a header is corruption.
#[test]
fn an_empty_array_with_unaddressable_axes_is_corruption() {
    let mut header = vec![b'L', 1, 0, 0, (-8i8) as u8, 3, 0, 0];
    for d in [0u64, 1 << 40, 1 << 40] {
        header.extend_from_slice(&d.to_le_bytes());
    }
    header.extend_from_slice(&1u64.to_le_bytes()); // rows per tile
    header.extend_from_slice(&0u32.to_le_bytes()); // no tiles
    let crc = crc32c::crc32c(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(info(&header).unwrap_err().kind(), ErrorKind::Corruption);
    assert_eq!(decompress::<f32>(&header).unwrap_err().kind(), ErrorKind::Corruption);
    assert_eq!(decompress_rows::<f64>(&header, 0..0).unwrap_err().kind(), ErrorKind::Corruption);
    // The same with addressable axes is a valid empty array.
    let mut fine = vec![b'L', 1, 0, 0, (-8i8) as u8, 3, 0, 0];
    for d in [0u64, 1 << 20, 1 << 20] {
        fine.extend_from_slice(&d.to_le_bytes());
    }
    fine.extend_from_slice(&1u64.to_le_bytes());
    fine.extend_from_slice(&0u32.to_le_bytes());
    let crc = crc32c::crc32c(&fine);
    fine.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(decompress::<f32>(&fine).unwrap().shape(), &[0, 1 << 20, 1 << 20]);
}
