//! The module's memory allocator on wasm32-unknown-unknown (the
//! `allocator` feature, on by default).
//!
//! Rust's standard allocator on wasm32 (dlmalloc) takes its heap from the
//! memory it grows, not from the space the linker leaves after the data
//! (`__heap_base`), and writes a marker at the end of every stretch it
//! grows. A wactor instance starts from a snapshot of its memory, and each
//! 4 KiB page that holds a byte other than zero costs the instance a page
//! fault: with dlmalloc, a Rust actor's snapshot has the stack's top and
//! the data, the heap's first page, and a page at the end of the memory
//! holding only that marker. This heap starts right after the data, at
//! `__heap_base`, so that a small actor's first allocations share the
//! data's page, and it writes nothing at the end of the memory.
//!
//! The design is small and predictable, since an actor's heap is short-
//! lived (an instance lives as long as its activation):
//!
//! - every block is a multiple of 16 bytes and 16-byte aligned;
//! - blocks of up to [`SMALL_MAX`] bytes have a free list per size (a
//!   multiple of 16), taken first and added to on free; when it is empty
//!   they are cut from the large list like larger blocks, so that they do
//!   not pin the top above freed large blocks;
//! - larger blocks come from one free list in address order, first fit,
//!   the rest of a block split off and left in the list, freed neighbours
//!   merged, and a block freed at the top of the heap given back to it;
//! - what no list holds is taken from the top, and the memory grown (by
//!   the 64 KiB pages missing) when the top reaches its end. A failed grow
//!   makes the allocation fail (Rust then aborts: the instance traps, and
//!   the host reports `memory_exhausted` at the type's limit);
//! - a block aligned to more than 16 bytes is cut from a larger block,
//!   its start stored just below the aligned address.
//!
//! Rust passes the layout a block was allocated with to `dealloc` and
//! `realloc`, so blocks carry no header: the size says the list.

use core::ptr::null_mut;

/// Every block's size and alignment.
const GRANULE: usize = 16;
/// The largest block with a free list of its own size.
const SMALL_MAX: usize = 512;
/// How many sizes have lists of their own.
const SMALL_LISTS: usize = SMALL_MAX / GRANULE;
/// A WebAssembly page.
const PAGE: usize = 64 << 10;
/// The size of the words a free block starts with (its list's next
/// block, then in the large list its size) and of an aligned block's
/// start stored below it.
const WORD: usize = core::mem::size_of::<usize>();

/// The end of a memory that reaches the end of the address space (a
/// wasm32 module's 4 GiB), for the heap: its last whole granule's end,
/// since the memory's own end is not an address.
const ADDRESS_END: usize = usize::MAX & !(GRANULE - 1);

/// Where a heap gets more memory from.
pub(crate) trait Memory {
    /// Grows the memory by `pages` 64 KiB pages and returns where they
    /// start (the old end of the memory), or `None` if it cannot.
    fn grow(&mut self, pages: usize) -> Option<usize>;
}

/// A heap on the addresses `[top, end)` and whatever its lists hold.
/// Addresses are plain numbers; 0 ends a list (no block lies at 0).
pub(crate) struct Heap {
    /// The start of the unused space at the end of the heap.
    top: usize,
    /// The end of the memory the heap may use.
    end: usize,
    /// Free blocks of `16 * (i + 1)` bytes: the first's address; each
    /// block holds the next's.
    small: [usize; SMALL_LISTS],
    /// Free blocks of more than `SMALL_MAX` bytes (and cut-off rests),
    /// in address order: each holds the next's address, then its size.
    large: usize,
}

/// The block a layout of `size` bytes aligned to `align` takes, and
/// whether it is cut from a larger one to be aligned; `None` when that
/// does not fit in an address.
fn block(size: usize, align: usize) -> Option<(usize, bool)> {
    let n = size.checked_add(GRANULE - 1)? & !(GRANULE - 1);
    if align <= GRANULE {
        Some((n.max(GRANULE), false))
    } else {
        Some((n.checked_add(align)?, true))
    }
}

/// Reads the word at `addr`.
///
/// SAFETY: `addr` is word-aligned, in a block the heap owns.
unsafe fn get(addr: usize) -> usize {
    *(addr as *const usize)
}

