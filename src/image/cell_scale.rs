//! The scale a model was trained at (its manifest's `input.cell_scale`): how large a cell's
//! nucleus is in the square crop the model sees, how far each cell's own size is normalised away,
//! and what fills a crop beyond the image. The crop cutting that reads it is
//! [`crate::cells::crop`]; the input tensor that holds it is [`crate::image::preprocess`].

/// Side of the crops the model was trained on (MLL: 250×250 pixels).
pub const CROP_SIDE: u32 = 250;

/// Nucleus diameter, in pixels of the MLL training crops, that field cells are scaled to: the
/// median over MLL train (all classes pooled) of [`crate::cells::measure_central_cell`]'s nucleus diameter
/// (tests/fields.rs measures it again on a sample and checks it; docs/finding-cells.md has the
/// per-class values). The nucleus, not the whole cell: the doc found it the steadier measure.
pub const MLL_NUCLEUS_DIAMETER_PX: f32 = 120.0;

/// What fills the part of a crop that runs past the image (a tightly framed cell, a cell at a
/// field's edge): the model must be trained on crops filled the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CropFill {
    /// The image's edge pixels repeated (the models up to issue 50).
    #[default]
    Edge,
    /// The glass's own colour ([`crate::cells::glass_colour`]).
    Glass,
}

impl CropFill {
    fn is_edge(&self) -> bool {
        *self == CropFill::Edge
    }
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
    /// What fills a crop beyond the image's edge.
    #[serde(default, skip_serializing_if = "CropFill::is_edge")]
    pub fill: CropFill,
    /// Each crop's colours scaled so that its glass is one neutral grey
    /// ([`crate::cells::background::white_balance`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub white_balance: bool,
    /// Everything beyond this many cell radii from the cell blended into the glass
    /// ([`crate::cells::background::soften_outside`]); `None`: the surroundings as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_radius: Option<f32>,
}

fn one() -> f32 {
    1.0
}

impl Default for CellScale {
    fn default() -> Self {
        CellScale {
            nucleus_diameter_px: MLL_NUCLEUS_DIAMETER_PX,
            crop_side: CROP_SIDE,
            size_exponent: 1.0,
            nucleus_range_px: None,
            fill: CropFill::Edge,
            white_balance: false,
            mask_radius: None,
        }
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
            || self.mask_radius.is_some_and(|k| !(k.is_finite() && (0.5..=8.0).contains(&k)))
            || self
                .nucleus_range_px
                .is_some_and(|[lo, hi]| !(lo.is_finite() && hi.is_finite() && lo >= 8.0 && lo <= hi && hi <= self.crop_side as f32))
        {
            return Err(format!("input.cell_scale (nucleus {d} px in a {side} px square) is not a usable scale", side = self.crop_side));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
