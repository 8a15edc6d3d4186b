//! Conformal prediction sets: instead of one class or "not sure", the classes that together
//! contain the true class with a chosen probability ("this is BLA or PMO; sets like this contain
//! the right class 90 times in 100").
//!
//! Split conformal prediction (Vovk et al. 2005; Angelopoulos & Bates 2021, "A gentle
//! introduction"): a non-conformity score `s(x, y)` is computed for every labelled image of a
//! calibration split the model never trained on; `q̂` is the `⌈(n+1)·level⌉`-th smallest of
//! those `n` scores; the set of a new image is every class `y` with `s(x, y) ≤ q̂`. If the new
//! image is exchangeable with the calibration images (same source), the set contains its true
//! class with probability at least `level`, whatever the model.
//!
//! Scores ([`Method`]), with `p(1) ≥ p(2) ≥ …` the sorted probabilities and `j` the rank of `y`:
//! - `lac` (Sadinle et al. 2019): `1 − p_y`. Smallest sets on average, but not adaptive.
//! - `aps` (Romano et al. 2020): `p(1) + … + p(j)`, the mass down to and including `y`
//!   (deterministic form). Adaptive: hard images get larger sets.
//! - `raps` (Angelopoulos et al. 2021): `aps + λ·max(0, j − k_reg)`, which stops APS from adding
//!   the long tail of small probabilities (here flat, because the model was trained with label
//!   smoothing). The shipped calibration's choice and its reason are in `docs/model-card.md`.
//!
//! All three scores grow along the ranking, so a set is always the `m` most probable classes.
//! A set may be **empty**: no class reaches the level (the model is too unsure to name even one
//! class that would be right that often). Forcing the top class in would make the coverage at
//! least the model's accuracy (83 %), so the 80 % level could not be met; an empty set is the
//! honest answer there, and the page says so and still shows the ranking. The calibration (method, parameters, `q̂` per level) is written into the
//! manifest per source by `training/calibrate.py`; see [`ConformalSpec`].

use crate::model::scores::Ranked;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A coverage level the person can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    L80,
    L90,
    L95,
}

/// The levels offered, lowest first.
pub const LEVELS: [Level; 3] = [Level::L80, Level::L90, Level::L95];

impl Level {
    pub const DEFAULT: Level = Level::L90;

    pub fn fraction(self) -> f64 {
        match self {
            Level::L80 => 0.80,
            Level::L90 => 0.90,
            Level::L95 => 0.95,
        }
    }

    pub fn percent(self) -> u32 {
        match self {
            Level::L80 => 80,
            Level::L90 => 90,
            Level::L95 => 95,
        }
    }

    /// The key of this level in the manifest's `qhat` maps: `"0.80"`, `"0.90"`, `"0.95"`.
    pub fn key(self) -> &'static str {
        match self {
            Level::L80 => "0.80",
            Level::L90 => "0.90",
            Level::L95 => "0.95",
        }
    }

    /// Parses a percentage (`"90"`), a fraction (`"0.9"`, `"0.90"`) or a manifest key.
    pub fn parse(text: &str) -> Option<Level> {
        let v: f64 = text.trim().trim_end_matches('%').trim().parse().ok()?;
        let v = if v > 1.0 { v / 100.0 } else { v };
        LEVELS.into_iter().find(|l| (l.fraction() - v).abs() < 1e-6)
    }

    /// The guarantee in words, for the result panel.
    pub fn words(self) -> String {
        format!("Sets like this contain the right class about {} times in 100.", self.percent())
    }
}

/// The non-conformity score a calibration was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Lac,
    Aps,
    Raps,
}

