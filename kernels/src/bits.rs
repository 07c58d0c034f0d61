//! Signed-to-unsigned mapping and bit widths, the primitives under every integer code.

/// Maps a signed integer onto an unsigned one so that small magnitudes get small codes:
/// `0, -1, 1, -2, 2, …` become `0, 1, 2, 3, 4, …`.
///
/// This is the mapping lilcom's `IntStream` applies (`2v` for `v >= 0`, `-2v - 1` otherwise),
/// written without overflow for the whole `i32` range.
///
/// ```
/// use lilcom_kernels::bits::{zigzag_decode, zigzag_encode};
/// assert_eq!([0, -1, 1, -2, 2].map(zigzag_encode), [0, 1, 2, 3, 4]);
/// assert_eq!(zigzag_decode(zigzag_encode(i32::MIN)), i32::MIN);
/// ```
#[inline]
pub fn zigzag_encode(value: i32) -> u32 {
    ((value as u32) << 1) ^ ((value >> 31) as u32)
}

/// Inverse of [`zigzag_encode`].
#[inline]
pub fn zigzag_decode(code: u32) -> i32 {
    ((code >> 1) as i32) ^ -((code & 1) as i32)
}

/// Number of bits needed to write `value` in binary: 0 for 0, otherwise the position of the
/// highest set bit plus one (so 1 for 1, 2 for 2..=3, 32 for values with the top bit set).
#[inline]
pub fn bit_width(value: u32) -> u32 {
    u32::BITS - value.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_matches_the_definition_on_edges_and_a_sweep() {
        let reference = |v: i32| -> u32 {
            let v = i64::from(v);
            (if v >= 0 { 2 * v } else { -2 * v - 1 }) as u32
        };
        let edges = [0, 1, -1, 2, -2, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1, 1 << 30, -(1 << 30)];
        for v in edges.into_iter().chain((-5000..5000).map(|x| x * 429_496)) {
            assert_eq!(zigzag_encode(v), reference(v), "encode {v}");
            assert_eq!(zigzag_decode(zigzag_encode(v)), v, "roundtrip {v}");
        }
    }

    #[test]
    fn bit_width_of_every_power_of_two_boundary() {
        assert_eq!(bit_width(0), 0);
        for k in 0..32 {
            let p = 1u32 << k;
            assert_eq!(bit_width(p), k + 1);
            assert_eq!(bit_width(p - 1), k);
            assert_eq!(bit_width(p | (p - 1)), k + 1);
        }
    }
}
