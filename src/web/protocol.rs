//! Messages between the page and the classification worker.

use crate::results::{CellResult, FieldCell, FieldResult, ModelCrop};
use serde::{Deserialize, Serialize};

/// Property of a `done` message that holds its JPEGs as browser `Blob`s made in the worker,
/// `{crop?: Blob, thumb?: Blob}`, so that the page's thread neither copies their bytes nor makes
/// the Blobs (it only makes their URLs). A JPEG sent this way is left out of the serialised
/// reply: `ModelCrop::jpeg` is empty and `thumb` absent.
pub const BLOBS: &str = "blobs";

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    Alive,
    /// `simd`: the WebAssembly instruction set this worker was compiled for
    /// (`relaxed` = SIMD128 + relaxed SIMD, `simd128`, or `scalar`).
    Loaded {
        model_id: String,
        load_ms: f64,
        simd: String,
    },
    LoadError {
        message: String,
    },
    Done {
        id: u32,
        result: CellResult,
        /// The crop the model saw, where the model has a training scale (manifest
        /// `input.cell_scale`); absent when the image was resized whole.
        #[serde(default)]
        crop: Option<ModelCrop>,
        /// The list's preview of the image (`crate::image::thumbnail`, JPEG): the list never decodes
        /// the original file.
        #[serde(default, with = "serde_bytes")]
        thumb: Option<Vec<u8>>,
    },
    /// A field: its white cells, each classified (replaces `Done` for that file).
    Field {
        id: u32,
        field: FieldResult,
    },
    /// A cell added by a click on a field (answer to `cell_at`).
    Added {
        id: u32,
        cell: FieldCell,
    },
    /// Progress within one file (large images, fields with many cells).
    Progress {
        id: u32,
        stage: String,
        done: u32,
        total: u32,
    },
    Failed {
        id: u32,
        message: String,
    },
    Crashed {
        message: String,
    },
    /// The white cells of a live camera frame (answer to `detect`): detection only, nothing
    /// classified (`crate::capture::live_boxes`); boxes `[x, y, w, h]` in the frame's pixels.
    Boxes {
        id: u32,
        width: u32,
        height: u32,
        boxes: Vec<[u32; 4]>,
        too_dark: bool,
        ms: f64,
    },
    /// Timings of repeated inference on one image (benchmarks).
    Bench {
        id: u32,
        preprocess_ms: f64,
        inference_ms: Vec<f64>,
    },
}