/// Writes the word at `addr`.
///
/// SAFETY: as [`get`].
unsafe fn set(addr: usize, v: usize) {
    *(addr as *mut usize) = v
}

impl Heap {
    /// A heap of nothing yet: [`Heap::start`] gives it its space.
    pub(crate) const fn new() -> Heap {
        Heap { top: 0, end: 0, small: [0; SMALL_LISTS], large: 0 }
    }

    /// Whether [`Heap::start`] has been called.
    pub(crate) fn started(&self) -> bool {
        self.end != 0
    }

    /// Gives the heap the space from `base` to the memory's `end`, which
    /// nothing else uses.
    pub(crate) fn start(&mut self, base: usize, end: usize) {
        self.top = ((base + GRANULE - 1) & !(GRANULE - 1)).min(end);
        self.end = end;
    }

    /// Allocates `size` bytes aligned to `align` (a power of two), or
    /// returns null.
    ///
    /// SAFETY: the heap owns `[top, end)` and its lists' blocks.
    pub(crate) unsafe fn alloc(&mut self, size: usize, align: usize, mem: &mut impl Memory) -> *mut u8 {
        let (n, cut) = match block(size, align) {
            Some(b) => b,
            None => return null_mut(),
        };
        if cut {
            let start = self.take_large(n, mem);
            if start == 0 {
                return null_mut();
            }
            // At least 16 bytes above the start (align > 16), at most
            // `align`, so that `size` bytes fit after it.
            let at = (start + align) & !(align - 1);
            set(at - WORD, start);
            return at as *mut u8;
        }
        let addr = if n <= SMALL_MAX {
            let head = &mut self.small[n / GRANULE - 1];
            if *head != 0 {
                let a = *head;
                *head = get(a);
                a
            } else {
                // From a freed large block, if any, before the top: a
                // small block taken from the top would sit above the
                // freed ones, which then could not merge with the top.
                self.take_large(n, mem)
            }
        } else {
            self.take_large(n, mem)
        };
        addr as *mut u8
    }

    /// Frees the block at `ptr`, allocated with `size` and `align`.
    ///
    /// SAFETY: `ptr` came from [`Heap::alloc`] (or `realloc`) with that
    /// layout and is not used any more.
    pub(crate) unsafe fn dealloc(&mut self, ptr: *mut u8, size: usize, align: usize) {
        // The layout was allocated, so its block fits in an address.
        let (n, cut) = block(size, align).unwrap_or((0, false));
        let addr = ptr as usize;
        if cut {
            self.free_large(get(addr - WORD), n);
        } else if n <= SMALL_MAX {
            let head = &mut self.small[n / GRANULE - 1];
            set(addr, *head);
            *head = addr;
        } else {
            self.free_large(addr, n);
        }
    }

