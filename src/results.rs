//! What reading a file found, as plain data: a cell's result ([`CellResult`]), the crop the
//! model saw ([`ModelCrop`]), a field's white cell ([`FieldCell`]) and what was found in a field
//! ([`FieldInfo`], [`FieldResult`]). The worker sends them to the page (`web::protocol`), the
//! page shows them, and the session stores them (`session::record`) and exports them
//! (`session::export`): one type each, below all three.

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

/// What was found in a field, as the page shows it and the session stores it (the field's own
/// entry; its cells are entries of their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldInfo {
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
    /// Boxes `[x, y, w, h]` (original pixels) of the white cells found but too small to classify
    /// (`crate::pipeline::Outcome::too_small`), in detection order: no crop, no result; counted
    /// as white cells without a class. Absent in sessions stored before it existed (read as none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub too_small: Vec<[u32; 4]>,
}

/// What the worker found in a field: what the field's entry keeps, its preview and its cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldResult {
    pub info: FieldInfo,
    /// The list's preview of the whole field (`crate::image::thumbnail`, JPEG).
    #[serde(default, with = "serde_bytes")]
    pub thumb: Option<Vec<u8>>,
    /// In detection order (best first).
    pub cells: Vec<FieldCell>,
}
