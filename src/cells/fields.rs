//! Single cell or field? And, for a field, its white cells cropped at the model's training scale.
//!
//! Every dropped image goes through [`analyse`]: a single-cell image (an MLL or PBC crop, any
//! crop centred on one cell) goes to the classifier as it is; a smear field goes through
//! [`crate::cells::find_cells`] and each white cell found is cut out with [`cell_crop`] at the
//! scale of the MLL training crops (nucleus diameter [`MLL_NUCLEUS_DIAMETER_PX`] in a
//! [`CROP_SIDE`]-pixel square, measured on MLL train with the same code). The decision is
//! explainable ([`Analysis::explain`]): the frame's shape (crops are square, camera frames are
//! not) and how many nucleus diameters of the white cells found fit across it. None of it depends
//! on the resolution (a crop upscaled to 6000×6000
//! stays a crop).
//!
//! Large images: detection runs on a copy of at most [`DETECT_MAX_SIDE`] pixels on its long
//! side; crops are cut from the full-resolution image. See docs/finding-cells.md ("In the app").

use crate::cells::{crop_to_scale, find_cells, measure_central_cell, CellError, FindOptions, FoundCell, StainModel};
use image::RgbImage;

/// Side of the crops the model was trained on (MLL: 250×250 pixels).
pub const CROP_SIDE: u32 = 250;

/// Nucleus diameter, in pixels of the MLL training crops, that field cells are scaled to: the
/// median over MLL train (all classes pooled) of [`measure_central_cell`]'s nucleus diameter
/// (tests/fields.rs measures it again on a sample and checks it; docs/finding-cells.md has the
/// per-class values). The nucleus, not the whole cell: the doc found it the steadier measure.
pub const MLL_NUCLEUS_DIAMETER_PX: f32 = 120.0;

/// A frame whose long side is at least this times its short side is a camera frame (4:3, 3:2),
/// not a single-cell crop: the crops the models are trained on are square (MLL 250×250, PBC
/// 360×363), and so are the crops that scanners such as CellaVision export.
pub const FIELD_MIN_ASPECT: f32 = 1.15;

/// …unless it is too small to be a field: a frame must be at least this many nucleus diameters
/// (of the white cells found in it) across its short side. BCCD train/val: 1st percentile 2.3; a
/// 250×200 cut of a crop is about 1.8.
pub const FIELD_MIN_NUCLEI_ACROSS: f32 = 2.1;

/// Detection runs on a copy whose long side is at most this (pixels); crops come from the full image.
pub const DETECT_MAX_SIDE: u32 = 2048;

/// Long side of the survey copy the scale is measured on (as in [`FindOptions::survey_side`]).
const SURVEY_SIDE: f32 = 320.0;

/// What kind of image it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One cell, framed (a crop): classify the image as it is.
    Single,
    /// A smear field: find its white cells and classify each.
    Field,
}

/// The decision for one image and what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub layout: Layout,
    /// Long side / short side.
    pub aspect: f32,
    /// Short side in nucleus diameters of the white cells found (median); 0 when none was found,
    /// and for a square frame, where nothing is searched (its shape decides).
    pub nuclei_across: f32,
    /// Distance of the white cell nearest the centre from the centre, in short sides (∞: none,
    /// or a square frame). For explanation; the decision does not use it.
    pub central_offset: f32,
    /// The white cells found, boxes in pixels of the original image, best first (empty for a
    /// single cell: the image goes to the classifier as it is).
    pub cells: Vec<FoundCell>,
    /// Reduction of the copy detection ran on (≥ 1).
    pub detect_factor: f32,
}

impl Analysis {
    /// The decision in words, as the page shows it.
    pub fn explain(&self) -> String {
        match self.layout {
            Layout::Single => {
                if self.aspect >= FIELD_MIN_ASPECT && self.nuclei_across == 0.0 {
                    format!("Single image (a {:.2}:1 frame, but no white cell found in it: classified whole)", self.aspect)
                } else if self.aspect >= FIELD_MIN_ASPECT {
                    format!("Single cell (a {:.1}:1 frame, but only {:.1} nuclei across: a crop)", self.aspect, self.nuclei_across)
                } else {
                    "Single cell (a square image: a crop of one cell)".to_string()
                }
            }
            Layout::Field => {
                let n = self.cells.len();
                let cells = if n == 1 { "1 white cell".to_string() } else { format!("{n} white cells") };
                format!("Field: {cells} found (a {:.2}:1 camera frame; cell crops are square)", self.aspect)
            }
        }
    }
}

