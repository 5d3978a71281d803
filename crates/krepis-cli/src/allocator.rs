//! How the allocator treats memory.
//!
//! Two defaults cost a checker of many small files more than they give:
//!
//! - mimalloc asks Linux to back its memory with transparent huge pages. A huge page is 2 MiB
//!   that the kernel zeroes in one go on first touch, however little of it is used; on VS Code's
//!   sources that made a check's peak memory a third larger and its page zeroing (a fifth of the
//!   run) slower. Every command turns them off for the process (`PR_SET_THP_DISABLE`, which
//!   holds for memory mapped before the call too: the kernel asks at each page fault).
//! - mimalloc gives freed memory back to the system ("purges" it) a second after it falls empty.
//!   A check reads each file, keeps its facts and drops its text and syntax tree, so memory falls
//!   empty and is asked for again all through the run, and every page that comes back from the
//!   system is zeroed by the kernel first. A command that ends in a second has no use for giving
//!   memory back, so it keeps it; its peak stays the same. The language server, which lives on,
//!   keeps mimalloc's default.

use std::os::raw::{c_int, c_long};

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t`: libmimalloc-sys leaves the newer
/// options unnamed and says to pass their numbers. A test holds the number to its default.
const PURGE_DELAY: c_int = 15;

/// Never give freed memory back to the system during this process.
pub fn keep_freed_memory() {
    // SAFETY: sets a plain option value; mimalloc reads options at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1 as c_long) }
}

/// Back this process's memory with ordinary pages only. Programs it starts (git) inherit this.
pub fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: a plain process flag; a kernel without it answers an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_off_after_the_call() {
        super::no_huge_pages();
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
    }

    #[test]
    fn the_option_number_is_the_purge_delay() {
        // mimalloc 3's default purge delay is 1,000 ms (its `options.c`); another option at this
        // number would have another default.
        let value = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(value, 1000);
    }
}
