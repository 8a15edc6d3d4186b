//! Marrowscope's core: everything between a dropped file and a result, in plain
//! Rust that runs natively (tests, evaluation) and in the browser (wasm).
//!
//! The path from a dropped file to a count, stage by stage:
//!
//! 1. [`image`] — the file as pixels: bytes → RGB image, with size and memory limits
//!    ([`image::decode`]); an image → the model's input tensor, as the manifest says
//!    ([`image::preprocess`]); the batch list's small previews, made from the decoded pixels
//!    ([`image::thumbnail`])
//! 2. [`cells`] — what the image holds: single cell or field ([`cells::fields`]); finding white
//!    cells in smear fields, measuring a cell, and each cell cut at the model's training scale
//!    ([`cells::crop`], at [`image::cell_scale`])
//! 3. [`model`] — ONNX loading, optimisation and running with tract ([`model::inference`], with
//!    [`model::dequantize`] and [`model::fake_quant`], the int8 model's activation round trips
//!    as one pass; feature `engine`, on by default; the page's bundle is built without it
//!    because only the worker runs models); softmax and top-k ([`model::scores`]); class
//!    activation maps ([`model::cam`])
//! 4. [`uncertainty`] — prediction sets with guaranteed coverage ([`uncertainty::conformal`])
//!    and the "outside what this model knows" flag from the model's own features
//!    ([`uncertainty::ood`])
//! 5. [`manifest`] — what a model is, read from `manifest.json`: it assembles the specs the
//!    stages above own (input, training scale, class activation map, conformal, ood)
//! 6. [`classify`] — one image → ranked prediction: runs the stages above in order, with the
//!    manifest beside the loaded model
//! 7. [`pipeline`] — one file → its outcome, as the worker, the native tools and the tests all
//!    read it: single cell or field and why, and per cell its box, how its crop was cut, the crop
//!    the model saw and the prediction (feature `engine`)
//! 8. [`count`] — the differential count and its export
//!
//! Around the path:
//!
//! - [`taxonomy`] — the 21 MLL classes
//! - [`error`] — errors as values, with messages for the person at the microscope
//! - [`csv_export`] — CSV for a spreadsheet (the count's export, Learn's answers): one writer,
//!   every cell guarded against formulas
//! - [`eval`] — evaluation and parity tooling: labelled image lists ([`eval::dataset`]),
//!   accuracy, F1, confusion, calibration ([`eval::metrics`]), the tensor dump for
//!   onnxruntime parity ([`eval::dump`])
//! - [`learn`] — the morphology trainer: teaching set, progress, what comes next, pairs to compare
//! - [`session`] — a count's cells as the browser stores them, so that a reload loses nothing
//! - [`results`] — what reading a file found (a cell's result, a field, the crop the model saw),
//!   one type each, which the worker sends, the page shows and the session stores
//! - [`random`] — a small seeded random generator (the Learn tab's order, the examples' draws)
//! - [`capture`] — counting with a camera: a captured frame's name, the camera's problems in words,
//!   frames too dark, the live view's boxes (detection only), the differential's target
//! - [`pool`] — the pool of classification workers as a plain state machine (queue, two files per
//!   worker, crash replacement, resizing, cancel); the page's `ui::engine` carries out its commands

pub mod capture;
pub mod cells;
pub mod classify;
pub mod count;
pub mod csv_export;
pub mod error;
pub mod eval;
pub mod image;
pub mod learn;
pub mod manifest;
pub mod model;
#[cfg(feature = "engine")]
pub mod pipeline;
pub mod pool;
pub mod random;
pub mod results;
pub mod taxonomy;
pub mod uncertainty;

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
