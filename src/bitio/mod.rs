//! Bit-level I/O shared by both formats: codes packed least significant bit first.

mod reader;
mod writer;

pub(crate) use reader::{low_mask, BitReader};
pub(crate) use writer::BitWriter;