/// A copy of `image` whose long side is at most `max_side`, and the factor it was reduced by.
pub fn detection_copy(image: &RgbImage, max_side: u32) -> (std::borrow::Cow<'_, RgbImage>, f32) {
    let long = image.width().max(image.height());
    if long <= max_side {
        return (std::borrow::Cow::Borrowed(image), 1.0);
    }
    let f = long as f32 / max_side as f32;
    let nw = ((image.width() as f32 / f).round() as u32).max(1);
    let nh = ((image.height() as f32 / f).round() as u32).max(1);
    (std::borrow::Cow::Owned(image::imageops::thumbnail(image, nw, nh)), image.width() as f32 / nw as f32)
}

/// The typical cell radius of `image` (pixels of `image`), measured on a small survey copy.
pub fn typical_cell_radius(image: &RgbImage) -> Option<f32> {
    let (w, h) = image.dimensions();
    if w < 16 || h < 16 {
        return None;
    }
    let f = (w.max(h) as f32 / SURVEY_SIDE).max(1.0);
    let survey = crate::cells::downscale(image, f);
    let model = StainModel::estimate(&survey);
    let r = crate::cells::find_cells::field_cell_radius(&survey, &model)?;
    (r.is_finite() && r > 0.0).then(|| r * w as f32 / survey.width() as f32)
}

/// Decides whether `image` is a single cell or a field and finds its white cells (on a copy of
/// at most [`DETECT_MAX_SIDE`] pixels; boxes in pixels of `image`).
pub fn analyse(image: &RgbImage) -> Analysis {
    let (iw, ih) = image.dimensions();
    let aspect = iw.max(ih).max(1) as f32 / iw.min(ih).max(1) as f32;
    if aspect < FIELD_MIN_ASPECT {
        // A square frame is a crop of one cell whatever it holds (see below): no search, which
        // is most of the time around the model for a single-cell image (issue 17).
        let nothing = Vec::new();
        return Analysis {
            layout: Layout::Single,
            aspect,
            nuclei_across: 0.0,
            central_offset: f32::INFINITY,
            cells: nothing,
            detect_factor: 1.0,
        };
    }
    let (det, factor) = detection_copy(image, DETECT_MAX_SIDE);
    let (w, h) = det.dimensions();
    let short = w.min(h).max(1) as f32;
    let aspect = w.max(h) as f32 / short;
    let found = find_cells(&det, &FindOptions::default());
    let central_offset =
        found.iter().map(|c| (c.centre.0 - w as f32 / 2.0).hypot(c.centre.1 - h as f32 / 2.0) / short).fold(f32::INFINITY, f32::min);
    let mut nuclei: Vec<f32> = found.iter().map(|c| c.nucleus_diameter_px).filter(|d| *d > 0.0).collect();
    nuclei.sort_by(f32::total_cmp);
    let nuclei_across = nuclei.get(nuclei.len() / 2).map(|d| short / d).unwrap_or(0.0);
    let layout = if aspect >= FIELD_MIN_ASPECT {
        // A frame without any white cell is classified whole: a field the detector found nothing
        // in cannot be told from a picture of something else, and the classifier's
        // out-of-distribution flag then says what it can.
        if !found.is_empty() && nuclei_across >= FIELD_MIN_NUCLEI_ACROSS {
            Layout::Field
        } else {
            Layout::Single
        }
    } else {
        // Square: a crop. Bone-marrow crops are dense (find_cells finds up to 5 nucleated cells
        // in 1 of 10 MLL crops), so the number of cells cannot tell a square field from a crop;
        // a rule on count, size and centrality took 1.2 % of MLL test crops for fields and found
        // only 0.5 % of BCCD fields cut square (docs/finding-cells.md).
        Layout::Single
    };
    let cells = match layout {
        Layout::Single => Vec::new(),
        Layout::Field => found.iter().map(|c| scale_cell(c, factor, image.width(), image.height())).collect(),
    };
    Analysis { layout, aspect, nuclei_across, central_offset, cells, detect_factor: factor }
}

