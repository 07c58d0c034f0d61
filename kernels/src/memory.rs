//! Memory advice for large outputs.
//!
//! A freshly allocated array's pages are faulted in and zeroed by the kernel as they are first
//! written, one 4 KiB page at a time; decoding 16M f32 elements into a new array spent more than
//! half its time so (measured with `examples/thread_scaling`). Huge pages take one fault per
//! 2 MiB. numpy asks for them on its large arrays; this does the same for the Rust API's.

/// Asks the kernel (on Linux) to back the whole 2 MiB pages inside `buffer` with huge pages
/// when it next faults them in. Advice only: the contents do not change, and where the kernel
/// has no huge pages to give, or the platform has no such advice, nothing happens. Buffers under
/// 4 MiB are left alone.
pub fn prefer_huge_pages<T>(buffer: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let bytes = std::mem::size_of_val(buffer);
        if bytes < 2 * HUGE_PAGE {
            return;
        }
        let start = buffer.as_mut_ptr() as usize;
        let first = start.next_multiple_of(HUGE_PAGE);
        let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
        if end > first {
            // SAFETY: MADV_HUGEPAGE changes only the page size the kernel uses for the range,
            // never its contents; the range `first..end` lies inside `buffer`, which the caller
            // lends exclusively, and it is page-aligned as madvise requires. The result is
            // ignored: the advice is optional.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_leaves_the_contents_as_they_were() {
        for len in [0, 1000, (5 << 20) / 4 + 3] {
            let mut values: Vec<u32> = (0..len as u32).collect();
            prefer_huge_pages(&mut values);
            assert!(values.iter().enumerate().all(|(i, &v)| v == i as u32), "{len}");
        }
    }
}
