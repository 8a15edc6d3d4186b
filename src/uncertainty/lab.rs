//! Calibration to your laboratory: prediction sets recalibrated on cells a person confirmed.
//!
//! The manifest's sets ([`super::conformal`]) keep their promise on images like the calibration
//! images (the project's own sources). Another laboratory's stain, camera and magnification shift
//! the model's scores, and a 90 % set may then contain the right class far less often. The same
//! split-conformal rule, applied to cells of *that* laboratory whose class a person confirmed,
//! restores the promise for its images (they are then the exchangeable calibration set): `q̂` per
//! level is the `⌈(n+1)·level⌉`-th smallest score of the confirmed cells ([`super::conformal::quantile`]),
//! with the model's own score ([`ConformalSpec::score_at_rank`]).
//!
//! Per class where there are enough confirmed cells ([`MIN_PER_CLASS`]), each class gets its own
//! `q̂` (class-conditional, "Mondrian" conformal: Vovk 2012): a class the model handles badly in
//! this laboratory gets larger sets without inflating everyone's. The other classes use the `q̂`
//! of all confirmed cells. A set is then every class whose score is within its threshold.
//!
//! What it is not: a validation of the model. It makes the sets honest about how often they
//! contain the class a person would give; it does not make the model more accurate, and it holds
//! only for images like the confirmed ones.

use super::conformal::{quantile, ConformalSpec, Level, Method, LEVELS};
use crate::model::scores::Ranked;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The stored format's version.
pub const FORMAT: u32 = 1;
/// What a profile file says it is.
pub const KIND: &str = "marrowscope-lab-profile";
/// Confirmed cells needed before calibrating (at 30 cells the 95 % level is the 30th smallest
/// score of 30: any fewer and it could not be met).
pub const MIN_CELLS: usize = 30;
/// Confirmed cells of one class needed for it to get its own thresholds.
pub const MIN_PER_CLASS: usize = 20;

/// A confirmed cell as calibration keeps it: the class the person gave and the model's score
/// for it (small when the model ranked it high).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabScore {
    pub code: String,
    pub score: f64,
    /// The cell's out-of-distribution ratio ([`super::ood::OodAssessment::ratio`]): the batch
    /// shift warning compares new batches with the laboratory's cells ([`super::shift`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ood: Option<f32>,
}

/// A laboratory's calibration, as kept in the browser and exported as a small JSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabProfile {
    pub format: u32,
    pub kind: String,
    /// For people, e.g. "Calibrated on 60 confirmed cells, 5 Dec 2026".
    pub name: String,
    pub created_ms: f64,
    /// The model it was made with (`Manifest::model_id`): scores of another model mean nothing.
    pub model_id: String,
    pub method: Method,
    #[serde(default)]
    pub lambda: f64,
    #[serde(default)]
    pub k_reg: usize,
    /// Confirmed cells used.
    pub n: usize,
    /// Confirmed cells of classes the model cannot name (left out: no set of it can hold them).
    #[serde(default)]
    pub left_out: usize,
    /// `q̂` of all confirmed cells, per level key (`"0.90"`).
    pub qhat: BTreeMap<String, f64>,
    /// `q̂` per class with at least [`MIN_PER_CLASS`] confirmed cells, per level key.
    #[serde(default)]
    pub per_class: BTreeMap<String, BTreeMap<String, f64>>,
    /// The confirmed cells' scores (to recalibrate with more cells, and to compare batches with).
    pub scores: Vec<LabScore>,
}

/// A confirmed cell: the model's ranking (every class, most probable first) and the person's class.
pub struct Confirmed<'a> {
    pub ranked: &'a [Ranked],
    pub code: &'a str,
    /// Its out-of-distribution ratio, when the model gives one.
    pub ood: Option<f32>,
}

/// The score of class `code` for a ranking (most probable first), `None` if it is not ranked.
pub fn score_of(spec: &ConformalSpec, ranked: &[Ranked], code: &str) -> Option<f64> {
    let rank = ranked.iter().position(|r| r.code == code)?;
    let sorted: Vec<f32> = ranked.iter().map(|r| r.probability).collect();
    Some(spec.score_at_rank(&sorted, rank))
}

fn thresholds(scores: &[f64]) -> BTreeMap<String, f64> {
    LEVELS.iter().map(|l| (l.key().to_string(), quantile(scores, l.fraction()))).collect()
}