/// The calibration of one source (e.g. `marrow`: the MLL bone-marrow validation split).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceCalibration {
    /// The split the scores came from, e.g. `"val"`.
    #[serde(default)]
    pub split: String,
    /// Number of calibration images.
    pub n: usize,
    /// `q̂` per level key (`"0.80"`, `"0.90"`, `"0.95"`).
    pub qhat: BTreeMap<String, f64>,
    /// Anything else the pipeline records (measured sizes, dataset, engine...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The manifest's `conformal` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConformalSpec {
    pub method: Method,
    /// RAPS penalty per rank beyond `k_reg` (0 for LAC/APS).
    #[serde(default)]
    pub lambda: f64,
    /// RAPS: ranks up to this one carry no penalty.
    #[serde(default)]
    pub k_reg: usize,
    /// How the calibration was made, in words.
    #[serde(default)]
    pub rule: String,
    /// Calibration per source; keys like `marrow`, `blood`.
    pub sources: BTreeMap<String, SourceCalibration>,
    /// Which source an image comes from, estimated from the model's own features: its sets then
    /// use that source's `q̂` (each source keeps its own coverage). Without it, or where the
    /// estimate is not sure, the largest `q̂` of the sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_model: Option<SourceModel>,
}

/// A multinomial logistic regression on the L2-normalised pooled features: which source
/// (specimen) an image looks like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceModel {
    pub sources: Vec<String>,
    /// One row of `channels` weights per source.
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    /// The source is used only when its probability is at least this; else the largest `q̂`.
    pub min_probability: f32,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The estimated source of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceGuess {
    pub source: String,
    pub probability: f32,
}

impl SourceModel {
    /// The most probable source of a pooled feature vector, with its probability.
    pub fn guess(&self, pooled: &[f32]) -> Option<SourceGuess> {
        let norm = pooled.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) || self.weights.iter().any(|w| w.len() != pooled.len()) {
            return None;
        }
        let z: Vec<f64> = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| w.iter().zip(pooled).map(|(a, x)| *a as f64 * *x as f64 / norm).sum::<f64>() + *b as f64)
            .collect();
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
        let total: f64 = e.iter().sum();
        let (k, best) = e.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        Some(SourceGuess { source: self.sources.get(k)?.clone(), probability: (best / total) as f32 })
    }

    fn validate(&self, sources: &BTreeMap<String, SourceCalibration>) -> Result<(), String> {
        let k = self.sources.len();
        if k < 2 || self.weights.len() != k || self.bias.len() != k {
            return Err("conformal.source_model needs one weight row and one bias per source (at least two)".into());
        }
        if let Some(s) = self.sources.iter().find(|s| !sources.contains_key(*s)) {
            return Err(format!("conformal.source_model names \"{s}\", which has no calibration"));
        }
        let c = self.weights[0].len();
        if c == 0 || self.weights.iter().flatten().chain(&self.bias).any(|v| !v.is_finite()) || self.weights.iter().any(|w| w.len() != c) {
            return Err("conformal.source_model weights must be finite rows of one length".into());
        }
        if !(0.5..=1.0).contains(&self.min_probability) {
            return Err("conformal.source_model.min_probability must be between 0.5 and 1".into());
        }
        Ok(())
    }
}

/// A prediction set for one image at one level.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionSet {
    pub level: Level,
    /// Indices into the ranking (0 = most probable); the set is the first `size` of them.
    pub size: usize,
    /// The `q̂` used and the source whose calibration it came from.
    pub qhat: f64,
    pub source: String,
    pub n: usize,
}

impl ConformalSpec {
    /// Checks the section: at least one source, finite non-negative `q̂` for known level keys,
    /// not decreasing with the level, finite non-negative `λ`.
    pub fn validate(&self) -> Result<(), String> {
        if self.sources.is_empty() {
            return Err("conformal.sources is empty".into());
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(format!("conformal.lambda {} is not a finite number ≥ 0", self.lambda));
        }
        for (name, s) in &self.sources {
            if s.n == 0 {
                return Err(format!("conformal source \"{name}\" has n = 0"));
            }
            let mut last = f64::NEG_INFINITY;
            for level in LEVELS {
                if let Some(&q) = s.qhat.get(level.key()) {
                    if !(q.is_finite() && q >= 0.0) {
                        return Err(format!("conformal source \"{name}\": qhat {} is {q}", level.key()));
                    }
                    if q < last - 1e-12 {
                        return Err(format!("conformal source \"{name}\": qhat decreases with the level"));
                    }
                    last = q;
                }
            }
            if s.qhat.keys().any(|k| Level::parse(k).is_none()) {
                return Err(format!("conformal source \"{name}\": qhat keys must be 0.80, 0.90, 0.95"));
            }
        }
        if let Some(m) = &self.source_model {
            m.validate(&self.sources)?;
        }
        Ok(())
    }

