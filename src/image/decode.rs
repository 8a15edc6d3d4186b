//! Image decoding with explicit size and memory limits.
//!
//! Any file a person drops goes through [`decode`]: it either yields an RGB
//! image or an [`Error`] that says, in words, what is wrong with the file.

use crate::error::{Error, Result};
use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;

/// Limits applied to every decode.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_file_bytes: usize,
    pub max_side: u32,
    pub min_side: u32,
    pub max_alloc_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_file_bytes: 50 << 20, max_side: 8192, min_side: 16, max_alloc_bytes: 320 << 20 }
    }
}

/// A decoded image and what it was.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub image: RgbImage,
    pub format: &'static str,
}

/// Recognises common non-image (or unsupported image) files by their first bytes.
fn sniff_unsupported(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with(b"%PDF") {
        return Some("a PDF document");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        return Some(match brand {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                "a HEIC/HEIF photo (common on iPhones); export it as JPEG or PNG first"
            }
            b"avif" | b"avis" => "an AVIF image; export it as JPEG or PNG first",
            _ => "a video or MP4-family file",
        });
    }
    if trimmed.contains("<svg") || (trimmed.starts_with("<?xml") && text.contains("svg")) {
        return Some("an SVG drawing");
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some("a ZIP archive or Office document");
    }
    if trimmed.starts_with("<!doctype html") || trimmed.starts_with("<html") {
        return Some("a web page (HTML)");
    }
    None
}

fn format_name(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Gif => "GIF",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::WebP => "WebP",
        _ => "image",
    }
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    let detail = e.to_string();
    let detail = if detail.is_empty() { "unknown decoding error".to_string() } else { detail };
    Error::CorruptImage { detail }
}

/// Decodes an image file into 8-bit RGB, enforcing `limits`.
pub fn decode_with(bytes: &[u8], limits: DecodeLimits) -> Result<Decoded> {
    if bytes.is_empty() {
        return Err(Error::EmptyFile);
    }
    if bytes.len() > limits.max_file_bytes {
        return Err(Error::FileTooBig { size_mb: bytes.len() as f64 / (1 << 20) as f64, limit_mb: (limits.max_file_bytes >> 20) as u64 });
    }
    if let Some(kind) = sniff_unsupported(bytes) {
        return Err(Error::UnsupportedFormat { kind: kind.into() });
    }
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(corrupt)?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::Bmp | ImageFormat::Tiff | ImageFormat::WebP)) => f,
        Some(other) => {
            return Err(Error::UnsupportedFormat { kind: format!("a {other:?} file") });
        }
        None => {
            let kind = if std::str::from_utf8(&bytes[..bytes.len().min(1024)]).is_ok() {
                "a text file".to_string()
            } else {
                "a file of unknown type".to_string()
            };
            return Err(Error::UnsupportedFormat { kind });
        }
    };
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(Error::CorruptImage {
            detail: "the JPEG file is incomplete (it ends before its end marker; it may have been cut off while copying)".into(),
        });
    }
    // Read only the header first, so a decompression bomb is refused before any pixel is allocated.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(corrupt)?;
    if width > limits.max_side || height > limits.max_side {
        return Err(Error::ImageTooLarge { width, height, limit: limits.max_side });
    }
    if width < limits.min_side || height < limits.min_side {
        return Err(Error::ImageTooSmall { width, height, min: limits.min_side });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut lim = Limits::default();
    lim.max_image_width = Some(limits.max_side);
    lim.max_image_height = Some(limits.max_side);
    lim.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(lim);
    let image = reader.decode().map_err(corrupt)?;
    Ok(Decoded { image: to_rgb_on_white(image), format: format_name(format) })
}

/// A JPEG must end with its end-of-image marker (FF D9), possibly followed by padding.
/// The decoder is lenient and would fill a cut-off image with grey, so check it here.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Decodes with the default limits.
pub fn decode(bytes: &[u8]) -> Result<Decoded> {
    decode_with(bytes, DecodeLimits::default())
}

/// Converts any pixel format to 8-bit RGB; transparency is composited over white.
fn to_rgb_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = p[3] as u32;
        for c in 0..3 {
            o[c] = ((p[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn decodes_png() {
        let d = decode(&png(40, 30)).unwrap();
        assert_eq!(d.image.dimensions(), (40, 30));
        assert_eq!(d.format, "PNG");
        assert_eq!(d.image.get_pixel(5, 3).0, [5, 3, 7]);
    }

    #[test]
    fn refuses_by_content() {
        assert_eq!(decode(&[]).unwrap_err(), Error::EmptyFile);
        assert!(matches!(decode(b"%PDF-1.4 hello"), Err(Error::UnsupportedFormat { .. })));
        assert!(matches!(decode(b"just some text"), Err(Error::UnsupportedFormat { .. })));
        assert!(matches!(decode(&png(4, 4)), Err(Error::ImageTooSmall { .. })));
        let tight = DecodeLimits { max_side: 32, ..Default::default() };
        assert!(matches!(decode_with(&png(40, 30), tight), Err(Error::ImageTooLarge { .. })));
    }

    #[test]
    fn truncated_jpeg_is_an_error() {
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 99]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg).unwrap();
        assert!(decode(&out).is_ok());
        assert!(matches!(decode(&out[..out.len() / 2]), Err(Error::CorruptImage { .. })));
    }

    #[test]
    fn alpha_goes_over_white() {
        let img = image::RgbaImage::from_pixel(20, 20, image::Rgba([0, 0, 0, 0]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        assert_eq!(decode(&out).unwrap().image.get_pixel(0, 0).0, [255, 255, 255]);
    }
}
