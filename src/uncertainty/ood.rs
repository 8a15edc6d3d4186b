//! "Outside what this model knows": a score from the model's own features that flags images
//! which are not like the cells it learned (a smear field, a screenshot, a holiday photo,
//! noise), so they do not get a confident "segmented neutrophil".
//!
//! The score (measured against logit energy, max softmax, and Mahalanobis variants; the
//! comparison and the reason for this choice are in `docs/model-card.md`):
//!
//! 1. pool the last feature map over its positions (`1280` values), divide by its length
//!    (cosine geometry: the direction of the features, not their strength);
//! 2. subtract the mean of the training cells' normalised features;
//! 3. remove the part that lies in the span of the `k` main directions of the training
//!    features (principal components);
//! 4. the score is the length of what is left: how far the image's features are from the
//!    subspace in which the model's training cells live (the "residual" of Wang et al. 2022,
//!    ViM; the principal-subspace view of Mahalanobis distance, Lee et al. 2018).
//!
//! The image is flagged when the score exceeds a threshold set on the validation split like a
//! conformal quantile: the `⌈(n+1)·level⌉`-th smallest validation score, so that a new cell of the
//! same source is flagged with probability at most `1 − level` (2 % for level 0.98).
//! The statistics live in the manifest's `ood` section, written by `training/calibrate.py`.

use crate::model::cam::FeatureMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest's `ood` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OodSpec {
    /// `"pca-residual"`: the only method this version computes.
    pub method: String,
    /// Mean of the L2-normalised pooled training features (`channels` values).
    pub mean: Vec<f32>,
    /// The `k` principal directions (orthonormal rows of `channels` values).
    pub components: Vec<Vec<f32>>,
    /// Scores above this are flagged.
    pub threshold: f32,
    /// The share of validation cells at or under the threshold, e.g. 0.98.
    #[serde(default)]
    pub level: f64,
    /// How it was fitted, in words.
    #[serde(default)]
    pub rule: String,
    /// The batch's shift warning ([`super::shift`]); absent in older manifests (no warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_shift: Option<super::shift::BatchShift>,
    /// Anything else the pipeline records (measured flag rates, sources, sizes...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

pub const METHOD: &str = "pca-residual";

/// The flag for one image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OodAssessment {
    pub score: f32,
    pub threshold: f32,
    pub flagged: bool,
}

impl OodAssessment {
    /// Score relative to the threshold (> 1 when flagged).
    pub fn ratio(&self) -> f32 {
        if self.threshold > 0.0 {
            self.score / self.threshold
        } else {
            f32::INFINITY
        }
    }

    /// Why the image is (or is not) flagged, in words.
    pub fn reason(&self, level: f64) -> String {
        let beyond = ((1.0 - level) * 100.0).round();
        if self.flagged {
            format!(
                "The model's own features for this image are {:.1}× as far from the cells it learned as the limit \
                 that only {beyond:.0} % of validation cells pass. It does not look like a single stained blood or \
                 bone-marrow cell as this model knows them (for example a smear field, a drawing, a screenshot or a photo).",
                self.ratio()
            )
        } else {
            format!("The model's features for this image are within the range of the cells it learned ({:.2} of the limit).", self.ratio())
        }
    }
}

impl OodSpec {
    /// Checks shapes and numbers; `channels`: the CAM's channel count when known.
    pub fn validate(&self, channels: Option<usize>) -> Result<(), String> {
        if self.method != METHOD {
            return Err(format!("ood.method \"{}\" is not supported (only \"{METHOD}\")", self.method));
        }
        let c = self.mean.len();
        if c == 0 {
            return Err("ood.mean is empty".into());
        }
        if let Some(ch) = channels {
            if ch != c {
                return Err(format!("ood.mean has {c} values, the feature map has {ch} channels"));
            }
        }
        if self.components.iter().any(|v| v.len() != c) {
            return Err(format!("every ood.components row must have {c} values"));
        }
        if self.mean.iter().chain(self.components.iter().flatten()).any(|v| !v.is_finite()) {
            return Err("ood statistics must be finite numbers".into());
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(format!("ood.threshold {} is not a positive number", self.threshold));
        }
        if let Some(b) = &self.batch_shift {
            if b.batch == 0 || b.sources.values().chain([&b.threshold]).any(|t| !(t.is_finite() && *t > 0.0)) {
                return Err("ood.batch_shift needs a batch size of at least 1 and positive thresholds".into());
            }
        }
        Ok(())
    }

