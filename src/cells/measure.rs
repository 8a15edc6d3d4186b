//! Measuring a cell: its nucleus and whole-cell size, the central cell of a single-cell image,
//! and the crop that brings a cell to the scale a model was trained on.

use super::find_cells::{find_nuclei, FindOptions};
use super::stain::{StainMaps, StainModel};
use super::{downscale, CellError, FoundCell};
use image::{imageops, GrayImage, RgbImage};

/// One nucleus (lobes joined) in working-image pixels.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    /// Centroid of the joined nucleus.
    pub cx: f32,
    pub cy: f32,
    /// Box of the joined nucleus (inclusive).
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    /// Pixels of the joined nucleus (gaps between lobes included).
    pub area: f32,
    /// Pixels that are nuclear stain themselves.
    pub raw_area: f32,
    /// Mean azure over the stained pixels.
    pub mean_azure: f32,
}

impl Region {
    /// A region from pixel indices of a joined component; `raw` is the stained-pixel mask.
    pub fn from_pixels(pix: &[u32], maps: &StainMaps, _model: &StainModel, raw: &GrayImage) -> Option<Region> {
        if pix.is_empty() {
            return None;
        }
        let w = maps.width;
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        let (mut sx, mut sy, mut n_raw, mut s_az) = (0f64, 0f64, 0usize, 0f64);
        for &i in pix {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
            sx += x as f64;
            sy += y as f64;
            if raw.as_raw().get(i as usize).copied().unwrap_or(0) > 0 {
                n_raw += 1;
                s_az += maps.azure[i as usize] as f64;
            }
        }
        let n = pix.len() as f64;
        Some(Region {
            cx: (sx / n) as f32,
            cy: (sy / n) as f32,
            x0,
            y0,
            x1,
            y1,
            area: pix.len() as f32,
            raw_area: n_raw as f32,
            mean_azure: if n_raw > 0 { (s_az / n_raw as f64) as f32 } else { 0.0 },
        })
    }
}

/// A measured cell in working-image pixels.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub region: Region,
    /// Whole-cell radius (median over rays).
    pub radius: f32,
    pub score: f32,
}

impl Cell {
    /// Maps to the pixels of the original image (`factor` = original / working size).
    pub fn to_found(&self, factor: f32, w0: u32, h0: u32) -> FoundCell {
        let g = &self.region;
        let (cx, cy) = ((g.cx + 0.5) * factor, (g.cy + 0.5) * factor);
        let rad = self.radius * factor;
        let nx0 = g.x0 as f32 * factor;
        let ny0 = g.y0 as f32 * factor;
        let nx1 = (g.x1 + 1) as f32 * factor;
        let ny1 = (g.y1 + 1) as f32 * factor;
        let bx0 = (cx - rad).min(nx0).max(0.0);
        let by0 = (cy - rad).min(ny0).max(0.0);
        let bx1 = (cx + rad).max(nx1).min(w0 as f32);
        let by1 = (cy + rad).max(ny1).min(h0 as f32);
        let area = g.area * factor * factor;
        FoundCell {
            x: bx0.round() as u32,
            y: by0.round() as u32,
            w: (bx1 - bx0).round().max(1.0) as u32,
            h: (by1 - by0).round().max(1.0) as u32,
            centre: (cx, cy),
            area_px: area,
            nucleus_diameter_px: 2.0 * (area / std::f32::consts::PI).sqrt(),
            diameter_px: 2.0 * rad,
            score: self.score,
        }
    }
}

/// Number of rays cast from the nucleus centre.
const RAYS: usize = 48;

