//! Integer and bit-level kernels of the `lilcom` codec.
//!
//! Every kernel here has a plain scalar reference, callable by name, that defines its result bit for
//! bit. Vectorised variants dispatched at run time are added beside their reference and must agree
//! with it byte for byte; the tests in each module hold them to that.
//!
//! This crate is the only place in the project where `unsafe` code may live.

#![deny(missing_docs)]

pub mod bits;
pub mod difference;
pub mod dispatch;
pub mod interpolate;
pub mod memory;
pub mod multi_decode;
pub mod quantize;
pub mod raw_segments;
pub mod token_decode;
pub mod token_encode;
pub mod token_lanes;
pub mod tokens;

pub use dispatch::Kernels;
