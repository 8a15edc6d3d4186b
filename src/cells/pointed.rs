//! The cell a person pointed at on a field that detection missed (the page's click to add a
//! cell): the nucleus nearest the point, else a cell of the field's typical size centred on it.

use crate::cells::fields::{detection_copy, typical_cell_radius, DETECT_MAX_SIDE};
use crate::cells::{measure_central_cell, FoundCell};
use image::RgbImage;

/// A cell the person pointed at (`x`, `y` in pixels of `image`) that detection missed: the
/// nucleated cell nearest that point within a window of about four typical cell diameters
/// ([`measure_central_cell`] on the window), or, where no nucleus is found there, a cell of the
/// field's typical white-cell size centred on the point. Never fails for a point inside the image.
pub fn cell_at(image: &RgbImage, x: f32, y: f32, typical_nucleus_px: Option<f32>) -> FoundCell {
    let (w, h) = image.dimensions();
    let x = x.clamp(0.0, w.saturating_sub(1) as f32);
    let y = y.clamp(0.0, h.saturating_sub(1) as f32);
    let (det, factor) = detection_copy(image, DETECT_MAX_SIDE);
    let r = typical_cell_radius(&det).map(|r| r * factor).unwrap_or(w.min(h) as f32 / 16.0);
    let side = (8.0 * r).clamp(32.0, w.min(h) as f32);
    let x0 = (x - side / 2.0).clamp(0.0, (w as f32 - side).max(0.0)).round() as u32;
    let y0 = (y - side / 2.0).clamp(0.0, (h as f32 - side).max(0.0)).round() as u32;
    let (sw, sh) = ((side as u32).min(w - x0), (side as u32).min(h - y0));
    let window = image::imageops::crop_imm(image, x0, y0, sw, sh).to_image();
    // measure_central_cell looks for the nucleus nearest the window's centre; the window is
    // shifted at the image's edges, so check that it is near the point.
    if let Some(c) = measure_central_cell(&window) {
        let (cx, cy) = (c.centre.0 + x0 as f32, c.centre.1 + y0 as f32);
        if ((cx - x).powi(2) + (cy - y).powi(2)).sqrt() <= 1.5 * r {
            return FoundCell { x: c.x + x0, y: c.y + y0, centre: (cx, cy), ..c };
        }
    }
    let d = typical_nucleus_px.filter(|d| d.is_finite() && *d > 0.0).unwrap_or(2.0 * r);
    let half = d; // box of about twice the nucleus: the whole cell
    let bx = (x - half).max(0.0) as u32;
    let by = (y - half).max(0.0) as u32;
    FoundCell {
        x: bx,
        y: by,
        w: ((2.0 * half) as u32).clamp(1, w - bx),
        h: ((2.0 * half) as u32).clamp(1, h - by),
        centre: (x, y),
        area_px: std::f32::consts::PI * d * d / 4.0,
        nucleus_diameter_px: d,
        diameter_px: 2.0 * d,
        score: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::crop::{cut, Around};
    use crate::cells::fields::tests::field;
    use crate::image::cell_scale::CellScale;

    #[test]
    fn a_clicked_cell_is_found_near_the_point() {
        let img = field(960, 720, &[(200.0, 200.0)]);
        let c = cell_at(&img, 215.0, 190.0, None);
        assert!((c.centre.0 - 200.0).abs() < 8.0 && (c.centre.1 - 200.0).abs() < 8.0, "{c:?}");
        // Glass only: a cell of the typical size, centred on the point.
        let c = cell_at(&img, 10.0, 10.0, Some(60.0));
        assert_eq!(c.centre, (10.0, 10.0));
        assert!(cut(&img, Around::Cell(&c), &CellScale::default()).is_ok());
    }
}
