//! Phone photos through a microscope's eyepiece (issue 51): a round lit field in a dark
//! surround, the whole field in the frame, white cells 15–30 px across among many red cells.
//!
//! 1. **The lit field** ([`find_aperture`]): pixels darker than a fraction of the brightest
//!    light that are connected to the frame's border are the surround (a nucleus is dark too,
//!    but inside the field); the rest, less a rim where the light falls off, is the field.
//! 2. **The stain, read from the field only**: the white point is the light through the field's
//!    own glass (each channel's 99th percentile inside it), so whatever the phone's white balance
//!    did to the colours, glass is 0 in optical density (a gain on a channel divides out). A
//!    nucleus (dark purple) absorbs red light, which the eosin of a red cell mostly lets through,
//!    and green as well: the nuclear signal is `od_red + green_weight × od_green`, thresholded
//!    by Otsu's level over the field's upper tail (its densest tenth), never less than a
//!    contrast above the field's median. On `eyepiece-phone` train (recall / precision of this
//!    finder alone): the red channel alone 0.72 / 0.76; red less 0.3 green (the azure of
//!    [`super::stain`], red cells lilac in these photos) 0.01 / 0.11; red plus 0.6 green
//!    0.92 / 0.83, and 0.92 / 0.89 with a rim of 4 % of the diameter left out instead of 2 %.
//! 3. **White cells**: the blobs above it, opened and their lobes joined, whose size is that of a
//!    nucleus against the lit field (at a 100× objective the field is 180–220 µm across, a white
//!    cell's nucleus 6–12 µm: [`EyepieceOptions::min_nucleus`]–[`EyepieceOptions::max_nucleus`]
//!    of the field's diameter).
//!
//! Measured on `eyepiece-phone` train (chosen) and valid (reported) by
//! `examples/field_shifts.rs`; docs/finding-cells.md, "Phone photos through an eyepiece".

use super::morphology::{close, erode, open};
use super::FoundCell;
use image::{GrayImage, Luma, RgbImage};
use imageproc::contrast::otsu_level;
use imageproc::region_labelling::{connected_components, Connectivity};

/// Settings of [`find_aperture`] and [`find_white_cells`]; the defaults were chosen on
/// `eyepiece-phone` train.
#[derive(Debug, Clone, PartialEq)]
pub struct EyepieceOptions {
    /// Darker than this fraction of the brightest light (luma, 99th percentile), connected to
    /// the border: the surround.
    pub dark: f32,
    /// The surround must take at least this share of the frame.
    pub min_surround: f32,
    /// Rim left out of the field, as a fraction of its diameter (the light falls off there).
    pub rim: f32,
    /// Nuclear signal: `od_red + green_weight × od_green`.
    pub green_weight: f32,
    /// The threshold is Otsu's level over the field's pixels above this quantile of the signal.
    pub tail: f32,
    /// …and never less than this many optical-density units above the field's median signal.
    pub min_contrast: f32,
    /// Smallest and largest nucleus diameter, as fractions of the lit field's diameter.
    pub min_nucleus: f32,
    pub max_nucleus: f32,
    /// Closing radius that joins the lobes of one nucleus, as a fraction of the field's diameter.
    pub join: f32,
    /// A blob must fill at least this share of its bounding box (drops streaks and rims).
    pub min_fill: f32,
}

impl Default for EyepieceOptions {
    fn default() -> Self {
        EyepieceOptions {
            dark: 0.3,
            min_surround: 0.03,
            rim: 0.04,
            green_weight: 0.6,
            tail: 0.9,
            min_contrast: 0.15,
            min_nucleus: 0.025,
            max_nucleus: 0.13,
            join: 0.008,
            min_fill: 0.3,
        }
    }
}

/// The lit field of a photo through an eyepiece.
#[derive(Debug, Clone, PartialEq)]
pub struct Aperture {
    /// 255 inside the lit field (its rim left out), 0 elsewhere; the image's size.
    pub mask: GrayImage,
    /// Bounding box `(x, y, w, h)` of the lit field (rim included).
    pub bounds: (u32, u32, u32, u32),
    /// Diameter of the lit field, pixels (its longer extent, or the circle of its area where the
    /// frame cuts it more).
    pub diameter: f32,
    /// Share of the frame that is surround.
    pub surround: f32,
}

