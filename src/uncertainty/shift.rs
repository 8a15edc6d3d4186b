//! "These images differ from the ones the model learned from": a warning for the batch, when
//! its cells as a whole lie further from the training cells than batches of the project's own
//! images do, so that the prediction sets (calibrated on those images) are not to be trusted
//! for them.
//!
//! The statistic of a batch is the mean over its cells of the out-of-distribution ratio
//! ([`super::ood::OodAssessment::ratio`], each capped at [`RATIO_CAP`] so that one photo dropped
//! by mistake, which its own flag handles, does not make a batch "shifted"). The threshold is
//! fitted on the validation splits (`examples/shift_warning.rs`: per source, the 99th percentile of
//! random batches of [`BatchShift::batch`] cells) and lives in the manifest's `ood.batch_shift`; a
//! batch is judged against the source most of its cells look like (the model's own estimate,
//! [`super::conformal::SourceModel`]), or the largest threshold when that is not clear. With a laboratory profile (`super::lab`), the profile's own
//! confirmed cells give the reference instead: their mean plus 2.33 standard errors of a batch
//! (the 99th percentile of a batch mean, in the normal approximation).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A cell counts at most this much towards the batch's statistic.
pub const RATIO_CAP: f32 = 2.0;

/// The manifest's `ood.batch_shift`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchShift {
    /// Cells a batch needs before it is judged (and the size the threshold was fitted for).
    pub batch: usize,
    /// How it was fitted, in words.
    #[serde(default)]
    pub rule: String,
    /// Per source (`marrow`, `blood`: the sources of the manifest's calibration), the threshold
    /// of batches whose cells mostly look like that source.
    #[serde(default)]
    pub sources: BTreeMap<String, f64>,
    /// Batches of no known source whose statistic exceeds this are shifted (the largest of the
    /// sources').
    pub threshold: f64,
}

impl BatchShift {
    /// The threshold for a batch whose cells mostly look like `source`.
    pub fn threshold_for(&self, source: Option<&str>) -> f64 {
        source.and_then(|s| self.sources.get(s)).copied().unwrap_or(self.threshold)
    }
}

/// The source most of the cells look like (`None` for none, or a tie).
pub fn majority<'a>(sources: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in sources {
        *counts.entry(s).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    let mut top = counts.into_iter().filter(|(_, n)| *n == best);
    let first = top.next()?.0;
    top.next().is_none().then_some(first)
}

/// The statistic of a batch: the mean of its cells' capped ratios (0 for none).
pub fn batch_statistic(ratios: &[f32]) -> f64 {
    if ratios.is_empty() {
        return 0.0;
    }
    ratios.iter().map(|r| if r.is_finite() { r.min(RATIO_CAP) } else { RATIO_CAP } as f64).sum::<f64>() / ratios.len() as f64
}

/// The threshold from a laboratory's own cells (`ratios`), for batches of `batch` cells: their
/// mean plus 2.33 standard errors of a batch mean; `None` for fewer than 2 cells.
pub fn reference_threshold(ratios: &[f32], batch: usize) -> Option<f64> {
    let n = ratios.len();
    if n < 2 || batch == 0 {
        return None;
    }
    let capped: Vec<f64> = ratios.iter().map(|r| if r.is_finite() { r.min(RATIO_CAP) } else { RATIO_CAP } as f64).collect();
    let mean = capped.iter().sum::<f64>() / n as f64;
    let var = capped.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some(mean + 2.33 * (var / batch as f64).sqrt())
}

/// The batch's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShiftState {
    /// Fewer cells than the threshold was made for: not judged yet (`n` of `need`).
    TooFew { n: usize, need: usize },
    /// Like the reference images.
    Ok { score: f64, threshold: f64 },
    /// Further from the reference images than their batches go.
    Shifted { score: f64, threshold: f64 },
}

impl ShiftState {
    pub fn key(&self) -> &'static str {
        match self {
            ShiftState::TooFew { .. } => "too-few",
            ShiftState::Ok { .. } => "ok",
            ShiftState::Shifted { .. } => "shifted",
        }
    }

    /// The statistic, when judged.
    pub fn score(&self) -> Option<f64> {
        match self {
            ShiftState::TooFew { .. } => None,
            ShiftState::Ok { score, .. } | ShiftState::Shifted { score, .. } => Some(*score),
        }
    }
}

/// Judges a batch of cells' ratios against `threshold` (fitted for batches of `need` cells).
pub fn judge(ratios: &[f32], need: usize, threshold: f64) -> ShiftState {
    if ratios.len() < need.max(1) {
        return ShiftState::TooFew { n: ratios.len(), need };
    }
    let score = batch_statistic(ratios);
    if score > threshold {
        ShiftState::Shifted { score, threshold }
    } else {
        ShiftState::Ok { score, threshold }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_judged_from_its_size_on_and_one_outlier_does_not_shift_it() {
        let usual = vec![0.5f32; 30];
        assert_eq!(judge(&usual[..10], 30, 0.7), ShiftState::TooFew { n: 10, need: 30 });
        assert_eq!(judge(&usual, 30, 0.7).key(), "ok");
        // A screenshot (ratio 40) among 29 usual cells counts as 2: mean 0.55.
        let mut one = usual.clone();
        one[0] = 40.0;
        assert!((batch_statistic(&one) - (29.0 * 0.5 + 2.0) / 30.0).abs() < 1e-9);
        assert_eq!(judge(&one, 30, 0.7).key(), "ok");
        // Every cell a little further: shifted.
        let far = vec![0.8f32; 30];
        assert_eq!(judge(&far, 30, 0.7), ShiftState::Shifted { score: 0.800000011920929, threshold: 0.7 });
        assert_eq!(batch_statistic(&[]), 0.0);
    }

    #[test]
    fn a_laboratory_reference_is_its_mean_plus_the_spread_of_a_batch_mean() {
        let r = [0.4f32, 0.6, 0.4, 0.6];
        let t = reference_threshold(&r, 30).unwrap();
        let sd = (4.0f64 * 0.01 / 3.0).sqrt();
        assert!((t - (0.5 + 2.33 * sd / 30f64.sqrt())).abs() < 1e-6, "{t}");
        assert_eq!(reference_threshold(&[0.5], 30), None);
    }

    #[test]
    fn a_batch_is_judged_against_the_source_most_of_its_cells_look_like() {
        let spec =
            BatchShift { batch: 30, rule: String::new(), sources: [("blood".into(), 0.6), ("marrow".into(), 0.8)].into(), threshold: 0.8 };
        assert_eq!(majority(["blood", "marrow", "blood"]), Some("blood"));
        assert_eq!(majority(["blood", "marrow"]), None);
        assert_eq!(majority([]), None);
        assert_eq!(spec.threshold_for(Some("blood")), 0.6);
        assert_eq!(spec.threshold_for(Some("urine")), 0.8);
        assert_eq!(spec.threshold_for(None), 0.8);
    }
}
