//! Finding and measuring cells in stained blood and bone-marrow images, in plain Rust
//! (imageproc for thresholds, morphology, labelling and distance transforms).
//!
//! - [`stain`]: the per-image colour model of a Romanowsky stain (what is nuclear, what is a
//!   red cell, what is glass, all measured on the image itself)
//! - [`find_cells`]: the nucleated (white) cells of a smear field
//! - [`extent`]: a nucleus region and the whole cell around it (rays out to the glass)
//! - [`measure`]: the central cell of a single-cell image, its size, and the crop that brings
//!   it to a model's training scale
//! - [`background`]: what surrounds a cut-out cell made alike across laboratories (glass
//!   brought to one grey, far surroundings blended into it)
//! - [`eyepiece`]: the lit field of a phone photo through an eyepiece and its white cells
//! - [`fields`]: single cell or field, and a field's white cells (the decision and its tuned
//!   constants)
//! - [`crop`]: a cell cut out at the model's training scale, the same for a single-cell image
//!   and a field's cell
//! - [`pointed`]: the cell a person pointed at that detection missed
//! - [`morphology`]: opening, closing and distances of binary masks (imageproc's results for the
//!   Euclidean norm, computed faster)

pub mod background;
pub mod crop;
pub mod extent;
pub mod eyepiece;
pub mod fields;
pub mod find_cells;
pub mod measure;
pub mod morphology;
pub mod pointed;
pub mod stain;

pub use find_cells::{find_cells, FindOptions};
pub use measure::{crop_to_scale, crop_to_scale_filled, glass_colour, measure_central_cell};
pub use stain::{romanowsky_share, StainModel};

use image::{imageops, RgbImage};

/// A nucleated cell found in an image. All sizes are in pixels of the image searched.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundCell {
    /// Box of the whole cell (nucleus and cytoplasm), clipped to the image.
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Centre of the nucleus (x, y).
    pub centre: (f32, f32),
    /// Area of the nucleus, its lobes joined (pixels).
    pub area_px: f32,
    /// Diameter of the circle of the nucleus's area.
    pub nucleus_diameter_px: f32,
    /// Whole-cell diameter (twice the median distance from the nucleus centre to the cell's edge).
    pub diameter_px: f32,
    /// How clearly this is a stained nucleus, 0–1.
    pub score: f32,
}

impl FoundCell {
    /// The same cell in an image whose origin lies `dx`, `dy` pixels left of and above this one's
    /// (a cell found in a cut of that image, mapped back).
    pub fn shifted(&self, dx: u32, dy: u32) -> FoundCell {
        FoundCell { x: self.x + dx, y: self.y + dy, centre: (self.centre.0 + dx as f32, self.centre.1 + dy as f32), ..self.clone() }
    }

    /// `[x, y, w, h]` of the cell's box.
    pub fn bbox(&self) -> [u32; 4] {
        [self.x, self.y, self.w, self.h]
    }
}

/// Errors of the cell functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CellError {
    #[error("the image is empty")]
    EmptyImage,
    #[error("the requested size is not a positive, finite size within limits")]
    BadSize,
}

/// A copy of `image` reduced by `factor` (≥ 1) with area averaging; `factor` ≤ 1 copies.
pub(crate) fn downscale(image: &RgbImage, factor: f32) -> RgbImage {
    let (w, h) = image.dimensions();
    if factor <= 1.0 || !factor.is_finite() {
        return image.clone();
    }
    let nw = ((w as f32 / factor).round() as u32).max(1);
    let nh = ((h as f32 / factor).round() as u32).max(1);
    if (nw, nh) == (w, h) {
        return image.clone();
    }
    imageops::thumbnail(image, nw, nh)
}
