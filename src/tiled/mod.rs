//! The tiled format (`b"L\x01"`): independent tiles of whole rows, each quantized, predicted
//! on integers and entropy coded on its own, so tiles compress and decompress in parallel and a
//! reader can decode just the rows it needs. See `docs/format.md`.

mod huffman;
mod kept_buffers;
mod layout;
mod predictor;
mod tile;

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use lilcom_kernels::Kernels;
use rayon::prelude::*;

use crate::element::Element;
use crate::error::{Error, Result};
pub(crate) use layout::Layout;
pub use layout::{MAX_AXES, TICK_POWER_RANGE};
use tile::{decode_tile, encode_tile, tile_shape};

/// Elements a tile aims for: large enough that its table, its predictor choice and its edges cost
/// little, small enough that a tile's working set (its codes, tokens and lanes besides the input)
/// stays in a core's own cache, so that threads do not contend for the shared one (measured:
/// 2^18 scaled worse on two threads, 1.4-1.9x against 1.9x).
const TARGET_TILE_ELEMENTS: usize = 1 << 16;

/// Fewest rows a tile of an array of three or more axes gets, so that the interpolation
/// predictor, which runs along axis 0 too, finds most of its targets away from a tile's edges;
/// but no more of them than [`MAX_VOLUME_TILE_ELEMENTS`] allows.
const MIN_ROWS_OF_VOLUMES: usize = 32;

/// Elements beyond which [`MIN_ROWS_OF_VOLUMES`] gives way, so that volumes with long rows keep
/// tiles that fit in memory several times over and are several per thread.
const MAX_VOLUME_TILE_ELEMENTS: usize = 1 << 20;

/// Where work runs: an optional dedicated thread pool, and the kernels' instruction set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Execution {
    pub(crate) threads: Option<usize>,
    pub(crate) kernels: Kernels,
}

/// Elements below which decoding runs on the calling thread: waking the pool's threads costs
/// about a tile's decoding. Measured from Python (medians of 150 consecutive calls, two threads
/// against one, rows of 500 random values): 2, 3 and 4 tiles of 65,500 elements decoded at
/// 0.67-0.69x, 0.74x and 0.76-1.09x one thread's speed, 5 tiles at 0.91-0.98x, 6 at 1.9x, and
/// the field's 3 tiles of 294,912 at 1.2x.
const PARALLEL_DECODE_FROM: usize = 5 << 16;

/// Elements below which compression runs on the calling thread. Same measurements: 2 and 3 tiles
/// compressed at 0.69x and 0.77-0.88x one thread's speed, 4 tiles at 1.28x.
const PARALLEL_ENCODE_FROM: usize = 7 << 15;

impl Execution {
    /// This execution, or the calling thread alone when `work` is under `parallel_from` (both in
    /// the caller's unit: elements, or bytes to copy). A thread count of zero is kept, for
    /// [`Execution::map`] to refuse.
    fn unless_small(self, work: usize, parallel_from: usize) -> Self {
        match self.threads {
            Some(0) => self,
            _ if work < parallel_from => Execution { threads: Some(1), ..self },
            _ => self,
        }
    }

    /// Calls `f(i)` for `i` in `0..count` and collects the results in order: on the caller's
    /// thread for one thread (or one item), else on rayon's global pool (`None`) or on a pool of
    /// the requested size, kept for reuse.
    fn map<I: Send, R: Send>(&self, items: Vec<I>, f: impl Fn(I) -> R + Sync + Send) -> Result<Vec<R>> {
        match self.threads {
            Some(0) => Err(Error::invalid_argument("threads must be at least 1")),
            Some(1) => Ok(items.into_iter().map(f).collect()),
            _ if items.len() <= 1 => Ok(items.into_iter().map(f).collect()),
            None => Ok(items.into_par_iter().map(f).collect()),
            Some(n) => Ok(pool(n)?.install(|| items.into_par_iter().map(f).collect())),
        }
    }
}

