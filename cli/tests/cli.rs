//! End to end: the `lilcom` binary on .npy files and a .safetensors checkpoint built here.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use half::{bf16, f16};
use npyz::WriterBuilder;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

fn lilcom(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lilcom")).args(args).output().expect("the binary runs")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// Runs and insists on success.
fn ok(args: &[&str]) -> String {
    let out = lilcom(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "lilcom {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs and insists on a clean failure: nonzero exit, an error message, no panic.
fn fails(args: &[&str]) -> String {
    let out = lilcom(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "lilcom {args:?} succeeded");
    assert!(!stderr.contains("panicked"), "lilcom {args:?} panicked: {stderr}");
    assert!(stderr.contains("error"), "lilcom {args:?} gave no error message: {stderr}");
    stderr
}

/// A deterministic pseudo-random sequence in [-1, 1).
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

struct Tensor {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn tensor(dtype: Dtype, shape: &[usize], bytes: Vec<u8>) -> Tensor {
    Tensor { dtype, shape: shape.to_vec(), bytes }
}

fn f32_bytes(v: impl IntoIterator<Item = f32>) -> Vec<u8> {
    v.into_iter().flat_map(f32::to_le_bytes).collect()
}

/// A small checkpoint with every kind of tensor the container distinguishes.
fn sample_checkpoint() -> Vec<(String, Tensor)> {
    let mut weights: Vec<f32> = noise(64 * 48, 1).iter().map(|&x| (x * 0.05) as f32).collect();
    weights[5] = f32::NAN;
    weights[6] = f32::INFINITY;
    weights[7] = f32::NEG_INFINITY;
    weights[8] = f32::from_bits(0x7fa0_0001); // a signalling NaN with a payload
    let mut halves: Vec<u16> = noise(33 * 7, 2).iter().map(|&x| f16::from_f64(x * 3.0).to_bits()).collect();
    halves[0] = 0x7e01; // NaN with payload
    halves[1] = f16::INFINITY.to_bits();
    halves[2] = f16::MAX.to_bits();
    halves[3] = 0x0001; // the smallest subnormal
    let brains: Vec<u16> = noise(500, 3).iter().map(|&x| bf16::from_f64(x * 1e3).to_bits()).collect();
    vec![
        ("layer.weight".into(), tensor(Dtype::F32, &[64, 48], f32_bytes(weights))),
        ("layer.half".into(), tensor(Dtype::F16, &[33, 7], halves.iter().flat_map(|b| b.to_le_bytes()).collect())),
        ("layer.brain".into(), tensor(Dtype::BF16, &[5, 100], brains.iter().flat_map(|b| b.to_le_bytes()).collect())),
        (
            "double".into(),
            tensor(Dtype::F64, &[4, 5, 6], noise(120, 4).iter().flat_map(|x| (x * 1e6).to_le_bytes()).collect()),
        ),
        ("ids".into(), tensor(Dtype::I64, &[9], (0..9i64).flat_map(|i| (i * 1_000_003).to_le_bytes()).collect())),
        ("bytes".into(), tensor(Dtype::U8, &[3, 3], (10..19u8).collect())),
        ("mask".into(), tensor(Dtype::BOOL, &[4], vec![1, 0, 0, 1])),
        ("empty".into(), tensor(Dtype::F32, &[0, 16], vec![])),
        ("scalar".into(), tensor(Dtype::F32, &[], f32_bytes([2.75]))),
        ("zeros".into(), tensor(Dtype::F32, &[10], f32_bytes([0.0; 10]))),
    ]
}

fn write_checkpoint(path: &Path, tensors: &[(String, Tensor)], metadata: HashMap<String, String>) {
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, t)| (name.clone(), TensorView::new(t.dtype, t.shape.clone(), &t.bytes).expect("valid tensor")))
        .collect();
    safetensors::serialize_to_file(views, Some(metadata), path).expect("writes");
}

fn metadata() -> HashMap<String, String> {
    HashMap::from([("format".to_string(), "pt".to_string()), ("origin".to_string(), "cli test".to_string())])
}

/// Widens any float dtype's little-endian bytes to f64 values (NaN stays NaN).
fn widen(dtype: Dtype, bytes: &[u8]) -> Vec<f64> {
    match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap()))).collect(),
        Dtype::F64 => bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect(),
        Dtype::F16 => bytes.chunks_exact(2).map(|c| f16::from_le_bytes(c.try_into().unwrap()).to_f64()).collect(),
        Dtype::BF16 => bytes.chunks_exact(2).map(|c| bf16::from_le_bytes(c.try_into().unwrap()).to_f64()).collect(),
        other => panic!("{other} is not a float dtype"),
    }
}

