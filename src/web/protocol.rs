//! Messages between the page and the classification worker.

use crate::model::scores::Ranked;
use serde::{Deserialize, Serialize};

/// What the worker found for one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub ranked: Vec<Ranked>,
    pub low_confidence: bool,
    pub width: u32,
    pub height: u32,
    pub format: String,
    /// Class activation maps for every class, in manifest order, each `heat_w × heat_h`.
    pub heat_w: usize,
    pub heat_h: usize,
    pub heatmaps: Vec<Vec<f32>>,
    pub ms: f64,
    /// The out-of-distribution flag (absent when the manifest has no `ood` statistics).
    #[serde(default)]
    pub ood: Option<crate::uncertainty::ood::OodAssessment>,
    /// The source (specimen) the image looks like; its prediction sets use its calibration.
    #[serde(default)]
    pub source: Option<crate::uncertainty::conformal::SourceGuess>,
    /// Why the image was taken as a single cell (`crate::cells::fields::Analysis::explain`); absent for
    /// the cells of a field.
    #[serde(default)]
    pub layout: Option<String>,
}

impl CellResult {
    /// The page's result for one prediction (heatmaps of every class, in manifest order).
    pub fn from_prediction(m: &crate::Manifest, p: &crate::Prediction, ms: f64, layout: Option<String>) -> Self {
        let heats: Vec<_> = (0..m.classes.len()).filter_map(|k| p.heatmap(m, k)).collect();
        let (heat_w, heat_h) = heats.first().map(|h| (h.width, h.height)).unwrap_or((0, 0));
        CellResult {
            ranked: p.ranked.clone(),
            low_confidence: p.low_confidence,
            width: p.width,
            height: p.height,
            format: p.format.to_string(),
            heat_w,
            heat_h,
            heatmaps: heats.into_iter().map(|h| h.values).collect(),
            ms,
            ood: p.ood,
            source: p.source.clone(),
            layout,
        }
    }
}

/// The crop the model saw for a single-cell image brought to the model's scale
/// (`cells::crop::cut`), as a JPEG, and how it was cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCrop {
    /// Bytes travel as one `Uint8Array` (`serde_bytes`), not as an array of numbers.
    #[serde(with = "serde_bytes")]
    pub jpeg: Vec<u8>,
    /// `[x, y, w, h]` of the measured cell in the original image's pixels; `None` when no
    /// nucleus was found near the centre and the central square was used whole.
    pub bbox: Option<[u32; 4]>,
    /// The measured nucleus diameter (original pixels).
    pub nucleus_px: Option<f32>,
    /// Crop pixels per original pixel (2.0: the cell was enlarged twice).
    pub scale: f32,
}

/// One white cell of a field: its box in the original image's pixels, the crop the model saw
/// (JPEG) and the model's result on that crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldCell {
    /// `[x, y, w, h]`, pixels of the original image.
    pub bbox: [u32; 4],
    /// Added by the person (a click), not found by detection.
    pub added: bool,
    #[serde(with = "serde_bytes")]
    pub crop_jpeg: Vec<u8>,
    /// The list's preview of the crop (`crate::image::thumbnail`, JPEG).
    #[serde(default, with = "serde_bytes")]
    pub thumb: Option<Vec<u8>>,
    pub result: CellResult,
}

/// What the worker found in a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldResult {
    pub width: u32,
    pub height: u32,
    pub format: String,
    /// The decision in words ("Field: 2 white cells found …").
    pub layout: String,
    /// Nucleus diameter of the cells found (median), for cells added by a click.
    pub typical_nucleus_px: Option<f32>,
    /// Time to decide and find the cells (decoded image → boxes), and the whole file.
    pub detect_ms: f64,
    pub ms: f64,
    /// The worker's WebAssembly memory after this field (MB; it never shrinks, so this is the
    /// high-water mark so far).
    pub memory_mb: f64,
    /// The list's preview of the whole field (`crate::image::thumbnail`, JPEG).
    #[serde(default, with = "serde_bytes")]
    pub thumb: Option<Vec<u8>>,
    /// In detection order (best first).
    pub cells: Vec<FieldCell>,
    /// Boxes `[x, y, w, h]` (original pixels) of the white cells found but too small to classify
    /// (`crate::pipeline::Outcome::too_small`), in detection order: no crop, no result.
    #[serde(default)]
    pub too_small: Vec<[u32; 4]>,
}

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