    /// The threshold for an image whose source was estimated as `guess`: that source's `q̂`
    /// when the estimate is sure enough (`source_model.min_probability`), else [`Self::threshold`].
    pub fn threshold_for(&self, level: Level, guess: Option<&SourceGuess>) -> Option<(f64, &str, usize)> {
        let min = self.source_model.as_ref().map(|m| m.min_probability).unwrap_or(f32::INFINITY);
        if let Some(g) = guess.filter(|g| g.probability >= min) {
            if let Some((name, s)) = self.sources.get_key_value(&g.source) {
                if let Some(&q) = s.qhat.get(level.key()) {
                    return Some((q, name.as_str(), s.n));
                }
            }
        }
        self.threshold(level)
    }

    /// The levels every source is calibrated for.
    pub fn levels(&self) -> Vec<Level> {
        LEVELS.into_iter().filter(|l| self.sources.values().all(|s| s.qhat.contains_key(l.key()))).collect()
    }

    /// The threshold used for `level`: with several sources, the largest `q̂` (the most
    /// conservative: sets are nested in `q̂`, so the guarantee then holds for each source).
    /// Returns `(q̂, source name, n)`.
    pub fn threshold(&self, level: Level) -> Option<(f64, &str, usize)> {
        self.sources
            .iter()
            .filter_map(|(name, s)| s.qhat.get(level.key()).map(|&q| (q, name.as_str(), s.n)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .filter(|_| self.sources.values().all(|s| s.qhat.contains_key(level.key())))
    }

    /// The score of the class at 0-based rank `rank`, given probabilities sorted descending.
    pub fn score_at_rank(&self, sorted: &[f32], rank: usize) -> f64 {
        let p = |i: usize| sorted.get(i).copied().unwrap_or(0.0) as f64;
        match self.method {
            Method::Lac => 1.0 - p(rank),
            Method::Aps => (0..=rank).map(p).sum(),
            Method::Raps => (0..=rank).map(p).sum::<f64>() + self.lambda * (rank + 1).saturating_sub(self.k_reg) as f64,
        }
    }

    /// The score of class `label` (manifest index) for probabilities in manifest order.
    pub fn score(&self, probabilities: &[f32], label: usize) -> Option<f64> {
        let order = crate::model::scores::top_k(probabilities, probabilities.len());
        let rank = order.iter().position(|&i| i == label)?;
        let sorted: Vec<f32> = order.iter().map(|&i| probabilities[i]).collect();
        Some(self.score_at_rank(&sorted, rank))
    }

    /// How many of the most probable classes form the set at threshold `qhat` (may be 0).
    pub fn set_size(&self, sorted: &[f32], qhat: f64) -> usize {
        // A small tolerance: q̂ is one of the calibration scores, stored with finite precision.
        (0..sorted.len()).take_while(|&r| self.score_at_rank(sorted, r) <= qhat + 1e-7).count()
    }

    /// The set of manifest indices, most probable first, for probabilities in manifest order.
    pub fn set_indices(&self, probabilities: &[f32], qhat: f64) -> Vec<usize> {
        let order = crate::model::scores::top_k(probabilities, probabilities.len());
        let sorted: Vec<f32> = order.iter().map(|&i| probabilities[i]).collect();
        let n = self.set_size(&sorted, qhat);
        order.into_iter().take(n).collect()
    }

    /// The prediction set of a ranked result (most probable first) at `level`; `None` when the
    /// manifest has no calibration for that level.
    pub fn set_for_ranked(&self, ranked: &[Ranked], level: Level, guess: Option<&SourceGuess>) -> Option<PredictionSet> {
        let (qhat, source, n) = self.threshold_for(level, guess)?;
        let sorted: Vec<f32> = ranked.iter().map(|r| r.probability).collect();
        Some(PredictionSet { level, size: self.set_size(&sorted, qhat), qhat, source: source.to_string(), n })
    }
}

/// `q̂`: the `⌈(n+1)·level⌉`-th smallest score, or infinity when that exceeds `n` (too few
/// calibration images for this level: the set is then every class).
pub fn quantile(scores: &[f64], level: f64) -> f64 {
    let n = scores.len();
    let k = ((n as f64 + 1.0) * level - 1e-9).ceil() as usize;
    if n == 0 || k > n {
        return f64::INFINITY;
    }
    let mut s: Vec<f64> = scores.to_vec();
    s.sort_by(f64::total_cmp);
    s[k.max(1) - 1]
}

/// What a set of predictions achieved on labelled images.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SetStats {
    pub n: usize,
    /// Share of images whose set contains the true class.
    pub coverage: f64,
    pub mean_size: f64,
    /// Share of sets with exactly one class.
    pub singleton_share: f64,
    /// Share of empty sets (no class reaches the level).
    pub empty_share: f64,
    /// Accuracy among the single-class sets.
    pub singleton_accuracy: f64,
}

/// Evaluates sets at threshold `qhat` over `(probabilities in manifest order, true index)` pairs.
pub fn evaluate(spec: &ConformalSpec, items: &[(Vec<f32>, usize)], qhat: f64) -> SetStats {
    let mut st = SetStats { n: items.len(), ..Default::default() };
    if items.is_empty() {
        return st;
    }
    let (mut covered, mut size, mut single, mut single_ok, mut empty) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for (p, y) in items {
        let set = spec.set_indices(p, qhat);
        let hit = set.contains(y);
        covered += hit as usize;
        size += set.len();
        empty += set.is_empty() as usize;
        if set.len() == 1 {
            single += 1;
            single_ok += hit as usize;
        }
    }
    let n = items.len() as f64;
    st.coverage = covered as f64 / n;
    st.mean_size = size as f64 / n;
    st.singleton_share = single as f64 / n;
    st.empty_share = empty as f64 / n;
    st.singleton_accuracy = if single > 0 { single_ok as f64 / single as f64 } else { 0.0 };
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: Method, lambda: f64, k_reg: usize, q: [f64; 3]) -> ConformalSpec {
        let qhat = LEVELS.iter().zip(q).map(|(l, v)| (l.key().to_string(), v)).collect();
        ConformalSpec {
            method,
            lambda,
            k_reg,
            rule: String::new(),
            sources: [("marrow".to_string(), SourceCalibration { split: "val".into(), n: 100, qhat, extra: Default::default() })].into(),
            source_model: None,
        }
    }

