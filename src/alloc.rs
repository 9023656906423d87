//! A cache of small freed blocks in front of the system allocator, for the release module on
//! Linux.
//!
//! rusty_enet allocates and frees about seven small blocks per message (packet headers, their
//! data, protocol commands, acknowledgements), in bursts of a frame's worth. glibc's per-thread
//! cache keeps 7 blocks per size, so most of a burst goes through its slow paths: about 1 300
//! instructions per message, as much as C ENet's whole protocol (docs/performance.md). Here
//! freed blocks of up to 256 bytes wait in per-size stacks for the next request of that size.
//! The stacks are deep enough for a receiver's burst: one service pass reads up to 256
//! datagrams, a stream of small messages packs ~20 in each, and every message takes four
//! blocks (command, packet, data, acknowledgement), so a stack of 128 overflowed and ~1 000
//! instructions per received message went back to glibc's slow paths (callgrind, stream
//! receiver). The first `SHALLOW` blocks of a stack cost no bookkeeping (the per-frame case);
//! beyond them the stacks share `CAP` bytes. One flag guards the stacks; a thread that finds it
//! taken (the resolver's threads, now and then) simply uses the system allocator. Every block
//! is the system's own (`malloc`), so either side may free it.
//!
//! rusty_enet does not always free a block with the `Layout` it allocated it with (defect B5,
//! docs/reliability.md: a smaller size), which the system allocator ignores. So does this one:
//! a freed block is filed by the size `malloc_usable_size` reports, never by its `Layout`, and
//! is only ever handed out for requests no larger than that.
//!
//! At most 16 x 128 blocks of 16-256 bytes (272 KiB) plus `CAP` (4 MiB) stay cached, about what
//! glibc keeps in its own bins after such a burst, and up to 8 datagram buffers of 4 KiB. They
//! go back to the system when the library is unloaded (`lua_close`) or the process ends, so
//! leak checkers see no difference.
//! Debug builds (what the test suites run under valgrind) keep the plain system allocator, so
//! memcheck still sees every block rusty_enet frees; the unit tests below drive a `Pool`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

const STEP: usize = 16;
const CLASSES: usize = 16;
const DEPTH: usize = 4096;
/// Blocks a stack keeps without counting bytes.
const SHALLOW: usize = 128;
/// The most bytes the stacks hold beyond their first `SHALLOW` blocks (counted by class size).
const CAP: usize = 4 << 20;

pub struct Pool {
    busy: AtomicBool,
    bins: UnsafeCell<Bins>,
}

struct Bins {
    /// Bytes held by all the stacks beyond their first `SHALLOW` blocks, by class size.
    deep_bytes: usize,
    by_class: [Stack<DEPTH>; CLASSES],
    /// Freed datagram buffers (`BYTE_BUFFER`), for the next datagram.
    buffers: Stack<BUFFERS>,
}

/// Up to `N` freed blocks, the last one freed handed out first.
#[derive(Clone, Copy)]
struct Stack<const N: usize> {
    len: usize,
    blocks: [*mut u8; N],
}

// SAFETY: `bins` is only touched by the thread that set `busy`.
unsafe impl Sync for Pool {}

impl<const N: usize> Stack<N> {
    const EMPTY: Stack<N> = Stack {
        len: 0,
        blocks: [ptr::null_mut(); N],
    };

    #[inline(always)]
    fn pop(&mut self) -> Option<*mut u8> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // `len` stays within 0..=N: the remainder only spares a bounds check.
        Some(self.blocks[self.len % N])
    }

    /// Keeps `p`; false when the stack is full.
    #[inline(always)]
    fn push(&mut self, p: *mut u8) -> bool {
        if self.len >= N {
            return false;
        }
        self.blocks[self.len % N] = p;
        self.len += 1;
        true
    }

    /// Frees every block.
    fn free_all(&mut self) {
        for &p in &self.blocks[..self.len.min(N)] {
            // SAFETY: a block from `malloc`, owned by the cache.
            unsafe { libc::free(p.cast()) };
        }
        self.len = 0;
    }
}

