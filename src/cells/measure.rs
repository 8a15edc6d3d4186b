//! Measuring a cell: its nucleus and whole-cell size, the central cell of a single-cell image,
//! and the crop that brings a cell to the scale a model was trained on.

use super::extent::cell_extent;
use super::find_cells::{find_nuclei, FindOptions};
use super::stain::StainModel;
use super::{downscale, CellError, FoundCell};
use image::{imageops, Rgb, RgbImage};

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
    crop_to_scale_filled(image, cell, target_diameter_px, out_size, None)
}

/// [`crop_to_scale`], with the parts of the crop beyond the image filled with `fill` (the
/// glass's colour, [`glass_colour`]) instead of repeated edge pixels, where `fill` is given: a
/// tightly framed cell then sits on plain glass, not among streaks no training image has.
pub fn crop_to_scale_filled(
    image: &RgbImage,
    cell: &FoundCell,
    target_diameter_px: f32,
    out_size: u32,
    fill: Option<Rgb<u8>>,
) -> Result<RgbImage, CellError> {
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
        let (ux, uy) = (x0 + x as i64, y0 + y as i64);
        let inside = (0..w as i64).contains(&ux) && (0..h as i64).contains(&uy);
        match fill {
            Some(colour) if !inside => colour,
            _ => *image.get_pixel(ux.clamp(0, w as i64 - 1) as u32, uy.clamp(0, h as i64 - 1) as u32),
        }
    });
    if side == out_size {
        return Ok(crop);
    }
    Ok(imageops::resize(&crop, out_size, out_size, imageops::FilterType::Triangle))
}

/// The colour of the empty glass of `image` (the stain model's white point, read on a copy of at
/// most 256 px a side): what a crop that runs past the image is filled with.
pub fn glass_colour(image: &RgbImage) -> Rgb<u8> {
    let (w, h) = image.dimensions();
    let factor = (w.max(h) as f32 / CENTRAL_WORK_SIDE).max(1.0);
    let white = StainModel::estimate(&downscale(image, factor)).white;
    Rgb(white.map(|v| v.round().clamp(0.0, 255.0) as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_crop_past_the_edge_is_filled_with_the_glass() {
        // A cell that runs past its frame, as another laboratory frames it: the 250 px crop at
        // the same scale runs past all four edges, and the edges are cytoplasm.
        let img = disc_image(120, 25.0, 70.0);
        let c = measure_central_cell(&img).expect("a cell");
        let glass = glass_colour(&img);
        assert!(glass.0.iter().zip([235u8, 232, 235]).all(|(a, b)| a.abs_diff(b) <= 3), "{glass:?}");
        let target = c.diameter_px;
        let filled = crop_to_scale_filled(&img, &c, target, 250, Some(glass)).expect("a crop");
        let edged = crop_to_scale(&img, &c, target, 250).expect("a crop");
        // Left of the image, level with the cell: glass in one, streaks of cytoplasm in the other.
        let y = 125;
        assert_eq!(*filled.get_pixel(2, y), glass);
        assert_eq!(*edged.get_pixel(2, y), Rgb([200, 190, 215]));
        // The cell itself is the same in both.
        assert_eq!(filled.get_pixel(125, 125), edged.get_pixel(125, 125));
    }
}
