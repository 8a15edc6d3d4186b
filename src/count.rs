//! The differential count: one record per cell, corrections by the person,
//! counts and percentages per class, and CSV/JSON export.
//!
//! A field's white cell too small to classify ([`CellRecord::too_small`]) is a record without a
//! class: it is exported (class empty, flag `too_small`) and counted on its own
//! ([`too_small_count`]), never in the percentages of the classified classes.

pub mod reference;

use crate::csv_export::{Cell, Table};
use serde::Serialize;

/// One classified cell of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellRecord {
    pub file_name: String,
    pub predicted_class: String,
    pub probability: f32,
    /// The class after the person's review; equal to `predicted_class` until changed.
    pub final_class: String,
    pub low_confidence: bool,
    /// The conformal prediction set, most probable first (empty when the model has no calibration).
    pub prediction_set: Vec<String>,
    /// The coverage level the set was made for (e.g. 0.9).
    pub coverage: Option<f64>,
    /// The out-of-distribution flag (`None` when the model has no statistics for it).
    pub ood: Option<bool>,
    /// For a white cell found in (or added to) a field: the field's file name.
    pub field: Option<String>,
    /// Its box `[x, y, w, h]` in the field image's pixels.
    pub bbox: Option<[u32; 4]>,
    /// A white cell of a field found but too small to classify: no class (`predicted_class` and
    /// `final_class` empty, probability 0), not in the differential's classes.
    pub too_small: bool,
    /// The person confirmed the final class (chose it, or confirmed the model's).
    pub confirmed: bool,
    /// Which calibration the prediction set used: `"lab"` (calibrated to the person's laboratory,
    /// `crate::uncertainty::lab`) or `"model"` (the manifest's); `None` without sets.
    pub calibration: Option<&'static str>,
}

impl CellRecord {
    pub fn new(file_name: impl Into<String>, predicted: impl Into<String>, probability: f32, low_confidence: bool) -> Self {
        let predicted = predicted.into();
        CellRecord {
            file_name: file_name.into(),
            final_class: predicted.clone(),
            predicted_class: predicted,
            probability,
            low_confidence,
            prediction_set: Vec::new(),
            coverage: None,
            ood: None,
            field: None,
            bbox: None,
            too_small: false,
            confirmed: false,
            calibration: None,
        }
    }

    /// A white cell of the field `field` at `bbox`, found but too small to classify.
    pub fn too_small(file_name: impl Into<String>, field: impl Into<String>, bbox: [u32; 4]) -> Self {
        CellRecord { too_small: true, ..CellRecord::new(file_name, "", 0.0, false).in_field(field, bbox) }
    }

    /// Marks the record as a cell of the field `field` (file name) at `bbox` (`[x, y, w, h]`).
    pub fn in_field(mut self, field: impl Into<String>, bbox: [u32; 4]) -> Self {
        self.field = Some(field.into());
        self.bbox = Some(bbox);
        self
    }

    /// Adds the prediction set (at `coverage`) and the out-of-distribution flag.
    pub fn with_uncertainty(mut self, prediction_set: Vec<String>, coverage: Option<f64>, ood: Option<bool>) -> Self {
        self.prediction_set = prediction_set;
        self.coverage = coverage;
        self.ood = ood;
        self
    }

    pub fn corrected(&self) -> bool {
        self.final_class != self.predicted_class
    }
}

/// Count and percentage of one class in the differential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountRow {
    pub code: String,
    pub count: usize,
    pub percent: f64,
}

/// Counts per final class, in the given class order (classes with no cell included);
/// classes that appear in records but not in `order` follow at the end. White cells too small to
/// classify are left out (see [`too_small_count`]).
pub fn differential(records: &[CellRecord], order: &[String]) -> Vec<CountRow> {
    let records: Vec<&CellRecord> = records.iter().filter(|r| !r.too_small).collect();
    let total = records.len();
    let mut codes: Vec<String> = order.to_vec();
    for r in &records {
        if !codes.contains(&r.final_class) {
            codes.push(r.final_class.clone());
        }
    }
    codes
        .into_iter()
        .map(|code| {
            let count = records.iter().filter(|r| r.final_class == code).count();
            let percent = if total > 0 { 100.0 * count as f64 / total as f64 } else { 0.0 };
            CountRow { code, count, percent }
        })
        .collect()
}

/// White cells found in fields but too small to classify (not in [`differential`]).
pub fn too_small_count(records: &[CellRecord]) -> usize {
    records.iter().filter(|r| r.too_small).count()
}