    #[test]
    fn levels_parse_and_read() {
        assert_eq!(Level::parse("90"), Some(Level::L90));
        assert_eq!(Level::parse("0.95"), Some(Level::L95));
        assert_eq!(Level::parse("80 %"), Some(Level::L80));
        assert_eq!(Level::parse("85"), None);
        assert_eq!(Level::parse("x"), None);
        assert!(Level::L90.words().contains("90 times in 100"));
        assert_eq!(Level::DEFAULT, Level::L90);
    }

    #[test]
    fn scores_follow_the_definitions() {
        let p = [0.1f32, 0.6, 0.3];
        let lac = spec(Method::Lac, 0.0, 0, [0.5, 0.6, 0.7]);
        assert!((lac.score(&p, 2).unwrap() - 0.7).abs() < 1e-6);
        let aps = spec(Method::Aps, 0.0, 0, [0.5, 0.6, 0.7]);
        assert!((aps.score(&p, 1).unwrap() - 0.6).abs() < 1e-6);
        assert!((aps.score(&p, 0).unwrap() - 1.0).abs() < 1e-6);
        let raps = spec(Method::Raps, 0.1, 1, [0.5, 0.6, 0.7]);
        assert!((raps.score(&p, 2).unwrap() - (0.9 + 0.1)).abs() < 1e-6);
        assert!((raps.score(&p, 0).unwrap() - (1.0 + 0.2)).abs() < 1e-6);
        assert_eq!(raps.score(&p, 7), None);
    }

