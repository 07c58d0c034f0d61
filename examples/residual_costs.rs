//! The measurements behind two choices in `docs/format.md`: where the bits of the smooth field go
//! under the interpolation predictor (residual entropy per level, axis and edge formula, with
//! linear and quadratic edges), and what each token alphabet costs on the corpus's residuals
//! under a plain Huffman code of one table.
//!
//! cargo run --release --example residual_costs -- DIR   (DIR from `python3 benches/corpus.py --out DIR`)

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use lilcom_kernels::bits::{bit_width, zigzag_encode};
use lilcom_kernels::difference::Shape3;
use lilcom_kernels::interpolate::{self, Edges};
use lilcom_kernels::{quantize, tokens};
use ndarray::ArrayD;
use ndarray_npy::read_npy;

/// Bits per value of the order-0 entropy of `counts`.
fn entropy(counts: impl Iterator<Item = u64>) -> f64 {
    let counts: Vec<u64> = counts.filter(|&c| c > 0).collect();
    let n = counts.iter().sum::<u64>() as f64;
    counts.iter().map(|&c| -(c as f64) * (c as f64 / n).log2()).sum::<f64>() / n
}

/// Total bits of a Huffman code (no length limit) for symbols of these counts.
fn huffman_bits(counts: &[u64]) -> u64 {
    let mut heap: BinaryHeap<std::cmp::Reverse<u64>> =
        counts.iter().filter(|&&c| c > 0).map(|&c| std::cmp::Reverse(c)).collect();
    if heap.len() < 2 {
        return counts.iter().sum();
    }
    let mut total = 0;
    while heap.len() > 1 {
        let (a, b) = (heap.pop().unwrap().0, heap.pop().unwrap().0);
        total += a + b;
        heap.push(std::cmp::Reverse(a + b));
    }
    total
}

/// The token of minor versions 0 to 2 and its raw-bit count.
fn widths_token(r: i32) -> (usize, u32) {
    let u = zigzag_encode(r);
    let w = bit_width(u);
    if w < 2 {
        (w as usize, 0)
    } else {
        ((2 * w - 2 + ((u >> (w - 2)) & 1)) as usize, w - 2)
    }
}

/// Bits per element of `residuals` with each alphabet: (minor versions 0-2, minor version 3).
fn alphabet_costs(residuals: &[i32]) -> (f64, f64) {
    let n = residuals.len() as f64;
    let (mut old, mut new) = ([0u64; 64], [0u64; 64]);
    let (mut old_raw, mut new_raw) = (0u64, 0u64);
    for &r in residuals {
        let (t, raw) = widths_token(r);
        old[t] += 1;
        old_raw += u64::from(raw);
        let t = tokens::token_of(r);
        new[usize::from(t)] += 1;
        new_raw += u64::from(tokens::raw_bits_of_token(t));
    }
    ((huffman_bits(&old) + old_raw) as f64 / n, (huffman_bits(&new) + new_raw) as f64 / n)
}

fn codes_of(path: &str, tick_power: i32) -> Result<Vec<i32>, Box<dyn std::error::Error>> {
    let array: ArrayD<f32> = read_npy(path).map_err(|e| format!("{path}: {e} (an f32 .npy from benches/corpus.py)"))?;
    let values: Vec<f32> = array.iter().copied().collect();
    let mut codes = vec![0i32; values.len()];
    quantize::quantize_f32_scalar(&values, 2f32.powi(-tick_power), &mut codes);
    Ok(codes)
}

