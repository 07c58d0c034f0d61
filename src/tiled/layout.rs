//! The tiled stream's header: what the array is and where each tile starts.

use crate::element::DType;
use crate::error::{Error, Result};

/// Format major version of the tiled stream (the second byte).
pub(crate) const MAJOR: u8 = 1;
/// The newest minor version this code writes and reads.
pub(crate) const MINOR: u8 = 4;
/// Axes a tiled stream may have.
pub const MAX_AXES: usize = 32;
/// The tick powers a tiled stream may have.
pub const TICK_POWER_RANGE: std::ops::RangeInclusive<i32> = -64..=64;
/// Fixed part of the header: magic, versions, dtype, tick_power, axis count, reserved.
const FIXED_BYTES: usize = 8;

/// Everything the header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The format minor version the stream was written in.
    pub(crate) minor: u8,
    pub(crate) dtype: DType,
    pub(crate) tick_power: i32,
    pub(crate) shape: Vec<usize>,
    /// Rows (slices along axis 0) per tile; the last tile may have fewer.
    pub(crate) rows_per_tile: usize,
    /// End of each tile, in bytes from the start of the first tile.
    pub(crate) tile_ends: Vec<u64>,
    /// Header length in bytes (where the first tile starts).
    pub(crate) header_len: usize,
}

impl Layout {
    /// Rows along axis 0; a 0-d array is one row of one element.
    pub(crate) fn rows(&self) -> usize {
        rows_of(&self.shape)
    }

    /// Elements per row.
    pub(crate) fn row_len(&self) -> usize {
        row_len_of(&self.shape)
    }

    pub(crate) fn tile_count(&self) -> usize {
        self.tile_ends.len()
    }

    /// Rows `start..end` of tile `t`.
    pub(crate) fn tile_rows(&self, t: usize) -> std::ops::Range<usize> {
        let start = t * self.rows_per_tile;
        start..(start + self.rows_per_tile).min(self.rows())
    }

    /// Byte range of tile `t` within the whole stream.
    pub(crate) fn tile_bytes(&self, t: usize) -> std::ops::Range<usize> {
        let start = if t == 0 { 0 } else { self.tile_ends[t - 1] as usize };
        self.header_len + start..self.header_len + self.tile_ends[t] as usize
    }

    /// Writes the header, of format minor version `minor`, for `tile_lengths` (bytes of each
    /// tile, in order).
    pub(crate) fn write(
        minor: u8,
        dtype: DType,
        tick_power: i32,
        shape: &[usize],
        rows_per_tile: usize,
        tile_lengths: &[usize],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_BYTES + 8 * shape.len() + 8 * tile_lengths.len() + 16);
        debug_assert!(minor <= MINOR);
        out.extend_from_slice(&[b'L', MAJOR, minor]);
        out.push(match dtype {
            DType::F32 => 0,
            DType::F64 => 1,
        });
        out.push(tick_power as i8 as u8);
        out.push(shape.len() as u8);
        out.extend_from_slice(&[0, 0]);
        for &d in shape {
            out.extend_from_slice(&(d as u64).to_le_bytes());
        }
        out.extend_from_slice(&(rows_per_tile as u64).to_le_bytes());
        out.extend_from_slice(&(tile_lengths.len() as u32).to_le_bytes());
        let mut end = 0u64;
        for &len in tile_lengths {
            end += len as u64;
            out.extend_from_slice(&end.to_le_bytes());
        }
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads and checks the header of `bytes` (a whole stream, magic included).
    pub(crate) fn read(bytes: &[u8]) -> Result<Layout> {
        let mut r = Cursor { bytes, pos: 2 };
        let minor = r.u8("the minor version")?;
        if minor > MINOR {
            return Err(Error::unsupported_version(format!(
                "tiled format version 1.{minor} is newer than this code reads (1.{MINOR})"
            )));
        }
        let dtype = match r.u8("the dtype")? {
            0 => DType::F32,
            1 => DType::F64,
            other => return Err(Error::corruption(format!("dtype code {other} is reserved"))),
        };
        let tick_power = i32::from(r.u8("tick_power")? as i8);
        if !TICK_POWER_RANGE.contains(&tick_power) {
            return Err(Error::corruption(format!("tick_power {tick_power} is outside -64..=64")));
        }
        let axes = usize::from(r.u8("the number of axes")?);
        if axes > MAX_AXES {
            return Err(Error::corruption(format!("{axes} axes; the tiled format has at most {MAX_AXES}")));
        }
        if r.u16("reserved bytes")? != 0 {
            return Err(Error::corruption("reserved header bytes are not zero"));
        }
        let mut shape = Vec::with_capacity(axes);
        for axis in 0..axes {
            let d = r.u64("an axis length")?;
            shape.push(
                usize::try_from(d).map_err(|_| Error::corruption(format!("axis {axis} length {d} is too large")))?,
            );
        }
        // Arrays (ndarray's among them) need the product of the non-zero lengths to be
        // addressable even when another length is zero and the array empty.
        let addressable = shape
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .is_some_and(|n| n <= isize::MAX as usize);
        if !addressable {
            return Err(Error::corruption(format!("shape {shape:?} has more elements than can be addressed")));
        }
        let elements: usize = shape.iter().product();
        let rows_per_tile = usize::try_from(r.u64("rows per tile")?).unwrap_or(usize::MAX);
        let tile_count = r.u32("the tile count")? as usize;
        let rows = rows_of(&shape);
        let expected_tiles = if elements == 0 {
            0
        } else if rows_per_tile == 0 {
            return Err(Error::corruption("zero rows per tile"));
        } else {
            rows.div_ceil(rows_per_tile)
        };
        if tile_count != expected_tiles {
            return Err(Error::corruption(format!(
                "{tile_count} tiles listed; {rows} rows at {rows_per_tile} per tile make {expected_tiles}"
            )));
        }
        // Every tile costs at least 8 index bytes, so this allocation is proven by the data read.
        let mut tile_ends = Vec::with_capacity(tile_count.min(bytes.len() / 8));
        let mut prev = 0u64;
        for t in 0..tile_count {
            let end = r.u64("the tile index")?;
            if end <= prev {
                return Err(Error::corruption(format!("tile {t} ends at byte {end}, not after byte {prev}")));
            }
            tile_ends.push(end);
            prev = end;
        }
        let crc_at = r.pos;
        let stored = r.u32("the header checksum")?;
        if crc32c::crc32c(&bytes[..crc_at]) != stored {
            return Err(Error::corruption("header checksum mismatch"));
        }
        let header_len = r.pos;
        let total = header_len as u64 + prev;
        if (bytes.len() as u64) < total {
            return Err(Error::insufficient_data(format!(
                "the stream has {} bytes; its tile index says {total}",
                bytes.len()
            )));
        }
        if (bytes.len() as u64) > total {
            return Err(Error::corruption(format!(
                "{} bytes of trailing data after the last tile",
                bytes.len() as u64 - total
            )));
        }
        Ok(Layout { minor, dtype, tick_power, shape, rows_per_tile, tile_ends, header_len })
    }
}

pub(crate) fn rows_of(shape: &[usize]) -> usize {
    shape.first().copied().unwrap_or(1)
}

pub(crate) fn row_len_of(shape: &[usize]) -> usize {
    shape.iter().skip(1).product()
}

/// Reads little-endian fields, failing with what was being read when the bytes run out.
pub(crate) struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            Error::insufficient_data(format!(
                "the stream ends inside {what} (byte {} of {})",
                self.pos,
                self.bytes.len()
            ))
        })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().expect("2 bytes")))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
}
