//! Large zero-initialised buffers for volume-sized work arrays.
//!
//! [`zeroed`] returns an ordinary `Vec<T>` whose memory comes straight from the allocator's
//! zeroed path (`calloc`: large blocks are fresh, already-zero pages, so nothing is written
//! twice). On Linux the 2 MiB-aligned interior of blocks of at least 4 MiB is marked
//! `MADV_HUGEPAGE` before the first touch, so with transparent huge pages in `madvise` mode
//! (a common default) the block is backed by 2 MiB pages: about 500× fewer page faults when
//! it is first written, and far fewer TLB misses when a transform walks it with a large
//! stride (a column FFT over a 3-D volume reads one row segment per plane). The advice is a
//! hint: where it is not supported nothing changes but the speed. The contents are always
//! exactly zero.

/// Element types whose all-zero bit pattern is the value zero (so zeroed memory is a valid,
/// initialised buffer of zeros).
///
/// # Safety
/// Implement only for types for which every byte being 0 is a valid value.
pub unsafe trait Zeroable: Copy {}

// SAFETY: all-zero bits are 0 / 0.0 for these plain numeric types and pairs of them.
unsafe impl Zeroable for f32 {}
unsafe impl Zeroable for f64 {}
unsafe impl Zeroable for u8 {}
unsafe impl Zeroable for u16 {}
unsafe impl Zeroable for u32 {}
unsafe impl Zeroable for u64 {}
unsafe impl Zeroable for i32 {}
unsafe impl Zeroable for i64 {}
unsafe impl Zeroable for num_complex::Complex<f32> {}
unsafe impl Zeroable for num_complex::Complex<f64> {}

/// Blocks at least this large get the huge-page advice.
const HUGE_MIN_BYTES: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// A `Vec` of `n` zeros (see the module docs). Panics like `vec!` when `n` elements overflow
/// `isize` bytes, and aborts like `vec!` when the allocation fails.
pub fn zeroed<T: Zeroable>(n: usize) -> Vec<T> {
    let layout = std::alloc::Layout::array::<T>(n).expect("buffer size overflows isize");
    if layout.size() == 0 {
        return Vec::new();
    }
    // SAFETY: the layout has non-zero size; a null return is handled below.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut T;
    if ptr.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    advise_huge(ptr as *mut u8, layout.size());
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `[T; n]`, which
    // is what `Vec<T>` with capacity `n` deallocates with; the `n` elements are initialised
    // because zeroed memory is a valid `T` (`Zeroable`).
    unsafe { Vec::from_raw_parts(ptr, n, n) }
}

/// Marks the 2 MiB-aligned interior of `[ptr, ptr + len)` for transparent huge pages.
#[cfg(target_os = "linux")]
fn advise_huge(ptr: *mut u8, len: usize) {
    if len < HUGE_MIN_BYTES {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize + len) / HUGE_PAGE * HUGE_PAGE;
    if end > start {
        // SAFETY: the range lies inside an allocation this function owns; MADV_HUGEPAGE
        // changes no contents and only affects how pages are backed. Errors (kernels without
        // THP) are ignored: the advice is a hint.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_ptr: *mut u8, _len: usize) {
    let _ = (HUGE_MIN_BYTES, HUGE_PAGE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_buffers_are_zero_and_usable() {
        for n in [0usize, 1, 7, 1 << 10, (5 << 20) / 8 + 3] {
            let mut v: Vec<num_complex::Complex<f32>> = zeroed(n);
            assert_eq!(v.len(), n);
            assert!(v.iter().all(|z| z.re == 0.0 && z.im == 0.0));
            // writable and growable like any Vec (same allocator layout)
            if n > 0 {
                v[n - 1].re = 1.0;
                assert_eq!(v[n - 1].re, 1.0);
            }
            v.push(num_complex::Complex::new(2.0, 0.0));
            assert_eq!(v.len(), n + 1);
        }
        let w: Vec<f64> = zeroed(HUGE_MIN_BYTES / 8 * 3);
        assert!(w.iter().all(|&x| x == 0.0));
    }
}
