//! Binary morphology with the Euclidean norm: imageproc's `open`, `close` and distance transform
//! for `Norm::L2`, with the same results pixel for pixel, in integers.
//!
//! imageproc computes each erosion and dilation as a full squared distance transform in `f64`
//! (Felzenszwalb's lower envelope, column by column), then a square root and a ceiling per pixel.
//! Finding the central cell of one crop runs six of them and one more for the inside distance:
//! natively a tenth of the whole path per image (`perf` on `examples/path_profile`, issue 17).
//! For a threshold no distance map is needed: "within distance `k`" is `d² ≤ k²` (which for an
//! integer `d²` is what `ceil(sqrt(d²)) ≤ k` decides), answered in integers from each column's
//! vertical distance and one sweep per row ([`dilate`], [`erode`]); where the distances
//! themselves are needed, [`squared_distance`] computes them exactly with Meijster's two-pass
//! algorithm in `i64`. The tests compare every result with imageproc's.

use image::GrayImage;

/// "Farther than anything": larger than any distance inside a `w`×`h` image, and than 255, the
/// largest distance a threshold `k` can name.
fn far(w: usize, h: usize) -> i64 {
    ((w + h).max(255) + 1) as i64
}

/// Exact squared Euclidean distance from each pixel to the nearest pixel where `source` is
/// true, in row-major order; with no source at all, every value exceeds `(w + h)²` and 255².
pub fn squared_distance(w: usize, h: usize, source: impl Fn(usize) -> bool) -> Vec<i64> {
    if w == 0 || h == 0 {
        return Vec::new();
    }
    // Phase 1: vertical distance to the nearest source in the same column.
    let g = column_distance(w, h, source, far(w, h) as u32);
    // Phase 2: per row, the lower envelope of the parabolas (x − u)² + g(u)².
    let mut out = vec![0i64; w * h];
    let mut s = vec![0usize; w];
    let mut t = vec![0i64; w];
    for y in 0..h {
        let row = &g[y * w..(y + 1) * w];
        let f = |x: i64, u: usize| (x - u as i64).pow(2) + (row[u] as i64).pow(2);
        let mut q: isize = 0;
        s[0] = 0;
        t[0] = 0;
        for u in 1..w {
            while q >= 0 && f(t[q as usize], s[q as usize]) > f(t[q as usize], u) {
                q -= 1;
            }
            if q < 0 {
                q = 0;
                s[0] = u;
            } else {
                let i = s[q as usize];
                let (ui, uu) = (i as i64, u as i64);
                // The first x at which u is nearer than i.
                let num = uu * uu - ui * ui + (row[u] as i64).pow(2) - (row[i] as i64).pow(2);
                let first = 1 + num.div_euclid(2 * (uu - ui));
                if first < w as i64 {
                    q += 1;
                    s[q as usize] = u;
                    t[q as usize] = first;
                }
            }
        }
        for x in (0..w).rev() {
            out[y * w + x] = f(x as i64, s[q as usize]);
            if x as i64 == t[q as usize] {
                q -= 1;
            }
        }
    }
    out
}

/// Per pixel (`w`×`h`, row-major, both > 0), the vertical distance to the nearest pixel of
/// its column where `source` holds, at most `cap`.
fn column_distance(w: usize, h: usize, source: impl Fn(usize) -> bool, cap: u32) -> Vec<u32> {
    let mut g: Vec<u32> = (0..w * h).map(|i| if source(i) { 0 } else { cap }).collect();
    for i in w..w * h {
        g[i] = g[i].min(g[i - w] + 1);
    }
    for i in (0..w * (h - 1)).rev() {
        g[i] = g[i].min(g[i + w] + 1);
    }
    g
}