/// The whole cell around a nucleus: from its centre, rays run outwards through the nucleus and
/// the cytoplasm and stop where the glass begins (density below half the cell threshold) or
/// where a red cell begins (azure within a quarter of the way from the red cells' to the glass's). The radius is the
/// median ray, so a few rays that run into a touching neighbour do not count. `r` is the
/// typical cell radius of the image; rays stop at the nucleus radius plus 2.5 `r`.
pub(crate) fn cell_extent(maps: &StainMaps, model: &StainModel, reg: &Region, r: f32) -> Option<Cell> {
    let (w, h) = (maps.width as i32, maps.height as i32);
    let rn = (reg.area / std::f32::consts::PI).sqrt();
    let max_len = rn + 2.5 * r;
    // Cytoplasm may be pinkish (neutrophils): only material nearly as red as the red cells stops a ray.
    let red_cut = model.red_azure + 0.25 * (model.glass_azure - model.red_azure);
    let glass_cut = model.cytoplasm_density();
    let mut lengths = Vec::with_capacity(RAYS);
    for k in 0..RAYS {
        let a = k as f32 * std::f32::consts::TAU / RAYS as f32;
        let (dx, dy) = (a.cos(), a.sin());
        let mut last = 0.0f32;
        let mut gap = 0;
        let mut t = 0.0f32;
        while t <= max_len {
            let x = (reg.cx + dx * t).round() as i32;
            let y = (reg.cy + dy * t).round() as i32;
            if x < 0 || y < 0 || x >= w || y >= h {
                break;
            }
            let i = (y * w + x) as usize;
            let (az, d) = (maps.azure[i], maps.density[i]);
            let nuclear = az > model.azure_threshold;
            let cyto = d > glass_cut && az > red_cut;
            if nuclear || cyto {
                last = t;
                gap = 0;
            } else {
                gap += 1;
                // A gap of more than ~2 % of the way is the cell's edge.
                if gap as f32 > (0.02 * max_len).max(2.0) {
                    break;
                }
            }
            t += 1.0;
        }
        lengths.push(last);
    }
    lengths.sort_by(f32::total_cmp);
    let radius = lengths[RAYS / 2].max(rn);
    let contrast = (reg.mean_azure - model.azure_threshold).max(0.0);
    let fill = (reg.raw_area / reg.area.max(1.0)).clamp(0.0, 1.0);
    let score = ((contrast / 0.3).min(1.0) * 0.7 + fill * 0.3).clamp(0.0, 1.0);
    Some(Cell { region: reg.clone(), radius, score })
}

/// Long side of the working copy of a single-cell image.
const CENTRAL_WORK_SIDE: f32 = 256.0;

/// Finds the nucleated cell at the centre of a single-cell image (an MLL 250×250 crop, a PBC
/// 224×224 crop or 360×363 original, any such crop) and measures it: nucleus area and
/// diameter, whole-cell diameter, box, all in pixels of `image`. `None` when no nucleus lies
/// near the centre (an empty or unstained image, an artefact).
pub fn measure_central_cell(image: &RgbImage) -> Option<FoundCell> {
    let (w0, h0) = image.dimensions();
    if w0 < 16 || h0 < 16 {
        return None;
    }
    let factor = (w0.max(h0) as f32 / CENTRAL_WORK_SIDE).max(1.0);
    let work = downscale(image, factor);
    let model = StainModel::estimate(&work);
    let maps = model.maps(&work);
    let (w, h) = (maps.width as f32, maps.height as f32);
    // The scale is not known before the cell is: take a tenth of the short side (a cell fills
    // about half of a single-cell crop), only to join lobes and to bound the rays.
    let r = w.min(h) / 10.0;
    // Lobes of one nucleus are a few pixels apart at this scale: join them with a small closing
    // (the field default, 1.2 r, would fill the cytoplasm between lobes too).
    let opts = FindOptions { split_distance: f32::INFINITY, min_nucleus_area: 0.15, join_radius: 0.4, ..FindOptions::default() };
    let regions = find_nuclei(&maps, &model, r, &opts);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let sigma = 0.2 * w.min(h);
    let best = regions
        .into_iter()
        .map(|g| {
            let d2 = (g.cx - cx).powi(2) + (g.cy - cy).powi(2);
            let weight = g.raw_area * (-d2 / (2.0 * sigma * sigma)).exp();
            (weight, d2.sqrt(), g)
        })
        .filter(|(_, d, _)| *d < 0.35 * w.min(h))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    let cell = cell_extent(&maps, &model, &best.2, r)?;
    Some(cell.to_found(factor, w0, h0))
}