/// Checks names, dtypes, shapes and metadata, byte identity of non-float tensors, exact non-finite
/// values, and each float tensor's bound `max_error(name, original values)`.
fn check_restored(
    restored_path: &Path,
    original: &[(String, Tensor)],
    max_error: impl Fn(&str, &[f64]) -> f64,
) -> HashMap<String, f64> {
    let bytes = fs::read(restored_path).unwrap();
    let restored = SafeTensors::deserialize(&bytes).expect("the output is a valid safetensors file");
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(header.metadata().as_ref(), Some(&metadata()));
    assert_eq!(restored.len(), original.len());
    let mut worst = HashMap::new();
    for (name, t) in original {
        let view = restored.tensor(name).unwrap_or_else(|_| panic!("{name} is missing"));
        assert_eq!(view.dtype(), t.dtype, "{name}");
        assert_eq!(view.shape(), &t.shape[..], "{name}");
        if !matches!(t.dtype, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64) {
            assert_eq!(view.data(), &t.bytes[..], "{name} must be byte-identical");
            continue;
        }
        let (a, b) = (widen(t.dtype, &t.bytes), widen(t.dtype, view.data()));
        let bound = max_error(name, &a);
        let size = t.bytes.len() / a.len().max(1);
        let mut worst_error = 0f64;
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            if x.is_finite() {
                let error = (x - y).abs();
                assert!(error <= bound, "{name}[{i}]: {x} came back as {y}, beyond {bound}");
                worst_error = worst_error.max(error);
            } else {
                let (ox, oy) = (&t.bytes[i * size..(i + 1) * size], &view.data()[i * size..(i + 1) * size]);
                assert_eq!(ox, oy, "{name}[{i}]: a non-finite value must come back bit for bit");
            }
        }
        worst.insert(name.clone(), worst_error);
    }
    worst
}

fn rms(values: &[f64]) -> f64 {
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    (finite.iter().map(|x| x * x).sum::<f64>() / finite.len().max(1) as f64).sqrt()
}

#[test]
fn checkpoint_roundtrip_with_a_fixed_tick() {
    let dir = tempfile::tempdir().unwrap();
    let (input, packed, restored) =
        (dir.path().join("m.safetensors"), dir.path().join("m.lck"), dir.path().join("r.safetensors"));
    let tensors = sample_checkpoint();
    write_checkpoint(&input, &tensors, metadata());
    let compressed = lilcom(&["compress", path_str(&input), path_str(&packed), "--tick-power", "-10"]);
    assert!(compressed.status.success());
    // stderr is a pipe here: no progress bar, just the one summary line.
    let stderr = String::from_utf8(compressed.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains("ratio") && !stderr.contains('\r'), "{stderr:?}");
    ok(&["decompress", path_str(&packed), path_str(&restored)]);
    let worst = check_restored(&restored, &tensors, |_, _| 2f64.powi(-11));
    // A bound that is never approached would not test much: the weights use most of it.
    assert!(worst["layer.weight"] > 2f64.powi(-12), "{worst:?}");
}

#[test]
fn checkpoint_roundtrip_with_a_relative_error() {
    let dir = tempfile::tempdir().unwrap();
    let (input, packed, restored) =
        (dir.path().join("m.safetensors"), dir.path().join("m.lck"), dir.path().join("r.safetensors"));
    let tensors = sample_checkpoint();
    write_checkpoint(&input, &tensors, metadata());
    ok(&["compress", path_str(&input), path_str(&packed), "--rel-error", "1e-3"]);
    ok(&["decompress", path_str(&packed), path_str(&restored)]);
    let worst = check_restored(&restored, &tensors, |_, values| 1e-3 * rms(values));
    // The chosen tick is the largest allowed: its half is more than half the allowance.
    let weights = widen(Dtype::F32, &tensors[0].1.bytes);
    assert!(worst["layer.weight"] > 0.25e-3 * rms(&weights), "{worst:?}");

    let info = ok(&["info", path_str(&packed)]);
    for needle in ["layer.weight", "F32", "[64, 48]", "BF16", "raw", "tiled", "tick_power", "ratio"] {
        assert!(info.contains(needle), "info lacks {needle:?}:\n{info}");
    }
    // 0.05 * rms(uniform) ~ 0.029; half a tick <= 2.9e-5 gives tick 2^-15.
    let weight_row = info.lines().find(|l| l.starts_with("layer.weight")).unwrap();
    assert!(weight_row.split_whitespace().any(|cell| cell == "-15"), "{weight_row}");
}

