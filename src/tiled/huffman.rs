//! Canonical Huffman codes over the 64 tokens, limited to [`MAX_CODE_LEN`] bits, written least
//! significant bit first and decoded with one table lookup.

use crate::error::{Error, Result};
use lilcom_kernels::tokens::{Alphabet, TOKEN_COUNT};

/// Longest code; the decode table has `2^MAX_CODE_LEN` entries.
pub(crate) const MAX_CODE_LEN: u32 = lilcom_kernels::token_decode::TABLE_BITS;

/// Bytes that store the code lengths: 64 lengths of 4 bits.
pub(crate) const LENGTHS_BYTES: usize = TOKEN_COUNT / 2;

/// Code lengths (0 = unused) for `counts`, each at most [`MAX_CODE_LEN`].
pub(crate) fn code_lengths(counts: &[u64; TOKEN_COUNT]) -> [u8; TOKEN_COUNT] {
    let mut lengths = [0u8; TOKEN_COUNT];
    let used: Vec<usize> = (0..TOKEN_COUNT).filter(|&s| counts[s] > 0).collect();
    match used.len() {
        0 => return lengths,
        1 => {
            lengths[used[0]] = 1;
            return lengths;
        }
        _ => {}
    }
    let mut weights: Vec<u64> = used.iter().map(|&s| counts[s]).collect();
    loop {
        let depths = huffman_depths(&weights);
        if depths.iter().all(|&d| d <= MAX_CODE_LEN) {
            for (&s, &d) in used.iter().zip(&depths) {
                lengths[s] = d as u8;
            }
            return lengths;
        }
        // Flatten the distribution and try again; converges because equal weights give a
        // balanced tree of depth <= 6 for 64 symbols.
        for w in &mut weights {
            *w = (*w >> 1) | 1;
        }
    }
}

/// Depth of each leaf in a Huffman tree over `weights` (at least two).
fn huffman_depths(weights: &[u64]) -> Vec<u32> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = weights.len();
    let mut parent = vec![usize::MAX; 2 * n - 1];
    // Ties broken by node index, so the tree (and the bytes) never depend on anything else.
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> =
        weights.iter().enumerate().map(|(i, &w)| Reverse((w, i))).collect();
    let mut next = n;
    while heap.len() > 1 {
        let Reverse((wa, a)) = heap.pop().expect("two nodes");
        let Reverse((wb, b)) = heap.pop().expect("two nodes");
        parent[a] = next;
        parent[b] = next;
        heap.push(Reverse((wa + wb, next)));
        next += 1;
    }
    (0..n)
        .map(|leaf| {
            let mut depth = 0;
            let mut node = leaf;
            while parent[node] != usize::MAX {
                node = parent[node];
                depth += 1;
            }
            depth
        })
        .collect()
}

/// Canonical codes for `lengths`, bit-reversed for least-significant-first writing.
/// Returns `(code, length)` per token; fails if the lengths over-subscribe the code space.
pub(crate) fn canonical_codes(lengths: &[u8; TOKEN_COUNT]) -> Result<[(u32, u8); TOKEN_COUNT]> {
    let mut order: Vec<usize> = (0..TOKEN_COUNT).filter(|&s| lengths[s] > 0).collect();
    order.sort_by_key(|&s| (lengths[s], s));
    let mut codes = [(0u32, 0u8); TOKEN_COUNT];
    let mut code = 0u32;
    let mut prev_len = 0u32;
    for &s in &order {
        let len = u32::from(lengths[s]);
        if len > MAX_CODE_LEN {
            return Err(Error::corruption(format!("a Huffman code length of {len} bits exceeds {MAX_CODE_LEN}")));
        }
        code <<= len - prev_len;
        if code >= 1 << len {
            return Err(Error::corruption("the Huffman code lengths over-subscribe the code space"));
        }
        codes[s] = (reverse_bits(code, len), len as u8);
        code += 1;
        prev_len = len;
    }
    Ok(codes)
}

fn reverse_bits(code: u32, len: u32) -> u32 {
    if len == 0 {
        0
    } else {
        code.reverse_bits() >> (32 - len)
    }
}

/// Lookup table: entry `i`, for the low [`MAX_CODE_LEN`] bits `i` of a lane, describes the code
/// those bits begin with, as [`lilcom_kernels::token_decode::table_entry`] packs it, so one
/// lookup gives everything the bit position depends on.
pub(crate) struct DecodeTable {
    entries: Box<lilcom_kernels::token_decode::DecodeEntries>,
    complete: bool,
    /// Entries of up to three elements each, for codes where a lookup would give enough of them
    /// on average to pay for the lanes' separate output places.
    multi: Option<Box<lilcom_kernels::token_decode::DecodeEntries>>,
}

