//! The classification Web Worker's entry point (see `marrowscope::web::worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    marrowscope::web::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The worker runs only in the browser; build the site with trunk.");
}
