//! Adult reference intervals for a differential count, and where a count falls against them.
//!
//! A count is either of a bone-marrow aspirate or of peripheral blood ([`CountKind`]); each has
//! its own intervals, in percent of the cells counted, from a cited source ([`sources`]):
//!
//! - **Bone marrow**: Osgood & Seaman (1944), the adult marrow differential reproduced in
//!   Wintrobe's Clinical Hematology; blasts: under 5 % (the WHO classification's limit below
//!   "excess blasts"), and 20 % the WHO blast threshold of acute myeloid leukaemia.
//! - **Peripheral blood**: Dacie and Lewis Practical Haematology (12th edition, 2017), the adult
//!   white-cell differential; precursors (blasts, promyelocytes, myelocytes, metamyelocytes,
//!   erythroblasts) are not seen in a healthy adult's blood (0 %).
//!
//! An interval covers one class ([`row_interval`]) or a group of classes that the source counts
//! together ([`groups`]: the neutrophilic series in marrow, all neutrophils in blood). Classes no
//! source gives a range for (artefacts, smudge cells, platelets, abnormal forms) get no flag.
//! This is teaching information, never a diagnosis: every laboratory sets its own intervals.

use super::CountRow;

/// What a count is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountKind {
    Marrow,
    Blood,
}

impl CountKind {
    /// `marrow` or `blood` (the page's `data-kind`, the session's record).
    pub fn as_str(self) -> &'static str {
        match self {
            CountKind::Marrow => "marrow",
            CountKind::Blood => "blood",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "marrow" => Some(CountKind::Marrow),
            "blood" => Some(CountKind::Blood),
            _ => None,
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            CountKind::Marrow => "Bone-marrow aspirate",
            CountKind::Blood => "Peripheral blood",
        }
    }

    /// The kind most cells look like from their estimated sources (`marrow`/`blood`); bone
    /// marrow when none says or on a tie.
    pub fn estimate<'a>(sources: impl IntoIterator<Item = &'a str>) -> Self {
        let (mut marrow, mut blood) = (0usize, 0usize);
        for s in sources {
            match s {
                "marrow" => marrow += 1,
                "blood" => blood += 1,
                _ => {}
            }
        }
        if blood > marrow {
            CountKind::Blood
        } else {
            CountKind::Marrow
        }
    }
}

/// A reference interval in percent of the cells counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// What it is of, in words (e.g. "Neutrophilic series").
    pub label: &'static str,
    /// The classes it counts together.
    pub codes: &'static [&'static str],
    pub low: f64,
    pub high: f64,
    /// Which source in [`sources`] it comes from (index).
    pub source: usize,
}

/// Where a percentage falls against its interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    Low,
    High,
    Normal,
    /// No interval for it.
    None,
}

impl Flag {
    /// `low`, `high`, `normal` or `none` (the page's `data-flag`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Low => "low",
            Flag::High => "high",
            Flag::Normal => "normal",
            Flag::None => "none",
        }
    }

    /// In words, for the table ("" when there is no interval).
    pub fn words(self) -> &'static str {
        match self {
            Flag::Low => "below range",
            Flag::High => "above range",
            Flag::Normal => "within range",
            Flag::None => "",
        }
    }
}