#[test]
fn output_bytes_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("m.safetensors");
    write_checkpoint(&input, &sample_checkpoint(), metadata());
    let one = dir.path().join("one.lck");
    let two = dir.path().join("two.lck");
    ok(&["compress", path_str(&input), path_str(&one), "--threads", "1"]);
    ok(&["compress", path_str(&input), path_str(&two), "--threads", "2"]);
    assert!(fs::read(one).unwrap() == fs::read(two).unwrap(), "1 and 2 threads wrote different bytes");
}

fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], values: &[T], fortran: bool) {
    let order = if fortran { npyz::Order::Fortran } else { npyz::Order::C };
    let file = fs::File::create(path).unwrap();
    let mut writer =
        npyz::WriteOptions::new().default_dtype().shape(shape).order(order).writer(file).begin_nd().unwrap();
    writer.extend(values.iter().copied()).unwrap();
    writer.finish().unwrap();
}

fn read_npy<T: npyz::Deserialize>(path: &Path) -> (Vec<u64>, Vec<T>) {
    let npy = npyz::NpyFile::new(fs::File::open(path).unwrap()).unwrap();
    assert_eq!(npy.order(), npyz::Order::C);
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

#[test]
fn npy_roundtrip_of_float_and_integer_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);

    // float32, C order, default tick 2^-8; the output is a plain stream the library reads.
    let values: Vec<f32> = noise(120 * 80, 5).iter().map(|&x| x as f32 * 4.0).collect();
    write_npy(&p("a.npy"), &[120, 80], &values, false);
    ok(&["compress", path_str(&p("a.npy")), path_str(&p("a.lil"))]);
    let stream = fs::read(p("a.lil")).unwrap();
    assert_eq!(&stream[..2], b"L\x01");
    assert_eq!(lilcom::shape(&stream).unwrap(), vec![120, 80]);
    ok(&["decompress", path_str(&p("a.lil")), path_str(&p("a2.npy"))]);
    let (shape, back) = read_npy::<f32>(&p("a2.npy"));
    assert_eq!(shape, vec![120, 80]);
    assert!(values.iter().zip(&back).all(|(x, y)| (x - y).abs() <= 2f32.powi(-9)));

    // float64 in Fortran order: the logical element order must survive.
    let (rows, cols) = (7usize, 5usize);
    let logical: Vec<f64> = noise(rows * cols, 6);
    let column_major: Vec<f64> =
        (0..cols).flat_map(|c| (0..rows).map(move |r| (r, c))).map(|(r, c)| logical[r * cols + c]).collect();
    write_npy(&p("f.npy"), &[rows as u64, cols as u64], &column_major, true);
    ok(&["compress", path_str(&p("f.npy")), path_str(&p("f.lil")), "--tick-power", "-20"]);
    ok(&["decompress", path_str(&p("f.lil")), path_str(&p("f2.npy"))]);
    let (shape, back) = read_npy::<f64>(&p("f2.npy"));
    assert_eq!(shape, vec![rows as u64, cols as u64]);
    assert!(logical.iter().zip(&back).all(|(x, y)| (x - y).abs() <= 2f64.powi(-21)), "{logical:?} {back:?}");

    // int16 becomes float32, int64 float64; both within the bound.
    let small: Vec<i16> = (-500..500).collect();
    write_npy(&p("i.npy"), &[10, 100], &small, false);
    ok(&["compress", path_str(&p("i.npy")), path_str(&p("i.lil")), "--tick-power", "2"]);
    ok(&["decompress", path_str(&p("i.lil")), path_str(&p("i2.npy"))]);
    let (_, back) = read_npy::<f32>(&p("i2.npy"));
    assert!(small.iter().zip(&back).all(|(&x, &y)| (f32::from(x) - y).abs() <= 2.0));
    let wide: Vec<i64> = vec![-(1 << 53), 0, 1 << 53, 123_456_789_012];
    write_npy(&p("w.npy"), &[4], &wide, false);
    ok(&["compress", path_str(&p("w.npy")), path_str(&p("w.lil")), "--tick-power", "0"]);
    ok(&["decompress", path_str(&p("w.lil")), path_str(&p("w2.npy"))]);
    assert_eq!(read_npy::<f64>(&p("w2.npy")).1, wide.iter().map(|&v| v as f64).collect::<Vec<_>>());

    // float16 comes back as float32, within the bound.
    let halves: Vec<f16> = noise(64, 7).iter().map(|&x| f16::from_f64(x)).collect();
    write_npy(&p("h.npy"), &[8, 8], &halves, false);
    ok(&["compress", path_str(&p("h.npy")), path_str(&p("h.lil")), "--tick-power", "-6"]);
    ok(&["decompress", path_str(&p("h.lil")), path_str(&p("h2.npy"))]);
    let (_, back) = read_npy::<f32>(&p("h2.npy"));
    assert!(halves.iter().zip(&back).all(|(x, y)| (x.to_f32() - y).abs() <= 2f32.powi(-7)));
}

