//! Turns a decoded cell image into the model's input tensor, as the manifest says.

use super::cell_scale::CellScale;
use super::frame::center_square;
use image::{imageops, imageops::FilterType, RgbImage};
use serde::{Deserialize, Serialize};

/// The model's input, as the manifest's `input` says (this stage owns its description; the
/// manifest assembles it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub layout: String,
    #[serde(default = "default_channels")]
    pub channels: String,
    /// Pixel values are divided by this before mean/std (255 for 0..1).
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    #[serde(default = "default_resize")]
    pub resize: String,
    /// The scale the model was trained at. Present: every single-cell image is brought to it
    /// first (`cells::crop::cut`: the central cell found, measured and cut out), as the
    /// cells of a field are. Absent (older models, models trained on whole crops): a single-cell
    /// image is resized whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_scale: Option<CellScale>,
}

fn default_channels() -> String {
    "RGB".into()
}
fn default_resize() -> String {
    "bilinear".into()
}

/// Resizes to the model's input size (bilinear with antialiasing, like PIL's BILINEAR).
pub fn resize_for(image: &RgbImage, spec: &InputSpec) -> RgbImage {
    let square = center_square(image);
    if square.dimensions() == (spec.width, spec.height) {
        return square;
    }
    imageops::resize(&square, spec.width, spec.height, FilterType::Triangle)
}

/// The model input in NCHW order, batch 1: `((pixel / scale) - mean) / std`.
pub fn to_tensor(image: &RgbImage, spec: &InputSpec) -> Vec<f32> {
    let resized = resize_for(image, spec);
    let (w, h) = (spec.width as usize, spec.height as usize);
    let plane = w * h;
    let mut out = vec![0f32; 3 * plane];
    let mul: [f32; 3] = std::array::from_fn(|c| 1.0 / (spec.scale * spec.std[c]));
    let add: [f32; 3] = std::array::from_fn(|c| -spec.mean[c] / spec.std[c]);
    for (i, p) in resized.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = p[c] as f32 * mul[c] + add[c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(w: u32, h: u32) -> InputSpec {
        InputSpec {
            name: "input".into(),
            width: w,
            height: h,
            layout: "NCHW".into(),
            channels: "RGB".into(),
            scale: 255.0,
            mean: [0.5, 0.25, 0.0],
            std: [0.5, 0.25, 1.0],
            resize: "bilinear".into(),
            cell_scale: None,
        }
    }

    #[test]
    fn normalises_in_nchw_order() {
        let img = RgbImage::from_pixel(8, 8, image::Rgb([255, 0, 51]));
        let t = to_tensor(&img, &spec(8, 8));
        assert_eq!(t.len(), 3 * 64);
        assert!((t[0] - 1.0).abs() < 1e-6); // (1 - .5) / .5
        assert!((t[64] + 1.0).abs() < 1e-6); // (0 - .25) / .25
        assert!((t[128] - 0.2).abs() < 1e-6); // 51/255
    }

    #[test]
    fn crops_centre_square_then_resizes() {
        let img = RgbImage::from_fn(30, 10, |x, _| if (10..20).contains(&x) { image::Rgb([255, 255, 255]) } else { image::Rgb([0, 0, 0]) });
        let sq = center_square(&img);
        assert_eq!(sq.dimensions(), (10, 10));
        assert!(sq.pixels().all(|p| p.0 == [255, 255, 255]));
        assert_eq!(resize_for(&img, &spec(4, 4)).dimensions(), (4, 4));
    }
}
