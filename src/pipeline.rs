//! One path from a file's bytes to its outcome, the same for the browser's worker, the native
//! tools and the tests: decode → single cell or field ([`fields::analyse`]) → for a single cell,
//! the central cell cut at the model's scale and classified ([`Classifier::classify_single`]); for
//! a field, every white cell found cut at the same scale and classified
//! ([`Classifier::classify_cell`]); both crops are cut by one function,
//! [`crate::cells::crop::cut`].
//!
//! The [`Outcome`] is a plain value: how the image was read and why, and per cell its box, how its
//! crop was cut, the crop the model saw and the prediction. Turning it into what the page shows
//! (protocol messages, JPEGs, Blobs) is the worker's part (`src/web/worker/read.rs`).
//!
//! A field's white cell whose nucleus is smaller than [`fields::MIN_CLASSIFIABLE_NUCLEUS_PX`]
//! (pixels of the original) is not cut out or classified: it is listed in
//! [`Outcome::too_small`] (its box, found and counted as a white cell without a class) and the
//! explanation says that a differential needs a higher magnification. A single-cell image is
//! always classified, whatever its size (its crop is brought to the model's scale), and so is a
//! cell added by a click ([`cell_at`]): the person asked for it.
//!
//! Nothing here reads a clock (`std::time::Instant` panics on `wasm32-unknown-unknown`): the
//! caller is told each [`Step`] as it starts and measures what it wants between them (the worker
//! posts progress and times detection and each cell).

use crate::cells::crop::Crop;
use crate::cells::fields::{self, Layout};
use crate::cells::{pointed, FoundCell};
use crate::classify::{Classifier, Prediction};
use crate::error::{Error, Result};
use crate::image::decode::{decode, Decoded};
use image::RgbImage;

/// What the path is about to do, told to the caller's observer as it happens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// The file's bytes are about to be decoded.
    Decoding,
    /// The file is decoded (`width`×`height` pixels); deciding single cell or field, and finding
    /// a field's white cells, starts.
    FindingCells { width: u32, height: u32 },
    /// Decided: `cells` white cells found in a field (0 for a single cell).
    Found { layout: Layout, cells: usize },
    /// Cell `k` of `n` (a field's, or a clicked one) is about to be cut out and classified.
    ClassifyingCell { k: usize, n: usize },
    /// Cell `k` is classified, or skipped.
    CellDone { k: usize },
}

/// How a cell's crop was cut from the original.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropGeometry {
    /// The measured nucleus diameter (original pixels); `None` when no nucleus was found near a
    /// single-cell image's centre and its central square was used whole.
    pub nucleus_px: Option<f32>,
    /// Crop pixels per original pixel (2.0: the cell was enlarged twice).
    pub scale: f32,
}

/// One cell as the model saw it.
#[derive(Clone)]
pub struct CellOutcome {
    /// `[x, y, w, h]` of the cell in the original image's pixels; `None` for a single-cell image
    /// whose crop was not cut around a measured cell (no nucleus near its centre, or a model
    /// without a training scale: the image was resized whole).
    pub bbox: Option<[u32; 4]>,
    /// How the crop was cut; `None` where the model has no training scale (manifest
    /// `input.cell_scale`) and a single-cell image went to the model whole.
    pub geometry: Option<CropGeometry>,
    /// The image the model was given: the crop at the model's scale, or (no training scale) the
    /// decoded image, which preprocessing resizes.
    pub crop: RgbImage,
    pub prediction: Prediction,
}

/// A field's cell that could not be classified, and why (the rest of the field goes on).
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Its place among the cells found (detection order).
    pub index: usize,
    pub error: Error,
}

/// A field's white cell found but too small to classify: its nucleus is below
/// [`fields::MIN_CLASSIFIABLE_NUCLEUS_PX`] (original pixels). It is still a white cell: boxed,
/// listed and counted as one, without a class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TooSmall {
    /// Its place among the cells found (detection order).
    pub index: usize,
    /// `[x, y, w, h]` of the cell in the original image's pixels.
    pub bbox: [u32; 4],
    /// The measured nucleus diameter (original pixels).
    pub nucleus_px: f32,
}

