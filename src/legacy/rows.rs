//! Walks the rows (runs along the last axis) of a C-order array with the predictors that apply
//! to each, as the original's recursion over axes does.

/// A predictor from an earlier axis: the element `stride` positions back, times `coeff`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Neighbour {
    pub(crate) stride: usize,
    pub(crate) coeff: f32,
}

/// Calls `f(row_start, neighbours)` for every row of the C-order array `dims`, in order. An
/// earlier axis contributes a neighbour when its coefficient is non-zero and the row's index on
/// it is not 0; neighbours come in axis order, which fixes the order of the float additions.
pub(crate) fn for_each_row<E>(
    dims: &[usize],
    coeffs: &[f32],
    mut f: impl FnMut(usize, &[Neighbour]) -> Result<(), E>,
) -> Result<(), E> {
    let last = dims.len() - 1;
    let row_len = dims[last];
    let mut strides = vec![0usize; last];
    let mut stride = row_len;
    for axis in (0..last).rev() {
        strides[axis] = stride;
        stride *= dims[axis];
    }
    let rows: usize = dims[..last].iter().product();
    let mut index = vec![0usize; last];
    let mut neighbours = Vec::with_capacity(last);
    for row in 0..rows {
        neighbours.clear();
        for axis in 0..last {
            if coeffs[axis] != 0.0 && index[axis] != 0 {
                neighbours.push(Neighbour { stride: strides[axis], coeff: coeffs[axis] });
            }
        }
        f(row * row_len, &neighbours)?;
        for axis in (0..last).rev() {
            index[axis] += 1;
            if index[axis] < dims[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_follow_nonzero_indices_and_coefficients() {
        let mut seen = Vec::new();
        for_each_row::<()>(&[2, 3, 4], &[0.5, 0.0, 0.25], |start, n| {
            seen.push((start, n.iter().map(|x| x.stride).collect::<Vec<_>>()));
            Ok(())
        })
        .unwrap();
        let expect: Vec<(usize, Vec<usize>)> =
            vec![(0, vec![]), (4, vec![]), (8, vec![]), (12, vec![12]), (16, vec![12]), (20, vec![12])];
        assert_eq!(seen, expect);
    }
}