/// Thread pools built so far, by size.
type Pools = Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>>;

/// A thread pool of `threads` threads, built once per size and shared.
fn pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Pools> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid_argument(format!("cannot start {threads} threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.push((threads, Arc::clone(&pool)));
    Ok(pool)
}

/// Streams of at least this many bytes are copied into place by several threads.
const PARALLEL_COPY_FROM: usize = 4 << 20;

/// Rows per tile for an array of `shape`.
fn rows_per_tile(shape: &[usize]) -> usize {
    let row_len = layout::row_len_of(shape).max(1);
    let fewest = if shape.len() >= 3 { MIN_ROWS_OF_VOLUMES.min(MAX_VOLUME_TILE_ELEMENTS / row_len) } else { 1 };
    (TARGET_TILE_ELEMENTS / row_len).max(fewest).clamp(1, layout::rows_of(shape).max(1))
}

/// A C-order array's tiles, encoded but not yet gathered behind their header.
pub(crate) struct EncodedTiles {
    header: Vec<u8>,
    tiles: Vec<Vec<u8>>,
    exec: Execution,
}

impl EncodedTiles {
    /// The stream's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.header.len() + self.tiles.iter().map(Vec::len).sum::<usize>()
    }

    /// Writes the stream into `out`, which must be exactly [`EncodedTiles::len`] bytes long.
    pub(crate) fn write_into(self, out: &mut [u8]) -> Result<()> {
        if out.len() != self.len() {
            return Err(Error::invalid_argument(format!(
                "the stream takes {} bytes; the destination has {}",
                self.len(),
                out.len()
            )));
        }
        let (head, mut rest) = out.split_at_mut(self.header.len());
        head.copy_from_slice(&self.header);
        // The tiles are copied into place in parallel too: appended one after the other on one
        // thread, the copy (and the new output's page faults) held two threads to 1.5-1.8 times
        // one thread's compression speed of the 16M-element array.
        // Below a few megabytes the copy takes less time than waking another thread for it.
        let mut places = Vec::with_capacity(self.tiles.len());
        for tile in &self.tiles {
            let (place, after) = rest.split_at_mut(tile.len());
            places.push((place, tile));
            rest = after;
        }
        let copy = |(place, tile): (&mut [u8], &Vec<u8>)| place.copy_from_slice(tile);
        self.exec.unless_small(self.len(), PARALLEL_COPY_FROM).map(places, copy)?;
        kept_buffers::give_back(self.tiles);
        Ok(())
    }

    /// The stream in a new vector.
    pub(crate) fn into_vec(self) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.len()];
        self.write_into(&mut out)?;
        Ok(out)
    }
}

/// Encodes a C-order array's tiles, to be gathered by [`EncodedTiles::write_into`].
pub(crate) fn encode_tiles<T: Element>(
    values: &[T],
    shape: &[usize],
    tick_power: i32,
    exec: Execution,
) -> Result<EncodedTiles> {
    if shape.len() > MAX_AXES {
        return Err(Error::invalid_argument(format!(
            "the tiled format holds up to {MAX_AXES} axes; this array has {}",
            shape.len()
        )));
    }
    if !TICK_POWER_RANGE.contains(&tick_power) {
        return Err(Error::invalid_argument(format!(
            "the tiled format takes tick_power from -64 to 64; got {tick_power}"
        )));
    }
    let row_len = layout::row_len_of(shape);
    let per_tile = rows_per_tile(shape);
    let tile_rows = if values.is_empty() { 0 } else { layout::rows_of(shape).div_ceil(per_tile) };
    let chunk = per_tile * row_len.max(1);
    let tiles_exec = exec.unless_small(values.len(), PARALLEL_ENCODE_FROM);
    let encoded: Vec<(Vec<u8>, u8)> = tiles_exec.map((0..tile_rows).collect(), |t| {
        let part = &values[t * chunk..((t + 1) * chunk).min(values.len())];
        let rows = part.len() / row_len.max(1);
        encode_tile(exec.kernels, part, tile_shape(shape, rows), tick_power)
    })?;
    let lengths: Vec<usize> = encoded.iter().map(|(tile, _)| tile.len()).collect();
    // The newest minor version a tile needs (every tile of this writer needs 3, for its tokens).
    let minor = encoded.iter().map(|&(_, minor)| minor).max().unwrap_or(0);
    let header = Layout::write(minor, T::DTYPE, tick_power, shape, per_tile, &lengths);
    Ok(EncodedTiles { header, tiles: encoded.into_iter().map(|(tile, _)| tile).collect(), exec })
}