/// What one file turned out to be, and every cell in it.
#[derive(Clone)]
pub struct Outcome {
    pub width: u32,
    pub height: u32,
    /// The file's format ("JPEG", "PNG", …).
    pub format: &'static str,
    /// Single cell or field.
    pub layout: Layout,
    /// The decision in words, as the page shows it ([`fields::Analysis::explain`]).
    pub explain: String,
    /// A field's typical nucleus diameter (the median over the cells found, skipped ones too), for
    /// cells added by a click ([`cell_at`]); `None` for a single cell.
    pub typical_nucleus_px: Option<f32>,
    /// One cell for a single-cell image; a field's cells in detection order (best first), less
    /// those [`Outcome::skipped`].
    pub cells: Vec<CellOutcome>,
    /// A field's cells that could not be classified.
    pub skipped: Vec<Skipped>,
    /// A field's white cells too small to classify (found, not cut out or classified), in
    /// detection order; empty for a single cell.
    pub too_small: Vec<TooSmall>,
    /// The decoded original (the page's preview is made from it).
    pub image: RgbImage,
}

impl std::fmt::Debug for CellOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CellOutcome")
            .field("bbox", &self.bbox)
            .field("geometry", &self.geometry)
            .field("crop", &self.crop.dimensions())
            .field("top", self.prediction.top())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("layout", &self.layout)
            .field("explain", &self.explain)
            .field("typical_nucleus_px", &self.typical_nucleus_px)
            .field("cells", &self.cells)
            .field("skipped", &self.skipped)
            .field("too_small", &self.too_small)
            .finish_non_exhaustive()
    }
}

/// Reads one file as the app does: decoded, taken as a single cell or a field, every cell cut at
/// the model's scale and classified. `observe` is told each [`Step`] as it starts. A file that
/// cannot be decoded, or a single cell that cannot be classified, is an error (its message is for
/// the person at the microscope); a field's cell that cannot be classified is skipped and listed
/// in [`Outcome::skipped`].
pub fn read_file(classifier: &mut Classifier, bytes: &[u8], observe: &mut dyn FnMut(Step)) -> Result<Outcome> {
    read_file_as(classifier, bytes, observe, None)
}

/// [`read_file`], with the layout given instead of decided when `layout` is `Some`: a file known
/// to be a crop of one cell (a dataset's crop, whose centre may show no cell: an artefact, a cell
/// at the border) is classified as one with `Some(Layout::Single)`, as the app decides for any
/// image whose content says so. Evaluations of the model on crops use it, so that they measure
/// the classifier, and `examples/field_shifts.rs` measures the decision.
pub fn read_file_as(classifier: &mut Classifier, bytes: &[u8], observe: &mut dyn FnMut(Step), layout: Option<Layout>) -> Result<Outcome> {
    observe(Step::Decoding);
    let decoded = decode(bytes)?;
    let (width, height) = decoded.image.dimensions();
    observe(Step::FindingCells { width, height });
    // The whole image classified as one cell, explained in `explain`.
    let single = |classifier: &mut Classifier, decoded: Decoded, explain: String| -> Result<Outcome> {
        let cell = classify_single(classifier, &decoded)?;
        Ok(Outcome {
            width,
            height,
            format: decoded.format,
            layout: Layout::Single,
            explain,
            typical_nucleus_px: None,
            cells: vec![cell],
            skipped: Vec::new(),
            too_small: Vec::new(),
            image: decoded.image,
        })
    };
    if layout == Some(Layout::Single) {
        observe(Step::Found { layout: Layout::Single, cells: 0 });
        return single(classifier, decoded, "Single cell (given as one: a crop of one cell)".to_string());
    }
    let analysis = fields::analyse(&decoded.image);
    observe(Step::Found { layout: analysis.layout, cells: analysis.cells.len() });
    let explain = analysis.explain();
    if analysis.layout == Layout::Single {
        return single(classifier, decoded, explain);
    }
    let n = analysis.cells.len();
    let (mut cells, mut skipped, mut too_small) = (Vec::with_capacity(n), Vec::new(), Vec::new());
    for (k, found) in analysis.cells.iter().enumerate() {
        if found.nucleus_diameter_px < fields::MIN_CLASSIFIABLE_NUCLEUS_PX {
            too_small.push(TooSmall { index: k, bbox: found.bbox(), nucleus_px: found.nucleus_diameter_px });
            observe(Step::CellDone { k });
            continue;
        }
        observe(Step::ClassifyingCell { k, n });
        match classify_cell(classifier, &decoded.image, found) {
            Ok(cell) => cells.push(cell),
            Err(error) => skipped.push(Skipped { index: k, error }),
        }
        observe(Step::CellDone { k });
    }
    let mut nuclei: Vec<f32> = analysis.cells.iter().map(|c| c.nucleus_diameter_px).collect();
    nuclei.sort_by(f32::total_cmp);
    let explain = explain_too_small(explain, &too_small, n);
    Ok(Outcome {
        width,
        height,
        format: decoded.format,
        layout: Layout::Field,
        explain,
        typical_nucleus_px: nuclei.get(nuclei.len() / 2).copied(),
        cells,
        skipped,
        too_small,
        image: decoded.image,
    })
}

