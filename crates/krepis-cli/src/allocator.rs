//! How the allocator treats memory the program frees.
//!
//! mimalloc gives freed memory back to the system ("purges" it) a second after it falls empty. A
//! check reads each file, keeps its facts and drops its text and syntax tree, so memory falls
//! empty and is asked for again all through the run, and every page that comes back from the
//! system is zeroed by the kernel first: on a 5,000-file project that zeroing was a fifth of the
//! run. A command that ends in a second has no use for giving memory back, so it keeps it; its
//! peak stays the same. The language server, which lives on, keeps mimalloc's default.

use std::os::raw::{c_int, c_long};

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t`: libmimalloc-sys leaves the newer
/// options unnamed and says to pass their numbers. A test holds the number to its default.
const PURGE_DELAY: c_int = 15;

/// Never give freed memory back to the system during this process.
pub fn keep_freed_memory() {
    // SAFETY: sets a plain option value; mimalloc reads options at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1 as c_long) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_option_number_is_the_purge_delay() {
        // mimalloc 3's default purge delay is 1,000 ms (its `options.c`); another option at this
        // number would have another default.
        let value = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(value, 1000);
    }
}