/// `cell` (pixels of a copy reduced by `factor`) in pixels of the `w`×`h` original.
pub fn scale_cell(cell: &FoundCell, factor: f32, w: u32, h: u32) -> FoundCell {
    if factor == 1.0 {
        return cell.clone();
    }
    let s = |v: u32| ((v as f32 * factor).round().max(0.0)) as u32;
    let x = s(cell.x).min(w.saturating_sub(1));
    let y = s(cell.y).min(h.saturating_sub(1));
    FoundCell {
        x,
        y,
        w: s(cell.w).clamp(1, w - x),
        h: s(cell.h).clamp(1, h - y),
        centre: (cell.centre.0 * factor, cell.centre.1 * factor),
        area_px: cell.area_px * factor * factor,
        nucleus_diameter_px: cell.nucleus_diameter_px * factor,
        diameter_px: cell.diameter_px * factor,
        score: cell.score,
    }
}

/// The crop of one cell the model is given: [`CROP_SIDE`] square around the nucleus, rescaled
/// so that the nucleus diameter becomes [`MLL_NUCLEUS_DIAMETER_PX`] (cut from `image`, the
/// full-resolution original).
pub fn cell_crop(image: &RgbImage, cell: &FoundCell) -> Result<RgbImage, CellError> {
    cell_crop_at(image, cell, &CellScale::default())
}

/// [`cell_crop`] at a model's own scale (its manifest's `input.cell_scale`).
pub fn cell_crop_at(image: &RgbImage, cell: &FoundCell, scale: &CellScale) -> Result<RgbImage, CellError> {
    let by_nucleus = FoundCell { diameter_px: cell.nucleus_diameter_px, ..cell.clone() };
    let target = scale.factor(cell.nucleus_diameter_px) * cell.nucleus_diameter_px.max(1.0);
    crop_to_scale(image, &by_nucleus, target, scale.crop_side)
}

/// The scale a model was trained at, from its manifest (`input.cell_scale`): every cell is cut as
/// a `crop_side` square around its nucleus, rescaled so that the nucleus is
/// `nucleus_diameter_px` across. The default is the MLL scale ([`MLL_NUCLEUS_DIAMETER_PX`] in
/// [`CROP_SIDE`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CellScale {
    pub nucleus_diameter_px: f32,
    pub crop_side: u32,
    /// How far the cell's own size is normalised away: the image is scaled by
    /// `(nucleus_diameter_px / measured nucleus)^size_exponent`. 1: every nucleus becomes
    /// `nucleus_diameter_px` across (size no longer tells classes apart); 0: the image keeps its
    /// pixel scale and is only re-framed around the cell.
    #[serde(default = "one")]
    pub size_exponent: f32,
    /// The nucleus diameters the model was trained on (`[min, max]` px, e.g. the 2nd and 98th
    /// percentiles of its training crops): after the exponent, a nucleus outside this range is
    /// rescaled to its nearer end. With exponent 0 this keeps each image's own scale where it is
    /// plausible (sizes still tell cells apart) and still brings an upscaled or tiny image into
    /// range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nucleus_range_px: Option<[f32; 2]>,
}

fn one() -> f32 {
    1.0
}

impl Default for CellScale {
    fn default() -> Self {
        CellScale { nucleus_diameter_px: MLL_NUCLEUS_DIAMETER_PX, crop_side: CROP_SIDE, size_exponent: 1.0, nucleus_range_px: None }
    }
}

impl CellScale {
    /// The factor an image is scaled by so that a nucleus of `nucleus_px` (its pixels) comes out
    /// at this scale: `(nucleus_diameter_px / nucleus_px)^size_exponent`, then kept within
    /// `nucleus_range_px`.
    pub fn factor(&self, nucleus_px: f32) -> f32 {
        let d = nucleus_px.max(1.0);
        let mut target = self.nucleus_diameter_px.powf(self.size_exponent) * d.powf(1.0 - self.size_exponent);
        if let Some([lo, hi]) = self.nucleus_range_px {
            target = target.clamp(lo, hi);
        }
        target / d
    }

    /// A usable scale: a nucleus of 8 px or more inside a square of at most 1024 px.
    pub fn validate(&self) -> Result<(), String> {
        let d = self.nucleus_diameter_px;
        if !(16..=1024).contains(&self.crop_side)
            || !d.is_finite()
            || d < 8.0
            || d > self.crop_side as f32
            || !(0.0..=1.0).contains(&self.size_exponent)
            || self
                .nucleus_range_px
                .is_some_and(|[lo, hi]| !(lo.is_finite() && hi.is_finite() && lo >= 8.0 && lo <= hi && hi <= self.crop_side as f32))
        {
            return Err(format!("input.cell_scale (nucleus {d} px in a {side} px square) is not a usable scale", side = self.crop_side));
        }
        Ok(())
    }
}

