//! Finding nucleated (white) cells in a stained smear field.
//!
//! 1. **Survey**: a small copy (long side [`FindOptions::survey_side`]) gives the stain model
//!    ([`StainModel`]) and the scale: the typical radius of the cells in the field, read from the
//!    distance transform of the cell mask (its ridge values are cell radii; red cells, the most
//!    numerous, set it).
//! 2. **Working copy**: the field is rescaled (down, or up for small cells) so that this radius
//!    becomes [`FindOptions::work_cell_radius`] pixels; every size below is a multiple of it, so the
//!    same code serves any magnification and camera.
//! 3. **Nuclei**: pixels above the image's own azure threshold (blue-stained material), opened
//!    (noise), closed (the lobes of one nucleus join), labelled.
//! 4. **Not cells**: components smaller than a fraction of a red cell (platelets, stain
//!    debris, specks) or hardly stained are dropped; red cells never pass the azure threshold.
//! 5. **Touching cells**: a joined component holding two or more large nuclear bodies (the
//!    stain joined across small gaps only) farther apart than one nucleus could span is split
//!    between them.
//! 6. Each nucleus's whole cell (nucleus and cytoplasm) is measured with rays
//!    ([`super::extent::cell_extent`]) and the box is mapped back to original pixels.

use super::extent::{cell_extent, Region};
use super::morphology::{close, open, squared_distance};
use super::stain::{StainMaps, StainModel};
use super::{downscale, FoundCell};
use image::{GrayImage, Luma, RgbImage};
use imageproc::region_labelling::{connected_components, Connectivity};

/// The most a field with small cells is enlarged for detection (see [`find_cells`], step 2).
const MAX_UPSCALE: f32 = 4.0;
/// …and the longest side it is enlarged to.
const MAX_UPSCALED_SIDE: f32 = 1024.0;

/// Settings of [`find_cells`]; the defaults were chosen on BCCD train/val.
#[derive(Debug, Clone, PartialEq)]
pub struct FindOptions {
    /// Long side, in pixels, of the copy that the stain model and the scale are measured on.
    pub survey_side: u32,
    /// The typical (red-)cell radius, in pixels, of the working copy: sets its size.
    pub work_cell_radius: f32,
    /// The smallest nucleus, as a fraction of the area of a typical (red) cell.
    pub min_nucleus_area: f32,
    /// Closing radius that joins the lobes of one nucleus, as a fraction of the cell radius.
    pub join_radius: f32,
    /// Two cores of one blob farther apart than this (in cell radii) are two cells.
    pub split_distance: f32,
    /// Detections scoring below this are dropped (0–1).
    pub min_score: f32,
    /// A photo through an eyepiece (its dark surround left out by the caller): a wide field at a
    /// low magnification whose touching red cells the survey's small copy merges into masses;
    /// the survey looks closer (see [`survey`]).
    pub eyepiece: bool,
}

impl Default for FindOptions {
    fn default() -> Self {
        FindOptions {
            survey_side: 320,
            work_cell_radius: 12.0,
            min_nucleus_area: 0.5,
            join_radius: 1.2,
            split_distance: 2.2,
            min_score: 0.0,
            eyepiece: false,
        }
    }
}

/// The typical radius (pixels of `mask`'s image) of the objects in a binary mask: the median
/// upper quartile of the local maxima of its distance transform (holes filled first: red cells are pale in
/// the middle). `None` when the mask holds nothing measurable.
pub fn typical_radius(mask: &GrayImage) -> Option<f32> {
    let filled = fill_holes(mask);
    let dt = inside_distance(&filled);
    let (w, h) = filled.dimensions();
    let mut peaks = Vec::new();
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let v = dt[(y * w + x) as usize];
            if v < 2.0 {
                continue;
            }
            let mut is_max = true;
            'n: for dy in -1i32..=1 {
                for dx in -1i32..=1 {
                    let j = ((y as i32 + dy) as u32 * w + (x as i32 + dx) as u32) as usize;
                    if dt[j] > v {
                        is_max = false;
                        break 'n;
                    }
                }
            }
            if is_max {
                peaks.push(v);
            }
        }
    }
    if peaks.len() < 3 {
        return None;
    }
    // The upper quartile: ragged outlines and overlaps add many small ridge maxima.
    let k = peaks.len() * 3 / 4;
    let (_, m, _) = peaks.select_nth_unstable_by(k, f32::total_cmp);
    Some(*m)
}