impl Pool {
    pub const fn new() -> Pool {
        Pool {
            busy: AtomicBool::new(false),
            bins: UnsafeCell::new(Bins {
                deep_bytes: 0,
                by_class: [Stack::EMPTY; CLASSES],
                buffers: Stack::EMPTY,
            }),
        }
    }

    /// Runs `f` on the bins if no other thread has them.
    #[inline(always)]
    fn with_bins<R>(&self, f: impl FnOnce(&mut Bins) -> R) -> Option<R> {
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
            bins.by_class.iter_mut().for_each(Stack::free_all);
            bins.buffers.free_all();
            bins.deep_bytes = 0;
        });
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

/// The size class a request is served from, if it is small enough.
#[inline(always)]
fn request_class(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size > 0 && size <= STEP * CLASSES && layout.align() <= STEP).then(|| (size - 1) / STEP)
}

/// The class a freed block of `usable` bytes is filed under: the largest whose size it holds.
#[inline(always)]
fn block_class(usable: usize) -> Option<usize> {
    (STEP..=STEP * CLASSES)
        .contains(&usable)
        .then(|| usable / STEP - 1)
}

/// A freed block of `usable` bytes is a datagram buffer: room for `BYTE_BUFFER` bytes, and
/// not much more (malloc adds a few bytes to what was asked).
#[inline(always)]
fn is_buffer(usable: usize) -> bool {
    (BYTE_BUFFER..BYTE_BUFFER + 2 * STEP).contains(&usable)
}

/// The size of the blocks class `class` serves.
#[inline(always)]
fn class_size(class: usize) -> usize {
    (class + 1) * STEP
}

/// A fresh block for class `class`.
fn fresh(class: usize) -> *mut u8 {
    // SAFETY: a non-zero size; malloc aligns to 16 on the 64-bit Linux targets, 8 on 32-bit
    // ones, where requests aligned to 16 are not cached (`request_class` says so there too).
    unsafe { libc::malloc(class_size(class)).cast() }
}

unsafe impl GlobalAlloc for Pool {
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = request_class(layout).filter(|_| layout.align() <= MALLOC_ALIGN) else {
            return unsafe { System.alloc(layout) };
        };
        let cached = self.with_bins(|bins| {
            // `request_class` gives 0..CLASSES.
            let bin = &mut bins.by_class[class % CLASSES];
            let p = bin.pop()?;
            if bin.len >= SHALLOW {
                bins.deep_bytes -= class_size(class);
            }
            Some(p)
        });
        cached.flatten().unwrap_or_else(|| fresh(class))
    }

    #[inline(always)]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // Whatever `layout` says, the block came from malloc (or posix_memalign): free() and
        // malloc_usable_size() accept it.
        let _ = layout;
        // SAFETY: `p` is a live block from `malloc` (every block this allocator hands out is).
        unsafe { self.release(p, libc::malloc_usable_size(p.cast())) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc's contract, forwarded; the copy never reads past the block.
        unsafe {
            let new = Layout::from_size_align_unchecked(new_size, layout.align());
            let usable = libc::malloc_usable_size(p.cast());
            let growing = new_size > layout.size();
            if growing && new_size <= usable {
                // The block already has the room (malloc rounds up, classes round up).
                return p;
            }
            if growing && layout.align() == 1 && layout.size() >= STEP {
                // A byte buffer that grows: see BYTE_BUFFER.
                if new_size > BYTE_BUFFER {
                    return libc::realloc(p.cast(), new_size).cast();
                }
                let q = self.buffer();
                if !q.is_null() {
                    ptr::copy_nonoverlapping(p, q, layout.size().min(usable));
                    self.release(p, usable);
                }
                return q;
            }
            if layout.align() <= MALLOC_ALIGN && request_class(new).is_none() {
                // A large result: glibc may grow the block in place.
                return libc::realloc(p.cast(), new_size).cast();
            }
            if new_size <= usable && new_size > usable / 2 {
                return p;
            }
            let q = self.alloc(new);
            if !q.is_null() {
                ptr::copy_nonoverlapping(p, q, layout.size().min(new_size).min(usable));
                self.release(p, usable);
            }
            q
        }
    }
}