    /// The score of a pooled feature vector (`channels` values).
    pub fn score_pooled(&self, pooled: &[f32]) -> Option<f32> {
        if pooled.len() != self.mean.len() {
            return None;
        }
        let norm = pooled.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>().sqrt();
        if !norm.is_finite() {
            return None;
        }
        if norm == 0.0 {
            // No feature fired at all: nothing like a cell. 2 bounds the score of unit vectors.
            return Some(2.0);
        }
        let mut x: Vec<f64> = pooled.iter().zip(&self.mean).map(|(v, m)| *v as f64 / norm - *m as f64).collect();
        for comp in &self.components {
            let dot: f64 = x.iter().zip(comp).map(|(a, b)| a * *b as f64).sum();
            for (a, b) in x.iter_mut().zip(comp) {
                *a -= dot * *b as f64;
            }
        }
        Some(x.iter().map(|a| a * a).sum::<f64>().sqrt() as f32)
    }

    /// The score and flag of a feature map (pooled over its positions).
    pub fn assess(&self, features: &FeatureMap) -> Option<OodAssessment> {
        let pooled = pool(features)?;
        let score = self.score_pooled(&pooled)?;
        Some(OodAssessment { score, threshold: self.threshold, flagged: score > self.threshold })
    }
}

/// Global average pooling of a `[channels, height, width]` map.
pub fn pool(features: &FeatureMap) -> Option<Vec<f32>> {
    let plane = features.width * features.height;
    if plane == 0 || features.data.len() != features.channels * plane {
        return None;
    }
    Some(features.data.chunks_exact(plane).map(|c| c.iter().sum::<f32>() / plane as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> OodSpec {
        // 3 channels; the training cells live along (1, 1, 0)/√2 around a mean on that line.
        let s = std::f32::consts::FRAC_1_SQRT_2;
        OodSpec {
            method: METHOD.into(),
            mean: vec![s, s, 0.0],
            components: vec![vec![s, -s, 0.0]],
            threshold: 0.2,
            level: 0.98,
            rule: String::new(),
            batch_shift: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn residual_measures_distance_from_the_subspace() {
        let o = spec();
        // On the mean direction: score 0; scale does not matter.
        assert!(o.score_pooled(&[1.0, 1.0, 0.0]).unwrap() < 1e-6);
        assert!(o.score_pooled(&[5.0, 5.0, 0.0]).unwrap() < 1e-6);
        // Along the principal component: removed.
        let v = o.score_pooled(&[1.0, 0.8, 0.0]).unwrap();
        assert!(v < 0.05, "{v}");
        // Off the subspace (third channel): large.
        let far = o.score_pooled(&[0.2, 0.2, 1.0]).unwrap();
        assert!(far > 0.5, "{far}");
        assert_eq!(o.score_pooled(&[0.0, 0.0, 0.0]), Some(2.0));
        assert_eq!(o.score_pooled(&[1.0]), None);
        assert_eq!(o.score_pooled(&[f32::NAN, 0.0, 0.0]), None);
    }

    #[test]
    fn assess_pools_and_flags() {
        let o = spec();
        let cellish = FeatureMap { channels: 3, height: 1, width: 2, data: vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0] };
        let a = o.assess(&cellish).unwrap();
        assert!(!a.flagged && a.ratio() < 1.0);
        let odd = FeatureMap { channels: 3, height: 1, width: 2, data: vec![0.0, 0.1, 0.0, 0.0, 2.0, 1.0] };
        let a = o.assess(&odd).unwrap();
        assert!(a.flagged && a.ratio() > 1.0);
        assert!(a.reason(0.98).contains("2 % of validation cells"));
        let broken = FeatureMap { channels: 3, height: 1, width: 2, data: vec![1.0] };
        assert!(o.assess(&broken).is_none());
    }

    #[test]
    fn validate_catches_bad_statistics() {
        assert!(spec().validate(Some(3)).is_ok());
        assert!(spec().validate(Some(4)).is_err());
        let mut o = spec();
        o.components[0].pop();
        assert!(o.validate(None).is_err());
        let mut o = spec();
        o.threshold = 0.0;
        assert!(o.validate(None).is_err());
        let mut o = spec();
        o.method = "energy".into();
        assert!(o.validate(None).is_err());
        let mut o = spec();
        o.mean[0] = f32::INFINITY;
        assert!(o.validate(None).is_err());
        let mut o = spec();
        o.batch_shift =
            Some(super::super::shift::BatchShift { batch: 30, rule: String::new(), sources: Default::default(), threshold: 0.7 });
        assert!(o.validate(None).is_ok());
        o.batch_shift.as_mut().unwrap().threshold = f64::NAN;
        assert!(o.validate(None).is_err());
    }
}