/// Reads and checks the header, including that the stream is big enough for its claimed size.
pub(crate) fn read_layout(bytes: &[u8]) -> Result<Layout> {
    let layout = Layout::read(bytes)?;
    let elements: usize = layout.shape.iter().product();
    // Every element costs at least one bit (a token code), so a larger claim is corrupt; this also
    // bounds what a decoder allocates by the size of its input.
    if elements as u128 > 8 * bytes.len() as u128 {
        return Err(Error::corruption(format!(
            "{elements} elements cannot fit in {} bytes of tiles",
            bytes.len() - layout.header_len
        )));
    }
    Ok(layout)
}

/// Decodes rows `rows` of axis 0 into `out` (C order, exactly those rows), touching only the
/// tiles that hold them.
pub(crate) fn decode_rows_into<T: Element>(
    bytes: &[u8],
    layout: &Layout,
    rows: Range<usize>,
    out: &mut [T],
    exec: Execution,
) -> Result<()> {
    check_dtype::<T>(layout)?;
    let row_len = layout.row_len();
    if rows.start > rows.end || rows.end > layout.rows() {
        return Err(Error::invalid_argument(format!(
            "rows {}..{} are outside the array's {} rows",
            rows.start,
            rows.end,
            layout.rows()
        )));
    }
    debug_assert_eq!(out.len(), (rows.end - rows.start) * row_len);
    if out.is_empty() {
        return Ok(());
    }
    let per_tile = layout.rows_per_tile;
    let first = rows.start / per_tile;
    let last = (rows.end - 1) / per_tile;
    // Split `out` at tile boundaries so tiles decode in parallel into their own part.
    let mut parts: Vec<(usize, &mut [T])> = Vec::with_capacity(last - first + 1);
    let mut rest = out;
    for t in first..=last {
        let tile = layout.tile_rows(t);
        let take = (tile.end.min(rows.end) - tile.start.max(rows.start)) * row_len;
        let (head, tail) = rest.split_at_mut(take);
        parts.push((t, head));
        rest = tail;
    }
    let results = exec.unless_small(rows.len() * row_len, PARALLEL_DECODE_FROM).map(parts, |(t, part)| {
        let tile = layout.tile_rows(t);
        let view = tile_shape(&layout.shape, tile.len());
        let tile_bytes = &bytes[layout.tile_bytes(t)];
        if tile.start >= rows.start && tile.end <= rows.end {
            decode_tile(exec.kernels, tile_bytes, view, layout.tick_power, layout.minor, part)
        } else {
            let mut scratch = vec![T::from_f32(0.0); view.len()];
            decode_tile(exec.kernels, tile_bytes, view, layout.tick_power, layout.minor, &mut scratch)?;
            let from = (rows.start.max(tile.start) - tile.start) * row_len;
            part.copy_from_slice(&scratch[from..from + part.len()]);
            Ok(())
        }
    })?;
    results.into_iter().collect()
}

fn check_dtype<T: Element>(layout: &Layout) -> Result<()> {
    if T::DTYPE != layout.dtype {
        return Err(Error::invalid_argument(format!(
            "the stream holds {:?} values; decode it as that type (asked for {:?})",
            layout.dtype,
            T::DTYPE
        )));
    }
    Ok(())
}