/// Crops `image` around `cell` and rescales it so that the cell's whole-cell diameter becomes
/// `target_diameter_px` in an `out_size`×`out_size` result (the cell centred). Parts of the crop
/// beyond the image repeat its edge pixels.
pub fn crop_to_scale(image: &RgbImage, cell: &FoundCell, target_diameter_px: f32, out_size: u32) -> Result<RgbImage, CellError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(CellError::EmptyImage);
    }
    let positive = |v: f32| v.is_finite() && v > 0.0;
    if !positive(target_diameter_px) || !positive(cell.diameter_px) {
        return Err(CellError::BadSize);
    }
    if out_size == 0 || out_size > 8192 {
        return Err(CellError::BadSize);
    }
    let scale = target_diameter_px / cell.diameter_px;
    let side = (out_size as f32 / scale).round().max(1.0);
    if side > 16384.0 {
        return Err(CellError::BadSize);
    }
    let side = side as u32;
    let x0 = (cell.centre.0 - side as f32 / 2.0).round() as i64;
    let y0 = (cell.centre.1 - side as f32 / 2.0).round() as i64;
    let crop = RgbImage::from_fn(side, side, |x, y| {
        let sx = (x0 + x as i64).clamp(0, w as i64 - 1) as u32;
        let sy = (y0 + y as i64).clamp(0, h as i64 - 1) as u32;
        *image.get_pixel(sx, sy)
    });
    if side == out_size {
        return Ok(crop);
    }
    Ok(imageops::resize(&crop, out_size, out_size, imageops::FilterType::Triangle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn disc_image(size: u32, r_nucleus: f32, r_cell: f32) -> RgbImage {
        let c = size as f32 / 2.0;
        RgbImage::from_fn(size, size, |x, y| {
            let d = ((x as f32 + 0.5 - c).powi(2) + (y as f32 + 0.5 - c).powi(2)).sqrt();
            if d < r_nucleus {
                Rgb([95, 70, 160])
            } else if d < r_cell {
                Rgb([200, 190, 215])
            } else {
                Rgb([235, 232, 235])
            }
        })
    }

    #[test]
    fn measures_a_synthetic_cell() {
        let img = disc_image(250, 50.0, 90.0);
        let c = measure_central_cell(&img).expect("a cell");
        assert!((c.nucleus_diameter_px - 100.0).abs() < 8.0, "{c:?}");
        assert!((c.diameter_px - 180.0).abs() < 12.0, "{c:?}");
        assert!((c.centre.0 - 125.0).abs() < 3.0 && (c.centre.1 - 125.0).abs() < 3.0);
    }

    #[test]
    fn blank_and_noise_have_no_central_cell() {
        assert!(measure_central_cell(&RgbImage::from_pixel(250, 250, Rgb([230, 230, 230]))).is_none());
        let mut s = 7u32;
        let noise = RgbImage::from_fn(250, 250, |_, _| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            let v = (s >> 24) as u8 / 8;
            Rgb([200 + v, 200 + v, 205 + v])
        });
        assert!(measure_central_cell(&noise).is_none());
    }

    #[test]
    fn crop_to_scale_brings_the_cell_to_the_target() {
        let img = disc_image(360, 30.0, 60.0);
        let c = measure_central_cell(&img).expect("a cell");
        let out = crop_to_scale(&img, &c, 200.0, 250).expect("a crop");
        assert_eq!(out.dimensions(), (250, 250));
        let m = measure_central_cell(&out).expect("a cell after rescaling");
        assert!((m.diameter_px - 200.0).abs() < 15.0, "{m:?}");
        assert!(crop_to_scale(&img, &c, 0.0, 250).is_err());
        assert!(crop_to_scale(&img, &c, 200.0, 0).is_err());
    }
}
