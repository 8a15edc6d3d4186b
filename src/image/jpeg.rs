//! Images as JPEG bytes: the crop the model saw, which the page shows as it is, and the batch
//! list's previews ([`super::thumbnail`]).

use image::RgbImage;

/// JPEG quality of a crop the page shows (what the model saw, nearly unaltered).
pub const CROP_QUALITY: u8 = 90;

/// `image` as JPEG bytes at `quality` (1–100).
pub fn encode(image: &RgbImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(image)?;
    Ok(out)
}

/// A crop as the page shows it ([`CROP_QUALITY`]): the page shows exactly what the model saw.
pub fn crop(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    encode(image, CROP_QUALITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_reads_back_at_its_size() {
        let img = RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 128]));
        let bytes = crop(&img).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG starts with SOI");
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!((back.width(), back.height()), (40, 30));
    }
}
