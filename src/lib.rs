//! Marrowscope's core: everything between a dropped file and a result, in plain
//! Rust that runs natively (tests, evaluation) and in the browser (wasm).
//!
//! - [`taxonomy`] — the 21 MLL classes
//! - [`manifest`] — what a model is, read from `manifest.json`
//! - [`decode`] — bytes → RGB image, with size and memory limits
//! - [`preprocess`] — image → input tensor, as the manifest says
//! - [`inference`] — ONNX loading, optimisation and running with tract (feature `engine`, on by
//!   default; the page's bundle is built without it because only the worker runs models)
//! - [`fake_quant`] — the int8 model's activation round trips (quantise, dequantise) as one pass
//! - [`scores`] — softmax and top-k
//! - [`classify`] — the whole path, bytes → ranked prediction
//! - [`conformal`] — prediction sets with guaranteed coverage
//! - [`ood`] — the "outside what this model knows" flag from the model's own features
//! - [`cam`] — class activation maps
//! - [`count`] — the differential count and its export
//! - [`metrics`] — evaluation (accuracy, F1, confusion, calibration)
//! - [`cells`] — finding white cells in smear fields, measuring a cell, scale crops
//! - [`fields`] — single cell or field, and a field's white cells cropped at the training scale
//! - [`learn`] — the morphology trainer: teaching set, progress, what comes next, pairs to compare
//! - [`thumbnail`] — the batch list's small previews, made from the decoded pixels
//! - [`session`] — a count's cells as the browser stores them, so that a reload loses nothing

pub mod cam;
pub mod cells;
pub mod classify;
pub mod conformal;
pub mod count;
pub mod dataset;
pub mod decode;
#[cfg(feature = "engine")]
pub mod dequantize;
pub mod dump;
pub mod error;
#[cfg(feature = "engine")]
pub mod fake_quant;
pub mod fields;
#[cfg(feature = "engine")]
pub mod inference;
pub mod learn;
pub mod manifest;
pub mod metrics;
pub mod ood;
pub mod preprocess;
pub mod scores;
pub mod taxonomy;
pub mod thumbnail;

pub mod session;
#[cfg(target_arch = "wasm32")]
pub mod ui;
/// Browser glue; its message types ([`web::protocol`]) are plain data and build natively too.
pub mod web;

#[cfg(feature = "engine")]
pub use classify::Classifier;
pub use classify::Prediction;
pub use error::{Error, Result};
pub use manifest::Manifest;