/// What the model is given for a single-cell image, and how it was obtained.
#[derive(Debug, Clone)]
pub struct SingleCrop {
    /// The square crop at the model's scale (the crop the model saw).
    pub image: RgbImage,
    /// The central cell it was scaled by; `None` when no nucleus was found near the centre
    /// (then the image's central square is used whole, resized to the crop side).
    pub cell: Option<FoundCell>,
}

/// Brings a single-cell image of any framing and resolution (an MLL 250×250 marrow crop, a PBC
/// 360×363 original whose cell is half as large in the frame, a photo's crop) to the scale the
/// model was trained at: the central cell is found and measured ([`measure_central_cell`]) and
/// cut out exactly as a field's cells are ([`cell_crop_at`]: by default nucleus
/// [`MLL_NUCLEUS_DIAMETER_PX`] across in a [`CROP_SIDE`] square). Training runs every image
/// through this same function (`examples/make_crops.rs`), so the model never sees another
/// scale. Where no nucleus is found near the centre (an artefact, a blank, a picture of
/// something else) the central square is used whole.
pub fn single_cell_crop(image: &RgbImage, scale: &CellScale) -> Result<SingleCrop, CellError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(CellError::EmptyImage);
    }
    if let Some(cell) = measure_central_cell(image) {
        if let Ok(crop) = cell_crop_at(image, &cell, scale) {
            return Ok(SingleCrop { image: crop, cell: Some(cell) });
        }
    }
    let square = crate::image::frame::center_square(image);
    let side = scale.crop_side;
    let crop =
        if square.width() == side { square } else { image::imageops::resize(&square, side, side, image::imageops::FilterType::Triangle) };
    Ok(SingleCrop { image: crop, cell: None })
}

/// `[x, y, w, h]` of a cell's box, pixels of the original image.
pub fn bbox(cell: &FoundCell) -> [u32; 4] {
    [cell.x, cell.y, cell.w, cell.h]
}