/// Euclidean distance of each mask pixel to the nearest non-mask pixel (0 outside the mask).
pub(crate) fn inside_distance(mask: &GrayImage) -> Vec<f32> {
    let (w, h) = mask.dimensions();
    let px = mask.as_raw();
    if px.iter().all(|&v| v > 0) {
        // No background at all: every pixel is as far as the image allows.
        return vec![w.max(h) as f32; (w * h) as usize];
    }
    squared_distance(w as usize, h as usize, |i| px[i] == 0).into_iter().map(|d| (d as f32).sqrt()).collect()
}

/// Fills the holes of a binary mask: background components that do not touch the border.
pub(crate) fn fill_holes(mask: &GrayImage) -> GrayImage {
    let (w, h) = mask.dimensions();
    let mut inv = mask.clone();
    for p in inv.pixels_mut() {
        p[0] = if p[0] > 0 { 0 } else { 255 };
    }
    let labels = connected_components(&inv, Connectivity::Four, Luma([0u8]));
    let mut touches = vec![false; 1];
    let mark = |l: u32, touches: &mut Vec<bool>| {
        let l = l as usize;
        if touches.len() <= l {
            touches.resize(l + 1, false);
        }
        touches[l] = true;
    };
    for x in 0..w {
        mark(labels.get_pixel(x, 0)[0], &mut touches);
        mark(labels.get_pixel(x, h - 1)[0], &mut touches);
    }
    for y in 0..h {
        mark(labels.get_pixel(0, y)[0], &mut touches);
        mark(labels.get_pixel(w - 1, y)[0], &mut touches);
    }
    let mut out = mask.clone();
    for (o, l) in out.pixels_mut().zip(labels.pixels()) {
        let l = l[0] as usize;
        if l != 0 && !touches.get(l).copied().unwrap_or(false) {
            o[0] = 255;
        }
    }
    out
}

/// Binary mask (0/255) of `pred` over the pixels of a map.
pub(crate) fn mask_of(w: u32, h: u32, values: &[f32], pred: impl Fn(f32) -> bool) -> GrayImage {
    let data = values.iter().map(|&v| if pred(v) { 255u8 } else { 0 }).collect();
    GrayImage::from_raw(w, h, data).unwrap_or_else(|| GrayImage::new(w, h))
}

/// The scale of a field: the typical cell radius in pixels of `image` (see [`typical_radius`]).
pub fn field_cell_radius(image: &RgbImage, model: &StainModel) -> Option<f32> {
    field_cell_radius_at(image, model, model.cytoplasm_density())
}

/// [`field_cell_radius`] with `cut` as the density between glass and cells.
fn field_cell_radius_at(image: &RgbImage, model: &StainModel, cut: f32) -> Option<f32> {
    let maps = model.maps(image);
    // Cells against glass, with a low cut (red cells are pale in the middle), lightly closed.
    let cells = mask_of(maps.width, maps.height, &maps.density, |d| d > cut);
    let cells = close(&open(&cells, 1), 2);
    typical_radius(&cells)
}

/// A survey copy is looked at again at a larger size (up to [`DETAILED_SURVEY_SIDE`]) when its
/// cells are smaller than this radius (pixels of the copy): a photo of a low-magnification field
/// with many small cells.
const SMALL_SURVEY_RADIUS: f32 = 5.0;
/// The same for a photo through an eyepiece ([`FindOptions::eyepiece`]): at its low magnification
/// touching red cells merge into masses in the small copy and measure several times their size
/// (the eyepiece shift of `examples/field_shifts.rs --split val`: first look 3–15 px where the
/// larger copy's read 7–11 px, the true 8–10 px). Only there: on camera frames of BCCD enlarged
/// 1.5× the second look read texture inside red cells (val precision 0.92 → 0.86).
const EYEPIECE_SURVEY_RADIUS: f32 = 16.0;
/// In an eyepiece photo the second look's radius is taken only where it is at most this fraction
/// of the first's (the small copy merged touching cells into masses); otherwise the first stands.
const DETAILED_SURVEY_SMALLER: f32 = 0.7;
/// Long side of that second look.
const DETAILED_SURVEY_SIDE: u32 = 1024;