/// The integer square root: the largest `r` with `r² ≤ v` (`v ≥ 0`).
fn isqrt(v: i32) -> i32 {
    let mut r = (v as f64).sqrt() as i32;
    while r * r > v {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= v {
        r += 1;
    }
    r
}

/// `inside` where a pixel lies within Euclidean distance `k` of a pixel of `mask` for which
/// `source` holds, else `255 − inside` (`k` = 255: every pixel, as imageproc's distances clamp
/// at 255).
///
/// Within distance `k` means `(x − x')² + (y − y')² ≤ k²` for some source `(x', y')`. With `g`
/// the vertical distance from `(x', y)` to the nearest source in column `x'`, each `x'` of a
/// row covers `|x − x'| ≤ ⌊√(k² − g²)⌋` when `g ≤ k`; a sweep over the row takes the union of
/// those intervals. Four passes of a few integer operations per pixel, no distance map.
fn within(mask: &GrayImage, k: u8, source: impl Fn(u8) -> bool, inside: u8) -> GrayImage {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let px = mask.as_raw();
    if k == u8::MAX {
        return GrayImage::from_pixel(w as u32, h as u32, image::Luma([inside]));
    }
    let mut out = vec![255 - inside; w * h];
    if w == 0 || h == 0 {
        return GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| GrayImage::new(w as u32, h as u32));
    }
    // Vertical distance to the nearest source in the column, k + 1 meaning "too far".
    let g = column_distance(w, h, |i| source(px[i]), k as u32 + 1);
    let k2 = k as i32 * k as i32;
    let half: Vec<i32> = (0..=k as i32).map(|d| isqrt(k2 - d * d)).collect();
    // reach[s]: the furthest right end of the intervals that start at s.
    let mut reach = vec![-1i32; w];
    for y in 0..h {
        let row = &g[y * w..(y + 1) * w];
        reach.fill(-1);
        for (x, &d) in row.iter().enumerate() {
            if d <= k as u32 {
                let r = half[d as usize];
                let start = (x as i32 - r).max(0) as usize;
                reach[start] = reach[start].max(x as i32 + r);
            }
        }
        let mut furthest = -1i32;
        for (x, o) in out[y * w..(y + 1) * w].iter_mut().enumerate() {
            furthest = furthest.max(reach[x]);
            if furthest >= x as i32 {
                *o = inside;
            }
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| GrayImage::new(w as u32, h as u32))
}

/// imageproc's `dilate(mask, Norm::L2, k)`: 255 within distance `k` of a non-zero pixel.
pub fn dilate(mask: &GrayImage, k: u8) -> GrayImage {
    within(mask, k, |v| v > 0, 255)
}

/// imageproc's `erode(mask, Norm::L2, k)`: 0 within distance `k` of a zero pixel.
pub fn erode(mask: &GrayImage, k: u8) -> GrayImage {
    within(mask, k, |v| v == 0, 0)
}

/// imageproc's `open(mask, Norm::L2, k)`: erosion, then dilation.
pub fn open(mask: &GrayImage, k: u8) -> GrayImage {
    dilate(&erode(mask, k), k)
}

/// imageproc's `close(mask, Norm::L2, k)`: dilation, then erosion.
pub fn close(mask: &GrayImage, k: u8) -> GrayImage {
    erode(&dilate(mask, k), k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageproc::distance_transform::{euclidean_squared_distance_transform, Norm};

    /// Masks of every kind: random noise of several densities, blobs, lines, empty and full,
    /// one pixel, one row and one column.
    fn masks() -> Vec<GrayImage> {
        let mut seed = 0x9e37_79b9_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut out = Vec::new();
        for &(w, h) in &[(0, 0), (0, 4), (1, 1), (1, 9), (9, 1), (2, 3), (17, 11), (40, 33), (64, 64)] {
            for density in [0u32, 3, 20, 50, 80, 97, 100] {
                out.push(GrayImage::from_fn(w, h, |_, _| image::Luma([if next() % 100 < density { 255 } else { 0 }])));
            }
            out.push(GrayImage::from_fn(w, h, |x, y| {
                let (dx, dy) = (x as f32 - w as f32 / 3.0, y as f32 - h as f32 / 2.0);
                image::Luma([if dx.hypot(dy) < w.min(h) as f32 / 4.0 || x == w / 2 { 255 } else { 0 }])
            }));
        }
        out
    }

    #[test]
    fn squared_distances_are_imageprocs() {
        for m in masks() {
            let (w, h) = (m.width() as usize, m.height() as usize);
            let ours = squared_distance(w, h, |i| m.as_raw()[i] > 0);
            let theirs = euclidean_squared_distance_transform(&m);
            if m.as_raw().iter().all(|&v| v == 0) {
                assert!(ours.iter().all(|&d| d > ((w + h) * (w + h)).max(255 * 255) as i64));
                continue;
            }
            let theirs: Vec<i64> = theirs.pixels().map(|p| p[0] as i64).collect();
            assert_eq!(ours, theirs, "{w}x{h}");
        }
    }

    #[test]
    fn open_close_erode_dilate_are_imageprocs() {
        for m in masks() {
            for k in [0u8, 1, 2, 3, 5, 9, 10, 13, 40, 254, 255] {
                assert_eq!(dilate(&m, k), imageproc::morphology::dilate(&m, Norm::L2, k), "dilate k={k}");
                assert_eq!(erode(&m, k), imageproc::morphology::erode(&m, Norm::L2, k), "erode k={k}");
                assert_eq!(open(&m, k), imageproc::morphology::open(&m, Norm::L2, k), "open k={k}");
                assert_eq!(close(&m, k), imageproc::morphology::close(&m, Norm::L2, k), "close k={k}");
            }
        }
    }
}