/// Elements per lookup, on average, from which the multi-element decoder is used: below it,
/// the one-element decoder's fewer operations per lookup win. Measured with
/// `examples/profile_tiled` on randn 300x500 at tick powers -5 to 3, against the one-element
/// decoder: 1.15 elements per lookup decoded at 0.77 times its speed, 1.44 at 0.90, 2.64 at
/// 1.25, 2.94 to 3 at 1.43 to 1.67; the field and the 4096^2 rows (2.9) at 1.23 and 1.30.
const MULTI_FROM: f64 = 2.0;

impl DecodeTable {
    pub(crate) fn new(lengths: &[u8; TOKEN_COUNT], alphabet: Alphabet) -> Result<Self> {
        let codes = canonical_codes(lengths)?;
        let mut entries = Box::new([lilcom_kernels::token_decode::NO_CODE; 1 << MAX_CODE_LEN]);
        fill_by_doubling(&mut entries[..], &codes, |token, len| {
            lilcom_kernels::token_decode::table_entry(alphabet, token, len)
        });
        let covered: usize = codes.iter().filter(|&&(_, len)| len > 0).map(|&(_, len)| entries.len() >> len).sum();
        let complete = covered == 1 << MAX_CODE_LEN;
        // Only complete codes: the multi-element decoder does not look for bits that begin no code.
        let multi = (complete && may_pay_to_combine(lengths, alphabet))
            .then(|| lilcom_kernels::multi_decode::multi_entries(&entries))
            .and_then(|(multi, per_lookup)| (per_lookup >= MULTI_FROM).then_some(multi));
        Ok(DecodeTable { entries, complete, multi })
    }

    /// The multi-element entries, when this code is worth decoding with them.
    pub(crate) fn multi_entries(&self) -> Option<&lilcom_kernels::token_decode::DecodeEntries> {
        self.multi.as_deref()
    }

    /// True when every bit pattern begins a code (the Kraft sum is 1), so the decoder need not
    /// look for bits that begin none. Writers make such codes whenever a tile has two or more
    /// distinct tokens.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// The entries, as the lane decoder reads them.
    pub(crate) fn entries(&self) -> &lilcom_kernels::token_decode::DecodeEntries {
        &self.entries
    }

    /// The same table without its multi-element entries, to compare the two decoders.
    #[cfg(test)]
    pub(crate) fn one_element_only(mut self) -> Self {
        self.multi = None;
        self
    }

    /// `(token, code length)` for the low bits of `window`; length 0 means no code matches.
    #[cfg(test)]
    pub(crate) fn lookup(&self, window: u64) -> (u8, u32) {
        let e = self.entries[(window & ((1 << MAX_CODE_LEN) - 1)) as usize];
        ((e >> 24) as u8 % TOKEN_COUNT as u8, (e >> 8) & 63)
    }
}

/// Fills a decode table of [`MAX_CODE_LEN`]-bit windows (entries that begin no code left as
/// they are): `entry(token, len)` at every window whose low bits are a code of `codes` (as
/// [`canonical_codes`] gives them). Length by length, the table built so far is copied over the
/// next as many entries, which repeats every code below that length, and then each code of the
/// length takes its one place; a code's `1 << (MAX_CODE_LEN - len)` places, stored one by one,
/// took three times as long.
fn fill_by_doubling<E: Copy>(table: &mut [E], codes: &[(u32, u8); TOKEN_COUNT], entry: impl Fn(u8, u32) -> E) {
    debug_assert_eq!(table.len(), 1 << MAX_CODE_LEN);
    let mut built = 1;
    for len in 1..=MAX_CODE_LEN {
        table.copy_within(..built, built);
        built *= 2;
        for (token, &(code, code_len)) in codes.iter().enumerate() {
            if u32::from(code_len) == len {
                table[code as usize] = entry(token as u8, len);
            }
        }
    }
}

/// The decode tables of token lanes (format minor version 4, codes of tokens alone): one token
/// per lookup, for the lanes' last few tokens, and up to three, for the rest.
pub(crate) struct TokenTables {
    single: Box<lilcom_kernels::token_lanes::SingleEntries>,
    multi: Box<lilcom_kernels::token_lanes::MultiEntries>,
}

impl TokenTables {
    pub(crate) fn new(kernels: lilcom_kernels::Kernels, lengths: &[u8; TOKEN_COUNT]) -> Result<Self> {
        use lilcom_kernels::token_lanes::{filled_box, multi_entries, single_entry, writer_code, NO_TOKEN};
        let codes = canonical_codes(lengths)?;
        let mut single: Box<lilcom_kernels::token_lanes::SingleEntries> = filled_box(NO_TOKEN);
        fill_by_doubling(&mut single[..], &codes, single_entry);
        let codes = codes.map(|(code, len)| writer_code(code, u32::from(len)));
        let multi = multi_entries(kernels, &codes, &single);
        Ok(TokenTables { single, multi })
    }

    /// The one-token entries.
    pub(crate) fn single(&self) -> &lilcom_kernels::token_lanes::SingleEntries {
        &self.single
    }