/// The stain model of `image` and its typical cell radius in pixels of `image`, measured on a
/// copy of long side `side`, or on a larger one where the cells are small in it (see
/// [`SMALL_SURVEY_RADIUS`], and [`EYEPIECE_SURVEY_RADIUS`] where `eyepiece`).
pub fn survey(image: &RgbImage, side: u32, eyepiece: bool) -> (StainModel, f32) {
    let (w0, h0) = image.dimensions();
    let long = w0.max(h0) as f32;
    let look = |side: u32| {
        let f = (long / side.max(16) as f32).max(1.0);
        let copy = downscale(image, f);
        let model = StainModel::estimate(&copy);
        let r = field_cell_radius(&copy, &model);
        let copy_long = copy.width().max(copy.height()) as f32;
        (model, r, f, copy, copy_long)
    };
    let below = if eyepiece { EYEPIECE_SURVEY_RADIUS } else { SMALL_SURVEY_RADIUS };
    let (model, r, f, _, copy_long) = look(side);
    match r {
        // A second look at a larger copy where the cells are small in the first (an eyepiece
        // photo's lit field may be smaller than the first copy: look at it whole).
        Some(r) if r < below && (f > 1.0 || eyepiece) => {
            let (m2, r2, f2, copy2, _) = look(DETAILED_SURVEY_SIDE.max(side));
            if !eyepiece {
                return (m2, r2.map_or(r * f, |r2| r2 * f2));
            }
            let smaller = |r2: f32| r2 * f2 < DETAILED_SURVEY_SMALLER * r * f;
            match r2 {
                // Cells that merged into masses in the small copy come apart in the larger one.
                Some(r2) if smaller(r2) => (m2, r2 * f2),
                // Where they still touch, the cells' own density (the image's threshold between
                // glass and cells, not the faint cytoplasm cut) parts them at their rims.
                _ => match field_cell_radius_at(&copy2, &m2, m2.density_threshold) {
                    Some(r3) if smaller(r3) => (m2, r3 * f2),
                    _ => (model, r * f),
                },
            }
        }
        Some(r) => (model, r * f),
        None => (model, copy_long / 16.0 * f),
    }
}