/// CSV with one row per cell: file name, predicted class, probability, final class, model id,
/// prediction set (codes, comma-separated, most probable first), its coverage level, and the
/// out-of-distribution flag (`true`/`false`; these three empty when the model has no
/// calibration for them); for a cell of a field, the field's file name and the cell's box in the
/// field image's pixels (`box_x,box_y,box_w,box_h`; empty for single-cell images);
/// `too_small`: `true` for a field's white cell too small to classify (its classes and probability
/// empty), else `false`; `confirmed`: `true` where the person confirmed or chose the final class;
/// `calibration`: `lab` or `model`, which calibration the set used (empty without sets).
/// Text cells are in quotes and guarded against spreadsheet formulas ([`crate::csv_export`]).
pub fn to_csv(records: &[CellRecord], model_id: &str) -> String {
    let mut table = Table::new(&[
        "file_name",
        "predicted_class",
        "probability",
        "final_class",
        "model_id",
        "prediction_set",
        "coverage",
        "ood",
        "field",
        "box_x",
        "box_y",
        "box_w",
        "box_h",
        "too_small",
        "confirmed",
        "calibration",
    ]);
    for r in records {
        let prediction_set = r.prediction_set.join(",");
        let bbox = r.bbox.map(|b| b.map(|v| Cell::plain(v.to_string()))).unwrap_or_else(|| std::array::from_fn(|_| Cell::empty()));
        table.row(
            [
                Cell::Text(&r.file_name),
                Cell::Text(&r.predicted_class),
                Cell::plain(if r.too_small { String::new() } else { format!("{:.4}", r.probability) }),
                Cell::Text(&r.final_class),
                Cell::Text(model_id),
                Cell::Text(&prediction_set),
                Cell::plain(r.coverage.map(|c| format!("{c:.2}")).unwrap_or_default()),
                Cell::plain(r.ood.map(|o| o.to_string()).unwrap_or_default()),
                r.field.as_deref().map_or_else(Cell::empty, Cell::Text),
            ]
            .into_iter()
            .chain(bbox)
            .chain([
                Cell::plain(r.too_small.to_string()),
                Cell::plain(r.confirmed.to_string()),
                Cell::plain(r.calibration.unwrap_or_default()),
            ]),
        );
    }
    table.finish()
}

#[derive(Serialize)]
struct JsonExport<'a> {
    model_id: &'a str,
    cells: Vec<JsonCell<'a>>,
    differential: Vec<CountRow>,
    /// White cells found in fields but too small to classify (not in `differential`).
    too_small: usize,
}

#[derive(Serialize)]
struct JsonCell<'a> {
    file_name: &'a str,
    predicted_class: &'a str,
    /// `null` for a white cell too small to classify.
    probability: Option<f32>,
    final_class: &'a str,
    model_id: &'a str,
    prediction_set: &'a [String],
    coverage: Option<f64>,
    ood: Option<bool>,
    field: Option<&'a str>,
    #[serde(rename = "box")]
    bbox: Option<[u32; 4]>,
    too_small: bool,
    confirmed: bool,
    calibration: Option<&'static str>,
}

