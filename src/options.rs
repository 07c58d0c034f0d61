//! What the caller asks for (options), kept apart from what a stream says it holds (info).

use crate::element::DType;

/// A wire format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The tiled format (`b"L\x01"`, the default): rows are cut into independent tiles that
    /// compress and decompress in parallel and can be decoded alone; every finite element is
    /// within half a tick, NaN, infinities and values beyond the code range are stored exactly,
    /// f32 and f64 keep their type, and every tile carries a checksum. See `docs/format.md`.
    #[default]
    Tiled,
    /// The original lilcom stream, `b"L\x00"` followed by one adaptive bit-width integer code,
    /// byte-identical to lilcom 1.8.2. It holds float32 only (float64 input is rounded to
    /// float32 first), 1 to 16 non-empty axes, `tick_power` in -20..=20, and finite values;
    /// elements whose code does not fit in int32 are pinned to the ends of that range, as the
    /// original pins them.
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
    /// Worker threads for the tiled format: `None` uses all cores (rayon's global pool). The
    /// bytes written do not depend on it. Arrays of fewer than 229,376 elements are compressed on
    /// the calling thread whatever it says, since waking other threads costs more there than
    /// they save.
    pub threads: Option<usize>,
    /// Run the scalar reference kernels instead of the best vector instruction set (the output
    /// is byte-identical; this exists to prove it). The environment variable
    /// `LILCOM_FORCE_SCALAR=1` does the same for every call.
    pub scalar_kernels: bool,
}

impl Default for CompressOptions {
    fn default() -> Self {
        CompressOptions {
            tick_power: -8,
            do_regression: true,
            format: Format::default(),
            threads: None,
            scalar_kernels: false,
        }
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

    /// Sets [`CompressOptions::threads`].
    pub fn with_threads(mut self, threads: Option<usize>) -> Self {
        self.threads = threads;
        self
    }

    /// Sets [`CompressOptions::scalar_kernels`].
    pub fn with_scalar_kernels(mut self, scalar: bool) -> Self {
        self.scalar_kernels = scalar;
        self
    }
}

/// How to decompress. Build from [`DecompressOptions::default`] and the `with_*` methods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecompressOptions {
    /// Decode only these rows (slices along axis 0). A tiled stream reads only the tiles that
    /// hold them; an `L\x00` stream is serial, so it is decoded whole and then sliced.
    pub rows: Option<std::ops::Range<usize>>,
    /// Worker threads for the tiled format: `None` uses all cores. Fewer than 327,680 elements
    /// (of the rows asked for) are decoded on the calling thread whatever it says, since waking
    /// other threads costs more there than they save.
    pub threads: Option<usize>,
    /// Run the scalar reference kernels (see [`CompressOptions::scalar_kernels`]).
    pub scalar_kernels: bool,
}

impl DecompressOptions {
    /// Sets [`DecompressOptions::rows`].
    pub fn with_rows(mut self, rows: std::ops::Range<usize>) -> Self {
        self.rows = Some(rows);
        self
    }

    /// Sets [`DecompressOptions::threads`].
    pub fn with_threads(mut self, threads: Option<usize>) -> Self {
        self.threads = threads;
        self
    }

    /// Sets [`DecompressOptions::scalar_kernels`].
    pub fn with_scalar_kernels(mut self, scalar: bool) -> Self {
        self.scalar_kernels = scalar;
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
    /// Tiles in the stream (tiled format), 1 for an `L\x00` stream.
    pub tiles: usize,
}
