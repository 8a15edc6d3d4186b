//! The page's entry point; everything lives in the library (see `marrowscope::ui`).

#[cfg(target_arch = "wasm32")]
fn main() {
    marrowscope::ui::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("Marrowscope runs in the browser. Build and serve it with: bash scripts/dev.sh");
}
