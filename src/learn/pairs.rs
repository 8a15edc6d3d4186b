//! Pairs of classes to compare side by side: those this student confuses, then those the model
//! confused on the cells the student saw, then pairs that look alike by their morphology.

use super::progress::Progress;

/// Classes that look alike by morphology (maturation neighbours and round mononuclear cells):
/// the comparisons to offer before any answers exist.
pub const LOOK_ALIKE: [(&str, &str); 10] = [
    ("BLA", "PMO"),
    ("LYT", "MON"),
    ("MYB", "MMZ"),
    ("NGB", "NGS"),
    ("PMO", "MYB"),
    ("BLA", "MON"),
    ("BLA", "LYT"),
    ("MMZ", "NGB"),
    ("EBO", "LYT"),
    ("NIF", "ART"),
];

/// Unordered pairs, most confused first (student's confusions count double the model's), then
/// the look-alike pairs; only pairs whose both classes pass `has` (e.g. have example images).
pub fn ranked(progress: &Progress, has: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut scores: Vec<((String, String), u32)> = Vec::new();
    let mut add = |a: &str, b: &str, w: u32| {
        let key = if a <= b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) };
        match scores.iter_mut().find(|(k, _)| *k == key) {
            Some((_, s)) => *s += w,
            None => scores.push((key, w)),
        }
    };
    for (a, b, n) in progress.confusions() {
        add(&a, &b, 2 * n);
    }
    for (a, b, n) in progress.model_confusions() {
        add(&a, &b, n);
    }
    for (a, b) in LOOK_ALIKE {
        add(a, b, 0);
    }
    // Stable: among equal scores the look-alike order stays.
    scores.sort_by_key(|x| std::cmp::Reverse(x.1));
    scores.into_iter().map(|(k, _)| k).filter(|(a, b)| has(a) && has(b)).collect()
}
