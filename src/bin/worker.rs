//! The classification Web Worker's entry point (see `marrowscope::web::worker`).

/// The worker's allocator: the system one (dlmalloc in WebAssembly), with every block of 1 KiB
/// or more that is not a tensor (alignment under 16 bytes: images, masks, label maps, JPEG
/// buffers) handed out zeroed. Without it, tract's f32 matrix kernel took 42 instead of 27 ms an
/// image for long stretches of a batch, depending on what the worker had allocated and freed
/// before (the field-or-single decision's buffers): zeroing these blocks removed those stretches
/// (`scripts/bench/worker-files.mjs`, docs/benchmarks.md, "Issue 53's refactor, before and
/// after"). Zeroing tract's own tensors instead (alignment 16) did not.
#[cfg(target_arch = "wasm32")]
struct ZeroedBuffers;

#[cfg(target_arch = "wasm32")]
unsafe impl std::alloc::GlobalAlloc for ZeroedBuffers {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.size() >= 1024 && layout.align() < 16 {
            unsafe { std::alloc::System.alloc_zeroed(layout) }
        } else {
            unsafe { std::alloc::System.alloc(layout) }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    /// A block that grows keeps the system's own (in place where it can); what it grows by is
    /// written by its owner before it is read.
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: ZeroedBuffers = ZeroedBuffers;

#[cfg(target_arch = "wasm32")]
fn main() {
    marrowscope::web::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The worker runs only in the browser; build the site with trunk.");
}