    /// Resizes the block at `ptr` (allocated with `size` and `align`) to
    /// `new_size` bytes: in place when its block stays the same size,
    /// shrinks, or is at the top of the heap; otherwise moved. Null when
    /// there is no memory for it; the block is then left as it was.
    ///
    /// SAFETY: as [`Heap::dealloc`], and `new_size` rounded up to `align`
    /// fits in an address.
    pub(crate) unsafe fn realloc(
        &mut self,
        ptr: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
        mem: &mut impl Memory,
    ) -> *mut u8 {
        let (n, cut) = block(size, align).unwrap_or((0, false));
        let (m, _) = match block(new_size, align) {
            Some(b) => b,
            None => return null_mut(),
        };
        let addr = ptr as usize;
        if !cut && (m == n || (n > SMALL_MAX && m > SMALL_MAX)) {
            if m == n {
                return ptr;
            }
            if m < n {
                self.free_large(addr + m, n - m);
                return ptr;
            }
            if addr + n == self.top && self.reserve(m - n, mem) && addr + n == self.top {
                self.top = addr + m;
                return ptr;
            }
        }
        let new = self.alloc(new_size, align, mem);
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, size.min(new_size));
            self.dealloc(ptr, size, align);
        }
        new
    }

    /// Takes `n` bytes from the top, growing the memory if needed; 0 if
    /// it cannot.
    unsafe fn take_top(&mut self, n: usize, mem: &mut impl Memory) -> usize {
        if !self.reserve(n, mem) {
            return 0;
        }
        let a = self.top;
        self.top += n;
        a
    }

    /// Makes `[top, top + n)` the heap's, growing the memory by the pages
    /// missing. Memory that something else grew in between is skipped:
    /// the heap's rest before it is kept in the large list and the top
    /// moves to the new pages.
    unsafe fn reserve(&mut self, n: usize, mem: &mut impl Memory) -> bool {
        while self.end - self.top < n {
            let missing = n - (self.end - self.top);
            let pages = missing / PAGE + (missing % PAGE != 0) as usize;
            let grown = match pages.checked_mul(PAGE) {
                Some(b) => b,
                None => return false,
            };
            let start = match mem.grow(pages) {
                Some(s) => s,
                None => return false,
            };
            let new_end = start.checked_add(grown).unwrap_or(ADDRESS_END);
            if start == self.end {
                self.end = new_end;
                continue;
            }
            let (rest, rest_len) = (self.top, self.end - self.top);
            self.top = start;
            self.end = new_end;
            if rest_len >= GRANULE {
                self.free_large(rest, rest_len);
            }
        }
        true
    }

    /// A block of `n` bytes from the large list, first fit (the end of
    /// the first block large enough), or else from the top; 0 if there
    /// is no memory for it.
    unsafe fn take_large(&mut self, n: usize, mem: &mut impl Memory) -> usize {
        let mut prev = 0;
        let mut at = self.large;
        while at != 0 {
            let len = get(at + WORD);
            if len == n {
                self.link(prev, get(at));
                return at;
            }
            if len > n {
                // The rest (a multiple of 16) stays where it is.
                set(at + WORD, len - n);
                return at + len - n;
            }
            prev = at;
            at = get(at);
        }
        self.take_top(n, mem)
    }

    /// Makes the large list go from `prev` (0: its head) on to `next`.
    unsafe fn link(&mut self, prev: usize, next: usize) {
        if prev == 0 {
            self.large = next;
        } else {
            set(prev, next);
        }
    }

    /// Puts `[addr, addr + n)` in the large list, merged with the free
    /// blocks it touches, or back into the top if it ends there.
    unsafe fn free_large(&mut self, mut addr: usize, mut n: usize) {
        // `prev` is the last free block below, `at` the first above,
        // `before` the one before `prev` (0: none).
        let (mut before, mut prev, mut at) = (0, 0, self.large);
        while at != 0 && at < addr {
            before = prev;
            prev = at;
            at = get(at);
        }
        if at != 0 && addr + n == at {
            n += get(at + WORD);
            at = get(at);
        }
        if prev != 0 && prev + get(prev + WORD) == addr {
            addr = prev;
            n += get(prev + WORD);
            prev = before;
        }
        if addr + n == self.top {
            // No free block lies above it (it would lie below the top).
            self.top = addr;
            self.link(prev, 0);
            return;
        }
        set(addr, at);
        set(addr + WORD, n);
        self.link(prev, addr);
    }
}

/// The heap of a wasm32-unknown-unknown module: its memory 0, from
/// `__heap_base`. Not on WASI, whose C library has a `malloc` of its own
/// that may take the same memory.
#[cfg(all(target_arch = "wasm32", target_os = "unknown", feature = "allocator"))]
mod wasm {
    use super::{Heap, Memory, ADDRESS_END, PAGE};
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    extern "C" {
        /// The first byte after the data, set by the linker.
        static __heap_base: u8;
    }

    /// Memory 0, grown with `memory.grow`.
    struct Linear;

