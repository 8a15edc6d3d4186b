//! The batch's shift warning (issue 33, item 1), measured and fitted:
//!
//! ```sh
//! cargo run --release --example shift_warning -- [--model public/model] [--batch 30] [--draws 2000] [--write]
//! ```
//!
//! The statistic of a batch is the mean, over its cells, of the out-of-distribution score
//! relative to the per-cell threshold ([`marrowscope::uncertainty::ood`]: how far each cell's
//! features lie from the subspace of the training cells). The threshold is fitted on the
//! **validation** splits only: the largest, over the sources (MLL marrow, PBC blood), of the
//! 99th percentile of the statistic over `--draws` random batches of `--batch` cells. It is then
//! reported, never chosen, on the test splits (the false-alarm rate: goal ≤ 5 %) and on shifted
//! test splits made here ([`marrowscope::eval::shift::laboratory_proxies`]: how often a batch
//! from "another laboratory" is warned about), with the model's 90 % set coverage on each.
//! `--write` puts the threshold into the manifest's `ood.batch_shift` (read by the page).
//!
//! Data: `PBC_DATA` and `MLL_DATA` or `../shared/data/{pbc,mll-subset}`.

use marrowscope::cells::fields::Layout;
use marrowscope::eval::dataset;
use marrowscope::eval::shift::{self, Proxy};
use marrowscope::pipeline;
use marrowscope::random::Rng;
use marrowscope::uncertainty::conformal::Level;
use marrowscope::uncertainty::shift::{batch_statistic, majority, BatchShift};
use marrowscope::{Classifier, Manifest};
use std::path::{Path, PathBuf};

fn data(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir))
}

/// One classified cell: its ood ratio, whether the model's 90 % set holds its label, and the
/// source the model estimates it is from.
struct Cell {
    ratio: f32,
    covered: bool,
    source: Option<String>,
}

/// Every cell of a split (shifted by `apply`).
fn cells(
    clf: &mut Classifier,
    csv: &Path,
    split: &str,
    apply: Option<fn(&image::RgbImage) -> image::RgbImage>,
) -> Result<Vec<Cell>, String> {
    let m = clf.manifest().clone();
    let items: Vec<_> = dataset::from_csv(csv)
        .map_err(|e| format!("{}: {e}", csv.display()))?
        .into_iter()
        .filter(|i| i.split == split && m.knows(&i.label))
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let bytes = std::fs::read(&item.path).map_err(|e| format!("{}: {e}", item.path.display()))?;
        let bytes = match apply {
            None => bytes,
            Some(f) => shift::png(&f(&image::load_from_memory(&bytes).map_err(|e| e.to_string())?.to_rgb8())),
        };
        let Ok(outcome) = pipeline::read_file_as(clf, &bytes, &mut |_| {}, Some(Layout::Single)) else { continue };
        let Some(cell) = outcome.cells.into_iter().next() else { continue };
        let p = cell.prediction;
        let Some(o) = p.ood else { return Err("the model has no ood statistics".into()) };
        let covered = p.prediction_set(&m, Level::L90).is_some_and(|s| s.iter().any(|r| r.code == item.label));
        out.push(Cell { ratio: o.ratio(), covered, source: p.source.map(|g| g.source) });
    }
    Ok(out)
}

