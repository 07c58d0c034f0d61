//! The `L\x00` format against golden vectors written by lilcom 1.8.2 itself
//! (scripts/make_golden_legacy.py).

mod common;

use common::*;
use lilcom::{compress, decompress, legacy, shape, CompressOptions, Format};
use ndarray::{ArrayD, IxDyn};

fn options(case: &serde_json::Value) -> CompressOptions {
    CompressOptions::default()
        .with_format(Format::Lilcom)
        .with_tick_power(case["tick_power"].as_i64().unwrap() as i32)
        .with_regression(case["do_regression"].as_bool().unwrap())
}

#[test]
fn encode_is_byte_identical_and_decode_bit_identical_to_the_original() {
    let cases = load_golden("legacy_encode.json");
    assert!(cases.len() > 250, "expected a few hundred golden cases, found {}", cases.len());
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let dims = usizes(&case["shape"]);
        let layout = case["layout"].as_str().unwrap();
        let input = b64(&case["input"]);
        let expected = b64(&case["compressed"]);
        let opts = options(case);
        let ours = if case["dtype"] == "f64" {
            let a = with_layout(ArrayD::from_shape_vec(IxDyn(&dims), f64s(&input)).unwrap(), layout, 12345.0);
            let before = a.clone();
            let bytes = compress(&a, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(a, before, "{name}: input was modified");
            bytes
        } else {
            let a = with_layout(ArrayD::from_shape_vec(IxDyn(&dims), f32s(&input)).unwrap(), layout, 12345.0);
            let before = a.clone();
            let bytes = compress(&a, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(a.mapv(f32::to_bits), before.mapv(f32::to_bits), "{name}: input was modified");
            bytes
        };
        assert_eq!(ours, expected, "{name}: compressed bytes differ from lilcom 1.8.2");

        let decoded = decompress::<f32>(&expected).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.shape(), &dims[..], "{name}");
        let want = f32s(&b64(&case["decoded"]));
        assert_eq!(bits(decoded.as_slice().unwrap()), bits(&want), "{name}: decoded values differ");
        assert_eq!(shape(&expected).unwrap(), dims, "{name}");
    }
}

#[test]
fn coefficient_estimates_match_numpy_to_the_bit() {
    for case in load_golden("legacy_encode.json") {
        if !case["do_regression"].as_bool().unwrap() {
            continue;
        }
        let name = case["name"].as_str().unwrap();
        let input = b64(&case["input"]);
        let values: Vec<f32> =
            if case["dtype"] == "f64" { f64s(&input).iter().map(|&x| x as f32).collect() } else { f32s(&input) };
        let coeffs = legacy::regression_coefficients(&values, &usizes(&case["shape"]));
        let want: Vec<u32> =
            case["coefficients_f32_bits"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(bits(&coeffs), want, "{name}: coefficients {coeffs:?}");
    }
}

#[test]
fn large_generated_arrays_match_the_original() {
    for case in load_golden("legacy_generated.json") {
        let dims = usizes(&case["shape"]);
        let seed = case["seed"].as_u64().unwrap();
        let x = generated_input(seed, &dims, case["scale_power"].as_i64().unwrap() as i32);
        assert_eq!(fnv1a64(&f32_bytes(&x)), case["input_fnv1a64"], "seed {seed}: generator differs from the script's");

        let coeffs = legacy::regression_coefficients(&x, &dims);
        let want: Vec<u32> =
            case["coefficients_f32_bits"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(bits(&coeffs), want, "seed {seed}: coefficients");

        let a = ArrayD::from_shape_vec(IxDyn(&dims), x).unwrap();
        let tick_power = case["tick_power"].as_i64().unwrap() as i32;
        let opts = CompressOptions::default().with_format(Format::Lilcom).with_tick_power(tick_power);
        let bytes = compress(&a, &opts).unwrap();
        assert_eq!(bytes.len() as u64, case["compressed_len"].as_u64().unwrap(), "seed {seed}: length");
        assert_eq!(fnv1a64(&bytes), case["compressed_fnv1a64"], "seed {seed}: compressed bytes");
        let decoded = decompress::<f32>(&bytes).unwrap();
        assert_eq!(fnv1a64(&f32_bytes(decoded.as_slice().unwrap())), case["decoded_fnv1a64"], "seed {seed}: decoded");
    }
}

#[test]
fn corrupt_streams_are_accepted_and_rejected_as_the_original_does() {
    let cases = load_golden("legacy_corrupt.json");
    let (mut accepted, mut rejected) = (0, 0);
    for (i, case) in cases.iter().enumerate() {
        let stream = b64(&case["stream"]);
        let got_shape = shape(&stream);
        if case.get("shape_error").is_some() {
            assert!(
                got_shape.is_err(),
                "case {i}: the original's get_shape rejects this stream, ours gave {got_shape:?}"
            );
            assert!(decompress::<f32>(&stream).is_err(), "case {i}: decode should fail too");
            rejected += 1;
            continue;
        }
        let want_shape = usizes(&case["shape"]);
        assert_eq!(got_shape.as_ref().ok(), Some(&want_shape), "case {i}: shape");
        if case.get("skipped").is_some() {
            continue;
        }
        let got = decompress::<f32>(&stream);
        match case.get("decoded") {
            Some(values) => {
                let got = got.unwrap_or_else(|e| panic!("case {i}: the original decodes this stream; ours says {e}"));
                assert_eq!(bits(got.as_slice().unwrap()), bits(&f32s(&b64(values))), "case {i}: values");
                accepted += 1;
            }
            None => {
                assert!(
                    got.is_err(),
                    "case {i}: the original rejects this stream ({}), ours decoded it",
                    case["decode_error"]
                );
                rejected += 1;
            }
        }
    }
    assert!(accepted > 100 && rejected > 100, "accepted {accepted}, rejected {rejected}");
}
