//! Writes a synthetic transformer-like `.safetensors` checkpoint for the CLI benchmark
//! (`benches/checkpoint.sh`): f32 attention and MLP weights (Gaussian, std 0.02, with a few
//! heavy-tailed outliers), a bf16 embedding, f32 norms and biases, and an int64 buffer.
//!
//!     cargo run --release -p lilcom-cli --example make_checkpoint -- OUT.safetensors [LAYERS]
//!
//! 20 layers (the default) make about 1.1 GB.

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::Dtype;

/// xorshift64*: fast, deterministic, good enough for synthetic weights.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Irwin-Hall approximation of a standard normal, plus a rare heavy tail.
    fn weight(&mut self, std: f64) -> f64 {
        let normal = (0..4).map(|_| self.uniform()).sum::<f64>() * 3f64.sqrt() - 2.0 * 3f64.sqrt();
        let tail = if self.uniform() < 1e-4 { 20.0 } else { 1.0 };
        normal * std * tail
    }
}

fn f32_tensor(rng: &mut Rng, count: usize, std: f64) -> Vec<u8> {
    (0..count).flat_map(|_| (rng.weight(std) as f32).to_le_bytes()).collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: make_checkpoint OUT.safetensors [LAYERS]");
    let layers: usize = args.next().map_or(20, |n| n.parse().expect("LAYERS is a number"));
    let (hidden, mlp, vocab) = (1024usize, 4096usize, 32000usize);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    let embedding: Vec<u8> =
        (0..vocab * hidden).flat_map(|_| half::bf16::from_f64(rng.weight(0.02)).to_le_bytes()).collect();
    tensors.push(("embed.weight".into(), Dtype::BF16, vec![vocab, hidden], embedding));
    for layer in 0..layers {
        let p = format!("layers.{layer}");
        for name in ["q", "k", "v", "o"] {
            tensors.push((
                format!("{p}.attn.{name}.weight"),
                Dtype::F32,
                vec![hidden, hidden],
                f32_tensor(&mut rng, hidden * hidden, 0.02),
            ));
        }
        tensors.push((
            format!("{p}.mlp.up.weight"),
            Dtype::F32,
            vec![mlp, hidden],
            f32_tensor(&mut rng, mlp * hidden, 0.02),
        ));
        tensors.push((
            format!("{p}.mlp.down.weight"),
            Dtype::F32,
            vec![hidden, mlp],
            f32_tensor(&mut rng, mlp * hidden, 0.01),
        ));
        tensors.push((
            format!("{p}.norm.weight"),
            Dtype::F32,
            vec![hidden],
            (0..hidden).flat_map(|_| (1.0 + rng.weight(0.05) as f32).to_le_bytes()).collect(),
        ));
        tensors.push((format!("{p}.mlp.up.bias"), Dtype::F32, vec![mlp], f32_tensor(&mut rng, mlp, 0.001)));
    }
    tensors.push(("position_ids".into(), Dtype::I64, vec![1, 2048], (0..2048i64).flat_map(i64::to_le_bytes).collect()));
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            (name.clone(), TensorView::new(*dtype, shape.clone(), bytes).expect("consistent"))
        })
        .collect();
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(views, Some(metadata), std::path::Path::new(&out)).expect("writes the checkpoint");
    let bytes: usize = tensors.iter().map(|t| t.3.len()).sum();
    println!("wrote {out}: {} tensors, {bytes} bytes of data", tensors.len());
}