/// A cell the person pointed at (`x`, `y` in pixels of `image`) that detection missed: the
/// nucleated cell nearest that point within a window of about four typical cell diameters
/// ([`measure_central_cell`] on the window), or, where no nucleus is found there, a cell of the
/// field's typical white-cell size centred on the point. Never fails for a point inside the image.
pub fn cell_at(image: &RgbImage, x: f32, y: f32, typical_nucleus_px: Option<f32>) -> FoundCell {
    let (w, h) = image.dimensions();
    let x = x.clamp(0.0, w.saturating_sub(1) as f32);
    let y = y.clamp(0.0, h.saturating_sub(1) as f32);
    let (det, factor) = detection_copy(image, DETECT_MAX_SIDE);
    let r = typical_cell_radius(&det).map(|r| r * factor).unwrap_or(w.min(h) as f32 / 16.0);
    let side = (8.0 * r).clamp(32.0, w.min(h) as f32);
    let x0 = (x - side / 2.0).clamp(0.0, (w as f32 - side).max(0.0)).round() as u32;
    let y0 = (y - side / 2.0).clamp(0.0, (h as f32 - side).max(0.0)).round() as u32;
    let (sw, sh) = ((side as u32).min(w - x0), (side as u32).min(h - y0));
    let window = image::imageops::crop_imm(image, x0, y0, sw, sh).to_image();
    // measure_central_cell looks for the nucleus nearest the window's centre; the window is
    // shifted at the image's edges, so check that it is near the point.
    if let Some(c) = measure_central_cell(&window) {
        let (cx, cy) = (c.centre.0 + x0 as f32, c.centre.1 + y0 as f32);
        if ((cx - x).powi(2) + (cy - y).powi(2)).sqrt() <= 1.5 * r {
            return FoundCell { x: c.x + x0, y: c.y + y0, centre: (cx, cy), ..c };
        }
    }
    let d = typical_nucleus_px.filter(|d| d.is_finite() && *d > 0.0).unwrap_or(2.0 * r);
    let half = d; // box of about twice the nucleus: the whole cell
    let bx = (x - half).max(0.0) as u32;
    let by = (y - half).max(0.0) as u32;
    FoundCell {
        x: bx,
        y: by,
        w: ((2.0 * half) as u32).clamp(1, w - bx),
        h: ((2.0 * half) as u32).clamp(1, h - by),
        centre: (x, y),
        area_px: std::f32::consts::PI * d * d / 4.0,
        nucleus_diameter_px: d,
        diameter_px: 2.0 * d,
        score: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn cell_scale_factor_normalises_or_keeps_sizes_within_range() {
        let full = CellScale::default();
        assert!((full.factor(60.0) - 2.0).abs() < 1e-5 && (full.factor(240.0) - 0.5).abs() < 1e-5);
        let keep = CellScale { size_exponent: 0.0, nucleus_range_px: Some([48.0, 172.0]), ..CellScale::default() };
        assert!((keep.factor(100.0) - 1.0).abs() < 1e-5, "a plausible nucleus keeps its scale");
        assert!((keep.factor(1720.0) - 0.1).abs() < 1e-5, "an upscaled image is brought down into range");
        assert!((keep.factor(24.0) - 2.0).abs() < 1e-5, "a tiny one up");
        let half = CellScale { size_exponent: 0.5, ..CellScale::default() };
        assert!((half.factor(30.0) - 2.0).abs() < 1e-5);
        assert!(keep.validate().is_ok() && CellScale { nucleus_range_px: Some([100.0, 50.0]), ..keep }.validate().is_err());
    }

    /// Pink discs (red cells) on glass, with purple nuclei at `nuclei` (radius 30).
    fn field(w: u32, h: u32, nuclei: &[(f32, f32)]) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let d = |cx: f32, cy: f32| ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if nuclei.iter().any(|&(cx, cy)| d(cx, cy) < 30.0) {
                return Rgb([95, 70, 160]);
            }
            let (gx, gy) = ((x % 80) as f32, (y % 80) as f32);
            if ((gx - 40.0).powi(2) + (gy - 40.0).powi(2)).sqrt() < 32.0 {
                return Rgb([200, 150, 165]);
            }
            Rgb([222, 222, 226])
        })
    }

    #[test]
    fn a_wide_field_is_a_field_and_its_crop_a_single_cell() {
        let img = field(960, 720, &[(200.0, 200.0), (700.0, 500.0)]);
        let a = analyse(&img);
        assert_eq!(a.layout, Layout::Field, "{a:?}");
        assert_eq!(a.cells.len(), 2, "{a:?}");
        assert!(a.explain().starts_with("Field: 2 white cells"), "{}", a.explain());
        let crop = cell_crop(&img, &a.cells[0]).unwrap();
        assert_eq!(crop.dimensions(), (CROP_SIDE, CROP_SIDE));
        assert_eq!(analyse(&crop).layout, Layout::Single);
    }

    #[test]
    fn blank_and_tiny_images() {
        // A frame without any white cell is classified whole.
        let a = analyse(&RgbImage::from_pixel(640, 480, Rgb([230, 230, 230])));
        assert_eq!(a.layout, Layout::Single);
        assert!(a.explain().contains("no white cell found"), "{}", a.explain());
        assert_eq!(analyse(&RgbImage::from_pixel(250, 250, Rgb([230, 230, 230]))).layout, Layout::Single);
        assert_eq!(analyse(&RgbImage::new(4, 4)).layout, Layout::Single);
    }

    #[test]
    fn large_images_are_detected_on_a_copy_and_mapped_back() {
        let small = field(960, 720, &[(200.0, 200.0)]);
        let big = image::imageops::resize(&small, 3840, 2880, image::imageops::FilterType::Nearest);
        let a = analyse(&big);
        assert!(a.detect_factor > 1.0);
        assert_eq!(a.layout, Layout::Field);
        assert_eq!(a.cells.len(), 1, "{a:?}");
        let c = &a.cells[0];
        assert!((c.centre.0 - 800.0).abs() < 30.0 && (c.centre.1 - 800.0).abs() < 30.0, "{c:?}");
        assert!(c.x + c.w <= 3840 && c.y + c.h <= 2880);
    }

    #[test]
    fn a_clicked_cell_is_found_near_the_point() {
        let img = field(960, 720, &[(200.0, 200.0)]);
        let c = cell_at(&img, 215.0, 190.0, None);
        assert!((c.centre.0 - 200.0).abs() < 8.0 && (c.centre.1 - 200.0).abs() < 8.0, "{c:?}");
        // Glass only: a cell of the typical size, centred on the point.
        let c = cell_at(&img, 10.0, 10.0, Some(60.0));
        assert_eq!(c.centre, (10.0, 10.0));
        assert!(cell_crop(&img, &c).is_ok());
    }
}