#[test]
fn npy_in_the_original_format_is_what_the_library_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (input, packed) = (dir.path().join("a.npy"), dir.path().join("a.lil"));
    let values: Vec<f32> = noise(50 * 80, 8).iter().map(|&x| x as f32).collect();
    write_npy(&input, &[50, 80], &values, false);
    ok(&["compress", path_str(&input), path_str(&packed), "--format", "lilcom", "--tick-power", "-5"]);
    let array = ndarray::Array2::from_shape_vec((50, 80), values).unwrap();
    let options = lilcom::CompressOptions::default().with_format(lilcom::Format::Lilcom).with_tick_power(-5);
    assert_eq!(fs::read(&packed).unwrap(), lilcom::compress(&array, &options).unwrap());
    let info = ok(&["info", path_str(&packed)]);
    assert!(info.contains("lilcom") && info.contains("[50, 80]") && info.contains("-5"), "{info}");
}

#[test]
fn an_existing_output_is_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("a.npy"), dir.path().join("a.lil"));
    write_npy(&input, &[3], &[1f32, 2.0, 3.0], false);
    fs::write(&output, b"precious").unwrap();
    let stderr = fails(&["compress", path_str(&input), path_str(&output)]);
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(fs::read(&output).unwrap(), b"precious");
    ok(&["compress", path_str(&input), path_str(&output), "--force"]);
    assert_eq!(&fs::read(&output).unwrap()[..2], b"L\x01");
    // Outputs are readable like any new file, not private like a temporary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let fresh = dir.path().join("fresh.lil");
        ok(&["compress", path_str(&input), path_str(&fresh)]);
        let reference = dir.path().join("reference");
        fs::write(&reference, b"").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fresh), mode(&reference));
    }
}

/// Files in `dir` other than `keep`: a failed command must leave no partial output behind.
fn leftovers(dir: &Path, keep: &[&PathBuf]) -> Vec<PathBuf> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| !keep.contains(&p)).collect()
}

#[test]
fn damaged_containers_fail_cleanly_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let (input, packed) = (dir.path().join("m.safetensors"), dir.path().join("m.lck"));
    write_checkpoint(&input, &sample_checkpoint(), metadata());
    ok(&["compress", path_str(&input), path_str(&packed)]);
    let good = fs::read(&packed).unwrap();
    let bad = dir.path().join("bad.lck");
    let out = dir.path().join("out.safetensors");
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [0, 3, 8, 100, good.len() / 2, good.len() - 25, good.len() - 1] {
        cases.push((format!("truncated to {cut}"), good[..cut].to_vec()));
    }
    for at in [4, 6, 20, good.len() / 2, good.len() - 30, good.len() - 10, good.len() - 2] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x10;
        cases.push((format!("byte {at} flipped"), flipped));
    }
    let mut tail = good.clone();
    tail.extend_from_slice(b"trailing");
    cases.push(("trailing bytes".into(), tail));
    for (what, bytes) in cases {
        fs::write(&bad, &bytes).unwrap();
        let stderr = fails(&["decompress", path_str(&bad), path_str(&out)]);
        assert!(!out.exists(), "{what}: an output appeared");
        assert!(leftovers(dir.path(), &[&input, &packed, &bad]).is_empty(), "{what}: files left behind");
        let _ = stderr;
        fails(&["info", path_str(&bad)]);
    }
}