const fn iv(label: &'static str, codes: &'static [&'static str], low: f64, high: f64, source: usize) -> Interval {
    Interval { label, codes, low, high, source }
}

/// Bone-marrow intervals. Source 0: Osgood & Seaman via Wintrobe; source 1: WHO (blasts).
const MARROW: &[Interval] = &[
    iv("Blasts", &["BLA"], 0.0, 5.0, 1),
    iv("Promyelocytes", &["PMO"], 2.1, 4.1, 0),
    iv("Myelocytes", &["MYB"], 8.2, 15.7, 0),
    iv("Metamyelocytes", &["MMZ"], 9.6, 24.6, 0),
    iv("Band neutrophils", &["NGB"], 9.5, 15.3, 0),
    iv("Segmented neutrophils", &["NGS"], 6.0, 12.0, 0),
    iv("Eosinophils", &["EOS"], 1.2, 5.3, 0),
    iv("Basophils", &["BAS"], 0.0, 0.2, 0),
    iv("Lymphocytes", &["LYT"], 11.1, 23.2, 0),
    iv("Monocytes", &["MON"], 0.0, 0.8, 0),
    iv("Plasma cells", &["PLM"], 0.4, 3.9, 0),
    iv("Proerythroblasts", &["PEB"], 0.2, 1.3, 0),
    iv("Erythroblasts (erythroid series)", &["EBO"], 18.0, 39.0, 0),
    iv("Neutrophilic series", &["PMO", "MYB", "MMZ", "NGB", "NGS"], 49.0, 65.0, 0),
];

/// Peripheral-blood intervals. Source 0: Dacie and Lewis.
const BLOOD: &[Interval] = &[
    iv("Lymphocytes", &["LYT"], 20.0, 40.0, 0),
    iv("Monocytes", &["MON"], 2.0, 10.0, 0),
    iv("Eosinophils", &["EOS"], 1.0, 6.0, 0),
    iv("Basophils", &["BAS"], 0.0, 2.0, 0),
    iv("Blasts", &["BLA"], 0.0, 0.0, 0),
    iv("Promyelocytes", &["PMO"], 0.0, 0.0, 0),
    iv("Myelocytes", &["MYB"], 0.0, 0.0, 0),
    iv("Metamyelocytes", &["MMZ"], 0.0, 0.0, 0),
    iv("Erythroblasts", &["EBO"], 0.0, 0.0, 0),
    iv("Proerythroblasts", &["PEB"], 0.0, 0.0, 0),
    iv("Neutrophils (segmented and band)", &["NGS", "NGB"], 40.0, 80.0, 0),
];

/// The myeloid:erythroid ratio of a normal adult marrow (Osgood & Seaman via Wintrobe).
pub const ME_RATIO: (f64, f64) = (1.5, 3.3);

/// Classes counted as myeloid in the M:E ratio (granulocytic series and their blasts).
pub const MYELOID: &[&str] = &["BLA", "PMO", "MYB", "MMZ", "NGB", "NGS", "EOS", "ABE", "BAS", "FGC"];
/// Classes counted as erythroid in the M:E ratio.
pub const ERYTHROID: &[&str] = &["PEB", "EBO"];

/// Classes that are not white cells (artefacts, cells that cannot be named, smudge cells,
/// platelets): no source gives them an interval, and they dilute a differential.
pub const NOT_WHITE_CELLS: &[&str] = &["ART", "NIF", "KSC", "PLT"];

/// The upper normal blast percentage of a marrow, and the WHO blast threshold of acute myeloid
/// leukaemia.
pub const BLASTS_UPPER_NORMAL: f64 = 5.0;
pub const BLASTS_WHO_AML: f64 = 20.0;

/// The sources of a kind's intervals, as cited in the app and the README (indexed by
/// [`Interval::source`]).
pub fn sources(kind: CountKind) -> &'static [&'static str] {
    match kind {
        CountKind::Marrow => &[
            "Osgood EE, Seaman AJ. The cellular composition of normal bone marrow as obtained by sternal puncture. Physiol Rev 1944;24:46–69 (adult marrow differential as reproduced in Wintrobe's Clinical Hematology)",
            "Arber DA et al. The 2016 revision to the World Health Organization classification of myeloid neoplasms and acute leukemia. Blood 2016;127:2391–2405 (blasts: under 5 % normal; 20 % or more: acute myeloid leukaemia)",
        ],
        CountKind::Blood => &[
            "Bain BJ, Bates I, Laffan MA (eds). Dacie and Lewis Practical Haematology, 12th ed. Elsevier 2017 (adult white-cell differential; precursors are not seen in healthy adults' blood)",
        ],
    }
}

/// Every interval of a kind.
pub fn intervals(kind: CountKind) -> &'static [Interval] {
    match kind {
        CountKind::Marrow => MARROW,
        CountKind::Blood => BLOOD,
    }
}

/// The interval of one class on its own, if the source gives one.
pub fn row_interval(kind: CountKind, code: &str) -> Option<&'static Interval> {
    intervals(kind).iter().find(|i| i.codes == [code])
}

/// Where `percent` falls against `interval`.
pub fn flag(percent: f64, interval: Option<&Interval>) -> Flag {
    match interval {
        None => Flag::None,
        // Compare at the precision the table shows (0.1 %), so that a row never reads "5.0 %"
        // and "above range" for an upper limit of 5.
        Some(i) => flag_at(percent, i.low, i.high),
    }
}

/// `value` against `low`–`high` at the precision of one decimal.
fn flag_at(value: f64, low: f64, high: f64) -> Flag {
    let v = (value * 10.0).round() / 10.0;
    if v < low {
        Flag::Low
    } else if v > high {
        Flag::High
    } else {
        Flag::Normal
    }
}

