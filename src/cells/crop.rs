//! Cutting a cell out at the model's training scale: the one function ([`cut`]) that makes the
//! crop the model sees, for a single-cell image's central cell and for a field's (or a pointed-at)
//! cell alike, at the scale the model's manifest gives ([`CellScale`]). Training cuts its crops
//! with it too (`examples/make_crops.rs`), so the model never sees another scale.

use crate::cells::{background, crop_to_scale_filled, glass_colour, measure_central_cell, CellError, FoundCell};
use crate::image::cell_scale::{CellScale, CropFill};
use crate::image::frame::center_square;
use image::{imageops, RgbImage};

/// The cell a crop is cut around.
#[derive(Debug, Clone, Copy)]
pub enum Around<'a> {
    /// A single-cell image's central cell, found and measured here ([`measure_central_cell`]).
    /// Where no nucleus is found near the centre (an artefact, a blank, a picture of something
    /// else), the image's central square is used whole, resized to the crop side.
    Centre,
    /// A cell found already: a field's white cell, or a cell the person pointed at.
    Cell(&'a FoundCell),
}

/// A crop at the model's scale, and how it was cut.
#[derive(Debug, Clone)]
pub struct Crop {
    /// The `crop_side` square the model is given.
    pub image: RgbImage,
    /// The cell it was cut around (pixels of the original image); `None`: a single-cell image's
    /// central square, used whole.
    pub cell: Option<FoundCell>,
    /// Crop pixels per original pixel (2.0: the cell was enlarged twice).
    pub scale: f32,
}

/// Cuts the cell `around` out of `image` (the full-resolution original) at `scale`: a
/// `crop_side` square around the nucleus, rescaled so that the nucleus comes out as the scale
/// says (by default [`crate::image::cell_scale::MLL_NUCLEUS_DIAMETER_PX`] across in a
/// [`crate::image::cell_scale::CROP_SIDE`] square), filled, masked and white-balanced as the
/// scale asks. A single-cell image of any framing and resolution (an MLL 250×250 marrow crop, a
/// PBC 360×363 original whose cell is half as large in the frame, a photo's crop) and a field's
/// cell come out alike.
pub fn cut(image: &RgbImage, around: Around<'_>, scale: &CellScale) -> Result<Crop, CellError> {
    if let Around::Cell(cell) = around {
        let crop = around_cell(image, cell, scale)?;
        return Ok(Crop { image: crop, cell: Some(cell.clone()), scale: scale.factor(cell.nucleus_diameter_px) });
    }
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(CellError::EmptyImage);
    }
    if let Some(cell) = measure_central_cell(image) {
        if let Ok(crop) = around_cell(image, &cell, scale) {
            let factor = scale.factor(cell.nucleus_diameter_px);
            return Ok(Crop { image: crop, cell: Some(cell), scale: factor });
        }
    }
    let square = center_square(image);
    let side = scale.crop_side;
    let factor = side as f32 / w.min(h).max(1) as f32;
    let crop = if square.width() == side { square } else { imageops::resize(&square, side, side, imageops::FilterType::Triangle) };
    Ok(Crop { image: crop, cell: None, scale: factor })
}

/// The crop of `cell` at `scale` (see [`cut`]).
fn around_cell(image: &RgbImage, cell: &FoundCell, scale: &CellScale) -> Result<RgbImage, CellError> {
    let by_nucleus = FoundCell { diameter_px: cell.nucleus_diameter_px, ..cell.clone() };
    let target = scale.factor(cell.nucleus_diameter_px) * cell.nucleus_diameter_px.max(1.0);
    let glass = (scale.fill == CropFill::Glass || scale.white_balance || scale.mask_radius.is_some()).then(|| glass_colour(image));
    let fill = glass.filter(|_| scale.fill == CropFill::Glass);
    let mut crop = crop_to_scale_filled(image, &by_nucleus, target, scale.crop_side, fill)?;
    if let (Some(k), Some(glass)) = (scale.mask_radius, glass) {
        // The cell's own radius at the crop's scale, times k, around the crop's centre (the cell's).
        let radius = k * cell.diameter_px * target / by_nucleus.diameter_px.max(1.0) / 2.0;
        let c = scale.crop_side as f32 / 2.0;
        background::soften_outside(&mut crop, (c, c), radius, glass);
    }
    if let (true, Some(glass)) = (scale.white_balance, glass) {
        background::white_balance(&mut crop, glass);
    }
    Ok(crop)
}