    #[test]
    fn sets_are_prefixes_and_may_be_empty() {
        let s = spec(Method::Aps, 0.0, 0, [0.5, 0.8, 0.95]);
        let p = [0.05f32, 0.7, 0.2, 0.05];
        assert_eq!(s.set_indices(&p, 0.5), Vec::<usize>::new()); // 0.7 > 0.5: no class reaches it
        assert_eq!(s.set_indices(&p, 0.7), vec![1]);
        assert_eq!(s.set_indices(&p, 0.8), vec![1]);
        assert_eq!(s.set_indices(&p, 0.9), vec![1, 2]);
        assert_eq!(s.set_indices(&p, 0.95), vec![1, 2, 0]);
        assert_eq!(s.set_indices(&p, f64::INFINITY).len(), 4);
        let lac = spec(Method::Lac, 0.0, 0, [0.5, 0.8, 0.95]);
        assert_eq!(lac.set_indices(&p, 0.85), vec![1, 2]);
        assert!(s.set_indices(&[], 0.5).is_empty());
    }

    #[test]
    fn quantile_is_the_finite_sample_one() {
        let scores: Vec<f64> = (1..=9).map(|i| i as f64 / 10.0).collect();
        // n = 9, level 0.8 → ⌈10·0.8⌉ = 8th smallest
        assert!((quantile(&scores, 0.8) - 0.8).abs() < 1e-12);
        // level 0.95 → ⌈9.5⌉ = 10 > 9: every class
        assert!(quantile(&scores, 0.95).is_infinite());
        assert!(quantile(&[], 0.9).is_infinite());
    }