impl LabProfile {
    /// Calibrates on `cells` with the model's score (`spec`, of model `model_id`). Cells of a class
    /// the model does not rank are left out and counted. Fewer than [`MIN_CELLS`] usable cells
    /// is an error in words.
    pub fn calibrate(
        spec: &ConformalSpec,
        model_id: &str,
        cells: &[Confirmed],
        name: String,
        created_ms: f64,
    ) -> Result<LabProfile, String> {
        let mut scores = Vec::with_capacity(cells.len());
        let mut left_out = 0;
        for c in cells {
            match score_of(spec, c.ranked, c.code) {
                Some(score) if score.is_finite() => scores.push(LabScore { code: c.code.to_string(), score, ood: c.ood }),
                _ => left_out += 1,
            }
        }
        if scores.len() < MIN_CELLS {
            return Err(format!(
                "Calibration needs at least {MIN_CELLS} confirmed cells of classes this model knows; there are {}{}.",
                scores.len(),
                if left_out > 0 { format!(" (and {left_out} of classes it cannot name, which cannot be used)") } else { String::new() }
            ));
        }
        let all: Vec<f64> = scores.iter().map(|s| s.score).collect();
        let mut by_class: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for s in &scores {
            by_class.entry(s.code.as_str()).or_default().push(s.score);
        }
        let per_class =
            by_class.into_iter().filter(|(_, v)| v.len() >= MIN_PER_CLASS).map(|(code, v)| (code.to_string(), thresholds(&v))).collect();
        Ok(LabProfile {
            format: FORMAT,
            kind: KIND.to_string(),
            name,
            created_ms,
            model_id: model_id.to_string(),
            method: spec.method,
            lambda: spec.lambda,
            k_reg: spec.k_reg,
            n: scores.len(),
            left_out,
            qhat: thresholds(&all),
            per_class,
            scores,
        })
    }

    /// A profile read from a file, checked against the loaded model (`model_id`, its `spec`):
    /// errors say what is wrong in words.
    pub fn from_json(text: &str, model_id: &str, spec: Option<&ConformalSpec>) -> Result<LabProfile, String> {
        let p = Self::parse(text)?;
        p.check(model_id, spec)?;
        Ok(p)
    }

    /// A profile read from a file (its format and thresholds checked, not its model).
    pub fn parse(text: &str) -> Result<LabProfile, String> {
        let p: LabProfile =
            serde_json::from_str(text).map_err(|e| format!("This file is not a laboratory profile of Marrowscope ({e})."))?;
        if p.kind != KIND || p.format != FORMAT {
            return Err("This file is not a laboratory profile of this version of Marrowscope.".into());
        }
        let finite = |m: &BTreeMap<String, f64>| m.iter().all(|(k, v)| Level::parse(k).is_some() && !v.is_nan() && *v >= 0.0);
        if p.n < MIN_CELLS || p.scores.len() != p.n || !finite(&p.qhat) || !p.per_class.values().all(finite) {
            return Err("This laboratory profile is damaged: its thresholds do not add up.".into());
        }
        Ok(p)
    }

    /// Whether the profile applies to the loaded model (`model_id`, its calibration `spec`).
    pub fn check(&self, model_id: &str, spec: Option<&ConformalSpec>) -> Result<(), String> {
        if self.model_id != model_id {
            return Err(format!(
                "This laboratory profile was made with the model \"{}\"; the loaded model is \"{model_id}\". Calibrate again with this model.",
                self.model_id
            ));
        }
        match spec {
            None => Err("The loaded model has no prediction sets to calibrate.".into()),
            Some(s) if s.method != self.method || (s.lambda - self.lambda).abs() > 1e-12 || s.k_reg != self.k_reg => {
                Err("This laboratory profile uses another score than the loaded model's calibration.".into())
            }
            Some(_) => Ok(()),
        }
    }

    /// The profile as a file (pretty JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The threshold of class `code` at `level`: its own where it has one, else that of all cells.
    pub fn threshold(&self, code: &str, level: Level) -> Option<f64> {
        self.per_class.get(code).and_then(|m| m.get(level.key())).or_else(|| self.qhat.get(level.key())).copied()
    }

    /// The set of a ranking (most probable first) at `level`: the codes whose score is within
    /// their threshold, most probable first; `None` without thresholds for the level.
    pub fn set(&self, spec: &ConformalSpec, ranked: &[Ranked], level: Level) -> Option<Vec<String>> {
        self.qhat.get(level.key())?;
        let sorted: Vec<f32> = ranked.iter().map(|r| r.probability).collect();
        Some(
            ranked
                .iter()
                .enumerate()
                .filter(|(rank, r)| self.threshold(&r.code, level).is_some_and(|q| spec.score_at_rank(&sorted, *rank) <= q + 1e-7))
                .map(|(_, r)| r.code.clone())
                .collect(),
        )
    }

    /// The batch shift threshold from the confirmed cells ([`super::shift::reference_threshold`])
    /// for batches of `batch` cells; `None` unless every confirmed cell has its ratio.
    pub fn shift_threshold(&self, batch: usize) -> Option<f64> {
        let ratios: Option<Vec<f32>> = self.scores.iter().map(|s| s.ood).collect();
        super::shift::reference_threshold(&ratios?, batch)
    }

