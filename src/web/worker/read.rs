//! A file read by the core in the worker, turned into replies: a dropped file
//! ([`crate::pipeline::read_file`]: `done` for a single cell, `field` for a field, `progress` on
//! the way) and a cell clicked on a field ([`crate::pipeline::cell_at`]: `added`), with the crops
//! the model saw as JPEGs and the time each cell took.

use super::{now, post, with_classifier};
use crate::cells::fields::Layout;
use crate::classify::Classifier;
use crate::pipeline::{self, CellOutcome, Step};
use crate::results::{CellResult, FieldCell, FieldInfo, FieldResult, ModelCrop};
use crate::web::console;
use crate::web::protocol::Reply;
use js_sys::ArrayBuffer;
use wasm_bindgen::JsCast;

/// Size of this worker's WebAssembly memory, MB.
fn memory_mb() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<ArrayBuffer>().byte_length() as f64 / (1 << 20) as f64
}

fn progress(id: u32, stage: &str, done: usize, total: usize) {
    post(&Reply::Progress { id, stage: stage.to_string(), done: done as u32, total: total as u32 });
}

/// A field's cell (found, or `added` by a click) for the page; `ms`: the time it took.
fn field_cell(c: &Classifier, cell: &CellOutcome, added: bool, ms: f64) -> Result<FieldCell, String> {
    Ok(FieldCell {
        // A field's cell always has its box (`pipeline::CellOutcome::bbox`).
        bbox: cell.bbox.unwrap_or_default(),
        added,
        thumb: crate::image::thumbnail::jpeg(&cell.crop).ok(),
        crop_jpeg: crate::image::jpeg::crop(&cell.crop).map_err(|e| e.to_string())?,
        result: CellResult::from_prediction(c.manifest(), &cell.prediction, ms, None),
    })
}

/// The crop a single-cell image was brought to, for the page (JPEG) with how it was cut; `None`
/// where the image went to the model whole (no training scale).
fn model_crop(cell: &CellOutcome) -> Option<ModelCrop> {
    let geometry = cell.geometry?;
    Some(ModelCrop {
        jpeg: crate::image::jpeg::crop(&cell.crop).ok()?,
        bbox: cell.bbox,
        nucleus_px: geometry.nucleus_px,
        scale: geometry.scale,
    })
}

/// Times each cell of a field (or a clicked cell) between the core's steps: `ms[k]` from cell
/// `k`'s start to its end.
#[derive(Default)]
struct CellClock {
    started: f64,
    ms: Vec<f64>,
}

impl CellClock {
    fn step(&mut self, step: Step) {
        match step {
            Step::ClassifyingCell { .. } => self.started = now(),
            Step::CellDone { k } => {
                self.ms.resize(self.ms.len().max(k + 1), 0.0);
                self.ms[k] = now() - self.started;
            }
            _ => {}
        }
    }
}

/// A dropped file, read by the core ([`pipeline::read_file`]): a single cell (`done`) or a field
/// (`field`), with `progress` on the way for what takes long. With `one_cell`, the image is known
/// to be one cell and is classified as one ([`pipeline::read_file_as`]).
pub(super) fn classify(id: u32, bytes: &[u8], one_cell: bool) -> Reply {
    let t0 = now();
    with_classifier(id, |c| {
        let (mut detect_started, mut detect_ms, mut clock) = (t0, 0.0, CellClock::default());
        let mut observe = |step: Step| {
            match step {
                // Progress for what takes long: decoding a large file, then searching a large image.
                Step::Decoding if bytes.len() > 512 << 10 => progress(id, "decoding", 0, 0),
                Step::FindingCells { width, height } => {
                    if width as u64 * height as u64 > 4_000_000 {
                        progress(id, "finding cells", 0, 0);
                    }
                    detect_started = now();
                }
                Step::Found { .. } => detect_ms = now() - detect_started,
                Step::ClassifyingCell { k, n } => progress(id, "classifying cells", k, n),
                _ => {}
            }
            clock.step(step);
        };
        let layout = one_cell.then_some(Layout::Single);
        let outcome = match pipeline::read_file_as(c, bytes, &mut observe, layout) {
            Ok(o) => o,
            Err(e) => return Reply::Failed { id, message: e.to_string() },
        };
        if outcome.layout == Layout::Single {
            let Some(cell) = outcome.cells.first() else {
                return Reply::Failed { id, message: "The image could not be classified.".into() };
            };
            let crop = model_crop(cell);
            let thumb = crate::image::thumbnail::jpeg(&outcome.image).ok();
            return Reply::Done {
                id,
                result: CellResult::from_prediction(c.manifest(), &cell.prediction, now() - t0, Some(outcome.explain)),
                crop,
                thumb,
            };
        }
        for s in &outcome.skipped {
            console::warn("field", &format!("cell {} of a field was skipped: {}", s.index, s.error));
        }
        let n = outcome.cells.len() + outcome.skipped.len() + outcome.too_small.len();
        let mut cells = Vec::with_capacity(outcome.cells.len());
        // The cells kept, in detection order: their places among all found skip the skipped ones
        // and those too small to classify (sent as boxes only).
        let kept = (0..n).filter(|k| !outcome.skipped.iter().any(|s| s.index == *k) && !outcome.too_small.iter().any(|s| s.index == *k));
        for (cell, k) in outcome.cells.iter().zip(kept) {
            match field_cell(c, cell, false, clock.ms.get(k).copied().unwrap_or(0.0)) {
                Ok(fc) => cells.push(fc),
                Err(e) => console::warn("field", &format!("cell {k} of a field was skipped: {e}")),
            }
        }
        let (width, height) = (outcome.width, outcome.height);
        let ms = now() - t0;
        console::info(
            "field",
            &format!(
                "{width}x{height}: {n} white cells; detection {detect_ms:.0} ms, whole file {ms:.0} ms, wasm memory {:.0} MB",
                memory_mb()
            ),
        );
        Reply::Field {
            id,
            field: FieldResult {
                info: FieldInfo {
                    width,
                    height,
                    format: outcome.format.to_string(),
                    layout: outcome.explain,
                    typical_nucleus_px: outcome.typical_nucleus_px,
                    detect_ms,
                    ms,
                    memory_mb: memory_mb(),
                    too_small: outcome.too_small.iter().map(|t| t.bbox).collect(),
                },
                thumb: crate::image::thumbnail::jpeg(&outcome.image).ok(),
                cells,
            },
        }
    })
}

/// A cell the person clicked on a field (`x`, `y` in the original image's pixels), read by the
/// core ([`pipeline::cell_at`]).
pub(super) fn cell_at(id: u32, bytes: &[u8], x: f32, y: f32, typical_nucleus_px: Option<f32>) -> Reply {
    with_classifier(id, |c| {
        let mut clock = CellClock::default();
        let found = match pipeline::cell_at(c, bytes, x, y, typical_nucleus_px, &mut |step| clock.step(step)) {
            Ok(found) => found,
            Err(e) => return Reply::Failed { id, message: e.to_string() },
        };
        match field_cell(c, &found, true, clock.ms.first().copied().unwrap_or(0.0)) {
            Ok(cell) => Reply::Added { id, cell },
            Err(message) => Reply::Failed { id, message },
        }
    })
}
