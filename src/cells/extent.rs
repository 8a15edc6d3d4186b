//! A nucleus found in a stain map ([`Region`]) and the whole cell around it ([`cell_extent`]):
//! the measurement that both the field search ([`super::find_cells`]) and the single-cell
//! measure ([`super::measure`]) make of every nucleus they keep.

use super::stain::{StainMaps, StainModel};
use super::FoundCell;
use image::GrayImage;

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
