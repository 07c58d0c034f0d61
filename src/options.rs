//! What the caller asks for (options), kept apart from what a stream says it holds (info).

use crate::element::DType;

/// A wire format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The original lilcom stream, `b"L\x00"` followed by one adaptive bit-width integer code,
    /// byte-identical to lilcom 1.8.2. It holds float32 only (float64 input is rounded to
    /// float32 first), 1 to 16 non-empty axes, `tick_power` in -20..=20, and finite values;
    /// elements whose code does not fit in int32 are pinned to the ends of that range, as the
    /// original pins them.
    #[default]
    Lilcom,
}

/// How to compress. Build from [`CompressOptions::default`] and the `with_*` methods.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompressOptions {
    /// Values are stored as multiples of `2^tick_power`, so each element's error is at most
    /// `2^(tick_power - 1)` (default -8: error at most 1/512).
    pub tick_power: i32,
    /// Whether to predict each element from its neighbours with estimated coefficients
    /// (default true). Turning it off stores plain quantized values.
    pub do_regression: bool,
    /// The format to write.
    pub format: Format,
}

impl Default for CompressOptions {
    fn default() -> Self {
        CompressOptions { tick_power: -8, do_regression: true, format: Format::default() }
    }
}

impl CompressOptions {
    /// Sets [`CompressOptions::tick_power`].
    pub fn with_tick_power(mut self, tick_power: i32) -> Self {
        self.tick_power = tick_power;
        self
    }

    /// Sets [`CompressOptions::do_regression`].
    pub fn with_regression(mut self, do_regression: bool) -> Self {
        self.do_regression = do_regression;
        self
    }

    /// Sets [`CompressOptions::format`].
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }
}

/// What a stream says it holds, read from its header without decoding the elements.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// The format the stream is in.
    pub format: Format,
    /// The element type decoding gives back.
    pub dtype: DType,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Elements were stored as multiples of `2^tick_power`.
    pub tick_power: i32,
}