/// `draws` random batches of `batch` cells: each one's statistic and the source most of its
/// cells look like.
fn batches(cells: &[Cell], batch: usize, draws: usize, seed: u64) -> Vec<(f64, Option<String>)> {
    let mut rng = Rng::new(seed | 1);
    (0..draws)
        .map(|_| {
            let picked: Vec<&Cell> = (0..batch).map(|_| &cells[rng.below(cells.len())]).collect();
            let ratios: Vec<f32> = picked.iter().map(|c| c.ratio).collect();
            let source = majority(picked.iter().filter_map(|c| c.source.as_deref())).map(str::to_string);
            (batch_statistic(&ratios), source)
        })
        .collect()
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

fn run() -> Result<(), String> {
    let mut model = PathBuf::from("public/model");
    let (mut batch, mut draws, mut write) = (30usize, 2000usize, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--model" => model = PathBuf::from(value()?),
            "--batch" => batch = value()?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--draws" => draws = value()?.parse().map_err(|e| format!("--draws: {e}"))?,
            "--write" => write = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let manifest_path = model.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| format!("manifest: {e}"))?;
    let manifest = Manifest::from_json(&text).map_err(|e| e.to_string())?;
    let onnx = std::fs::read(model.join(&manifest.onnx_file)).map_err(|e| format!("model: {e}"))?;
    let mut clf = Classifier::new(manifest, &onnx).map_err(|e| e.to_string())?;
    let pbc = data("PBC_DATA", "pbc").join("splits.csv");
    let mll = data("MLL_DATA", "mll-subset").join("splits.csv");
    let csv = |source: &str| if source == "blood" { pbc.clone() } else { mll.clone() };
    println!("batches of {batch} cells, {draws} draws each; statistic: mean ood score / per-cell threshold");

    // Fit on the validation splits, per source.
    let round = |v: f64| (v * 10_000.0).ceil() / 10_000.0;
    let mut spec = BatchShift { batch, rule: String::new(), sources: Default::default(), threshold: 0.0 };
    for source in ["marrow", "blood"] {
        let val = cells(&mut clf, &csv(source), "val", None)?;
        let stats: Vec<f64> = batches(&val, batch, draws, 0xA11CE ^ source.len() as u64).into_iter().map(|b| b.0).collect();
        let q99 = round(quantile(&stats, 0.99));
        println!("fit  {source} val ({} cells): batch statistic median {:.3}, 99th percentile {q99:.4}", val.len(), quantile(&stats, 0.5));
        spec.sources.insert(source.to_string(), q99);
        spec.threshold = spec.threshold.max(q99);
    }
    println!("thresholds per source {:?}; without a clear source {:.4}", spec.sources, spec.threshold);

    // Report on the test splits and their shifts.
    for proxy in shift::laboratory_proxies() {
        let Proxy { name, source, apply } = proxy;
        let test = cells(&mut clf, &csv(source), "test", apply)?;
        let drawn = batches(&test, batch, draws, 0xBEEF ^ name.len() as u64);
        let warned = drawn.iter().filter(|(s, src)| *s > spec.threshold_for(src.as_deref())).count() as f64 / drawn.len() as f64;
        let coverage = test.iter().filter(|c| c.covered).count() as f64 / test.len() as f64;
        let stats: Vec<f64> = drawn.iter().map(|b| b.0).collect();
        let judged_as = majority(drawn.iter().filter_map(|b| b.1.as_deref())).unwrap_or("unclear");
        println!(
            "{name}: {} cells; model's 90 % sets cover {coverage:.3}; batch statistic median {:.3} (judged as {judged_as}); warned for {:.1} % of batches",
            test.len(),
            quantile(&stats, 0.5),
            100.0 * warned
        );
    }
    if write {
        spec.rule = format!(
            "mean over a batch of the cells' ood score / ood.threshold (each capped at 2); per source, warned above the 99th percentile over {draws} random batches of {batch} cells of its val split; a batch is judged against the source most of its cells are estimated to be from, else the largest (examples/shift_warning.rs)"
        );
        let json = serde_json::to_string(&spec).map_err(|e| e.to_string())?;
        let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let updated = match value["ood"].get("batch_shift") {
            // Replace the old section's text: the manifest keeps its layout and key order.
            Some(old) => text.replacen(&indent_json(old)?, &indent_json(&spec)?, 1),
            None => text.replacen("\"ood\": {", &format!("\"ood\": {{\n  \"batch_shift\": {},", indent_json(&spec)?), 1),
        };
        value["ood"]["batch_shift"] = serde_json::from_str(&json).map_err(|e| e.to_string())?;
        let check: serde_json::Value = serde_json::from_str(&updated).map_err(|e| format!("the manifest would not parse: {e}"))?;
        if check != value {
            return Err("the manifest could not be updated in place; add ood.batch_shift by hand: ".to_string() + &json);
        }
        std::fs::write(&manifest_path, updated).map_err(|e| e.to_string())?;
        println!("wrote ood.batch_shift into {}", manifest_path.display());
    }
    Ok(())
}

/// `value` as the manifest writes JSON (one space per level), indented to sit inside its `ood`
/// section.
fn indent_json(value: &impl serde::Serialize) -> Result<String, String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b" "));
    value.serialize(&mut ser).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out).replace('\n', "\n  "))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("shift_warning: {e}");
        std::process::exit(1);
    }
}
