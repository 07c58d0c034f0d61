//! Every kernel, dispatched against its scalar reference, on arbitrary input and lengths (ragged
//! tails included), byte for byte. Fails if this machine has a vector instruction set but the
//! dispatch did not pick one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lilcom_kernels::difference::{self, Axes, Shape3};
use lilcom_kernels::{interpolate, multi_decode, quantize, raw_segments, token_decode, token_lanes, tokens, Kernels};

fuzz_target!(|data: &[u8]| {
    let kernels = Kernels::detect();
    if std::env::var_os(lilcom_kernels::dispatch::FORCE_SCALAR_ENV).is_none() {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            assert!(
                kernels.is_vectorized(),
                "AVX2 is present but {} kernels were dispatched",
                kernels.instruction_set()
            );
        }
    }
    if data.len() < 2 {
        return;
    }
    let tick_power = i32::from(data[0] % 61) - 30;
    let words: Vec<u32> =
        data[1..].chunks(4).map(|c| c.iter().rev().fold(0u32, |a, &b| a << 8 | u32::from(b))).collect();

    let floats: Vec<f32> = words.iter().map(|&w| f32::from_bits(w)).collect();
    let inv = 2f32.powi(-tick_power);
    let (mut a, mut b) = (vec![0; floats.len()], vec![0; floats.len()]);
    assert_eq!(
        quantize::quantize_f32_scalar(&floats, inv, &mut a),
        quantize::quantize_f32(kernels, &floats, inv, &mut b)
    );
    assert_eq!(a, b);
    // Quantization and differences in one pass, on rows of 16 to 79 values (the AVX-512
    // pass's) and of fewer.
    let wide = 1 + usize::from(data[1]) % 79;
    let rows = Shape3 { outer: floats.len() / wide, middle: 1, inner: wide };
    for axes in 0..8 {
        let (mut p, mut q) = (vec![0; rows.len()], vec![0; rows.len()]);
        assert_eq!(
            difference::quantize_difference_f32_scalar(&floats[..rows.len()], inv, &mut p, rows, Axes(axes)),
            difference::quantize_difference_f32(kernels, &floats[..rows.len()], inv, &mut q, rows, Axes(axes))
        );
        assert_eq!(p, q);
    }
    // As one axis (the AVX-512 pass takes it as one row), in f32 and f64.
    let line = Shape3 { outer: floats.len(), middle: 1, inner: 1 };
    let wide: Vec<f64> = floats.iter().map(|&x| f64::from(x) * 1.25).collect();
    for axes in 0..8 {
        let (mut p, mut q) = (vec![0; line.len()], vec![0; line.len()]);
        assert_eq!(
            difference::quantize_difference_f32_scalar(&floats, inv, &mut p, line, Axes(axes)),
            difference::quantize_difference_f32(kernels, &floats, inv, &mut q, line, Axes(axes))
        );
        assert_eq!(p, q);
        assert_eq!(
            difference::quantize_difference_f64_scalar(&wide, f64::from(inv), &mut p, line, Axes(axes)),
            difference::quantize_difference_f64(kernels, &wide, f64::from(inv), &mut q, line, Axes(axes))
        );
        assert_eq!(p, q);
        difference::integrate_dequantize_f32_scalar(&mut p, line, Axes(axes), 1.0 / inv);
        difference::integrate_dequantize_f32(kernels, &mut q, line, Axes(axes), 1.0 / inv);
        assert_eq!(p, q);
    }
    let (mut x, mut y) = (vec![0.0f32; a.len()], vec![0.0f32; a.len()]);
    quantize::dequantize_f32_scalar(&a, 1.0 / inv, &mut x);
    quantize::dequantize_f32(kernels, &a, 1.0 / inv, &mut y);
    assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()));

    let doubles: Vec<f64> =
        words.chunks(2).map(|w| f64::from_bits(u64::from(w[0]) << 32 | u64::from(*w.last().unwrap()))).collect();
    let inv64 = 2f64.powi(-tick_power);
    let (mut c, mut d) = (vec![0; doubles.len()], vec![0; doubles.len()]);
    assert_eq!(
        quantize::quantize_f64_scalar(&doubles, inv64, &mut c),
        quantize::quantize_f64(kernels, &doubles, inv64, &mut d)
    );
    assert_eq!(c, d);

    let ints: Vec<i32> = words.iter().map(|&w| w as i32).collect();
    let (mut r1, mut r2) = (ints.clone(), ints.clone());
    let (mut s1, mut s2) = (vec![0u8; ints.len()], vec![0u8; ints.len()]);
    assert_eq!(tokens::split_scalar(&mut r1, &mut s1), tokens::split(kernels, &mut r2, &mut s2));
    assert_eq!((&r1, &s1), (&r2, &s2));
    assert!(ints.iter().zip(&s1).all(|(&v, &t)| tokens::token_of(v) == t));
    assert_eq!(tokens::presence_scalar(&data[1..]), tokens::presence(kernels, &data[1..]));

    // Format 1.4's raw segments: the same bytes from both writers, the residuals back from both
    // readers; arbitrary tokens and bytes read the same on both paths.
    let room = ints.len().div_ceil(4) * 31 / 8 + 9;
    let starts = [0, room, 2 * room, 3 * room];
    let (mut w1, mut w2) = (vec![0u8; 4 * room], vec![0u8; 4 * room]);
    let bits = raw_segments::pack_scalar(&s1, &r1, &mut w1, starts);
    assert_eq!(bits, raw_segments::pack(kernels, &s1, &r1, &mut w2, starts));
    let segments: Vec<u8> = (0..4).flat_map(|l| w1[starts[l]..starts[l] + bits[l].div_ceil(8)].to_vec()).collect();
    assert_eq!(
        segments,
        (0..4).flat_map(|l| w2[starts[l]..starts[l] + bits[l].div_ceil(8)].to_vec()).collect::<Vec<u8>>()
    );
    // Split and written in one pass: the same tokens and segments.
    let (mut r3, mut s3, mut w3) = (ints.clone(), vec![0u8; ints.len()], vec![0u8; 4 * room]);
    let split = raw_segments::split_pack(kernels, &mut r3, &mut s3, &mut w3, starts);
    assert_eq!(split, raw_segments::Split { raw_bits: bits, present: tokens::presence_scalar(&s1) });
    assert_eq!(s3, s1);
    assert!((0..4)
        .all(|l| w3[starts[l]..starts[l] + bits[l].div_ceil(8)] == w1[starts[l]..starts[l] + bits[l].div_ceil(8)]));
    let (mut u1, mut u2) = (vec![0i32; ints.len()], vec![0i32; ints.len()]);
    assert_eq!(raw_segments::unpack_scalar(&s1, &segments, &mut u1), segments.len());
    assert_eq!(raw_segments::unpack(kernels, &s1, &segments, &mut u2), segments.len());
    assert_eq!((&u1, &u2), (&ints, &ints));
    assert_eq!(raw_segments::unpack(kernels.without_vbmi(), &s1, &segments, &mut u2), segments.len());
    assert_eq!(&u2, &ints);
    let arbitrary_tokens = &data[1..];
    let (mut u1, mut u2) = (vec![0i32; arbitrary_tokens.len()], vec![0i32; arbitrary_tokens.len()]);
    let end = raw_segments::unpack_scalar(arbitrary_tokens, data, &mut u1);
    assert_eq!(end, raw_segments::unpack(kernels, arbitrary_tokens, data, &mut u2));
    assert_eq!(u1, u2);
    assert_eq!(end, raw_segments::unpack(kernels.without_vbmi(), arbitrary_tokens, data, &mut u2));
    assert_eq!(u1, u2);

    // Format 1.4's token lanes under a complete code of six bits for every token: the same
    // lanes from both writers, the tokens back from both readers; arbitrary tables read any
    // bytes the same on both paths.
    let flat: [u32; tokens::TOKEN_COUNT] =
        std::array::from_fn(|t| token_lanes::writer_code((t as u32).reverse_bits() >> 26, 6));
    let single: Box<token_lanes::SingleEntries> =
        Box::new(std::array::from_fn(|i| token_lanes::single_entry(((i as u32 & 63).reverse_bits() >> 26) as u8, 6)));
    let multi = token_lanes::multi_entries(kernels, &flat, &single);
    assert_eq!(multi, token_lanes::multi_entries_scalar(&flat, &single));
    let room = s1.len().div_ceil(4) * 6 / 8 + 9;
    let starts = [0, room, 2 * room, 3 * room];
    let (mut w1, mut w2) = (vec![0u8; 4 * room], vec![0u8; 4 * room]);
    let bits = token_lanes::encode_scalar(&flat, &s1, &mut w1, starts);
    assert_eq!(bits, token_lanes::encode(kernels, &flat, &s1, &mut w2, starts));
    assert_eq!(w1, w2);
    for k in [kernels, Kernels::scalar()] {
        let mut positions = starts.map(|s| s * 8);
        let mut decoded = vec![0u8; s1.len()];
        assert!(!token_lanes::decode(k, &multi, &single, &w1, &mut positions, &mut decoded));
        assert_eq!(decoded, s1);
        assert_eq!(positions, std::array::from_fn(|l| starts[l] * 8 + bits[l]));
    }
    // And under a skewed code (token k < 11 is k ones then a zero, token 11 eleven ones), where
    // eight codes in a row can pass the 56 bits the AVX-512 writer puts in one store.
    let skewed: [u32; tokens::TOKEN_COUNT] = std::array::from_fn(|t| match t {
        0..11 => token_lanes::writer_code((1 << t) - 1, t as u32 + 1),
        11 => token_lanes::writer_code((1 << 11) - 1, 11),
        _ => 0,
    });
    let skewed_single: Box<token_lanes::SingleEntries> = Box::new(std::array::from_fn(|i| {
        let ones = (i as u32).trailing_ones().min(11);
        token_lanes::single_entry(ones as u8, (ones + 1).min(11))
    }));
    let skewed_multi = token_lanes::multi_entries(kernels, &skewed, &skewed_single);
    assert_eq!(skewed_multi, token_lanes::multi_entries_scalar(&skewed, &skewed_single));
    let skewed_tokens: Vec<u8> = data.iter().map(|&b| b % 12).collect();
    // With the writer's slack, so that its blocks take the combining path.
    let room = data.len().div_ceil(4) * 11 / 8 + token_lanes::ENCODE_SLACK;
    let starts = [0, room, 2 * room, 3 * room];
    let (mut w1, mut w2) = (vec![0u8; 4 * room], vec![0u8; 4 * room]);
    let bits = token_lanes::encode_scalar(&skewed, &skewed_tokens, &mut w1, starts);
    assert_eq!(bits, token_lanes::encode(kernels, &skewed, &skewed_tokens, &mut w2, starts));
    assert_eq!(w1, w2);
    let mut positions = starts.map(|s| s * 8);
    let mut decoded = vec![0u8; data.len()];
    assert!(!token_lanes::decode(kernels, &skewed_multi, &skewed_single, &w1, &mut positions, &mut decoded));
    assert_eq!(decoded, skewed_tokens);
    let arbitrary_single: Box<token_lanes::SingleEntries> =
        Box::new(std::array::from_fn(|i| u16::from(data[i % data.len()]) << 8 | u16::from(data[(i + 1) % data.len()])));
    let arbitrary_multi: Box<token_lanes::MultiEntries> =
        Box::new(std::array::from_fn(|i| words[i % words.len().max(1)]));
    // A lane past the body's end, and (on long enough bodies) all four inside it, where whole
    // blocks of lookups run.
    for starts in [[0, 7, data.len() * 4, data.len() * 8 + 3], [0, 7, data.len() * 2, data.len() * 4 + 3]] {
        let (mut p1, mut p2) = (starts, starts);
        let (mut t1, mut t2) = (vec![0u8; data.len() * 3], vec![0u8; data.len() * 3]);
        let bad1 = token_lanes::decode_scalar(&arbitrary_multi, &arbitrary_single, data, &mut p1, &mut t1);
        let bad2 = token_lanes::decode(kernels, &arbitrary_multi, &arbitrary_single, data, &mut p2, &mut t2);
        assert_eq!((bad1, p1, &t1), (bad2, p2, &t2));
    }

    let n = ints.len();
    if n > 0 {
        let inner = 1 + usize::from(data[0] >> 4) % n;
        let rows = n / inner;
        let middle = if rows > 1 && data[0] & 1 == 1 { 2 } else { 1 };
        let shape = Shape3 { outer: rows / middle, middle, inner };
        let codes = &ints[..shape.len()];
        for axes in 0..8 {
            let (mut p, mut q) = (codes.to_vec(), codes.to_vec());
            difference::difference_scalar(&mut p, shape, Axes(axes));
            difference::difference(kernels, &mut q, shape, Axes(axes));
            assert_eq!(p, q);
            difference::integrate(kernels, &mut q, shape, Axes(axes));
            assert_eq!(q, codes);
        }
        // The inverse and dequantization in one pass, on this shape and on rows of 16 to 79
        // codes (the AVX-512 pass's), with a tick from 2^0 down to 2^-31.
        let tick = f32::from_bits((127 - u32::from(data[0] % 32)) << 23);
        let wide = 16 + usize::from(data.get(1).copied().unwrap_or(0)) % 64;
        for shape in [shape, Shape3 { outer: n / wide, middle: 1, inner: wide }] {
            for axes in 0..8 {
                let mut p = ints[..shape.len()].to_vec();
                let mut q = p.clone();
                difference::integrate_dequantize_f32_scalar(&mut p, shape, Axes(axes), tick);
                difference::integrate_dequantize_f32(kernels, &mut q, shape, Axes(axes), tick);
                assert_eq!(p, q);
            }
        }
        let edges = if data[0] & 2 == 2 { interpolate::Edges::Quadratic } else { interpolate::Edges::Linear };
        // Interpolation's residuals as the reference gives them, and its inverse back to the codes.
        let check_interpolation = |codes: &[i32], shape: Shape3| {
            let mut p = codes.to_vec();
            interpolate::interpolate_residuals(kernels, &mut p, shape, edges);
            let mut q = codes.to_vec();
            interpolate::interpolate_residuals_reference(&mut q, shape, edges);
            assert_eq!(p, q);
            let mut r = p.clone();
            interpolate::interpolate_codes(kernels, &mut p, shape, edges);
            assert_eq!(p, codes);
            // The inverse that dequantizes in its last step, where it can: the codes' floats.
            let expected: Vec<i32> =
                if interpolate::interpolate_codes_dequantize_f32(kernels, &mut r, shape, edges, tick) {
                    codes.iter().map(|&c| ((c as f32) * tick).to_bits() as i32).collect()
                } else {
                    codes.to_vec()
                };
            assert_eq!(r, expected);
        };
        check_interpolation(codes, shape);
        // Tiles big enough for the coarser levels' copies and rows of many sixteens: the
        // input's integers repeated, each repetition shifted, to fill a shape the input picks.
        if data.len() >= 4 {
            let shape = Shape3 {
                outer: 1 + usize::from(data[3]) % 24,
                middle: 1 + usize::from(data[2]) % 12,
                inner: 1 + usize::from(data[1]) % 130,
            };
            let codes: Vec<i32> = (0..shape.len()).map(|i| ints[i % n].wrapping_add((i / n) as i32 * 977)).collect();
            check_interpolation(&codes, shape);
        }
    }

    // The lane decoder on the input as lanes, with a table of arbitrary entries drawn from it
    // (valid or not): the same values, positions and verdict from both paths, and no panic.
    let mut state =
        words.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &w| (h ^ u64::from(w)).wrapping_mul(0x100_0000_01b3));
    let table: Box<token_decode::DecodeEntries> = Box::new(std::array::from_fn(|_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 32) as u32
    }));
    let body = &data[1..];
    let starts: [usize; token_decode::LANES] = std::array::from_fn(|l| l * body.len() * 2);
    let groups = usize::from(data[0]) % 97;
    let (mut p1, mut p2) = (starts, starts);
    let (mut o1, mut o2) = (vec![0i32; groups * 4], vec![0i32; groups * 4]);
    let check = data[0] & 1 == 1;
    let bad1 = token_decode::decode_groups_scalar(&table, body, &mut p1, &mut o1, check);
    let bad2 = token_decode::decode_groups(kernels, &table, body, &mut p2, &mut o2, check);
    assert_eq!((bad1, p1, &o1), (bad2, p2, &o2));
    // The multi-element decoder given the same arbitrary table: no panic, same on both paths.
    let (mut p1, mut p2) = (starts, starts);
    multi_decode::decode_lanes_scalar(&table, &table, body, &mut p1, &mut o1);
    multi_decode::decode_lanes(kernels, &table, &table, body, &mut p2, &mut o2);
    assert_eq!((p1, &o1), (p2, &o2));

    // The multi-element decoder against the one-element one, under a complete code drawn from
    // the input (any bits decode under it): the same values and positions, on both paths.
    let alphabet = if data[0] & 2 == 0 { tokens::Alphabet::SmallExact } else { tokens::Alphabet::Widths };
    let code_tokens = &data[..(2 + usize::from(data[0] % 12)).min(data.len())];
    if code_tokens.len() >= 2 {
        let single = multi_decode::unary_table(alphabet, code_tokens);
        let (multi, _) = multi_decode::multi_entries(&single);
        let n = groups * 4 + usize::from(data[0] % 4);
        let mut p1 = starts;
        let mut expected = vec![0i32; n];
        let whole = n / 4 * 4;
        token_decode::decode_groups_scalar(&single, body, &mut p1, &mut expected[..whole], false);
        for (lane, value) in expected[whole..].iter_mut().enumerate() {
            *value = token_decode::decode_one(&single, body, &mut p1[lane]).0;
        }
        for k in [kernels, Kernels::scalar()] {
            let mut p2 = starts;
            let mut out = vec![0i32; n];
            multi_decode::decode_lanes(k, &multi, &single, body, &mut p2, &mut out);
            assert_eq!((p1, &expected), (p2, &out));
        }
    }
});
