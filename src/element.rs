//! The element types the codec reads and writes.

use lilcom_kernels::difference::{self, Axes, Shape3};
use lilcom_kernels::{quantize, Kernels};

/// The element type of an array, as stored in a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A float type arrays can be compressed from and decompressed into: `f32` or `f64`.
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {
    /// This type's [`DType`].
    const DTYPE: DType;

    /// Converts to float32, rounding to nearest as numpy's `astype(np.float32)` does.
    fn to_f32(self) -> f32;

    /// Converts a float32 buffer into this type (exactly; no copy for `f32`).
    fn vec_from_f32(values: Vec<f32>) -> Vec<Self>;

    /// Views a buffer of this type as float32, when it is float32.
    fn as_f32_slice_mut(values: &mut [Self]) -> Option<&mut [f32]>;

    /// [`Element::quantize`], then the differences along `axes` of the codes (a tile of shape
    /// `view`), with the dispatched kernel that does both; returns the number of exceptions.
    #[doc(hidden)]
    fn quantize_difference(
        kernels: Kernels,
        values: &[Self],
        inv_tick: Self,
        codes: &mut [i32],
        view: Shape3,
        axes: Axes,
    ) -> usize;

    /// Converts one float32 value into this type, exactly.
    fn from_f32(value: f32) -> Self;

    /// Bytes of one value.
    #[doc(hidden)]
    const BYTES: usize;

    /// `2^power`, exactly (for the tiled format's tick powers).
    #[doc(hidden)]
    fn pow2(power: i32) -> Self;

    /// Quantizes with the dispatched kernel; returns the number of exceptions.
    #[doc(hidden)]
    fn quantize(kernels: Kernels, values: &[Self], inv_tick: Self, codes: &mut [i32]) -> usize;

    /// True where [`Element::quantize`] reports an exception (the same test, element by element).
    #[doc(hidden)]
    fn is_exception(self, inv_tick: Self) -> bool;

    /// `code * tick` with the dispatched kernel, for the codes that `fill` writes (or the error
    /// it returns). Where an element is as wide as a code, `fill` writes into `values` itself,
    /// and is given the tick as float32: it may then store the float32 bits of `code * tick`
    /// itself, and says so by returning true.
    #[doc(hidden)]
    fn dequantize_from(
        kernels: Kernels,
        tick: Self,
        values: &mut [Self],
        fill: impl FnOnce(&mut [i32], Option<f32>) -> crate::Result<bool>,
    ) -> crate::Result<()>;

    /// Appends the value's IEEE bits, little-endian.
    #[doc(hidden)]
    fn write_bits(self, out: &mut Vec<u8>);

    /// Reads a value from [`Element::BYTES`] little-endian bytes.
    #[doc(hidden)]
    fn read_bits(bytes: &[u8]) -> Self;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;

    fn to_f32(self) -> f32 {
        self
    }

    fn vec_from_f32(values: Vec<f32>) -> Vec<Self> {
        values
    }

    fn as_f32_slice_mut(values: &mut [Self]) -> Option<&mut [f32]> {
        Some(values)
    }

    fn quantize_difference(
        kernels: Kernels,
        values: &[Self],
        inv_tick: Self,
        codes: &mut [i32],
        view: Shape3,
        axes: Axes,
    ) -> usize {
        difference::quantize_difference_f32(kernels, values, inv_tick, codes, view, axes)
    }

    fn from_f32(value: f32) -> Self {
        value
    }

    const BYTES: usize = 4;

    fn pow2(power: i32) -> Self {
        debug_assert!((-126..=127).contains(&power));
        f32::from_bits(((127 + power) as u32) << 23)
    }

    fn quantize(kernels: Kernels, values: &[Self], inv_tick: Self, codes: &mut [i32]) -> usize {
        quantize::quantize_f32(kernels, values, inv_tick, codes)
    }

    fn is_exception(self, inv_tick: Self) -> bool {
        !quantize::is_regular_f32(self, inv_tick)
    }

    fn dequantize_from(
        kernels: Kernels,
        tick: Self,
        values: &mut [Self],
        fill: impl FnOnce(&mut [i32], Option<f32>) -> crate::Result<bool>,
    ) -> crate::Result<()> {
        if !fill(bytemuck::cast_slice_mut(values), Some(tick))? {
            quantize::dequantize_f32_in_place(kernels, values, tick);
        }
        Ok(())
    }

    fn write_bits(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }

    fn read_bits(bytes: &[u8]) -> Self {
        f32::from_bits(u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")))
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;

    fn to_f32(self) -> f32 {
        self as f32
    }

    fn vec_from_f32(values: Vec<f32>) -> Vec<Self> {
        values.into_iter().map(f64::from).collect()
    }

    fn as_f32_slice_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }

    fn quantize_difference(
        kernels: Kernels,
        values: &[Self],
        inv_tick: Self,
        codes: &mut [i32],
        view: Shape3,
        axes: Axes,
    ) -> usize {
        difference::quantize_difference_f64(kernels, values, inv_tick, codes, view, axes)
    }

    fn from_f32(value: f32) -> Self {
        f64::from(value)
    }

    const BYTES: usize = 8;

    fn pow2(power: i32) -> Self {
        debug_assert!((-1022..=1023).contains(&power));
        f64::from_bits(((1023 + power) as u64) << 52)
    }

    fn quantize(kernels: Kernels, values: &[Self], inv_tick: Self, codes: &mut [i32]) -> usize {
        quantize::quantize_f64(kernels, values, inv_tick, codes)
    }

    fn is_exception(self, inv_tick: Self) -> bool {
        !quantize::is_regular_f64(self, inv_tick)
    }

    fn dequantize_from(
        kernels: Kernels,
        tick: Self,
        values: &mut [Self],
        fill: impl FnOnce(&mut [i32], Option<f32>) -> crate::Result<bool>,
    ) -> crate::Result<()> {
        thread_local! {
            /// The codes of the tile being decoded, kept from tile to tile: `fill` writes every
            /// one before it is read, and a new zeroed buffer per tile (256 KiB for the usual
            /// tiles) took a tenth of decoding the random walk.
            static CODES: std::cell::Cell<Vec<i32>> = const { std::cell::Cell::new(Vec::new()) };
        }
        let mut codes = CODES.take();
        if codes.len() < values.len() {
            codes.resize(values.len(), 0);
        }
        let result = fill(&mut codes[..values.len()], None);
        debug_assert!(!matches!(result, Ok(true)), "codes dequantized as float32 for a float64 array");
        if result.is_ok() {
            quantize::dequantize_f64(kernels, &codes[..values.len()], tick, values);
        }
        CODES.set(codes);
        result.map(|_| ())
    }

    fn write_bits(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }

    fn read_bits(bytes: &[u8]) -> Self {
        f64::from_bits(u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")))
    }
}
