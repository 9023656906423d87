//! A cache of small freed blocks in front of the system allocator, for the shipped module.
//!
//! rusty_enet allocates and frees about seven small blocks per message (packet headers, their
//! data, protocol commands, acknowledgements), in bursts of a frame's worth. glibc's per-thread
//! cache keeps 7 blocks per size, so most of a burst goes through its slow paths: about 1 300
//! instructions per message, as much as C ENet's whole protocol (docs/performance.md). Here
//! freed blocks of up to 256 bytes wait in per-size stacks of up to 128 for the next request of
//! that size. One lock-free flag guards the stacks; a thread that finds it taken (the resolver's
//! threads, now and then) simply uses the system allocator. Every block is the system's own, so
//! either side may free it.
//!
//! At most 16 x 128 x 256 bytes (512 KiB) stay cached. They go back to the system when the
//! library is unloaded (`lua_close`) or the process ends, so leak checkers see no difference.
//!
//! Only release builds of the module use it (the shipped library and bench/): the debug builds
//! the test suites run under valgrind keep the system allocator, so memcheck still sees every
//! block rusty_enet frees. The unit tests below drive a `Pool` directly.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

const STEP: usize = 16;
const CLASSES: usize = 16;
const DEPTH: usize = 128;

pub struct Pool {
    busy: AtomicBool,
    bins: UnsafeCell<[Bin; CLASSES]>,
}

#[derive(Clone, Copy)]
struct Bin {
    len: usize,
    blocks: [*mut u8; DEPTH],
}

// SAFETY: `bins` is only touched by the thread that set `busy`.
unsafe impl Sync for Pool {}

const EMPTY: Bin = Bin {
    len: 0,
    blocks: [ptr::null_mut(); DEPTH],
};

impl Pool {
    pub const fn new() -> Pool {
        Pool {
            busy: AtomicBool::new(false),
            bins: UnsafeCell::new([EMPTY; CLASSES]),
        }
    }

    /// Runs `f` on the bins if no other thread has them.
    #[inline(always)]
    fn with_bins<R>(&self, f: impl FnOnce(&mut [Bin; CLASSES]) -> R) -> Option<R> {
        if self.busy.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: `busy` was false and is now ours: no other reference to the bins exists.
        let r = f(unsafe { &mut *self.bins.get() });
        self.busy.store(false, Ordering::Release);
        Some(r)
    }

    /// Frees every cached block.
    pub fn drain(&self) {
        let _ = self.with_bins(|bins| {
            for (class, bin) in bins.iter_mut().enumerate() {
                for &p in &bin.blocks[..bin.len] {
                    // SAFETY: a block of this class, allocated by `System` with this layout.
                    unsafe { System.dealloc(p, class_layout(class)) };
                }
                bin.len = 0;
            }
        });
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

/// The size class of a request, if it is small enough to cache.
#[inline(always)]
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size > 0 && size <= STEP * CLASSES && layout.align() <= STEP).then(|| (size - 1) / STEP)
}

/// What every block of a class is allocated as: the class's largest size.
fn class_layout(class: usize) -> Layout {
    // SAFETY: a non-zero multiple of 16, aligned to 16: always a valid layout.
    unsafe { Layout::from_size_align_unchecked((class + 1) * STEP, STEP) }
}

unsafe impl GlobalAlloc for Pool {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            return unsafe { System.alloc(layout) };
        };
        let cached = self.with_bins(|bins| {
            // `class_of` gives 0..CLASSES, and `len` stays within 0..=DEPTH.
            let bin = &mut bins[class % CLASSES];
            if bin.len == 0 {
                return ptr::null_mut();
            }
            bin.len -= 1;
            bin.blocks[bin.len % DEPTH]
        });
        match cached {
            Some(p) if !p.is_null() => p,
            _ => unsafe { System.alloc(class_layout(class)) },
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout) else {
            return unsafe { System.dealloc(p, layout) };
        };
        let kept = self.with_bins(|bins| {
            let bin = &mut bins[class % CLASSES];
            if bin.len >= DEPTH {
                return false;
            }
            bin.blocks[bin.len % DEPTH] = p;
            bin.len += 1;
            true
        });
        if kept != Some(true) {
            unsafe { System.dealloc(p, class_layout(class)) };
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc's contract, forwarded.
        unsafe {
            let new = Layout::from_size_align_unchecked(new_size, layout.align());
            match (class_of(layout), class_of(new)) {
                // Both large: the system can grow in place.
                (None, None) => System.realloc(p, layout, new_size),
                // Same class: the block already has room.
                (Some(a), Some(b)) if a == b => p,
                _ => {
                    let q = self.alloc(new);
                    if !q.is_null() {
                        ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                        self.dealloc(p, layout);
                    }
                    q
                }
            }
        }
    }
}