/// JSON with every cell (a white cell too small to classify with empty classes, probability
/// `null` and `too_small: true`), the differential count and the number too small to classify.
pub fn to_json(records: &[CellRecord], model_id: &str, order: &[String]) -> String {
    let export = JsonExport {
        model_id,
        cells: records
            .iter()
            .map(|r| JsonCell {
                file_name: &r.file_name,
                predicted_class: &r.predicted_class,
                probability: (!r.too_small).then_some(r.probability),
                final_class: &r.final_class,
                model_id,
                prediction_set: &r.prediction_set,
                coverage: r.coverage,
                ood: r.ood,
                field: r.field.as_deref(),
                bbox: r.bbox,
                too_small: r.too_small,
                confirmed: r.confirmed,
                calibration: r.calibration,
            })
            .collect(),
        differential: differential(records, order),
        too_small: too_small_count(records),
    };
    serde_json::to_string_pretty(&export).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_corrections() {
        let order = vec!["LYT".to_string(), "NGS".to_string(), "BLA".to_string()];
        let mut recs = vec![
            CellRecord::new("a.jpg", "LYT", 0.9, false),
            CellRecord::new("b.jpg", "LYT", 0.5, true),
            CellRecord::new("c.jpg", "NGS", 0.99, false),
        ];
        let d = differential(&recs, &order);
        assert_eq!(d.iter().map(|r| r.count).collect::<Vec<_>>(), vec![2, 1, 0]);
        recs[1].final_class = "BLA".into();
        let d = differential(&recs, &order);
        assert_eq!(d.iter().map(|r| r.count).collect::<Vec<_>>(), vec![1, 1, 1]);
        assert!((d[0].percent - 100.0 / 3.0).abs() < 1e-9);
        recs[2].final_class = "PLM".into();
        assert_eq!(differential(&recs, &order).last().map(|r| (r.code.as_str(), r.count)), Some(("PLM", 1)));
    }

    #[test]
    fn csv_escapes_and_json_parses() {
        let mut r = CellRecord::new("we\"ird, name.jpg", "LYT", 0.123456, false);
        r.final_class = "BLA".into();
        r.confirmed = true;
        r.calibration = Some("lab");
        let r = r.with_uncertainty(vec!["LYT".into(), "BLA".into()], Some(0.9), Some(false));
        let in_field = CellRecord::new("f.jpg · cell 1", "NGS", 0.8, false).in_field("f.jpg", [10, 20, 30, 40]);
        let csv = to_csv(&[r.clone(), CellRecord::new("=cmd.jpg", "NGS", 1.0, false), in_field.clone()], "m1");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "file_name,predicted_class,probability,final_class,model_id,prediction_set,coverage,ood,field,box_x,box_y,box_w,box_h,too_small,confirmed,calibration"
        );
        assert_eq!(lines[1], "\"we\"\"ird, name.jpg\",\"LYT\",0.1235,\"BLA\",\"m1\",\"LYT,BLA\",0.90,false,,,,,,false,true,lab");
        assert!(lines[2].starts_with("\"'=cmd.jpg\""));
        assert!(lines[2].ends_with(",\"\",,,,,,,,false,false,"), "{}", lines[2]);
        assert!(lines[3].ends_with(",\"f.jpg\",10,20,30,40,false,false,"), "{}", lines[3]);
        let v: serde_json::Value = serde_json::from_str(&to_json(&[in_field], "m1", &[])).unwrap();
        assert_eq!(v["cells"][0]["field"], "f.jpg");
        assert_eq!(v["cells"][0]["box"], serde_json::json!([10, 20, 30, 40]));
        let v: serde_json::Value = serde_json::from_str(&to_json(&[r], "m1", &["LYT".into()])).unwrap();
        assert_eq!(v["cells"][0]["final_class"], "BLA");
        assert_eq!(v["cells"][0]["prediction_set"], serde_json::json!(["LYT", "BLA"]));
        assert_eq!(v["cells"][0]["coverage"], 0.9);
        assert_eq!((v["cells"][0]["confirmed"].as_bool(), v["cells"][0]["calibration"].as_str()), (Some(true), Some("lab")));
        assert_eq!(v["cells"][0]["ood"], false);
        assert_eq!(v["differential"][1]["code"], "BLA");
    }

    #[test]
    fn cells_too_small_are_exported_without_a_class_and_not_in_the_percentages() {
        let order = vec!["LYT".to_string(), "NGS".to_string()];
        let recs = vec![
            CellRecord::new("f.jpg · cell 1", "NGS", 0.8, false).in_field("f.jpg", [1, 2, 3, 4]),
            CellRecord::too_small("f.jpg · white cell 2 (too small)", "f.jpg", [10, 20, 8, 8]),
            CellRecord::too_small("f.jpg · white cell 3 (too small)", "f.jpg", [30, 40, 8, 8]),
        ];
        let d = differential(&recs, &order);
        assert_eq!(d.iter().map(|r| (r.count, r.percent)).collect::<Vec<_>>(), vec![(0, 0.0), (1, 100.0)]);
        assert_eq!(too_small_count(&recs), 2);
        let csv = to_csv(&recs, "m1");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[2], "\"f.jpg · white cell 2 (too small)\",\"\",,\"\",\"m1\",\"\",,,\"f.jpg\",10,20,8,8,true,false,");
        let v: serde_json::Value = serde_json::from_str(&to_json(&recs, "m1", &order)).unwrap();
        assert_eq!(v["too_small"], 2);
        assert_eq!(v["cells"][1]["too_small"], true);
        assert_eq!(v["cells"][1]["final_class"], "");
        assert!(v["cells"][1]["probability"].is_null());
        assert_eq!(v["cells"][0]["too_small"], false);
        assert_eq!(v["differential"][1]["count"], 1);
    }
}
