//! What surrounds a cut-out cell, made the same whatever the laboratory (issue 50): each site's
//! glass, lamp and neighbours are a fingerprint a model can learn instead of the cell.
//!
//! - [`white_balance`]: the crop's colours scaled per channel so that its glass becomes one
//!   neutral grey ([`NEUTRAL_GLASS`]): a yellow lamp or a phone's white balance no longer tints
//!   the cell;
//! - [`soften_outside`]: everything beyond a disc around the cell blended into the glass, so that
//!   red cells and neighbours far from the cell stop telling the source apart.
//!
//! Both are applied by `crop::cut` where the model's manifest asks for them
//! (`input.cell_scale.white_balance`, `input.cell_scale.mask_radius`), to training crops
//! (`examples/make_crops.rs`) and in the app alike.

use image::{Rgb, RgbImage};

/// The grey the glass is brought to: about the glass of the two home sources.
pub const NEUTRAL_GLASS: [u8; 3] = [232, 232, 232];

/// Scales each channel of `image` so that `glass` becomes [`NEUTRAL_GLASS`] (gains kept within
/// 0.5-2, so that a glass misread on a dark or empty image cannot wreck the colours).
pub fn white_balance(image: &mut RgbImage, glass: Rgb<u8>) {
    let gain: [f32; 3] = std::array::from_fn(|c| (NEUTRAL_GLASS[c] as f32 / glass.0[c].max(1) as f32).clamp(0.5, 2.0));
    for p in image.pixels_mut() {
        for (v, g) in p.0.iter_mut().zip(gain) {
            *v = (*v as f32 * g).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// Blends everything farther than `radius` from `centre` into `colour`, over a soft edge of a
/// fifth of the radius (fully `colour` beyond 1.2 × `radius`).
pub fn soften_outside(image: &mut RgbImage, centre: (f32, f32), radius: f32, colour: Rgb<u8>) {
    if !(radius.is_finite() && radius > 0.0) {
        return;
    }
    let edge = 0.2 * radius;
    for (x, y, p) in image.enumerate_pixels_mut() {
        let d = ((x as f32 + 0.5 - centre.0).powi(2) + (y as f32 + 0.5 - centre.1).powi(2)).sqrt();
        let a = ((d - radius) / edge).clamp(0.0, 1.0);
        if a > 0.0 {
            for (v, c) in p.0.iter_mut().zip(colour.0) {
                *v = (*v as f32 * (1.0 - a) + c as f32 * a).round() as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yellow_glass_becomes_neutral_and_the_cell_keeps_its_contrast() {
        let glass = Rgb([250, 240, 170]);
        let cell = Rgb([120, 90, 100]);
        let mut img = RgbImage::from_fn(20, 20, |x, _| if x < 10 { glass } else { cell });
        white_balance(&mut img, glass);
        assert_eq!(*img.get_pixel(0, 0), Rgb(NEUTRAL_GLASS));
        let c = img.get_pixel(15, 0).0;
        // The blue channel was raised most (the glass lacked blue), the cell stays darker than the glass.
        assert!(c[2] > 100 && c.iter().zip(NEUTRAL_GLASS).all(|(a, b)| *a < b), "{c:?}");
        // A black "glass" is not trusted beyond a gain of 2.
        let mut dark = RgbImage::from_pixel(2, 2, Rgb([100, 100, 100]));
        white_balance(&mut dark, Rgb([0, 0, 0]));
        assert_eq!(*dark.get_pixel(0, 0), Rgb([200, 200, 200]));
    }

    #[test]
    fn outside_the_disc_is_glass_inside_is_untouched() {
        let mut img = RgbImage::from_pixel(100, 100, Rgb([200, 50, 50]));
        let glass = Rgb([232, 232, 232]);
        soften_outside(&mut img, (50.0, 50.0), 30.0, glass);
        assert_eq!(*img.get_pixel(50, 50), Rgb([200, 50, 50]));
        assert_eq!(*img.get_pixel(50, 79), Rgb([200, 50, 50])); // d = 29.5
        assert_eq!(*img.get_pixel(0, 0), glass); // d = 70
        let mid = img.get_pixel(50, 83).0; // d = 33.5: a little past the edge, partly blended
        assert!(mid[1] > 50 && mid[1] < 232, "{mid:?}");
    }
}