#[test]
fn bad_inputs_fail_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let out = p("out");

    // A safetensors file cut short, one with a lying header, and one that is not JSON.
    let checkpoint = p("m.safetensors");
    write_checkpoint(&checkpoint, &sample_checkpoint(), metadata());
    let bytes = fs::read(&checkpoint).unwrap();
    fs::write(p("cut.safetensors"), &bytes[..bytes.len() - 3]).unwrap();
    assert!(fails(&["compress", path_str(&p("cut.safetensors")), path_str(&out)]).contains("truncated"));
    let mut lying = bytes.clone();
    lying[0..8].copy_from_slice(&u64::MAX.to_le_bytes());
    fs::write(p("lying.safetensors"), &lying).unwrap();
    fails(&["compress", path_str(&p("lying.safetensors")), path_str(&out)]);
    fs::write(p("text.safetensors"), b"\x05\0\0\0\0\0\0\0hello").unwrap();
    fails(&["compress", path_str(&p("text.safetensors")), path_str(&out)]);

    // A .npy cut short, one claiming a huge shape, an unsupported dtype, a too-wide integer.
    write_npy(&p("a.npy"), &[1000], &vec![1f32; 1000], false);
    let npy = fs::read(p("a.npy")).unwrap();
    fs::write(p("cut.npy"), &npy[..npy.len() - 10]).unwrap();
    fails(&["compress", path_str(&p("cut.npy")), path_str(&out)]);
    let huge = String::from_utf8_lossy(&npy).replace("(1000,)", "(100000000000000,)");
    fs::write(p("huge.npy"), huge.as_bytes()).unwrap();
    fails(&["compress", path_str(&p("huge.npy")), path_str(&out)]);
    write_npy(&p("bool.npy"), &[2], &[true, false], false);
    assert!(fails(&["compress", path_str(&p("bool.npy")), path_str(&out)]).contains("not supported"));
    write_npy(&p("wide.npy"), &[1], &[(1i64 << 53) + 1], false);
    assert!(fails(&["compress", path_str(&p("wide.npy")), path_str(&out)]).contains("float64"));

    // Garbage, a missing file, a stream cut short, the wrong direction, conflicting options.
    fs::write(p("garbage.bin"), b"\x00\x01\x02 not anything").unwrap();
    fails(&["compress", path_str(&p("garbage.bin")), path_str(&out)]);
    fails(&["decompress", path_str(&p("garbage.bin")), path_str(&out)]);
    fails(&["info", path_str(&p("missing.lck"))]);
    assert!(fails(&["compress", path_str(dir.path()), path_str(&out)]).contains("directory"));
    fs::write(p("empty.npy"), b"").unwrap();
    assert!(fails(&["compress", path_str(&p("empty.npy")), path_str(&out)]).contains("not a .npy file"));
    ok(&["compress", path_str(&p("a.npy")), path_str(&p("a.lil"))]);
    let stream = fs::read(p("a.lil")).unwrap();
    fs::write(p("cut.lil"), &stream[..stream.len() - 1]).unwrap();
    fails(&["decompress", path_str(&p("cut.lil")), path_str(&p("cut.npy.out"))]);
    fails(&["decompress", path_str(&p("a.npy")), path_str(&out)]);
    fails(&["compress", path_str(&p("a.lil")), path_str(&out)]);
    fails(&["decompress", path_str(&p("a.lil")), path_str(&p("x.safetensors"))]);
    fails(&["compress", path_str(&checkpoint), path_str(&out), "--format", "lilcom"]);
    let clash =
        lilcom(&["compress", path_str(&p("a.npy")), path_str(&out), "--tick-power", "-3", "--rel-error", "0.1"]);
    assert_eq!(clash.status.code(), Some(2), "clap reports conflicting options as a usage error");
    let range = lilcom(&["compress", path_str(&p("a.npy")), path_str(&out), "--tick-power", "99"]);
    assert_eq!(range.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["compress", "decompress", "info"] {
        let help = ok(&[sub, "--help"]);
        assert!(help.contains("Usage: lilcom"), "{help}");
    }
    let compress = ok(&["compress", "--help"]);
    for flag in ["--tick-power", "--rel-error", "--format", "--threads", "--force"] {
        assert!(compress.contains(flag), "compress --help lacks {flag}");
    }
}
