//! Browser glue shared by the page and the worker. Only [`protocol`] (plain data) builds
//! natively; the rest is wasm only.

#[cfg(target_arch = "wasm32")]
pub mod blob;
#[cfg(target_arch = "wasm32")]
pub mod console;
#[cfg(target_arch = "wasm32")]
pub mod idb;
#[cfg(target_arch = "wasm32")]
pub mod marks;
pub mod protocol;
#[cfg(all(target_arch = "wasm32", feature = "engine"))]
pub mod worker;