    /// The classes with their own thresholds, and their numbers of confirmed cells.
    pub fn classes(&self) -> Vec<(String, usize)> {
        self.per_class.keys().map(|c| (c.clone(), self.scores.iter().filter(|s| &s.code == c).count())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uncertainty::conformal::SourceCalibration;

    fn spec() -> ConformalSpec {
        let qhat = LEVELS.iter().map(|l| (l.key().to_string(), 0.5)).collect();
        ConformalSpec {
            method: Method::Aps,
            lambda: 0.0,
            k_reg: 0,
            rule: String::new(),
            sources: [("marrow".to_string(), SourceCalibration { split: "val".into(), n: 100, qhat, extra: Default::default() })].into(),
            source_model: None,
        }
    }

    fn ranked(pairs: &[(&str, f32)]) -> Vec<Ranked> {
        pairs.iter().map(|(c, p)| Ranked { code: c.to_string(), name: c.to_string(), probability: *p }).collect()
    }

    #[test]
    fn too_few_cells_is_an_error_in_words() {
        let r = ranked(&[("LYT", 0.9), ("MON", 0.1)]);
        let cells: Vec<Confirmed> = (0..29).map(|_| Confirmed { ranked: &r, code: "LYT", ood: None }).collect();
        let e = LabProfile::calibrate(&spec(), "m", &cells, String::new(), 0.0).unwrap_err();
        assert!(e.contains("at least 30") && e.contains("there are 29"), "{e}");
        // A class the model cannot name does not count.
        let mut cells: Vec<Confirmed> = (0..30).map(|_| Confirmed { ranked: &r, code: "LYT", ood: None }).collect();
        cells[0].code = "PLM";
        let e = LabProfile::calibrate(&spec(), "m", &cells, String::new(), 0.0).unwrap_err();
        assert!(e.contains("1 of classes it cannot name"), "{e}");
    }

    #[test]
    fn the_model_is_wrong_here_so_the_sets_grow_and_cover() {
        // In this laboratory the model says LYT 0.8 for cells that are MON a third of the time.
        let lyt = ranked(&[("LYT", 0.8), ("MON", 0.15), ("BLA", 0.05)]);
        let cells: Vec<Confirmed> = (0..60)
            .map(|k| Confirmed { ranked: &lyt, code: if k % 3 == 0 { "MON" } else { "LYT" }, ood: Some(0.5 + (k % 2) as f32 * 0.1) })
            .collect();
        let p = LabProfile::calibrate(&spec(), "m", &cells, "lab".into(), 1.0).unwrap();
        assert_eq!((p.n, p.left_out), (60, 0));
        // 90 %: the 55th smallest of 60 scores: 0.95 (MON's APS score), so LYT and MON.
        assert_eq!(p.set(&spec(), &lyt, Level::L90).unwrap(), vec!["LYT", "MON"]);
        // 80 % asks the 49th smallest: MON is a third, so still both.
        assert_eq!(p.set(&spec(), &lyt, Level::L80).unwrap(), vec!["LYT", "MON"]);
        // LYT (40 cells) and MON (20) have their own thresholds: LYT's is 0.8 at every level.
        assert_eq!(p.classes(), vec![("LYT".to_string(), 40), ("MON".to_string(), 20)]);
        assert_eq!(p.threshold("LYT", Level::L95), Some(0.800000011920929));
        // Its cells' ratios give the batch shift reference.
        assert!(p.shift_threshold(30).is_some_and(|t| t > 0.55 && t < 0.6));
        // The model's manifest sets (q̂ 0.5) would have been empty: no class reaches 0.5.
        assert_eq!(spec().set_indices(&[0.8, 0.15, 0.05], 0.5), Vec::<usize>::new());
    }

    #[test]
    fn a_profile_round_trips_and_is_checked_against_the_model() {
        let r = ranked(&[("LYT", 0.9), ("MON", 0.1)]);
        let cells: Vec<Confirmed> = (0..30).map(|_| Confirmed { ranked: &r, code: "LYT", ood: None }).collect();
        let p = LabProfile::calibrate(&spec(), "model-a", &cells, "lab".into(), 1.0).unwrap();
        let text = p.to_json();
        assert_eq!(LabProfile::from_json(&text, "model-a", Some(&spec())).unwrap(), p);
        let e = LabProfile::from_json(&text, "model-b", Some(&spec())).unwrap_err();
        assert!(e.contains("model-a") && e.contains("model-b"), "{e}");
        let mut lac = spec();
        lac.method = Method::Lac;
        assert!(LabProfile::from_json(&text, "model-a", Some(&lac)).is_err());
        assert!(LabProfile::from_json(&text, "model-a", None).unwrap_err().contains("no prediction sets"));
        assert!(LabProfile::parse("{\"x\": 1}").unwrap_err().contains("not a laboratory profile"));
        let damaged = text.replacen("\"n\": 30", "\"n\": 31", 1);
        assert!(LabProfile::parse(&damaged).unwrap_err().contains("damaged"));
    }
}
