//! Shifts made from the test splits, as another laboratory's images differ from the project's
//! sources: stain strength (haematoxylin and eosin), white balance, background tint, gamma, blur
//! and defocus (focus), JPEG compression, scale, the cell off centre and a neighbour in the frame.
//! Used by the proxies for images from elsewhere (`examples/field_shifts.rs`,
//! `examples/lab_calibration.rs`, `examples/shift_warning.rs`) and by the model's shift suite
//! (`examples/cell_shifts.rs`).

use crate::cells::fields::white_point;
use image::{imageops, Rgb, RgbImage};
use imageproc::geometric_transformations::{translate, Border};

/// Ruifrok & Johnston's stain vectors (rows: haematoxylin, eosin, DAB) in optical density.
const RGB_FROM_HED: [[f32; 3]; 3] = [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]];

fn invert3(m: [[f32; 3]; 3]) -> [[f32; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let c = |a: usize, b: usize, c: usize, d: usize| m[a][b] * m[c][d];
    [
        [(c(1, 1, 2, 2) - c(1, 2, 2, 1)) / det, (c(0, 2, 2, 1) - c(0, 1, 2, 2)) / det, (c(0, 1, 1, 2) - c(0, 2, 1, 1)) / det],
        [(c(1, 2, 2, 0) - c(1, 0, 2, 2)) / det, (c(0, 0, 2, 2) - c(0, 2, 2, 0)) / det, (c(0, 2, 1, 0) - c(0, 0, 1, 2)) / det],
        [(c(1, 0, 2, 1) - c(1, 1, 2, 0)) / det, (c(0, 1, 2, 0) - c(0, 0, 2, 1)) / det, (c(0, 0, 1, 1) - c(0, 1, 1, 0)) / det],
    ]
}

/// `image` with every pixel mapped by `f` (RGB values 0–255 as floats, clamped back).
pub fn map_pixels(image: &RgbImage, f: impl Fn([f32; 3]) -> [f32; 3]) -> RgbImage {
    let mut out = image.clone();
    for p in out.pixels_mut() {
        let v = f([p[0] as f32, p[1] as f32, p[2] as f32]);
        *p = Rgb(v.map(|c| c.round().clamp(0.0, 255.0) as u8));
    }
    out
}

/// Haematoxylin and eosin optical densities scaled by `h` and `e` (stain strength: another stain
/// batch or staining time).
pub fn stain(image: &RgbImage, h: f32, e: f32) -> RgbImage {
    let inv = invert3(RGB_FROM_HED);
    map_pixels(image, |p| {
        let od = p.map(|v| -((v + 1.0) / 256.0).ln());
        let mut c = [0f32; 3];
        for (j, cj) in c.iter_mut().enumerate() {
            *cj = (0..3).map(|i| od[i] * inv[i][j]).sum();
        }
        c[0] *= h;
        c[1] *= e;
        let mut out = [0f32; 3];
        for (i, o) in out.iter_mut().enumerate() {
            let d: f32 = (0..3).map(|j| c[j] * RGB_FROM_HED[j][i]).sum();
            *o = 256.0 * (-d).exp() - 1.0;
        }
        out
    })
}

/// `image` saved as JPEG at `quality` and read back (unchanged if encoding fails).
pub fn jpeg(image: &RgbImage, quality: u8) -> RgbImage {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    match image.write_with_encoder(enc) {
        Ok(()) => image::load_from_memory(&buf).map(|i| i.to_rgb8()).unwrap_or_else(|_| image.clone()),
        Err(_) => image.clone(),
    }
}

/// A phone photo through a microscope's eyepiece, made from a smear field and its white-cell boxes
/// (`[x0, y0, x1, y1]`): the field reduced to `scale` of a 640×480 frame (0.2: 128×96, nuclei of
/// about 15–25 px for a BCCD field; 0.4: 256×192), tiled over 1280×960 with alternate tiles
/// mirrored (a wide field of many cells), inside the dark round aperture of a 1600×1200 frame,
/// then JPEG 70. Returns the photo and the boxes whose centre lies inside the aperture.
pub fn eyepiece(image: &RgbImage, boxes: &[[f32; 4]], scale: f32) -> (RgbImage, Vec<[f32; 4]>) {
    let (tw, th) = (((640.0 * scale).round() as u32).clamp(16, 1280), ((480.0 * scale).round() as u32).clamp(12, 960));
    let n = (1280 / tw).max(1);
    let small = if image.width() > tw && image.height() > th {
        imageops::thumbnail(image, tw, th)
    } else {
        imageops::resize(image, tw, th, imageops::FilterType::Triangle)
    };
    let (sx, sy) = (tw as f32 / image.width().max(1) as f32, th as f32 / image.height().max(1) as f32);
    let small_boxes: Vec<[f32; 4]> = boxes.iter().map(|b| [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]).collect();
    let (fw, fh) = (1600u32, 1200u32);
    let (ox, oy) = ((fw - n * tw) / 2, (fh - n * th) / 2);
    let r = 0.5 * fh as f32;
    let inside = |x: f32, y: f32| (x - fw as f32 / 2.0).hypot(y - fh as f32 / 2.0) < r;
    let photo = RgbImage::from_fn(fw, fh, |x, y| {
        if !inside(x as f32, y as f32) || x < ox || y < oy || x >= ox + n * tw || y >= oy + n * th {
            return Rgb([12, 10, 14]);
        }
        let (i, j) = ((x - ox) / tw, (y - oy) / th);
        let (mut u, mut v) = ((x - ox) % tw, (y - oy) % th);
        if i % 2 == 1 {
            u = tw - 1 - u;
        }
        if j % 2 == 1 {
            v = th - 1 - v;
        }
        *small.get_pixel(u, v)
    });
    let mut out = Vec::new();
    for j in 0..n {
        for i in 0..n {
            for b in &small_boxes {
                let (x0, x1) = if i % 2 == 1 { (tw as f32 - b[2], tw as f32 - b[0]) } else { (b[0], b[2]) };
                let (y0, y1) = if j % 2 == 1 { (th as f32 - b[3], th as f32 - b[1]) } else { (b[1], b[3]) };
                let (dx, dy) = ((ox + i * tw) as f32, (oy + j * th) as f32);
                let bb = [x0 + dx, y0 + dy, x1 + dx, y1 + dy];
                if inside((bb[0] + bb[2]) / 2.0, (bb[1] + bb[3]) / 2.0) {
                    out.push(bb);
                }
            }
        }
    }
    (jpeg(&photo, 70), out)
}

/// Gaussian blur of standard deviation `sigma` pixels (out of focus).
pub fn blur(image: &RgbImage, sigma: f32) -> RgbImage {
    imageops::blur(image, sigma)
}

/// A shift made from a test split: another laboratory's images as far as this project can make them.
pub struct Proxy {
    pub name: &'static str,
    /// The test split it is made from: `"blood"` (PBC) or `"marrow"` (MLL).
    pub source: &'static str,
    /// `None`: the split as it is (the control).
    pub apply: Option<fn(&RgbImage) -> RgbImage>,
}

/// Tungsten light (a yellow background), gamma 1.6, blur σ 2 and JPEG 40: the harshest proxy.
pub fn tungsten(image: &RgbImage) -> RgbImage {
    let yellow = map_pixels(image, |p| [p[0], p[1] * 0.93, p[2] * 0.70].map(|v| 255.0 * (v / 255.0).powf(1.6)));
    jpeg(&blur(&yellow, 2.0), 40)
}

/// The proxies for another laboratory's images used by `examples/lab_calibration.rs` and
/// `examples/shift_warning.rs`: each test split as it is, and shifted in stain, light, focus
/// and compression.
pub fn laboratory_proxies() -> Vec<Proxy> {
    vec![
        Proxy { name: "blood (PBC test), as is", source: "blood", apply: None },
        Proxy {
            name: "blood (PBC test), another laboratory: stain H×1.5 E×0.7, blur σ 1.2, JPEG 70",
            source: "blood",
            apply: Some(|i| jpeg(&blur(&stain(i, 1.5, 0.7), 1.2), 70)),
        },
        Proxy { name: "blood (PBC test), pale stain H×0.6 E×1.3", source: "blood", apply: Some(|i| stain(i, 0.6, 1.3)) },
        Proxy {
            name: "blood (PBC test), harsh: tungsten light (yellow), gamma 1.6, blur σ 2, JPEG 40",
            source: "blood",
            apply: Some(tungsten),
        },
        Proxy { name: "marrow (MLL test), as is", source: "marrow", apply: None },
        Proxy {
            name: "marrow (MLL test), another laboratory: stain H×0.7 E×1.4, blur σ 1.5, JPEG 60",
            source: "marrow",
            apply: Some(|i| jpeg(&blur(&stain(i, 0.7, 1.4), 1.5), 60)),
        },
        Proxy {
            name: "marrow (MLL test), harsh: tungsten light (yellow), gamma 1.6, blur σ 2, JPEG 40",
            source: "marrow",
            apply: Some(tungsten),
        },
    ]
}

/// The frame moved by `fraction` of its side in the direction `angle` (radians): the cell sits off
/// centre, glass (the image's own background colour) where the frame leaves the image.
pub fn off_centre(image: &RgbImage, fraction: f32, angle: f32) -> RgbImage {
    let (w, h) = image.dimensions();
    let dx = (fraction * w as f32 * angle.cos()).round() as i32;
    let dy = (fraction * h as f32 * angle.sin()).round() as i32;
    translate(image, (-dx, -dy), Border::Constant(Rgb(white_point(image))))
}

/// A neighbour cut by the frame's edge: `other` (another image of the same source, resized to this
/// one's size) laid over the frame with its centre `distance` frame sides from the centre in the
/// direction `angle`, the darker of the two kept per channel (stained cells over glass).
pub fn neighbour(image: &RgbImage, other: &RgbImage, distance: f32, angle: f32) -> RgbImage {
    let (w, h) = image.dimensions();
    let other = if other.dimensions() == (w, h) { other.clone() } else { imageops::resize(other, w, h, imageops::FilterType::Triangle) };
    let dx = (distance * w as f32 * angle.cos()).round() as i32;
    let dy = (distance * h as f32 * angle.sin()).round() as i32;
    // White beyond the other image's edge: the darker-of-two below leaves this image there.
    let moved = translate(&other, (dx, dy), Border::Constant(Rgb([255; 3])));
    let mut out = image.clone();
    for (p, q) in out.pixels_mut().zip(moved.pixels()) {
        *p = Rgb([p[0].min(q[0]), p[1].min(q[1]), p[2].min(q[2])]);
    }
    out
}

/// Gamma: every channel `255 · (v / 255)^g` (a camera's tone curve).
pub fn gamma(image: &RgbImage, g: f32) -> RgbImage {
    map_pixels(image, |p| p.map(|v| 255.0 * (v / 255.0).powf(g)))
}

/// White balance: the channels scaled by `gains` (a camera's or a lamp's colour).
pub fn white_balance(image: &RgbImage, gains: [f32; 3]) -> RgbImage {
    map_pixels(image, |p| [p[0] * gains[0], p[1] * gains[1], p[2] * gains[2]])
}

/// The background tinted by `gains` while the cells keep their colour: each pixel scaled in
/// proportion to how close its luminance is to the glass's.
pub fn background_tint(image: &RgbImage, gains: [f32; 3]) -> RgbImage {
    let g = white_point(image).map(f32::from);
    let glass_lum = (0.299 * g[0] + 0.587 * g[1] + 0.114 * g[2]).max(1.0);
    map_pixels(image, |p| {
        let lum = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        let t = ((lum / glass_lum - 0.6) / 0.4).clamp(0.0, 1.0);
        [0, 1, 2].map(|c| p[c] * (1.0 - t + t * gains[c]))
    })
}

/// Out of focus: the mean over a disc of `radius` pixels.
pub fn defocus(image: &RgbImage, radius: u32) -> RgbImage {
    let side = 2 * radius + 1;
    let r = radius as f32 + 0.5;
    let mut weights: Vec<f32> = (0..side * side)
        .map(|i| {
            let (x, y) = ((i % side) as f32 - radius as f32, (i / side) as f32 - radius as f32);
            if x.hypot(y) <= r {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let sum: f32 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= sum);
    let kernel = imageproc::kernel::Kernel::new(&weights, side, side);
    imageproc::filter::filter(image, kernel, |v: f32| v.round().clamp(0.0, 255.0) as u8)
}

/// The whole image rescaled by `factor` (another camera or objective: every cell larger or smaller
/// in pixels).
pub fn scale(image: &RgbImage, factor: f32) -> RgbImage {
    let w = ((image.width() as f32 * factor).round() as u32).max(1);
    let h = ((image.height() as f32 * factor).round() as u32).max(1);
    imageops::resize(image, w, h, imageops::FilterType::Triangle)
}

/// `image` as PNG bytes (lossless: what the app would be given).
pub fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    // Encoding an in-memory RGB image as PNG does not fail.
    let _ = image.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stain_of_one_is_the_image_and_more_haematoxylin_darkens_a_purple_nucleus() {
        let img = RgbImage::from_fn(8, 8, |x, _| if x < 4 { Rgb([120, 60, 160]) } else { Rgb([240, 230, 235]) });
        let same = stain(&img, 1.0, 1.0);
        assert!(img.pixels().zip(same.pixels()).all(|(a, b)| (0..3).all(|i| (a[i] as i32 - b[i] as i32).abs() <= 1)));
        let dark = stain(&img, 1.5, 1.0);
        let sum = |p: &Rgb<u8>| p.0.iter().map(|&v| v as u32).sum::<u32>();
        assert!(sum(dark.get_pixel(0, 0)) + 30 < sum(img.get_pixel(0, 0)));
    }

    #[test]
    fn the_cell_shifts_move_blur_rescale_and_tint_as_named() {
        // A dark "nucleus" square at the centre of pale glass.
        let img = RgbImage::from_fn(60, 60, |x, y| {
            if (25..35).contains(&x) && (25..35).contains(&y) {
                Rgb([90, 40, 140])
            } else {
                Rgb([235, 225, 230])
            }
        });
        // Off centre by a third to the right (angle 0): the nucleus moves 20 px left, glass comes in on the right.
        let moved = off_centre(&img, 1.0 / 3.0, 0.0);
        assert_eq!(moved.get_pixel(8, 30), &Rgb([90, 40, 140]));
        assert_eq!(moved.get_pixel(30, 30), &Rgb([235, 225, 230]));
        assert_eq!(moved.get_pixel(59, 59), &Rgb([235, 225, 230]));
        // A neighbour 0.8 frames to the right: its nucleus lands at x 73..83, outside; at 0.5 it is inside (55..60).
        let near = neighbour(&img, &img, 0.5, 0.0);
        assert_eq!(near.get_pixel(57, 30), &Rgb([90, 40, 140]));
        assert_eq!(near.get_pixel(30, 30), &Rgb([90, 40, 140]));
        assert_eq!(neighbour(&img, &img, 0.8, 0.0), img);
        // Defocus keeps flat glass and spreads the nucleus's edge.
        let soft = defocus(&img, 4);
        assert_eq!(soft.get_pixel(2, 2), &Rgb([235, 225, 230]));
        assert!(soft.get_pixel(25, 30)[0] > 90 && soft.get_pixel(25, 30)[0] < 235);
        assert_eq!(scale(&img, 1.25).dimensions(), (75, 75));
        // The background tint changes the glass, not the nucleus.
        let tinted = background_tint(&img, [0.85, 0.9, 1.0]);
        assert!(tinted.get_pixel(2, 2)[0] < 210);
        assert_eq!(tinted.get_pixel(30, 30), &Rgb([90, 40, 140]));
        assert!(gamma(&img, 1.5).get_pixel(30, 30)[0] < 90 && white_balance(&img, [1.0, 1.0, 0.5]).get_pixel(2, 2)[2] == 115);
    }
}
