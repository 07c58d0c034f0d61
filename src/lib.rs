//! Error-bounded lossy compression of float arrays.
//!
//! `lilcom` stores each element of an f32 or f64 array as a whole number of ticks of size
//! `2^tick_power`, so every element comes back within `2^(tick_power - 1)` of its value. It
//! reads and writes the original lilcom package's `L\x00` stream bit-exactly, so files written
//! by lhotse or icefall open unchanged.
//!
//! ```
//! use lilcom::{compress, decompress, shape, CompressOptions};
//! let a = ndarray::Array2::<f32>::from_shape_fn((100, 80), |(t, f)| ((t * f) as f32).cos());
//! let bytes = compress(&a, &CompressOptions::default().with_tick_power(-5))?;
//! assert_eq!(shape(&bytes)?, vec![100, 80]);
//! let b = decompress::<f32>(&bytes)?;
//! assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1.0 / 64.0));
//! # Ok::<(), lilcom::Error>(())
//! ```
//!
//! Layers: [`compress`]/[`decompress`] choose the format from [`CompressOptions`] and from the
//! stream's header; [`legacy`] exposes the original format's pieces; [`StreamInfo`] reports
//! what a stream holds, apart from what was asked for.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod bitio;
mod element;
mod error;
pub mod legacy;
mod options;
mod tiled;

pub use api::{
    compress, compress_parts, decompress, decompress_into, decompress_into_with, decompress_rows, decompress_with,
    detect_format, info, shape, CompressedParts,
};
pub use element::{DType, Element};
pub use error::{Error, ErrorKind, Result};
pub use options::{CompressOptions, DecompressOptions, Format, StreamInfo};

/// The README's Rust example, compiled and run as a doc test so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