/// A group of classes that a source counts together, as counted.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub interval: Interval,
    /// Its classes the model can name (those it cannot are missing from the sum).
    pub present: Vec<String>,
    pub count: usize,
    pub percent: f64,
    pub flag: Flag,
}

/// The multi-class intervals of a kind with their sums, for the classes the model names
/// (`model_classes`); a group none of whose classes the model names is left out.
pub fn groups(kind: CountKind, rows: &[CountRow], model_classes: &[String]) -> Vec<GroupRow> {
    let total: usize = rows.iter().map(|r| r.count).sum();
    intervals(kind)
        .iter()
        .filter(|i| i.codes.len() > 1)
        .filter_map(|i| {
            let present: Vec<String> = i.codes.iter().filter(|c| model_classes.iter().any(|m| m == *c)).map(|c| c.to_string()).collect();
            if present.is_empty() {
                return None;
            }
            let count = rows.iter().filter(|r| i.codes.contains(&r.code.as_str())).map(|r| r.count).sum();
            let percent = if total > 0 { 100.0 * count as f64 / total as f64 } else { 0.0 };
            Some(GroupRow { interval: *i, present, count, percent, flag: if total > 0 { flag(percent, Some(i)) } else { Flag::None } })
        })
        .collect()
}

/// The myeloid:erythroid ratio of a count: `None` when it has no erythroid cell.
pub fn me_ratio(rows: &[CountRow]) -> Option<f64> {
    let sum = |codes: &[&str]| rows.iter().filter(|r| codes.contains(&r.code.as_str())).map(|r| r.count).sum::<usize>();
    let (m, e) = (sum(MYELOID), sum(ERYTHROID));
    (e > 0).then(|| m as f64 / e as f64)
}

/// The M:E ratio judged against [`ME_RATIO`] at the precision it is shown (0.1):
/// [`Flag::None`] without a ratio.
pub fn me_flag(ratio: Option<f64>) -> Flag {
    let (low, high) = ME_RATIO;
    ratio.map_or(Flag::None, |r| flag_at(r, low, high))
}

/// The blast percentage in words, against the limits that matter (teaching, not a diagnosis).
pub fn blasts_words(kind: CountKind, percent: f64) -> String {
    let p = (percent * 10.0).round() / 10.0;
    match kind {
        CountKind::Marrow if p >= BLASTS_WHO_AML => format!(
            "Blasts {p:.1} %: at or above {BLASTS_WHO_AML:.0} %, the WHO blast threshold of acute myeloid leukaemia. Teaching information, not a diagnosis: a haematologist reviews the smear."
        ),
        CountKind::Marrow if p >= BLASTS_UPPER_NORMAL => format!(
            "Blasts {p:.1} %: above the upper normal {BLASTS_UPPER_NORMAL:.0} % of an adult marrow, below the WHO threshold of {BLASTS_WHO_AML:.0} % for acute myeloid leukaemia. Teaching information, not a diagnosis."
        ),
        CountKind::Marrow => format!(
            "Blasts {p:.1} %: under the upper normal {BLASTS_UPPER_NORMAL:.0} % of an adult marrow (the WHO threshold of acute myeloid leukaemia is {BLASTS_WHO_AML:.0} %)."
        ),
        CountKind::Blood if p > 0.0 => format!(
            "Blasts {p:.1} %: blasts are not seen in a healthy adult's blood; in blood too, {BLASTS_WHO_AML:.0} % is the WHO blast threshold of acute myeloid leukaemia. Teaching information, not a diagnosis."
        ),
        CountKind::Blood => "No blasts counted (none are seen in a healthy adult's blood).".to_string(),
    }
}