impl Pool {
    /// A block of `BYTE_BUFFER` bytes: a cached one, else a fresh one.
    fn buffer(&self) -> *mut u8 {
        let cached = self.with_bins(|bins| bins.buffers.pop()).flatten();
        // SAFETY: a non-zero size.
        cached.unwrap_or_else(|| unsafe { libc::malloc(BYTE_BUFFER).cast() })
    }

    /// Gives up the block `p` of `usable` bytes (what `malloc_usable_size` says): kept for reuse
    /// when it fits a size class or is a datagram buffer and its stack has room, else freed.
    ///
    /// # Safety
    /// `p` is a live block from `malloc`, and the caller gives it up.
    #[inline(always)]
    unsafe fn release(&self, p: *mut u8, usable: usize) {
        let class = block_class(usable);
        let kept = (class.is_some() || is_buffer(usable))
            && self.with_bins(|bins| {
                let Some(class) = class else {
                    return bins.buffers.push(p);
                };
                let bin = &mut bins.by_class[class % CLASSES];
                let size = class_size(class);
                let deep = bin.len >= SHALLOW;
                if deep && bins.deep_bytes + size > CAP {
                    return false;
                }
                let kept = bin.push(p);
                if kept && deep {
                    bins.deep_bytes += size;
                }
                kept
            }) == Some(true);
        if !kept {
            unsafe { libc::free(p.cast()) };
        }
    }
}

/// The room a growing byte buffer gets at once. rusty_enet 0.4.1 assembles every datagram in a
/// fresh `Vec<u8>` that it reserves for as many *bytes* as the datagram has buffers (a dozen or
/// two), then grows by doubling to the datagram's size: four or five reallocations and copies
/// per datagram, ~120 instructions per 64 B message in a stream (callgrind). With this, the
/// first growth takes room for every later doubling of a default-MTU datagram (a buffer that
/// doubles from 37 bytes to hold 1 400 asks for 2 368 at the end) and the rest happen in place.
/// Only byte buffers (alignment 1) that grow past 16 bytes are affected; the module's other
/// ones are error messages. rusty_enet frees the buffer after every datagram, and a fresh one
/// from glibc costs ~300 instructions (one that outgrew 2 KiB and moved cost ~2 000), so up to
/// `BUFFERS` freed ones wait here for the next datagram.
const BYTE_BUFFER: usize = 4096;
/// Datagram buffers kept (one is in use at a time; 32 KiB at most).
const BUFFERS: usize = 8;

/// What malloc guarantees, so a cached block fits any request it serves.
const MALLOC_ALIGN: usize = if cfg!(target_pointer_width = "64") {
    16
} else {
    8
};

