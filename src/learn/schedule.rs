//! Which cell comes next. Classes take turns (each class of the session equally often, or, when
//! the student asks to practise weak classes, more often the lower their accuracy); within a
//! class, cells the student got wrong or has not seen come before those answered right (Leitner
//! boxes: weight `2^-box`). The last few cells shown are not repeated while others remain.

use super::progress::Progress;
use super::teaching::TeachingItem;

/// The generator, seeded by the page.
pub use crate::random::Rng;

/// How many of the last cells shown are held back while the pool has others.
const RECENT: usize = 5;

/// The weight of a class: 1, or with `weak` the student's error rate on it (Laplace-smoothed,
/// so an unseen class counts as half wrong), squared to favour the weakest.
fn class_weight(progress: &Progress, code: &str, weak: bool) -> f64 {
    if !weak {
        return 1.0;
    }
    let (seen, right) = progress.answers.iter().filter(|a| a.truth == code).fold((0u32, 0u32), |(s, r), a| (s + 1, r + a.right() as u32));
    let error = (seen - right) as f64 + 1.0;
    let rate = error / (seen as f64 + 2.0);
    0.05 + rate * rate
}

/// The next cell (an index into `items`) from `pool`; `None` for an empty pool.
pub fn next(items: &[TeachingItem], pool: &[usize], progress: &Progress, weak: bool, rng: &mut Rng) -> Option<usize> {
    if pool.is_empty() {
        return None;
    }
    let recent: Vec<&str> = progress.answers.iter().rev().take(RECENT.min(pool.len().saturating_sub(1))).map(|a| a.file.as_str()).collect();
    let fresh: Vec<usize> = pool.iter().copied().filter(|&k| !recent.contains(&items[k].file.as_str())).collect();
    let candidates = if fresh.is_empty() { pool.to_vec() } else { fresh };
    let mut classes: Vec<&str> = Vec::new();
    for &k in &candidates {
        if !classes.contains(&items[k].label.as_str()) {
            classes.push(&items[k].label);
        }
    }
    let cw: Vec<f64> = classes.iter().map(|c| class_weight(progress, c, weak)).collect();
    let class = classes[rng.pick(&cw)?];
    let of: Vec<usize> = candidates.into_iter().filter(|&k| items[k].label == class).collect();
    let iw: Vec<f64> = of.iter().map(|&k| 0.5f64.powi(*progress.boxes.get(&items[k].file).unwrap_or(&0) as i32)).collect();
    Some(of[rng.pick(&iw)?])
}