/// Finds the nucleated cells of a stained smear field. Boxes and sizes are in pixels of
/// `image`; the result is sorted by score, best first. Never panics on image content; an
/// image too small to hold a cell gives an empty list.
pub fn find_cells(image: &RgbImage, opts: &FindOptions) -> Vec<FoundCell> {
    let (w0, h0) = image.dimensions();
    if w0 < 8 || h0 < 8 {
        return Vec::new();
    }
    // 1. Survey.
    let (model, radius_full) = survey(image, opts.survey_side, opts.eyepiece);
    // 2. Working copy, where a typical cell has `work_cell_radius` pixels: downscaled, or
    // upscaled (at most [`MAX_UPSCALE`]×, to at most [`MAX_UPSCALED_SIDE`] pixels) where cells are
    // smaller, so that a nucleus of about 8 pixels still survives the opening that removes noise.
    let mut factor = radius_full / opts.work_cell_radius.max(2.0);
    if factor < 1.0 {
        let most = (MAX_UPSCALED_SIDE / w0.max(h0) as f32).clamp(1.0, MAX_UPSCALE);
        factor = factor.max(1.0 / most);
    }
    let work = if factor < 1.0 {
        let (nw, nh) = (((w0 as f32 / factor).round() as u32).max(1), ((h0 as f32 / factor).round() as u32).max(1));
        image::imageops::resize(image, nw, nh, image::imageops::FilterType::Triangle)
    } else {
        downscale(image, factor)
    };
    let maps = model.maps(&work);
    let r = radius_full / factor;
    let regions = find_nuclei(&maps, &model, r, opts);
    let mut out: Vec<FoundCell> = regions
        .iter()
        .filter_map(|reg| {
            let cell = cell_extent(&maps, &model, reg, r)?;
            let c = cell.to_found(factor, w0, h0);
            (c.score >= opts.min_score).then_some(c)
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// The nuclei of a working-scale image whose typical cell radius is `r` pixels.
pub(crate) fn find_nuclei(maps: &StainMaps, model: &StainModel, r: f32, opts: &FindOptions) -> Vec<Region> {
    let (w, h) = (maps.width, maps.height);
    let raw = mask_of(w, h, &maps.azure, |a| a > model.azure_threshold);
    let opened = open(&raw, 1);
    let join = (opts.join_radius * r).round().clamp(1.0, 255.0) as u8;
    let closed = close(&opened, join);
    let labels = connected_components(&closed, Connectivity::Eight, Luma([0u8]));
    let n = labels.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    if n == 0 {
        return Vec::new();
    }
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
    for (i, l) in labels.pixels().enumerate() {
        if l[0] != 0 {
            members[l[0] as usize].push(i as u32);
        }
    }
    let min_area = opts.min_nucleus_area * std::f32::consts::PI * r * r;
    // Nuclear bodies: the stain joined only across small gaps. Two large bodies far apart
    // inside one joined component are the nuclei of two touching cells.
    let small_join = (0.35 * r).round().clamp(1.0, 255.0) as u8;
    let bodies = connected_components(&close(&opened, small_join), Connectivity::Eight, Luma([0u8]));
    let nb = bodies.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    let mut body_stats = vec![(0f32, 0f32, 0f32); nb + 1];
    for (i, l) in bodies.pixels().enumerate() {
        let e = &mut body_stats[l[0] as usize];
        e.0 += 1.0;
        e.1 += (i as u32 % w) as f32;
        e.2 += (i as u32 / w) as f32;
    }
    let mut out = Vec::new();
    for pix in members.into_iter().skip(1) {
        if (pix.len() as f32) < min_area {
            continue;
        }
        let mut inside: Vec<u32> = pix.iter().map(|&i| bodies.as_raw()[i as usize]).filter(|&l| l != 0).collect();
        inside.sort_unstable();
        inside.dedup();
        let centres: Vec<(f32, f32, f32)> =
            inside.iter().map(|&l| body_stats[l as usize]).filter(|b| b.0 >= 0.5 * min_area).map(|b| (b.0, b.1 / b.0, b.2 / b.0)).collect();
        for part in split_touching(&pix, w, &centres, opts.split_distance * r) {
            if let Some(reg) = Region::from_pixels(&part, maps, model, &opened) {
                if reg.raw_area >= min_area {
                    out.push(reg);
                }
            }
        }
    }
    out
}

/// Splits one joined component (pixel indices) between its large nuclear bodies
/// (area, centre x, centre y) that lie at least `min_sep` apart (largest first); each pixel
/// goes to the nearest kept body. One body or none: the component stays whole.
fn split_touching(pix: &[u32], w: u32, bodies: &[(f32, f32, f32)], min_sep: f32) -> Vec<Vec<u32>> {
    let mut order: Vec<&(f32, f32, f32)> = bodies.iter().collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut kept: Vec<(f32, f32)> = Vec::new();
    for &&(_, cx, cy) in &order {
        if kept.iter().all(|&(kx, ky)| ((kx - cx).powi(2) + (ky - cy).powi(2)).sqrt() >= min_sep) {
            kept.push((cx, cy));
        }
    }
    if kept.len() < 2 {
        return vec![pix.to_vec()];
    }
    let mut parts = vec![Vec::new(); kept.len()];
    for &i in pix {
        let (x, y) = ((i % w) as f32, (i / w) as f32);
        let best = kept
            .iter()
            .enumerate()
            .map(|(j, &(kx, ky))| (j, (kx - x).powi(2) + (ky - y).powi(2)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(j, _)| j)
            .unwrap_or(0);
        parts[best].push(i);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn blank_field_has_no_cells() {
        let img = RgbImage::from_pixel(640, 480, Rgb([225, 225, 228]));
        assert!(find_cells(&img, &FindOptions::default()).is_empty());
    }

    #[test]
    fn noise_has_no_cells() {
        // Deterministic pseudo-random grey noise around a glass colour.
        let mut s = 12345u32;
        let img = RgbImage::from_fn(320, 240, |_, _| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            let v = (s >> 24) as u8 / 8;
            Rgb([200 + v, 200 + v, 205 + v])
        });
        assert!(find_cells(&img, &FindOptions::default()).is_empty());
    }

    #[test]
    fn tiny_image_is_not_an_error() {
        assert!(find_cells(&RgbImage::new(3, 3), &FindOptions::default()).is_empty());
    }

    #[test]
    fn fills_holes() {
        let mut m = GrayImage::new(9, 9);
        for y in 2..7 {
            for x in 2..7 {
                if x == 2 || x == 6 || y == 2 || y == 6 {
                    m.put_pixel(x, y, Luma([255]));
                }
            }
        }
        let f = fill_holes(&m);
        assert_eq!(f.get_pixel(4, 4)[0], 255);
        assert_eq!(f.get_pixel(0, 0)[0], 0);
    }

    #[test]
    fn a_synthetic_field_gives_its_two_white_cells() {
        // Pink discs (red cells) on glass, and two purple nuclei far apart.
        let img = RgbImage::from_fn(400, 300, |x, y| {
            let d = |cx: f32, cy: f32| ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if d(100.0, 150.0) < 30.0 || d(300.0, 150.0) < 30.0 {
                return Rgb([95, 70, 160]);
            }
            for cy in [40.0, 260.0] {
                for cx in [40.0, 120.0, 200.0, 280.0, 360.0] {
                    if d(cx, cy) < 32.0 {
                        return Rgb([200, 150, 165]);
                    }
                }
            }
            Rgb([222, 222, 226])
        });
        let cells = find_cells(&img, &FindOptions::default());
        assert_eq!(cells.len(), 2, "{cells:?}");
        for c in &cells {
            assert!((c.centre.1 - 150.0).abs() < 6.0);
            assert!((c.nucleus_diameter_px - 60.0).abs() < 10.0, "{c:?}");
        }
    }
}