#[cfg(all(feature = "module", not(debug_assertions), target_os = "linux"))]
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

    /// Fills every byte, so a block handed out twice or too small shows up (valgrind, or the
    /// checks below).
    unsafe fn fill(p: *mut u8, size: usize, byte: u8) {
        unsafe { ptr::write_bytes(p, byte, size) };
    }

    /// A pool on the heap: it is too large for a test thread's stack (in a debug build,
    /// `Pool::new()` by value is copied there more than once).
    fn pool() -> Box<Pool> {
        // SAFETY: all zeroes is a valid Pool: not busy, no bytes held, empty stacks of null pointers.
        unsafe { Box::<Pool>::new_zeroed().assume_init() }
    }

    fn usable(p: *mut u8) -> usize {
        unsafe { libc::malloc_usable_size(p.cast()) }
    }

    #[test]
    fn freed_blocks_are_reused_by_their_size_class_only() {
        let pool = pool();
        unsafe {
            let a = pool.alloc(layout(40, 8));
            fill(a, 40, 1);
            pool.dealloc(a, layout(40, 8));
            let b = pool.alloc(layout(40, 8));
            assert_eq!(a, b);
            fill(b, 40, 2);
            // A larger class never gets a block too small for it.
            let c = pool.alloc(layout(200, 8));
            assert!(usable(c) >= 200);
            pool.dealloc(b, layout(40, 8));
            pool.dealloc(c, layout(200, 8));
            pool.drain();
        }
    }

    #[test]
    fn a_block_freed_with_the_wrong_layout_never_serves_a_larger_request() {
        // rusty_enet's defect B5 frees with a smaller Layout; a larger one must be harmless too.
        let pool = pool();
        unsafe {
            let small = pool.alloc(layout(20, 8));
            pool.dealloc(small, layout(250, 8));
            let big = pool.alloc(layout(4000, 8));
            pool.dealloc(big, layout(24, 8));
            for size in [20, 24, 100, 250, 256] {
                let p = pool.alloc(layout(size, 8));
                assert!(
                    usable(p) >= size,
                    "{size} bytes asked, {} usable",
                    usable(p)
                );
                fill(p, size, 5);
                pool.dealloc(p, layout(size, 8));
            }
            pool.drain();
        }
    }

    #[test]
    fn large_and_overaligned_requests_bypass_the_cache() {
        let pool = pool();
        unsafe {
            for l in [layout(257, 8), layout(4096, 8), layout(64, 64)] {
                let p = pool.alloc(l);
                assert_eq!(p as usize % l.align(), 0);
                fill(p, l.size(), 3);
                pool.dealloc(p, l);
            }
            let p = pool.alloc(layout(64, 8));
            pool.dealloc(p, layout(64, 8));
            // Only the last block was small enough to keep (the 64-byte one aligned to 64 may
            // be too, by its usable size: either way nothing larger than 256 bytes is kept).
            let kept: usize = (*pool.bins.get()).by_class.iter().map(|b| b.len).sum();
            assert!((1..=2).contains(&kept), "{kept} blocks kept");
            pool.drain();
        }
    }

    #[test]
    fn a_full_class_returns_blocks_to_the_system() {
        let pool = pool();
        unsafe {
            // malloc may hand out a larger chunk than asked (a free one it cannot split), so a
            // few blocks may be filed a class up: no class may pass DEPTH, and of twice DEPTH
            // blocks, some must have gone back to the system.
            let blocks: Vec<*mut u8> = (0..2 * DEPTH).map(|_| pool.alloc(layout(16, 8))).collect();
            for &p in &blocks {
                pool.dealloc(p, layout(16, 8));
            }
            let bins = &(*pool.bins.get()).by_class;
            assert!(bins.iter().all(|b| b.len <= DEPTH));
            assert_eq!(bins[0].len, DEPTH);
            let kept: usize = bins.iter().map(|b| b.len).sum();
            assert!(kept < 2 * DEPTH, "{kept} blocks kept");
            pool.drain();
            assert!((*pool.bins.get()).by_class.iter().all(|b| b.len == 0));
        }
    }

    #[test]
    fn the_cache_never_holds_more_than_its_cap() {
        let pool = pool();
        unsafe {
            // Every class full would be 16 x DEPTH blocks of up to 256 bytes, over CAP.
            let layouts: Vec<Layout> = (1..=CLASSES).map(|c| layout(c * STEP, 8)).collect();
            let blocks: Vec<(*mut u8, Layout)> = layouts
                .iter()
                .flat_map(|&l| (0..DEPTH).map(move |_| l))
                .map(|l| (pool.alloc(l), l))
                .collect();
            for &(p, l) in &blocks {
                pool.dealloc(p, l);
            }
            let bins = &*pool.bins.get();
            let held: usize = (0..CLASSES)
                .map(|c| bins.by_class[c].len.saturating_sub(SHALLOW) * class_size(c))
                .sum();
            assert_eq!(held, bins.deep_bytes);
            assert!(
                held <= CAP && held > CAP - 2 * STEP * CLASSES,
                "{held} bytes held"
            );
            // Taking blocks out gives their bytes back to the count.
            let p = pool.alloc(layout(16, 8));
            assert_eq!((*pool.bins.get()).deep_bytes, held - STEP);
            pool.dealloc(p, layout(16, 8));
            pool.drain();
            assert_eq!((*pool.bins.get()).deep_bytes, 0);
        }
    }

    #[test]
    fn realloc_keeps_the_contents_across_classes_and_sizes() {
        let pool = pool();
        unsafe {
            let mut size = 1;
            let mut p = pool.alloc(layout(size, 1));
            *p = 7;
            for next in [3, 16, 17, 100, 256, 257, 5000, 300, 200, 2] {
                p = pool.realloc(p, layout(size, 1), next);
                assert_eq!(*p, 7, "first byte lost growing {size} -> {next}");
                assert!(usable(p) >= next);
                fill(p.add(1), next - 1, 9);
                size = next;
            }
            pool.dealloc(p, layout(size, 1));
            pool.drain();
        }
    }

    #[test]
    fn a_growing_byte_buffer_gets_a_datagram_of_room_at_once() {
        // rusty_enet's datagram buffer: a few bytes reserved, then doubled up to ~1 400.
        let pool = pool();
        unsafe {
            let mut size = 20;
            let mut p = pool.alloc(layout(size, 1));
            fill(p, size, 4);
            // Within the block's own room first (malloc rounds 32 up to 40 usable bytes).
            let q = pool.realloc(p, layout(size, 1), usable(p));
            assert_eq!(q, p);
            p = pool.realloc(p, layout(size, 1), 100);
            assert!(
                usable(p) >= BYTE_BUFFER,
                "{} usable after growing",
                usable(p)
            );
            let first = p;
            fill(p.add(size), 100 - size, 4);
            size = 100;
            while size * 2 <= BYTE_BUFFER {
                p = pool.realloc(p, layout(size, 1), size * 2);
                assert_eq!(p, first, "grew by copying at {size} bytes");
                fill(p.add(size), size, 4);
                size *= 2;
            }
            assert!((0..size).all(|i| *p.add(i) == 4));
            // Aligned blocks and tiny byte strings keep the ordinary policy.
            let q = pool.alloc(layout(8, 1));
            let q = pool.realloc(q, layout(8, 1), 40);
            assert!(usable(q) < BYTE_BUFFER);
            let r = pool.alloc(layout(32, 8));
            let r = pool.realloc(r, layout(32, 8), 64);
            assert!(usable(r) < BYTE_BUFFER);
            pool.dealloc(p, layout(size, 1));
            pool.dealloc(q, layout(40, 1));
            pool.dealloc(r, layout(64, 8));
            pool.drain();
        }
    }

    #[test]
    fn datagram_buffers_are_reused_and_never_more_than_buffers_are_kept() {
        let pool = pool();
        unsafe {
            let grow = |size: usize| {
                let p = pool.alloc(layout(size, 1));
                fill(p, size, 6);
                let q = pool.realloc(p, layout(size, 1), 1400);
                assert!((0..size).all(|i| *q.add(i) == 6), "contents lost");
                assert!(usable(q) >= BYTE_BUFFER);
                fill(q, 1400, 7);
                q
            };
            let first = grow(24);
            pool.dealloc(first, layout(1400, 1));
            // The next datagram gets the same buffer back.
            let again = grow(40);
            assert_eq!(again, first);
            // More than BUFFERS freed at once: the rest go back to the system.
            let many: Vec<*mut u8> = (0..2 * BUFFERS).map(|_| grow(24)).collect();
            pool.dealloc(again, layout(1400, 1));
            for &p in &many {
                pool.dealloc(p, layout(1400, 1));
            }
            assert_eq!((*pool.bins.get()).buffers.len, BUFFERS);
            // A large block that is not a buffer is never kept, nor handed out as one.
            let big = pool.alloc(layout(4000, 1));
            pool.dealloc(big, layout(4000, 1));
            assert_eq!((*pool.bins.get()).buffers.len, BUFFERS);
            pool.drain();
            assert_eq!((*pool.bins.get()).buffers.len, 0);
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