    impl Memory for Linear {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            match core::arch::wasm32::memory_grow(0, pages) {
                usize::MAX => None,
                old => old.checked_mul(PAGE),
            }
        }
    }

    /// The module's allocator: one [`Heap`].
    pub struct Allocator(UnsafeCell<Heap>);

    // SAFETY: a wasm32-unknown-unknown module built without the atomics
    // feature has one thread, so the heap is never used concurrently.
    #[cfg(not(target_feature = "atomics"))]
    unsafe impl Sync for Allocator {}

    impl Allocator {
        /// The heap, started on first use.
        ///
        /// SAFETY: one thread, and no allocator call runs inside another.
        #[allow(clippy::mut_from_ref)]
        unsafe fn heap(&self) -> &mut Heap {
            let heap = &mut *self.0.get();
            if !heap.started() {
                let base = core::ptr::addr_of!(__heap_base) as usize;
                let end = core::arch::wasm32::memory_size(0).checked_mul(PAGE).unwrap_or(ADDRESS_END);
                heap.start(base, end);
            }
            heap
        }
    }

    unsafe impl GlobalAlloc for Allocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.heap().alloc(layout.size(), layout.align(), &mut Linear)
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.heap().dealloc(ptr, layout.size(), layout.align())
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            self.heap().realloc(ptr, layout.size(), layout.align(), new_size, &mut Linear)
        }
    }

    #[global_allocator]
    static ALLOCATOR: Allocator = Allocator(UnsafeCell::new(Heap::new()));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory of at most `limit` pages in a buffer of the test's, which
    /// something else may grow too (`foreign`).
    struct TestMemory {
        buf: Vec<u128>,
        pages: usize,
        limit: usize,
        foreign: usize,
    }

    impl TestMemory {
        fn new(pages: usize, limit: usize) -> TestMemory {
            TestMemory { buf: vec![0; limit * PAGE / 16], pages, limit, foreign: 0 }
        }
        fn base(&self) -> usize {
            self.buf.as_ptr() as usize
        }
        fn end(&self) -> usize {
            self.base() + self.pages * PAGE
        }
    }

    impl Memory for TestMemory {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            // Another user of the memory grows it first, if asked to.
            self.pages += core::mem::take(&mut self.foreign);
            if self.pages + pages > self.limit {
                return None;
            }
            let start = self.end();
            self.pages += pages;
            Some(start)
        }
    }

    /// A heap on `mem` from `offset` bytes into it.
    fn heap_on(mem: &TestMemory, offset: usize) -> Heap {
        let mut h = Heap::new();
        h.start(mem.base() + offset, mem.end());
        h
    }

    /// A live block and the byte it is filled with.
    struct Live {
        ptr: *mut u8,
        size: usize,
        align: usize,
        fill: u8,
    }

    unsafe fn check(b: &Live) {
        let s = core::slice::from_raw_parts(b.ptr, b.size);
        assert!(s.iter().all(|&c| c == b.fill), "block at {:p} ({} bytes) was overwritten", b.ptr, b.size);
    }

    /// xorshift64: the tests' random sizes and choices.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Checks the large list: in address order, below the top, no two
    /// blocks touching, none ending at the top.
    unsafe fn check_large(h: &Heap) {
        let mut at = h.large;
        let mut end = 0;
        while at != 0 {
            let len = get(at + WORD);
            assert!(at > end && len >= GRANULE && len % GRANULE == 0, "block {:#x} of {} after {:#x}", at, len, end);
            end = at + len;
            assert!(end < h.top, "a free block reaches the top");
            at = get(at);
        }
    }

    /// Random allocations, frees and reallocations of every size class,
    /// large blocks and over-aligned ones: each block is aligned, inside
    /// the memory, and keeps its bytes until freed (no two overlap).
    #[test]
    fn random_blocks_stay_apart() {
        let mut mem = TestMemory::new(1, 256);
        let mut h = heap_on(&mem, 1000);
        let mut rng = Rng(0x9e3779b97f4a7c15);
        let mut live: Vec<Live> = Vec::new();
        for i in 0..20000u32 {
            let fill = (i % 251) as u8 + 1;
            match rng.below(10) {
                0..=3 => {
                    let size = match rng.below(10) {
                        0 => rng.below(40000) + 1,
                        1 => rng.below(4096) + 1,
                        _ => rng.below(600) + 1,
                    };
                    let bits = if rng.below(20) == 0 { 13 } else { 4 };
                    let align = 1 << rng.below(bits);
                    let ptr = unsafe { h.alloc(size, align, &mut mem) };
                    assert!(!ptr.is_null(), "out of memory after {} steps", i);
                    assert_eq!(ptr as usize % align, 0, "alignment {}", align);
                    assert!(ptr as usize >= mem.base() + 1000 && ptr as usize + size <= mem.end());
                    unsafe { core::ptr::write_bytes(ptr, fill, size) };
                    live.push(Live { ptr, size, align, fill });
                }
                4..=6 if !live.is_empty() => {
                    let b = live.swap_remove(rng.below(live.len()));
                    unsafe {
                        check(&b);
                        h.dealloc(b.ptr, b.size, b.align);
                    }
                }
                7..=9 if !live.is_empty() => {
                    let k = rng.below(live.len());
                    let b = &mut live[k];
                    let new_size = match rng.below(4) {
                        0 => (b.size / 2).max(1),
                        1 => b.size + rng.below(100) + 1,
                        2 => b.size * 2,
                        _ => rng.below(2000) + 1,
                    };
                    let p = unsafe {
                        check(b);
                        let p = h.realloc(b.ptr, b.size, b.align, new_size, &mut mem);
                        assert!(!p.is_null());
                        assert_eq!(p as usize % b.align, 0);
                        // The bytes up to the smaller size moved with it.
                        check(&Live { ptr: p, size: b.size.min(new_size), ..*b });
                        core::ptr::write_bytes(p, fill, new_size);
                        p
                    };
                    *b = Live { ptr: p, size: new_size, align: b.align, fill };
                }
                _ => {}
            }
            unsafe { check_large(&h) };
        }
        for b in live.drain(..) {
            unsafe {
                check(&b);
                h.dealloc(b.ptr, b.size, b.align);
            }
        }
    }

    /// The largest message the host sends, allocated, freed and allocated
    /// again, takes the same memory: freed blocks merge and go back to the
    /// top, and nothing grows twice.
    #[test]
    fn freed_blocks_merge_and_are_reused() {
        let big = crate::limits::DEFAULT_MAX_MESSAGE + crate::limits::ARG_OVERHEAD;
        let mut mem = TestMemory::new(1, 64);
        let mut h = heap_on(&mem, 3000);
        unsafe {
            let small = h.alloc(24, 8, &mut mem);
            h.dealloc(small, 24, 8);
            assert_eq!(h.alloc(17, 4, &mut mem), small, "a small block of the same size is reused");

            let a = h.alloc(600, 8, &mut mem);
            let b = h.alloc(700, 8, &mut mem);
            let c = h.alloc(800, 8, &mut mem);
            h.dealloc(a, 600, 8);
            h.dealloc(b, 700, 8);
            assert_eq!(h.alloc(1300, 8, &mut mem), a, "two freed neighbours make one block");
            h.dealloc(c, 800, 8);
            assert_eq!(h.top, c as usize, "the block at the top went back to it");

            let m = h.alloc(big, 1, &mut mem);
            assert!(!m.is_null());
            let pages = mem.pages;
            h.dealloc(m, big, 1);
            assert_eq!(h.top, m as usize, "the freed block at the top is the top again");
            assert_eq!(h.alloc(big, 1, &mut mem), m);
            assert_eq!(mem.pages, pages, "the memory grew once");
        }
    }

    /// A vector doubling at the top of the heap grows in place, and the
    /// memory grows by the pages it needs, no more.
    #[test]
    fn realloc_at_the_top_grows_in_place() {
        let mut mem = TestMemory::new(1, 64);
        let mut h = heap_on(&mem, 100);
        unsafe {
            let mut size = 1024;
            let p = h.alloc(size, 1, &mut mem);
            core::ptr::write_bytes(p, 7, size);
            while size < 2 << 20 {
                assert_eq!(h.realloc(p, size, 1, size * 2, &mut mem), p);
                core::ptr::write_bytes(p.add(size), 7, size);
                size *= 2;
            }
            check(&Live { ptr: p, size, align: 1, fill: 7 });
            assert_eq!(mem.pages, (100 + size + PAGE - 1) / PAGE);
            // Shrinking gives the rest back to the top.
            assert_eq!(h.realloc(p, size, 1, 1000, &mut mem), p);
            assert_eq!(h.top, p as usize + 1008);
        }
    }

    /// At the memory's limit an allocation fails (null) and the heap is
    /// left as it was: what was allocated keeps its bytes, and memory
    /// freed afterwards serves the next allocation.
    #[test]
    fn exhaustion_fails_cleanly() {
        let mut mem = TestMemory::new(1, 20);
        let mut h = heap_on(&mem, 0);
        let mut live = Vec::new();
        unsafe {
            loop {
                let p = h.alloc(100_000, 8, &mut mem);
                if p.is_null() {
                    break;
                }
                core::ptr::write_bytes(p, live.len() as u8 + 1, 100_000);
                live.push(p);
            }
            assert_eq!(live.len(), 13, "20 pages hold 13 blocks of 100,000 bytes");
            assert!(mem.pages <= 20);
            let v = live[5];
            assert!(h.realloc(v, 100_000, 8, 2_000_000, &mut mem).is_null());
            assert!(h.alloc(usize::MAX - 8, 8, &mut mem).is_null(), "a size past the address space");
            for (i, &p) in live.iter().enumerate() {
                check(&Live { ptr: p, size: 100_000, align: 8, fill: i as u8 + 1 });
            }
            h.dealloc(live[3], 100_000, 8);
            assert_eq!(h.alloc(90_000, 8, &mut mem), live[3].add(10_000), "the freed block's end");
        }
    }

    /// Memory that something else grew is not the heap's: the heap takes
    /// its next block from the pages it grew itself, and keeps the rest
    /// it had for later.
    #[test]
    fn memory_grown_by_another_is_left_alone() {
        let mut mem = TestMemory::new(1, 16);
        let mut h = heap_on(&mem, 0);
        unsafe {
            let a = h.alloc(60_000, 8, &mut mem);
            assert_eq!(a as usize, mem.base());
            mem.foreign = 2;
            let b = h.alloc(10_000, 8, &mut mem);
            assert_eq!(b as usize, mem.base() + 3 * PAGE, "after the 2 pages grown by another");
            let c = h.alloc(5_000, 8, &mut mem);
            assert_eq!(c as usize, mem.base() + PAGE - 5008, "the rest before them");
        }
    }

    /// An actor that, each turn, builds a buffer as large as its state
    /// (growing), keeps a small new entry made while the buffer lives,
    /// and frees the buffer: the freed buffers' memory serves the next
    /// ones, rather than each small entry pinning the top above the last
    /// buffer's hole so that the memory grows by every buffer.
    #[test]
    fn small_blocks_do_not_strand_freed_large_ones() {
        let mut mem = TestMemory::new(1, 64);
        let mut h = heap_on(&mem, 1000);
        let mut entries = Vec::new();
        unsafe {
            for turn in 1..=1000 {
                let n = 600 + 48 * turn;
                let buf = h.alloc(n, 1, &mut mem);
                assert!(!buf.is_null(), "out of 4 MiB at turn {} with {} bytes live", turn, 48 * turn);
                entries.push(h.alloc(48, 8, &mut mem));
                h.dealloc(buf, n, 1);
                check_large(&h);
            }
        }
        // 48,000 bytes of entries and a buffer of 48,600.
        assert!(mem.pages <= 3, "{} pages", mem.pages);
    }

    /// A memory that reaches the end of the address space (a wasm32
    /// module's 4 GiB) is the heap's up to its last granule: the pages
    /// grown up to that end serve the allocation that grew them. The
    /// memory here is addresses only: the heap writes nothing into a
    /// block it takes from the top.
    #[test]
    fn memory_up_to_the_end_of_the_address_space_is_used() {
        /// Where the memory ends; 0 once it reaches the address space's
        /// end, past which it cannot grow.
        struct ToTheEnd(usize);
        impl Memory for ToTheEnd {
            fn grow(&mut self, pages: usize) -> Option<usize> {
                let start = self.0;
                if start == 0 || pages * PAGE > 0usize.wrapping_sub(start) {
                    return None;
                }
                self.0 = start.wrapping_add(pages * PAGE);
                Some(start)
            }
        }
        let end = 0usize.wrapping_sub(PAGE);
        let mut mem = ToTheEnd(end);
        let mut h = Heap::new();
        h.start(end - PAGE, end);
        unsafe {
            assert_eq!(h.alloc(PAGE + 16, 8, &mut mem) as usize, end - PAGE, "grown to the end");
            assert_eq!(mem.0, 0);
            assert_eq!(h.alloc(PAGE - 32, 8, &mut mem) as usize, end + 16, "the last whole granule");
            assert!(h.alloc(1, 1, &mut mem).is_null());
        }
    }

}
