//! Evaluation metrics: accuracy, per-class precision/recall/F1, macro-F1,
//! confusion matrix and expected calibration error.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    pub code: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub ece: f64,
    pub per_class: Vec<ClassReport>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    pub classes: Vec<String>,
}

/// One scored example: the true class index and the predicted probabilities.
pub struct Scored<'a> {
    pub truth: usize,
    pub probabilities: &'a [f32],
}

/// Builds the report; `bins` is the number of equal-width confidence bins for ECE.
pub fn evaluate(classes: &[String], examples: &[Scored], bins: usize) -> Report {
    let k = classes.len();
    let mut confusion = vec![vec![0usize; k]; k];
    let mut bin_n = vec![0usize; bins];
    let mut bin_conf = vec![0f64; bins];
    let mut bin_acc = vec![0f64; bins];
    for e in examples {
        let (pred, conf) =
            e.probabilities.iter().enumerate().fold((0, f32::MIN), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) });
        confusion[e.truth][pred] += 1;
        let b = ((conf as f64 * bins as f64) as usize).min(bins - 1);
        bin_n[b] += 1;
        bin_conf[b] += conf as f64;
        bin_acc[b] += (pred == e.truth) as u8 as f64;
    }
    let n = examples.len();
    let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
    let per_class: Vec<ClassReport> = (0..k)
        .map(|i| {
            let tp = confusion[i][i] as f64;
            let predicted: usize = (0..k).map(|t| confusion[t][i]).sum();
            let support: usize = confusion[i].iter().sum();
            let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
            let recall = if support > 0 { tp / support as f64 } else { 0.0 };
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            ClassReport { code: classes[i].clone(), precision, recall, f1, support }
        })
        .collect();
    let present: Vec<&ClassReport> = per_class.iter().filter(|c| c.support > 0).collect();
    let macro_f1 = present.iter().map(|c| c.f1).sum::<f64>() / present.len().max(1) as f64;
    let ece = (0..bins)
        .filter(|&b| bin_n[b] > 0)
        .map(|b| (bin_n[b] as f64 / n as f64) * ((bin_acc[b] - bin_conf[b]) / bin_n[b] as f64).abs())
        .sum();
    Report {
        n,
        accuracy: if n > 0 { correct as f64 / n as f64 } else { 0.0 },
        macro_f1,
        ece,
        per_class,
        confusion,
        classes: classes.to_vec(),
    }
}

impl Report {
    /// A plain-text table for terminals and docs.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "images: {}\naccuracy: {:.4}\nmacro-F1: {:.4}\nexpected calibration error (15 bins): {:.4}\n\nclass  precision  recall  F1      support\n",
            self.n, self.accuracy, self.macro_f1, self.ece
        );
        for c in &self.per_class {
            s += &format!("{:<5}  {:>9.3}  {:>6.3}  {:>6.3}  {:>7}\n", c.code, c.precision, c.recall, c.f1, c.support);
        }
        s += "\nconfusion matrix (rows: true, columns: predicted)\n      ";
        for c in &self.classes {
            s += &format!("{c:>5}");
        }
        s += "\n";
        for (i, row) in self.confusion.iter().enumerate() {
            s += &format!("{:<6}", self.classes[i]);
            for v in row {
                s += &format!("{v:>5}");
            }
            s += "\n";
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_example() {
        let classes = vec!["A".to_string(), "B".to_string()];
        let p = [[0.95f32, 0.05], [0.15, 0.85], [0.65, 0.35], [0.25, 0.75]];
        let truth = [0, 1, 1, 1];
        let ex: Vec<Scored> = p.iter().zip(truth).map(|(p, t)| Scored { truth: t, probabilities: p }).collect();
        let r = evaluate(&classes, &ex, 10);
        assert_eq!(r.confusion, vec![vec![1, 0], vec![1, 2]]);
        assert!((r.accuracy - 0.75).abs() < 1e-9);
        // A: P=1/2 R=1 F1=2/3; B: P=1 R=2/3 F1=0.8
        assert!((r.macro_f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-9);
        // bins: .95 (correct), .85 (correct), .65 (wrong), .75 (correct), each alone in its bin
        let ece = (0.05 + 0.15 + 0.65 + 0.25) / 4.0;
        assert!((r.ece - ece).abs() < 1e-6, "{}", r.ece);
    }
}
