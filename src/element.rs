//! The element types the codec reads and writes.

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

    /// Converts one float32 value into this type, exactly.
    fn from_f32(value: f32) -> Self;
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

    fn from_f32(value: f32) -> Self {
        value
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

    fn from_f32(value: f32) -> Self {
        f64::from(value)
    }
}
