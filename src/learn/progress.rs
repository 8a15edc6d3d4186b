//! A student's answers and what they show: score, streak, accuracy per class, their own confusion
//! matrix. Stored in the browser as JSON ([`Progress::to_json`]), exported as JSON or CSV.

use crate::csv_export::{Cell, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the stored format.
pub const FORMAT: u32 = 1;

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The image (file name in `teaching/`).
    pub file: String,
    /// The expert's label.
    pub truth: String,
    /// What the student chose.
    pub chosen: String,
    /// `"marrow"` or `"blood"`.
    pub source: String,
    /// The model's top class on the same image, when it answered.
    #[serde(default)]
    pub model: Option<String>,
    /// Milliseconds since 1970.
    pub at_ms: f64,
}

impl Answer {
    pub fn right(&self) -> bool {
        self.truth == self.chosen
    }
}

/// Right answers of one class (by the expert's label).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub code: String,
    pub seen: u32,
    pub right: u32,
}

impl ClassScore {
    pub fn accuracy(&self) -> f64 {
        if self.seen == 0 {
            0.0
        } else {
            self.right as f64 / self.seen as f64
        }
    }
}

/// Everything a student answered, with each image's Leitner box (raised by a right answer,
/// back to 0 after a wrong one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub format: u32,
    pub answers: Vec<Answer>,
    #[serde(default)]
    pub boxes: BTreeMap<String, u8>,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    pub fn new() -> Self {
        Progress { format: FORMAT, answers: Vec::new(), boxes: BTreeMap::new() }
    }

    /// Stored progress, or `None` when it is unreadable or of another format (a fresh start
    /// rather than a broken page).
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str::<Self>(text).ok().filter(|p| p.format == FORMAT)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Records an answer; returns whether it was right.
    pub fn record(&mut self, answer: Answer) -> bool {
        let right = answer.right();
        let b = self.boxes.entry(answer.file.clone()).or_insert(0);
        *b = if right { (*b + 1).min(5) } else { 0 };
        self.answers.push(answer);
        right
    }

    /// The model's answer for the last answer, once it arrives.
    pub fn set_model_answer(&mut self, file: &str, model: &str) {
        if let Some(a) = self.answers.iter_mut().rev().find(|a| a.file == file) {
            a.model = Some(model.to_string());
        }
    }

    /// (right, total).
    pub fn score(&self) -> (u32, u32) {
        (self.answers.iter().filter(|a| a.right()).count() as u32, self.answers.len() as u32)
    }

    /// Right answers in a row, up to the last one.
    pub fn streak(&self) -> u32 {
        self.answers.iter().rev().take_while(|a| a.right()).count() as u32
    }

    /// The longest run of right answers.
    pub fn best_streak(&self) -> u32 {
        let (mut best, mut run) = (0, 0);
        for a in &self.answers {
            run = if a.right() { run + 1 } else { 0 };
            best = best.max(run);
        }
        best
    }

    /// Per class of the expert's labels, in the order of `order` (then any others).
    pub fn per_class(&self, order: &[String]) -> Vec<ClassScore> {
        let mut map: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
        for a in &self.answers {
            let e = map.entry(a.truth.as_str()).or_default();
            e.0 += 1;
            e.1 += a.right() as u32;
        }
        let mut out: Vec<ClassScore> =
            order.iter().filter_map(|c| map.remove(c.as_str()).map(|(seen, right)| ClassScore { code: c.clone(), seen, right })).collect();
        out.extend(map.into_iter().map(|(c, (seen, right))| ClassScore { code: c.to_string(), seen, right }));
        out
    }

    /// The student's confusions: (expert's label, student's answer, how often), wrong answers
    /// only, most frequent first.
    pub fn confusions(&self) -> Vec<(String, String, u32)> {
        count_pairs(self.answers.iter().filter(|a| !a.right()).map(|a| (a.truth.as_str(), a.chosen.as_str())))
    }

    /// The model's confusions on the images the student saw.
    pub fn model_confusions(&self) -> Vec<(String, String, u32)> {
        count_pairs(self.answers.iter().filter_map(|a| a.model.as_deref().filter(|m| *m != a.truth).map(|m| (a.truth.as_str(), m))))
    }

    /// The confusion matrix over `codes` (rows: expert, columns: student).
    pub fn matrix(&self, codes: &[String]) -> Vec<Vec<u32>> {
        let mut m = vec![vec![0; codes.len()]; codes.len()];
        for a in &self.answers {
            if let (Some(i), Some(j)) = (codes.iter().position(|c| *c == a.truth), codes.iter().position(|c| *c == a.chosen)) {
                m[i][j] += 1;
            }
        }
        m
    }

    /// Every answer as CSV (for the student's records or a teacher); the file name is in quotes
    /// and every cell guarded against spreadsheet formulas ([`crate::csv_export`]).
    pub fn to_csv(&self) -> String {
        let mut table = Table::new(&["answered_at_ms", "file", "source", "expert_label", "your_answer", "right", "model_answer"]);
        for a in &self.answers {
            table.row([
                Cell::plain(format!("{:.0}", a.at_ms)),
                Cell::Text(&a.file),
                Cell::plain(a.source.as_str()),
                Cell::plain(a.truth.as_str()),
                Cell::plain(a.chosen.as_str()),
                Cell::plain(a.right().to_string()),
                Cell::plain(a.model.as_deref().unwrap_or("")),
            ]);
        }
        table.finish()
    }
}

fn count_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String, u32)> {
    let mut map: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for p in pairs {
        *map.entry(p).or_default() += 1;
    }
    let mut out: Vec<(String, String, u32)> = map.into_iter().map(|((a, b), n)| (a.to_string(), b.to_string(), n)).collect();
    out.sort_by(|x, y| y.2.cmp(&x.2).then_with(|| (&x.0, &x.1).cmp(&(&y.0, &y.1))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_file_names_and_guards_formulas() {
        let mut p = Progress::new();
        let answer = |file: &str, chosen: &str, model: Option<&str>| Answer {
            file: file.into(),
            truth: "LYT".into(),
            chosen: chosen.into(),
            source: "marrow".into(),
            model: model.map(str::to_string),
            at_ms: 1_700_000_000_123.4,
        };
        p.record(answer("=HYPERLINK(\"x\").jpg", "LYT", Some("LYT")));
        p.record(answer("mll-MON-a, b.jpg", "MON", None));
        let csv = p.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "answered_at_ms,file,source,expert_label,your_answer,right,model_answer");
        assert_eq!(lines[1], "1700000000123,\"'=HYPERLINK(\"\"x\"\").jpg\",marrow,LYT,LYT,true,LYT");
        assert_eq!(lines[2], "1700000000123,\"mll-MON-a, b.jpg\",marrow,LYT,MON,false,");
    }
}