    #[test]
    fn coverage_holds_on_exchangeable_data() {
        // A synthetic 4-class "model": the true class gets a random extra share of the mass
        // (top-1 accuracy well under 80 %).
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f64 / (1u64 << 31) as f64) as f32
        };
        let mut make = |n: usize| -> Vec<(Vec<f32>, usize)> {
            (0..n)
                .map(|i| {
                    let y = i % 4;
                    let mut p: Vec<f32> = (0..4).map(|_| rnd() + 0.05).collect();
                    p[y] += 0.8 * rnd();
                    let s: f32 = p.iter().sum();
                    (p.into_iter().map(|v| v / s).collect(), y)
                })
                .collect()
        };
        let cal = make(2000);
        let test = make(4000);
        for method in [Method::Lac, Method::Aps, Method::Raps] {
            let s = spec(method, 0.05, 1, [0.0; 3]);
            for level in LEVELS {
                let scores: Vec<f64> = cal.iter().map(|(p, y)| s.score(p, *y).unwrap()).collect();
                let q = quantile(&scores, level.fraction());
                let st = evaluate(&s, &test, q);
                // Valid for every score; LAC, continuous here, is also close to the level from above
                // (deterministic APS/RAPS have an atom at 1.0 and may cover much more).
                assert!(st.coverage > level.fraction() - 0.02, "{method:?} {level:?}: {st:?}");
                if method == Method::Lac {
                    assert!(st.coverage < level.fraction() + 0.03, "{method:?} {level:?}: {st:?}");
                }
                assert!(st.mean_size >= 0.5 && st.mean_size <= 4.0, "{st:?}");
            }
        }
    }

    #[test]
    fn several_sources_use_the_most_conservative_and_validate() {
        let mut s = spec(Method::Raps, 0.1, 1, [0.5, 0.6, 0.7]);
        assert!(s.validate().is_ok());
        assert_eq!(s.levels(), LEVELS.to_vec());
        let mut blood = s.sources["marrow"].clone();
        blood.qhat.insert("0.90".into(), 0.65);
        s.sources.insert("blood".into(), blood);
        assert_eq!(s.threshold(Level::L90).map(|t| (t.0, t.1)), Some((0.65, "blood")));
        assert_eq!(s.threshold(Level::L80).map(|t| t.0), Some(0.5));
        s.sources.get_mut("blood").unwrap().qhat.remove("0.95");
        assert_eq!(s.threshold(Level::L95), None);
        assert_eq!(s.levels(), vec![Level::L80, Level::L90]);
        let mut bad = spec(Method::Raps, 0.1, 1, [0.7, 0.6, 0.8]);
        assert!(bad.validate().is_err());
        bad = spec(Method::Raps, -1.0, 1, [0.5, 0.6, 0.7]);
        assert!(bad.validate().is_err());
        bad = spec(Method::Raps, 0.1, 1, [0.5, f64::NAN, 0.7]);
        assert!(bad.validate().is_err());
        bad.sources.clear();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn an_estimated_source_uses_its_own_calibration() {
        let mut s = spec(Method::Lac, 0.0, 0, [0.7, 0.85, 0.92]);
        let mut blood = s.sources["marrow"].clone();
        blood.qhat = LEVELS.iter().zip([0.5, 0.68, 0.85]).map(|(l, v)| (l.key().to_string(), v)).collect();
        s.sources.insert("blood".into(), blood);
        // Feature 0 says marrow, feature 1 blood.
        s.source_model = Some(SourceModel {
            sources: vec!["marrow".into(), "blood".into()],
            weights: vec![vec![8.0, 0.0], vec![0.0, 8.0]],
            bias: vec![0.0, 0.0],
            min_probability: 0.9,
            extra: Default::default(),
        });
        assert!(s.validate().is_ok());
        let m = s.source_model.clone().unwrap();
        let blood_like = m.guess(&[0.1, 3.0]).unwrap();
        assert_eq!(blood_like.source, "blood");
        assert!(blood_like.probability > 0.99);
        assert_eq!(s.threshold_for(Level::L90, Some(&blood_like)).map(|t| (t.0, t.1)), Some((0.68, "blood")));
        // Unsure (equal features): the most conservative q̂.
        let unsure = m.guess(&[1.0, 1.0]).unwrap();
        assert!(unsure.probability < 0.9);
        assert_eq!(s.threshold_for(Level::L90, Some(&unsure)).map(|t| t.0), Some(0.85));
        assert_eq!(s.threshold_for(Level::L90, None).map(|t| t.0), Some(0.85));
        assert!(m.guess(&[0.0, 0.0]).is_none() && m.guess(&[1.0]).is_none());
        let mut bad = s.clone();
        bad.source_model.as_mut().unwrap().sources[1] = "urine".into();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn set_for_ranked_counts_from_the_top() {
        let s = spec(Method::Lac, 0.0, 0, [0.5, 0.8, 0.95]);
        let ranked: Vec<Ranked> = [("BLA", 0.55f32), ("PMO", 0.3), ("MON", 0.15)]
            .iter()
            .map(|(c, p)| Ranked { code: c.to_string(), name: String::new(), probability: *p })
            .collect();
        let set = s.set_for_ranked(&ranked, Level::L90, None).unwrap();
        assert_eq!((set.size, set.source.as_str(), set.n), (2, "marrow", 100));
        assert_eq!(s.set_for_ranked(&ranked, Level::L80, None).unwrap().size, 1);
        assert_eq!(s.set_for_ranked(&ranked, Level::L95, None).unwrap().size, 3);
    }
}
