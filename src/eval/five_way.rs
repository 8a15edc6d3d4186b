//! The five white-cell types that other laboratories label (neutrophil, lymphocyte, monocyte,
//! eosinophil, basophil), and five-way scores of a model's MLL codes against them: a
//! neutrophil is right when the model says band or segmented (NGB, NGS); any other code (a
//! blast, an artefact, an erythroblast) is wrong for every type.

/// The five types, in report order.
pub const TYPES: [&str; 5] = ["NEU", "LYT", "MON", "EOS", "BAS"];

/// The type an MLL code (or a type's own name) belongs to; `None` for codes outside the five.
pub fn type_of(code: &str) -> Option<&'static str> {
    match code.trim().to_ascii_uppercase().as_str() {
        "NEU" | "NGS" | "NGB" => Some("NEU"),
        "LYT" => Some("LYT"),
        "MON" => Some("MON"),
        "EOS" => Some("EOS"),
        "BAS" => Some("BAS"),
        _ => None,
    }
}

/// One type's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TypeScore {
    pub label: &'static str,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Five-way scores of one set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FiveWay {
    /// Cells with a label of the five types.
    pub n: usize,
    pub accuracy: f64,
    pub per_type: Vec<TypeScore>,
    /// Mean F1 over the types with at least `min_support` cells.
    pub macro_f1: f64,
    pub min_support: usize,
    /// Predicted codes outside the five, with how often (the usual failure: ART, NIF, EBO).
    pub outside: Vec<(String, usize)>,
}

/// Scores `(label, predicted code)` pairs; a `None` prediction (no cell answered) counts as wrong.
/// Labels outside the five types are ignored.
pub fn score<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>, min_support: usize) -> FiveWay {
    let mut tp = [0usize; 5];
    let mut support = [0usize; 5];
    let mut predicted = [0usize; 5];
    let mut outside = std::collections::BTreeMap::<String, usize>::new();
    let (mut n, mut right) = (0usize, 0usize);
    let index = |t: &str| TYPES.iter().position(|x| *x == t);
    for (label, pred) in pairs {
        let Some(truth) = type_of(label).and_then(index) else { continue };
        n += 1;
        support[truth] += 1;
        match pred.and_then(type_of).and_then(index) {
            Some(p) => {
                predicted[p] += 1;
                if p == truth {
                    tp[truth] += 1;
                    right += 1;
                }
            }
            None => *outside.entry(pred.unwrap_or("(none)").to_string()).or_default() += 1,
        }
    }
    let per_type: Vec<TypeScore> = (0..5)
        .map(|k| {
            let precision = if predicted[k] > 0 { tp[k] as f64 / predicted[k] as f64 } else { 0.0 };
            let recall = if support[k] > 0 { tp[k] as f64 / support[k] as f64 } else { 0.0 };
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            TypeScore { label: TYPES[k], support: support[k], precision, recall, f1 }
        })
        .collect();
    let kept: Vec<f64> = per_type.iter().filter(|t| t.support >= min_support && t.support > 0).map(|t| t.f1).collect();
    let macro_f1 = if kept.is_empty() { 0.0 } else { kept.iter().sum::<f64>() / kept.len() as f64 };
    let mut outside: Vec<(String, usize)> = outside.into_iter().collect();
    outside.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    FiveWay { n, accuracy: if n > 0 { right as f64 / n as f64 } else { 0.0 }, per_type, macro_f1, min_support, outside }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutrophil_codes_pool_and_others_are_wrong() {
        assert_eq!(type_of("NGS"), Some("NEU"));
        assert_eq!(type_of("ngb"), Some("NEU"));
        assert_eq!(type_of("ART"), None);
        let pairs = [
            ("NEU", Some("NGS")),
            ("NEU", Some("NGB")),
            ("NEU", Some("ART")),
            ("NEU", None),
            ("LYT", Some("LYT")),
            ("LYT", Some("MON")),
            ("BAS", Some("BAS")),
            ("PLT", Some("PLT")),
        ];
        let s = score(pairs, 2);
        assert_eq!(s.n, 7);
        let neu = &s.per_type[0];
        assert_eq!((neu.support, neu.precision, neu.recall), (4, 1.0, 0.5));
        let lyt = &s.per_type[1];
        assert_eq!((lyt.support, lyt.precision, lyt.recall), (2, 1.0, 0.5));
        // BAS (one cell) is reported but left out of the mean; MON has no cell, so it is too.
        assert_eq!(s.per_type[4].f1, 1.0);
        assert!((s.macro_f1 - (2.0 / 3.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12, "{}", s.macro_f1);
        assert_eq!(s.outside, vec![("(none)".to_string(), 1), ("ART".to_string(), 1)]);
        assert!((s.accuracy - 4.0 / 7.0).abs() < 1e-12);
    }
}
