//! The `lilcom` command-line tool's pieces: `.npy` arrays and `.safetensors` checkpoints in and
//! out of lilcom streams and the checkpoint container.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
pub mod commands;
pub mod container;
pub mod narrow_floats;
pub mod npy;
pub mod output;
pub mod progress;
pub mod tensor;
