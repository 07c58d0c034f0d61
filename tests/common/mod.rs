//! Helpers shared by the integration tests: golden-file loading and array layouts.
#![allow(dead_code)]

use base64::Engine;
use ndarray::{ArrayD, Axis, IxDyn, ShapeBuilder, Slice};
use serde_json::Value;

pub fn load_golden(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let json: Value = serde_json::from_str(&text).expect("golden file is JSON");
    json["cases"].as_array().expect("cases array").clone()
}

pub fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(v.as_str().expect("base64 string")).expect("valid base64")
}

pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

pub fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

pub fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|x| x.to_bits()).collect()
}

/// An array equal to `c_order` in the named memory layout (as the golden script builds it).
pub fn with_layout<T: Copy + Default>(c_order: ArrayD<T>, layout: &str, filler: T) -> ArrayD<T> {
    let shape = c_order.shape().to_vec();
    match layout {
        "C" => c_order,
        "F" => {
            let mut f = ArrayD::from_elem(IxDyn(&shape).f(), T::default());
            f.assign(&c_order);
            f
        }
        "strided" => {
            let big: Vec<usize> = shape.iter().map(|d| 2 * d).collect();
            let mut base = ArrayD::from_elem(IxDyn(&big), filler);
            base.slice_each_axis_mut(|_| Slice::new(0, None, 2)).assign(&c_order);
            // Keep the strided view alive by slicing the owned array in place.
            base.slice_each_axis_inplace(|_| Slice::new(0, None, 2));
            base
        }
        "reversed" => {
            let last = Axis(shape.len() - 1);
            let mut flipped = c_order.clone();
            flipped.invert_axis(last);
            let mut r = flipped.as_standard_layout().into_owned();
            r.invert_axis(last);
            r
        }
        other => panic!("unknown layout {other}"),
    }
}

/// FNV-1a, 64-bit: the hash the golden script records for large arrays.
pub fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The golden script's `generated_input`: LCG noise, smoothed, plus a ramp along axis 0.
pub fn generated_input(seed: u64, shape: &[usize], scale_power: i32) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let mut state = seed;
    let u: Vec<f32> = (0..=n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let raw = (state >> 32) as u32;
            (raw >> 8) as f32 * (2.0f32).powi(-24) - 0.5
        })
        .collect();
    let per_row = n / shape[0];
    let scale = (2.0f32).powi(scale_power);
    (0..n).map(|i| ((u[i] + u[i + 1]) + (i / per_row) as f32 * 0.001f32) * scale).collect()
}

pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}
