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

// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for f32 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for f64 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for u8 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for u16 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for u32 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for u64 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for i32 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for i64 {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
unsafe impl Zeroable for num_complex::Complex<f32> {}
// SAFETY: all-zero bits are the value 0 (0.0 for floats, 0 + 0i for complex).
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

/// A small cache of large work buffers kept between calls, so that a simulator called again
/// on a volume of the same size reuses its memory instead of faulting in (and having the
/// kernel clear) fresh pages each time; on a virtual machine that first touch is a sizeable
/// part of a 3-D simulation.
///
/// [`Pool::take`] hands out a buffer of the requested length whose **contents are
/// unspecified** (zeros or values of an earlier call): callers must write every element before
/// reading it. [`Pool::give`] returns it; at most `slots` buffers are kept (the largest are
/// dropped first) and [`Pool::clear`] frees them all.
pub struct Pool<T> {
    slots: std::sync::Mutex<Vec<Vec<T>>>,
    max_slots: usize,
}

impl<T: Zeroable> Pool<T> {
    /// An empty pool that keeps at most `max_slots` buffers.
    pub const fn new(max_slots: usize) -> Self {
        Pool {
            slots: std::sync::Mutex::new(Vec::new()),
            max_slots,
        }
    }

    /// A buffer of length `n`: the smallest kept one with enough capacity, else a new
    /// [`zeroed`] one. Contents unspecified (see the type docs).
    pub fn take(&self, n: usize) -> Vec<T> {
        let kept = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let best = slots
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= n)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(i, _)| i);
            best.map(|i| slots.swap_remove(i))
        };
        match kept {
            Some(mut v) => {
                if v.len() >= n {
                    v.truncate(n);
                } else {
                    // SAFETY: all-zero bytes are a valid `T` (`Zeroable`)
                    v.resize(n, unsafe { std::mem::zeroed() });
                }
                v
            }
            None => zeroed(n),
        }
    }

    /// Keeps `v` for a later [`Pool::take`] (dropping the largest buffers beyond the limit).
    pub fn give(&self, v: Vec<T>) {
        if self.max_slots == 0 || v.capacity() == 0 {
            return;
        }
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.push(v);
        if slots.len() > self.max_slots {
            slots.sort_by_key(|v| v.capacity());
            slots.truncate(self.max_slots);
        }
    }

    /// Frees every kept buffer.
    pub fn clear(&self) {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Bytes held by the kept buffers.
    pub fn held_bytes(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .iter()
            .map(|v| v.capacity() * std::mem::size_of::<T>())
            .sum()
    }
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

    #[test]
    fn pool_reuses_and_bounds_its_buffers() {
        let pool: Pool<f32> = Pool::new(2);
        let mut a = pool.take(100);
        assert_eq!(a.len(), 100);
        assert!(a.iter().all(|&x| x == 0.0));
        a.fill(7.0);
        let pa = a.as_ptr();
        pool.give(a);
        // the kept buffer comes back (same memory, old contents allowed), at the new length
        let b = pool.take(60);
        assert_eq!((b.len(), b.as_ptr()), (60, pa));
        // longer than what was kept: extended, no reallocation needed while capacity allows
        pool.give(b);
        let c = pool.take(100);
        assert_eq!(c.len(), 100);
        assert_eq!(c.as_ptr(), pa);
        // too large for any kept buffer: a fresh zeroed one
        let d = pool.take(1000);
        assert!(d.iter().all(|&x| x == 0.0));
        pool.give(c);
        pool.give(d);
        pool.give(vec![1.0; 10]);
        // at most two kept: the largest (1000) was dropped
        assert_eq!(pool.held_bytes(), (100 + 10) * 4);
        pool.clear();
        assert_eq!(pool.held_bytes(), 0);
    }
}
