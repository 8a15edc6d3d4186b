//! The teaching set: expert-labelled cell images written into a build by `scripts/data/teaching.sh`
//! (`teaching/index.json`), and the part of it a practice session uses.

use serde::{Deserialize, Serialize};

/// One image of the teaching set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeachingItem {
    /// File name inside `teaching/`.
    pub file: String,
    /// The expert's label: an MLL code, or `PLT` (platelet).
    pub label: String,
    /// `"marrow"` or `"blood"`.
    pub source: String,
    #[serde(default)]
    pub dataset: Option<String>,
    #[serde(default)]
    pub original: Option<String>,
}

/// Reads `teaching/index.json`.
pub fn parse_index(text: &str) -> Result<Vec<TeachingItem>, String> {
    let items: Vec<TeachingItem> = serde_json::from_str(text).map_err(|e| format!("the teaching set's index is unreadable ({e})"))?;
    if items.is_empty() {
        return Err("the teaching set is empty".into());
    }
    Ok(items)
}

/// A named choice of classes to practise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Focus {
    pub id: &'static str,
    pub label: &'static str,
    /// Empty: every class of the teaching set.
    pub codes: &'static [&'static str],
}

/// The sets of classes a session can be limited to (those with no image in the teaching set are
/// left out of the menu by [`focuses_for`]).
pub const FOCUSES: [Focus; 6] = [
    Focus { id: "all", label: "All classes", codes: &[] },
    Focus { id: "granulocytes", label: "Granulocyte maturation: PMO MYB MMZ NGB NGS", codes: &["PMO", "MYB", "MMZ", "NGB", "NGS"] },
    Focus { id: "blasts", label: "Blasts and their look-alikes: BLA PMO MON LYT", codes: &["BLA", "PMO", "MON", "LYT"] },
    Focus { id: "mononuclear", label: "Mononuclear cells: LYT MON BLA", codes: &["LYT", "MON", "BLA"] },
    Focus { id: "granules", label: "Cells with granules: EOS BAS NGS PMO", codes: &["EOS", "BAS", "NGS", "PMO"] },
    Focus { id: "erythroid", label: "Erythroid and small round cells: EBO LYT PLT", codes: &["EBO", "LYT", "PLT"] },
];

/// The focuses that have at least two classes with images in `items` (and "all").
pub fn focuses_for(items: &[TeachingItem]) -> Vec<Focus> {
    FOCUSES
        .into_iter()
        .filter(|f| f.codes.is_empty() || f.codes.iter().filter(|c| items.iter().any(|i| i.label == **c)).count() >= 2)
        .collect()
}

/// Which specimen to practise on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Specimen {
    Both,
    Marrow,
    Blood,
}

impl Specimen {
    pub fn parse(s: &str) -> Specimen {
        match s {
            "marrow" => Specimen::Marrow,
            "blood" => Specimen::Blood,
            _ => Specimen::Both,
        }
    }

    pub fn admits(self, source: &str) -> bool {
        match self {
            Specimen::Both => true,
            Specimen::Marrow => source == "marrow",
            Specimen::Blood => source == "blood",
        }
    }
}

/// The indices of the items a session draws from.
pub fn pool(items: &[TeachingItem], focus: &Focus, specimen: Specimen) -> Vec<usize> {
    (0..items.len())
        .filter(|&k| specimen.admits(&items[k].source) && (focus.codes.is_empty() || focus.codes.contains(&items[k].label.as_str())))
        .collect()
}

/// The classes a session offers as answers: a focus's own order (e.g. maturation), else the
/// taxonomy's; only classes with a cell in the pool.
pub fn options(items: &[TeachingItem], pool: &[usize], focus: &Focus) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for &k in pool {
        if !codes.contains(&items[k].label) {
            codes.push(items[k].label.clone());
        }
    }
    let rank = |c: &str| match focus.codes.iter().position(|f| *f == c) {
        Some(p) => p,
        None => crate::taxonomy::all().position(|t| t.code == c).unwrap_or(usize::MAX),
    };
    codes.sort_by_key(|c| (rank(c), c.clone()));
    codes
}
