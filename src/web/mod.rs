//! Browser glue shared by the page and the worker (wasm only).

pub mod console;
pub mod protocol;
#[cfg(feature = "engine")]
pub mod worker;