    /// The several-token entries.
    pub(crate) fn multi(&self) -> &lilcom_kernels::token_lanes::MultiEntries {
        &self.multi
    }
}

/// Whether a multi-element table could reach [`MULTI_FROM`] elements per lookup: only elements
/// without raw bits and with values below 16 join another in an entry, so with `p` the share of
/// lookups that begin with one (the sum of `2^-length` over their tokens) an entry holds at most
/// `1 + p + p^2` elements on average. Checked first because building the table visits all 4096
/// entries, work wasted on codes that cannot reach the threshold.
fn may_pay_to_combine(lengths: &[u8; TOKEN_COUNT], alphabet: Alphabet) -> bool {
    use lilcom_kernels::tokens::{raw_bits, value_of};
    let p: f64 = (0..TOKEN_COUNT as u8)
        .filter(|&t| lengths[usize::from(t)] > 0 && raw_bits(alphabet, t) == 0 && value_of(alphabet, t, 0) < 16)
        .map(|t| 0.5f64.powi(i32::from(lengths[usize::from(t)])))
        .sum();
    1.0 + p + p * p >= MULTI_FROM
}

/// Packs 64 lengths into 32 bytes, token `2k` in the low nibble of byte `k`.
pub(crate) fn write_lengths(lengths: &[u8; TOKEN_COUNT], out: &mut Vec<u8>) {
    for pair in lengths.chunks_exact(2) {
        out.push(pair[0] | (pair[1] << 4));
    }
}

/// Unpacks what [`write_lengths`] wrote.
pub(crate) fn read_lengths(bytes: &[u8; LENGTHS_BYTES]) -> [u8; TOKEN_COUNT] {
    let mut lengths = [0u8; TOKEN_COUNT];
    for (k, &b) in bytes.iter().enumerate() {
        lengths[2 * k] = b & 15;
        lengths[2 * k + 1] = b >> 4;
    }
    lengths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_respect_the_limit_and_kraft_and_decode_back() {
        let mut counts = [0u64; TOKEN_COUNT];
        for (i, c) in counts.iter_mut().enumerate() {
            *c = 1u64 << (i % 40); // very skewed: forces the length limit
        }
        let lengths = code_lengths(&counts);
        assert!(lengths.iter().all(|&l| (1..=MAX_CODE_LEN as u8).contains(&l)));
        let kraft: f64 = lengths.iter().map(|&l| 0.5f64.powi(l as i32)).sum();
        assert!(kraft <= 1.0 + 1e-12);
        let codes = canonical_codes(&lengths).unwrap();
        let table = DecodeTable::new(&lengths, Alphabet::SmallExact).unwrap();
        assert!(table.is_complete());
        for (token, &(code, len)) in codes.iter().enumerate() {
            assert_eq!(table.lookup(u64::from(code) | (0xABC << len)), (token as u8, u32::from(len)));
        }
        let mut packed = Vec::new();
        write_lengths(&lengths, &mut packed);
        assert_eq!(read_lengths(&packed.try_into().unwrap()), lengths);
    }

    #[test]
    fn only_codes_of_short_elements_get_a_multi_element_table() {
        // Values 0..4 take most of the code space with short codes and no raw bits.
        let mut counts = [1u64; TOKEN_COUNT];
        counts[..4].copy_from_slice(&[1000, 800, 800, 600]);
        let skewed = DecodeTable::new(&code_lengths(&counts), Alphabet::SmallExact).unwrap();
        assert!(skewed.multi_entries().is_some());
        // Every token about as likely: most elements carry raw bits.
        let flat = DecodeTable::new(&code_lengths(&[1u64; TOKEN_COUNT]), Alphabet::SmallExact).unwrap();
        assert!(flat.multi_entries().is_none());
        // An incomplete code never gets one: that decoder does not look for bits that begin no code.
        let mut one = [0u64; TOKEN_COUNT];
        one[0] = 5;
        assert!(DecodeTable::new(&code_lengths(&one), Alphabet::SmallExact).unwrap().multi_entries().is_none());
    }

    #[test]
    fn one_used_token_gets_a_one_bit_code_and_oversubscription_is_rejected() {
        let mut counts = [0u64; TOKEN_COUNT];
        counts[5] = 100;
        let lengths = code_lengths(&counts);
        assert_eq!(lengths[5], 1);
        assert_eq!(DecodeTable::new(&lengths, Alphabet::SmallExact).unwrap().lookup(0), (5, 1));
        assert_eq!(DecodeTable::new(&lengths, Alphabet::SmallExact).unwrap().lookup(1).1, 0);
        assert!(!DecodeTable::new(&lengths, Alphabet::SmallExact).unwrap().is_complete());
        let bad = [1u8; TOKEN_COUNT];
        assert!(canonical_codes(&bad).is_err());
    }
}
