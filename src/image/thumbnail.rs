//! The batch list's previews. A list of 5,000 cells shows 5,000 of them, so each is made once,
//! from the pixels the worker has already decoded, as a small JPEG of at most [`SIDE`] pixels a
//! side: the browser then holds a few kilobytes per row instead of decoding every original file
//! (a 250×250 crop is 244 KiB once decoded, a 640×480 field 1.2 MiB).

use image::{imageops, RgbImage};

/// Longest side of a preview, in pixels (the list shows them at 48 CSS pixels).
pub const SIDE: u32 = 64;

/// JPEG quality of a preview.
const QUALITY: u8 = 80;

/// `image` reduced to fit `side`×`side` (never enlarged), keeping its proportions.
pub fn reduce(image: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let side = side.max(1);
    if w <= side && h <= side {
        return image.clone();
    }
    let (nw, nh) = if w >= h {
        (side, ((h as u64 * side as u64) / w.max(1) as u64).max(1) as u32)
    } else {
        (((w as u64 * side as u64) / h.max(1) as u64).max(1) as u32, side)
    };
    imageops::thumbnail(image, nw, nh)
}

/// The preview of `image` as JPEG bytes.
pub fn jpeg(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    super::jpeg::encode(&reduce(image, SIDE), QUALITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_to_the_side_keeping_proportions() {
        let wide = RgbImage::from_pixel(640, 480, image::Rgb([200, 100, 150]));
        assert_eq!(reduce(&wide, SIDE).dimensions(), (64, 48));
        let tall = RgbImage::from_pixel(360, 363, image::Rgb([200, 100, 150]));
        assert_eq!(reduce(&tall, SIDE).dimensions(), (63, 64));
        let small = RgbImage::from_pixel(40, 30, image::Rgb([1, 2, 3]));
        assert_eq!(reduce(&small, SIDE).dimensions(), (40, 30), "never enlarged");
        let line = RgbImage::from_pixel(5000, 1, image::Rgb([1, 2, 3]));
        assert_eq!(reduce(&line, SIDE).dimensions(), (64, 1));
    }
}