impl Aperture {
    /// The lit field spans at least `share` of the frame's width and height: a phone held to the
    /// eyepiece photographs the whole field, filling the frame.
    pub fn fills_frame(&self, share: f32) -> bool {
        let (w, h) = self.mask.dimensions();
        self.bounds.2 as f32 >= share * w as f32 && self.bounds.3 as f32 >= share * h as f32
    }

    /// Whether pixel (`x`, `y`) lies in the lit field (its rim left out).
    pub fn contains(&self, x: u32, y: u32) -> bool {
        self.mask.get_pixel_checked(x, y).is_some_and(|p| p[0] > 0)
    }
}

/// Share of the frame's border pixels that must be dark for a surround: a lit disc filling a
/// square frame leaves the border dark but for where it touches the edges (about 60 % dark where
/// its diameter is 0.98 of the side); a crop whose dark nucleus touches its edge does not come near.
const MIN_DARK_BORDER: f32 = 0.25;

/// The surround's mean chroma (brightest channel less darkest) is at most this fraction of the
/// brightest light: the black or dark grey outside an eyepiece's field, not the purple of dense
/// bone-marrow cells at a crop's edges (8 of the 1008 MLL test crops were taken for eyepiece
/// photos without this check).
const MAX_SURROUND_CHROMA: f32 = 0.1;

fn luma(p: &image::Rgb<u8>) -> u8 {
    ((299 * p[0] as u32 + 587 * p[1] as u32 + 114 * p[2] as u32) / 1000) as u8
}

fn quantile_u8(hist: &[u64; 256], q: f32) -> u8 {
    let n: u64 = hist.iter().sum();
    let target = (n.saturating_sub(1) as f32 * q) as u64;
    let mut acc = 0;
    for (v, &c) in hist.iter().enumerate() {
        acc += c;
        if acc > target {
            return v as u8;
        }
    }
    255
}