/// Residual entropy of the 96^3 field per (level stride, axis, formula), one tile.
fn field_levels(codes: &[i32], edges: Edges) {
    let n = 96usize;
    let mut groups: BTreeMap<(std::cmp::Reverse<usize>, usize, &str), Vec<i32>> = BTreeMap::new();
    for o in 0..n {
        for m in 0..n {
            for i in 0..n {
                let all = o | m | i;
                if all == 0 {
                    continue;
                }
                let s = 1usize << all.trailing_zeros();
                let odd = |c: usize| (c / s) % 2 == 1;
                let axis = if odd(i) {
                    2
                } else if odd(m) {
                    1
                } else {
                    0
                };
                let c = [o, m, i][axis];
                let kind = if c >= 3 * s && c + 3 * s < n {
                    "cubic"
                } else if c + s < n {
                    "edge, both sides"
                } else {
                    "edge, one side"
                };
                groups.entry((std::cmp::Reverse(s), axis, kind)).or_default().push(codes[(o * n + m) * n + i]);
            }
        }
    }
    println!("| stride | axis | formula | count | entropy (bits) | share of bits/el |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for ((s, axis, kind), values) in &groups {
        let mut counts: HashMap<i32, u64> = HashMap::new();
        for &v in values {
            *counts.entry(v).or_default() += 1;
        }
        let h = entropy(counts.into_values()).max(0.0);
        let share = h * values.len() as f64 / codes.len() as f64;
        println!(
            "| {} | {} | {kind} | {} | {h:.3} | {share:.4} |",
            s.0,
            ["outer", "middle", "inner"][*axis],
            values.len()
        );
    }
    let mut counts: HashMap<i32, u64> = HashMap::new();
    for &v in codes {
        *counts.entry(v).or_default() += 1;
    }
    let (old, new) = alphabet_costs(codes);
    println!(
        "\n{edges:?} edges: residual entropy {:.3}; Huffman-coded tokens + raw bits {old:.3} (minor 0-2 alphabet), {new:.3} (minor 3)\n",
        entropy(counts.into_values())
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: residual_costs DIR (made by benches/corpus.py --out DIR)")?;
    let field = codes_of(&format!("{dir}/smooth_field_96cubed.npy"), -10)?;
    if field.len() != 96 * 96 * 96 {
        return Err(format!("the field has {} elements, not 96^3", field.len()).into());
    }
    let shape = Shape3 { outer: 96, middle: 96, inner: 96 };
    for edges in [Edges::Linear, Edges::Quadratic] {
        let mut residuals = field.clone();
        interpolate::interpolate_residuals(lilcom_kernels::Kernels::detect(), &mut residuals, shape, edges);
        println!("## Smooth field 96^3 (-10), interpolation with {edges:?} edges, as one tile\n");
        field_levels(&residuals, edges);
    }

    println!("## Token alphabets, bits per element (one Huffman table, no length limit)\n");
    println!("| residuals | minor 0-2 | minor 3 |");
    println!("| --- | --- | --- |");
    let large = codes_of(&format!("{dir}/large_4096x4096.npy"), -8)?;
    let rows: Vec<i32> = large[..large.len().min(1 << 20)]
        .chunks(4096)
        .flat_map(|row| std::iter::once(row[0]).chain(row.windows(2).map(|w| w[1].wrapping_sub(w[0]))))
        .collect();
    let randn = codes_of(&format!("{dir}/randn_300x500.npy"), -8)?;
    let fbank = codes_of(&format!("{dir}/fbank_speech.npy"), -5)?;
    let frames: Vec<i32> =
        (0..fbank.len()).map(|i| if i >= 80 { fbank[i].wrapping_sub(fbank[i - 80]) } else { fbank[i] }).collect();
    let mut field_quadratic = field.clone();
    interpolate::interpolate_residuals(
        lilcom_kernels::Kernels::detect(),
        &mut field_quadratic,
        shape,
        Edges::Quadratic,
    );
    for (name, residuals) in [
        ("smooth field, interpolation (quadratic edges)", &field_quadratic),
        ("4096^2 rows, first 256 rows, differences along rows", &rows),
        ("randn, no prediction", &randn),
        ("speech, differences along time", &frames),
    ] {
        let (old, new) = alphabet_costs(residuals);
        println!("| {name} | {old:.3} | {new:.3} |");
    }
    Ok(())
}
