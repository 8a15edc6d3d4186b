//! The worker's test hook: `selftest_oom_next` makes it run out of memory on the next file, as a
//! file too large for it would, so that the end-to-end tests see the page recover from a worker
//! that dies (the page arms it through `ui::workers::arm_crash`).

use std::cell::Cell;

thread_local! {
    /// Run out of memory on the next file.
    static OOM_NEXT: Cell<bool> = const { Cell::new(false) };
}

/// `selftest_oom_next`: the next file runs the worker out of memory.
pub(super) fn arm() {
    OOM_NEXT.with(|f| f.set(true));
}

/// Called before each file (`classify`, `cell_at`): runs out of memory if armed.
pub(super) fn before_file() {
    if OOM_NEXT.with(|f| f.replace(false)) {
        run_out_of_memory();
    }
}

/// Takes memory until there is none left, as a file too large for the worker would: the
/// allocator's failure ends the worker, and the page must recover.
fn run_out_of_memory() -> ! {
    let mut hog: Vec<Vec<u8>> = Vec::new();
    loop {
        let chunk: Vec<u8> = Vec::with_capacity(256 << 20);
        hog.push(std::hint::black_box(chunk));
    }
}
