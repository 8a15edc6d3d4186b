//! Framing an image before it is cut or resized: the largest centred square.

use image::{imageops, RgbImage};

/// Crops the largest centred square (MLL crops are square and centred on the cell).
pub fn center_square(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    if w == h {
        return image.clone();
    }
    let s = w.min(h);
    imageops::crop_imm(image, (w - s) / 2, (h - s) / 2, s, s).to_image()
}