/// A field's explanation (`explain`, "Field: N white cells found …"), with what it says about
/// the cells too small to classify, if any, of the `n` found: their typical nucleus, the size a
/// differential needs, and what to do.
pub fn explain_too_small(explain: String, too_small: &[TooSmall], n: usize) -> String {
    if too_small.is_empty() {
        return explain;
    }
    let mut nuclei: Vec<f32> = too_small.iter().map(|c| c.nucleus_px).collect();
    nuclei.sort_by(f32::total_cmp);
    let typical = nuclei[nuclei.len() / 2];
    let which = if too_small.len() == n {
        if n == 1 {
            "it is too small to classify".to_string()
        } else {
            "all too small to classify".to_string()
        }
    } else {
        format!("{} of them too small to classify", too_small.len())
    };
    format!(
        "{explain}; {which} (nuclei about {typical:.0} px across; a differential needs at least {min:.0} px: take the picture at a higher magnification)",
        min = fields::MIN_CLASSIFIABLE_NUCLEUS_PX
    )
}

/// The cell a person pointed at on a field (`x`, `y` in the original image's pixels) that
/// detection missed ([`pointed::cell_at`]), cut at the training scale and classified as a field's
/// cells are. `typical_nucleus_px`: the field's ([`Outcome::typical_nucleus_px`]). `observe` as
/// for [`read_file`] (decoding, then cell 0 of 1).
pub fn cell_at(
    classifier: &mut Classifier,
    bytes: &[u8],
    x: f32,
    y: f32,
    typical_nucleus_px: Option<f32>,
    observe: &mut dyn FnMut(Step),
) -> Result<CellOutcome> {
    observe(Step::Decoding);
    let decoded = decode(bytes)?;
    let found = pointed::cell_at(&decoded.image, x, y, typical_nucleus_px);
    observe(Step::ClassifyingCell { k: 0, n: 1 });
    let cell = classify_cell(classifier, &decoded.image, &found);
    observe(Step::CellDone { k: 0 });
    cell
}

/// A single-cell image: the central cell brought to the model's scale and classified
/// ([`Classifier::classify_single`]); the prediction's size and format are the original's.
fn classify_single(classifier: &mut Classifier, decoded: &Decoded) -> Result<CellOutcome> {
    let (prediction, crop) = classifier.classify_single(decoded)?;
    let Some(crop) = crop else {
        // No training scale: the model was given the image whole.
        return Ok(CellOutcome { bbox: None, geometry: None, crop: decoded.image.clone(), prediction });
    };
    Ok(cut_cell(crop, prediction))
}

/// One cell of a field (found or clicked): cut from `image` at the training scale and classified
/// as it is ([`Classifier::classify_cell`]: the prediction's size is the crop's, its format "field
/// crop"). Public so that the tools measure exactly what a field's cell goes through
/// (`examples/scale_limit.rs`).
pub fn classify_cell(classifier: &mut Classifier, image: &RgbImage, found: &FoundCell) -> Result<CellOutcome> {
    let (prediction, crop) = classifier.classify_cell(image, found)?;
    Ok(cut_cell(crop, prediction))
}

/// A cell cut at the model's scale ([`crate::cells::crop::cut`]) and its prediction: its box (the
/// cell it was cut around), how it was cut and the crop.
fn cut_cell(crop: Crop, prediction: Prediction) -> CellOutcome {
    CellOutcome {
        bbox: crop.cell.as_ref().map(FoundCell::bbox),
        geometry: Some(CropGeometry { nucleus_px: crop.cell.as_ref().map(|c| c.nucleus_diameter_px), scale: crop.scale }),
        crop: crop.image,
        prediction,
    }
}