/// The lit field of a photo through an eyepiece: the dark surround (darker than
/// [`EyepieceOptions::dark`] of the brightest light and connected to the frame's border) takes
/// at least [`EyepieceOptions::min_surround`] of the frame and the field at least a third. `None`
/// for any other image (a camera frame, a crop).
pub fn find_aperture(image: &RgbImage, opts: &EyepieceOptions) -> Option<Aperture> {
    let (w, h) = image.dimensions();
    if w < 32 || h < 32 {
        return None;
    }
    let mut hist = [0u64; 256];
    let lum: Vec<u8> = image.pixels().map(luma).collect();
    for &v in &lum {
        hist[v as usize] += 1;
    }
    let bright = quantile_u8(&hist, 0.99) as f32;
    if bright < 32.0 {
        return None;
    }
    let cut = (opts.dark * bright) as u8;
    // The surround rings the field: at least three of the frame's corners are dark (a quick
    // answer for every other image), and so is a good part of its border.
    let corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)];
    if corners.iter().filter(|&&(x, y)| lum[(y * w + x) as usize] < cut).count() < 3 {
        return None;
    }
    let edge: Vec<u8> = (0..w)
        .flat_map(|x| [lum[x as usize], lum[((h - 1) * w + x) as usize]])
        .chain((0..h).flat_map(|y| [lum[(y * w) as usize], lum[(y * w + w - 1) as usize]]))
        .collect();
    if (edge.iter().filter(|&&v| v < cut).count() as f32) < MIN_DARK_BORDER * edge.len() as f32 {
        return None;
    }
    let dark = GrayImage::from_raw(w, h, lum.iter().map(|&v| if v < cut { 255 } else { 0 }).collect())?;
    let labels = connected_components(&dark, Connectivity::Four, Luma([0u8]));
    let mut border = vec![false; 1];
    let mut mark = |l: u32| {
        let l = l as usize;
        if l >= border.len() {
            border.resize(l + 1, false);
        }
        border[l] = l != 0;
    };
    for x in 0..w {
        mark(labels.get_pixel(x, 0)[0]);
        mark(labels.get_pixel(x, h - 1)[0]);
    }
    for y in 0..h {
        mark(labels.get_pixel(0, y)[0]);
        mark(labels.get_pixel(w - 1, y)[0]);
    }
    let is_surround = |l: u32| border.get(l as usize).copied().unwrap_or(false);
    let mut lit = GrayImage::new(w, h);
    let (mut n_surround, mut x0, mut y0, mut x1, mut y1) = (0usize, u32::MAX, u32::MAX, 0u32, 0u32);
    let mut chroma = 0u64;
    for (x, y, l) in labels.enumerate_pixels() {
        if is_surround(l[0]) {
            n_surround += 1;
            let p = image.get_pixel(x, y).0;
            chroma += (p.iter().max().unwrap_or(&0) - p.iter().min().unwrap_or(&0)) as u64;
        } else {
            lit.put_pixel(x, y, Luma([255]));
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    let total = (w * h) as usize;
    let surround = n_surround as f32 / total as f32;
    if surround < opts.min_surround || 3 * (total - n_surround) < total || x1 < x0 {
        return None;
    }
    // The surround is black or grey; dark stained cells crowding a crop's edges are purple.
    if chroma as f32 / n_surround.max(1) as f32 > MAX_SURROUND_CHROMA * bright {
        return None;
    }
    let bounds = (x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    let by_area = 2.0 * ((total - n_surround) as f32 / std::f32::consts::PI).sqrt();
    let diameter = (bounds.2.max(bounds.3) as f32).max(by_area);
    let rim = (opts.rim * diameter).round().clamp(1.0, 255.0) as u8;
    // The frame's edge is no rim: only the surround is eroded from.
    let mask = erode_from_surround(&lit, rim);
    Some(Aperture { mask, bounds, diameter, surround })
}

/// `lit` eroded by `k` from its dark surround only (the frame's own edges do not count as
/// surround: a field cut by the frame keeps its pixels up to the edge).
fn erode_from_surround(lit: &GrayImage, k: u8) -> GrayImage {
    let (w, h) = lit.dimensions();
    // Pad by k with "lit", erode, cut back.
    let pad = k as u32 + 1;
    let mut big = GrayImage::from_pixel(w + 2 * pad, h + 2 * pad, Luma([255]));
    image::imageops::replace(&mut big, lit, pad as i64, pad as i64);
    let e = erode(&big, k);
    image::imageops::crop_imm(&e, pad, pad, w, h).to_image()
}

/// The image with everything outside the lit field painted the colour of its glass (each
/// channel's 99th percentile inside the field), so that measures of the whole image read the
/// field only.
pub fn paint_surround(image: &RgbImage, aperture: &Aperture) -> RgbImage {
    let white = field_white(image, aperture);
    let mut out = image.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        if !aperture.contains(x, y) {
            p.0 = white;
        }
    }
    out
}

/// Each channel's 99th percentile inside the lit field: the light through its glass.
fn field_white(image: &RgbImage, aperture: &Aperture) -> [u8; 3] {
    let mut hist = [[0u64; 256]; 3];
    for (x, y, p) in image.enumerate_pixels() {
        if aperture.contains(x, y) {
            for (h, &v) in hist.iter_mut().zip(p.0.iter()) {
                h[v as usize] += 1;
            }
        }
    }
    std::array::from_fn(|c| quantile_u8(&hist[c], 0.99).max(1))
}

/// The nuclear signal of each pixel of the lit field (`od_red + green_weight × od_green`, against
/// the field's own white point); `None` outside it.
fn nuclear_signal(image: &RgbImage, aperture: &Aperture, opts: &EyepieceOptions) -> Vec<Option<f32>> {
    let white = field_white(image, aperture);
    let table: [[f32; 256]; 2] = std::array::from_fn(|c| std::array::from_fn(|v| (white[c] as f32 / (v as f32).max(1.0)).ln().max(0.0)));
    image
        .enumerate_pixels()
        .map(|(x, y, p)| aperture.contains(x, y).then(|| table[0][p[0] as usize] + opts.green_weight * table[1][p[1] as usize]))
        .collect()
}

/// Signal (optical density) in 8 bits for imageproc's Otsu: `q = signal / STEP`.
const SIGNAL_STEP: f32 = 2.5 / 255.0;

/// The white cells in the lit field of a photo through an eyepiece, boxes and sizes in pixels of
/// `image`, best first. Nucleus-sized blobs of nuclear signal (see the module's description).
pub fn find_white_cells(image: &RgbImage, aperture: &Aperture, opts: &EyepieceOptions) -> Vec<FoundCell> {
    let (w, h) = image.dimensions();
    if aperture.mask.dimensions() != (w, h) {
        return Vec::new();
    }
    let signal = nuclear_signal(image, aperture, opts);
    let mut inside: Vec<f32> = signal.iter().flatten().copied().collect();
    if inside.len() < 64 {
        return Vec::new();
    }
    let mid = inside.len() / 2;
    let median = *inside.select_nth_unstable_by(mid, f32::total_cmp).1;
    let k = ((inside.len() as f32 * opts.tail) as usize).min(inside.len() - 1);
    let tail_from = *inside.select_nth_unstable_by(k, f32::total_cmp).1;
    let tail: Vec<u8> =
        inside.iter().filter(|&&s| s >= tail_from).map(|&s| (s.max(0.0) / SIGNAL_STEP).round().clamp(0.0, 255.0) as u8).collect();
    let otsu = image::GrayImage::from_raw(tail.len() as u32, 1, tail).map(|g| otsu_level(&g) as f32 * SIGNAL_STEP).unwrap_or(f32::INFINITY);
    let threshold = otsu.max(median + opts.min_contrast);
    let raw = GrayImage::from_raw(w, h, signal.iter().map(|s| if s.is_some_and(|s| s > threshold) { 255 } else { 0 }).collect());
    let Some(raw) = raw else { return Vec::new() };
    let d = aperture.diameter;
    let join = (opts.join * d).round().clamp(1.0, 255.0) as u8;
    let mask = close(&open(&raw, 1), join);
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    // Per blob: area, sums of x and y, bounding box, sum of signal.
    #[derive(Clone, Copy)]
    struct Blob {
        n: f32,
        sx: f32,
        sy: f32,
        x0: u32,
        y0: u32,
        x1: u32,
        y1: u32,
        signal: f32,
    }
    let empty = Blob { n: 0.0, sx: 0.0, sy: 0.0, x0: u32::MAX, y0: u32::MAX, x1: 0, y1: 0, signal: 0.0 };
    let mut blobs: Vec<Blob> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l[0] as usize;
        if l == 0 {
            continue;
        }
        if blobs.len() <= l {
            blobs.resize(l + 1, empty);
        }
        let b = &mut blobs[l];
        b.n += 1.0;
        b.sx += x as f32;
        b.sy += y as f32;
        b.x0 = b.x0.min(x);
        b.y0 = b.y0.min(y);
        b.x1 = b.x1.max(x);
        b.y1 = b.y1.max(y);
        b.signal += signal[(y * w + x) as usize].unwrap_or(0.0);
    }
    let (dmin, dmax) = (opts.min_nucleus * d, opts.max_nucleus * d);
    let mut out: Vec<FoundCell> = blobs
        .iter()
        .filter(|b| b.n > 0.0)
        .filter_map(|b| {
            let nd = 2.0 * (b.n / std::f32::consts::PI).sqrt();
            let (bw, bh) = ((b.x1 - b.x0 + 1) as f32, (b.y1 - b.y0 + 1) as f32);
            if nd < dmin || nd > dmax || b.n < opts.min_fill * bw * bh {
                return None;
            }
            let centre = (b.sx / b.n, b.sy / b.n);
            // The whole cell: its pale cytoplasm rims the nucleus by about a fifth of its size.
            let half = 0.6 * bw.max(bh);
            let bx = (centre.0 - half).max(0.0);
            let by = (centre.1 - half).max(0.0);
            let x = (bx as u32).min(w - 1);
            let y = (by as u32).min(h - 1);
            let side = (2.0 * half).round().max(1.0) as u32;
            let contrast = b.signal / b.n - threshold;
            Some(FoundCell {
                x,
                y,
                w: side.clamp(1, w - x),
                h: side.clamp(1, h - y),
                centre,
                area_px: b.n,
                nucleus_diameter_px: nd,
                diameter_px: 2.0 * half,
                score: (contrast / threshold.max(0.05)).clamp(0.0, 1.0),
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A lit disc filling a `side`-square frame, lilac red cells on cream glass, purple nuclei at
    /// `nuclei` (radius 8), a dark grey surround.
    fn photo(side: u32, nuclei: &[(f32, f32)]) -> RgbImage {
        let c = side as f32 / 2.0;
        RgbImage::from_fn(side, side, |x, y| {
            let (fx, fy) = (x as f32, y as f32);
            if (fx - c).hypot(fy - c) > 0.49 * side as f32 {
                return Rgb([35, 33, 38]);
            }
            if nuclei.iter().any(|&(nx, ny)| (fx - nx).hypot(fy - ny) < 8.0) {
                return Rgb([110, 60, 150]);
            }
            let (gx, gy) = ((x % 16) as f32, (y % 16) as f32);
            if (gx - 8.0).hypot(gy - 8.0) < 6.0 {
                return Rgb([205, 150, 215]);
            }
            Rgb([240, 232, 210])
        })
    }

    #[test]
    fn the_lit_field_is_found_and_its_white_cells_in_it() {
        let img = photo(416, &[(100.0, 200.0), (300.0, 150.0), (220.0, 330.0)]);
        let opts = EyepieceOptions::default();
        let ap = find_aperture(&img, &opts).expect("a dark surround");
        assert!(ap.fills_frame(0.9), "{:?}", ap.bounds);
        assert!((ap.diameter - 408.0).abs() < 8.0, "{}", ap.diameter);
        assert!(!ap.contains(0, 0) && ap.contains(208, 208) && !ap.contains(208, 2));
        let cells = find_white_cells(&img, &ap, &opts);
        assert_eq!(cells.len(), 3, "{cells:?}");
        for want in [(100.0, 200.0), (300.0, 150.0), (220.0, 330.0)] {
            assert!(cells.iter().any(|c| (c.centre.0 - want.0).hypot(c.centre.1 - want.1) < 3.0), "{want:?} in {cells:?}");
        }
        for c in &cells {
            assert!((c.nucleus_diameter_px - 16.0).abs() < 4.0, "{c:?}");
        }
    }

    #[test]
    fn a_frame_without_a_dark_surround_has_no_aperture() {
        let opts = EyepieceOptions::default();
        assert_eq!(find_aperture(&RgbImage::from_pixel(300, 200, Rgb([230, 225, 228])), &opts), None);
        assert_eq!(find_aperture(&RgbImage::new(300, 200), &opts), None);
        assert_eq!(find_aperture(&RgbImage::new(4, 4), &opts), None);
        // Dark nuclei inside a field are not a surround.
        let mut img = RgbImage::from_pixel(300, 200, Rgb([230, 225, 228]));
        for (x, y, p) in img.enumerate_pixels_mut() {
            if (x as f32 - 150.0).hypot(y as f32 - 100.0) < 30.0 {
                *p = Rgb([20, 10, 40]);
            }
        }
        assert_eq!(find_aperture(&img, &opts), None);
    }

    #[test]
    fn a_field_without_white_cells_gives_none() {
        let img = photo(416, &[]);
        let opts = EyepieceOptions::default();
        let ap = find_aperture(&img, &opts).expect("a dark surround");
        assert!(find_white_cells(&img, &ap, &opts).is_empty());
    }
}