/// The MLL classes (of all 21) that the model cannot name: they are missing from any count it
/// makes.
pub fn missing_classes(model_classes: &[String]) -> Vec<&'static str> {
    crate::taxonomy::CLASSES.iter().map(|c| c.code).filter(|c| !model_classes.iter().any(|m| m == c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(&str, usize)]) -> Vec<CountRow> {
        let total: usize = v.iter().map(|r| r.1).sum();
        v.iter().map(|(c, n)| CountRow { code: c.to_string(), count: *n, percent: 100.0 * *n as f64 / total as f64 }).collect()
    }

    #[test]
    fn every_interval_is_ordered_and_cites_a_source() {
        for kind in [CountKind::Marrow, CountKind::Blood] {
            for i in intervals(kind) {
                assert!(i.low <= i.high && i.low >= 0.0 && i.high <= 100.0, "{i:?}");
                assert!(i.source < sources(kind).len(), "{i:?}");
                for c in i.codes {
                    assert!(crate::taxonomy::is_mll(c), "{c} is not an MLL class");
                }
            }
            for c in NOT_WHITE_CELLS {
                assert!(intervals(kind).iter().all(|i| !i.codes.contains(c)), "{c} is not a white cell");
            }
            // One single-class interval per class at most.
            for c in crate::taxonomy::CLASSES {
                assert!(intervals(kind).iter().filter(|i| i.codes == [c.code]).count() <= 1, "{}", c.code);
            }
        }
    }

    #[test]
    fn flags_follow_the_interval_at_the_shown_precision() {
        let blasts = row_interval(CountKind::Marrow, "BLA");
        assert_eq!(flag(4.96, blasts), Flag::Normal); // shown as 5.0
        assert_eq!(flag(5.2, blasts), Flag::High);
        let lym = row_interval(CountKind::Marrow, "LYT");
        assert_eq!(flag(5.0, lym), Flag::Low);
        assert_eq!(flag(15.0, lym), Flag::Normal);
        assert_eq!(flag(30.0, lym), Flag::High);
        assert_eq!(flag(3.0, row_interval(CountKind::Marrow, "ART")), Flag::None);
        // Precursors in blood: any is above the range.
        assert_eq!(flag(0.0, row_interval(CountKind::Blood, "MYB")), Flag::Normal);
        assert_eq!(flag(1.0, row_interval(CountKind::Blood, "MYB")), Flag::High);
        assert!(row_interval(CountKind::Blood, "NGS").is_none(), "blood neutrophils are a group");
    }

    #[test]
    fn groups_sum_their_classes_the_model_names() {
        let model: Vec<String> = ["NGS", "NGB", "LYT", "EBO", "MYB"].iter().map(|s| s.to_string()).collect();
        let r = rows(&[("NGS", 50), ("NGB", 10), ("LYT", 30), ("EBO", 5), ("MYB", 5)]);
        let blood = groups(CountKind::Blood, &r, &model);
        assert_eq!(blood.len(), 1);
        assert_eq!((blood[0].count, blood[0].flag), (60, Flag::Normal));
        let marrow = groups(CountKind::Marrow, &r, &model);
        assert_eq!(marrow[0].interval.label, "Neutrophilic series");
        assert_eq!(marrow[0].present, ["MYB", "NGB", "NGS"]);
        assert_eq!((marrow[0].count, marrow[0].flag), (65, Flag::Normal));
        // No class of the group named by the model: no group.
        assert!(groups(CountKind::Blood, &r, &["LYT".to_string()]).is_empty());
    }

    #[test]
    fn me_ratio_counts_granulocytic_cells_over_erythroid_ones() {
        let r = rows(&[("NGS", 40), ("MYB", 20), ("BLA", 2), ("LYT", 18), ("EBO", 25), ("ART", 3)]);
        assert!((me_ratio(&r).unwrap() - 62.0 / 25.0).abs() < 1e-9);
        assert_eq!(me_ratio(&rows(&[("NGS", 4)])), None);
        assert_eq!(me_flag(Some(62.0 / 25.0)), Flag::Normal);
        assert_eq!((me_flag(Some(1.44)), me_flag(Some(1.46)), me_flag(Some(3.36))), (Flag::Low, Flag::Normal, Flag::High));
        assert_eq!(me_flag(None), Flag::None);
    }

    #[test]
    fn kind_follows_most_cells_and_defaults_to_marrow() {
        assert_eq!(CountKind::estimate(["blood", "blood", "marrow"]), CountKind::Blood);
        assert_eq!(CountKind::estimate(["blood", "marrow"]), CountKind::Marrow);
        assert_eq!(CountKind::estimate([]), CountKind::Marrow);
        assert_eq!(CountKind::parse(CountKind::Blood.as_str()), Some(CountKind::Blood));
    }

    #[test]
    fn blasts_are_said_against_five_and_twenty_percent() {
        assert!(blasts_words(CountKind::Marrow, 2.0).contains("under the upper normal 5 %"));
        assert!(blasts_words(CountKind::Marrow, 8.0).contains("above the upper normal"));
        assert!(blasts_words(CountKind::Marrow, 25.0).contains("WHO blast threshold"));
        assert!(blasts_words(CountKind::Blood, 1.0).contains("not seen"));
    }

    #[test]
    fn missing_classes_are_those_the_model_cannot_name() {
        let model: Vec<String> = crate::taxonomy::CLASSES.iter().map(|c| c.code.to_string()).filter(|c| c != "PLM").collect();
        assert_eq!(missing_classes(&model), ["PLM"]);
    }
}