#[cfg(all(feature = "module", not(debug_assertions)))]
#[global_allocator]
static POOL: Pool = Pool::new();

/// Runs when the library is unloaded (Lua's `lua_close` unloads C modules) or the process
/// exits: the cached blocks go back to the system.
#[cfg(all(feature = "module", not(debug_assertions), target_os = "linux"))]
#[used]
#[link_section = ".fini_array"]
static DRAIN_AT_UNLOAD: extern "C" fn() = drain_at_unload;

#[cfg(all(feature = "module", not(debug_assertions), target_os = "linux"))]
extern "C" fn drain_at_unload() {
    POOL.drain();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    /// Fills every byte, so a block handed out twice or too small shows up as corruption.
    unsafe fn fill(p: *mut u8, size: usize, byte: u8) {
        unsafe { ptr::write_bytes(p, byte, size) };
    }

    #[test]
    fn freed_blocks_are_reused_by_their_size_class_only() {
        let pool = Pool::new();
        unsafe {
            let a = pool.alloc(layout(40, 8));
            fill(a, 40, 1);
            pool.dealloc(a, layout(40, 8));
            // 33..=48 bytes share a class: the same block comes back.
            let b = pool.alloc(layout(48, 8));
            assert_eq!(a, b);
            fill(b, 48, 2);
            // Another class gets another block.
            let c = pool.alloc(layout(64, 8));
            assert_ne!(b, c);
            pool.dealloc(b, layout(48, 8));
            pool.dealloc(c, layout(64, 8));
            pool.drain();
        }
    }

    #[test]
    fn large_and_overaligned_requests_bypass_the_cache() {
        let pool = Pool::new();
        unsafe {
            for l in [layout(257, 8), layout(4096, 8), layout(64, 64)] {
                let p = pool.alloc(l);
                assert_eq!(p as usize % l.align(), 0);
                fill(p, l.size(), 3);
                pool.dealloc(p, l);
            }
            let bins = &*pool.bins.get();
            assert!(bins.iter().all(|b| b.len == 0));
        }
    }

    #[test]
    fn a_full_class_returns_blocks_to_the_system() {
        let pool = Pool::new();
        unsafe {
            let blocks: Vec<*mut u8> = (0..DEPTH + 10).map(|_| pool.alloc(layout(16, 8))).collect();
            for &p in &blocks {
                pool.dealloc(p, layout(16, 8));
            }
            assert_eq!((*pool.bins.get())[0].len, DEPTH);
            pool.drain();
            assert_eq!((*pool.bins.get())[0].len, 0);
        }
    }

    #[test]
    fn realloc_keeps_the_contents_across_classes_and_sizes() {
        let pool = Pool::new();
        unsafe {
            let mut size = 1;
            let mut p = pool.alloc(layout(size, 1));
            *p = 7;
            for next in [3, 16, 17, 100, 256, 257, 5000, 300, 200, 2] {
                p = pool.realloc(p, layout(size, 1), next);
                assert_eq!(*p, 7, "first byte lost growing {size} -> {next}");
                fill(p.add(1), next - 1, 9);
                size = next;
            }
            pool.dealloc(p, layout(size, 1));
            pool.drain();
        }
    }

    #[test]
    fn threads_share_it_safely() {
        static SHARED: Pool = Pool::new();
        let workers: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || unsafe {
                    for i in 0..20_000usize {
                        let size = 1 + (i * 7 + t) % 300;
                        let p = SHARED.alloc(layout(size, 8));
                        fill(p, size, t as u8);
                        assert_eq!(*p.add(size - 1), t as u8);
                        SHARED.dealloc(p, layout(size, 8));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        SHARED.drain();
    }
}
