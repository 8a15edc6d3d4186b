//! Evaluates a Marrowscope model with the project's own Rust code (tract), natively.
//!
//! ```text
//! cargo run --release --example evaluate -- [--model public/model] [--data DIR_OR_CSV]
//!     [--split test] [--foreign] [--json report.json] [--dump tensors.bin]
//! ```
//! `--data` is the mll-subset folder (splits.csv), a `path,label` CSV, or a folder in the
//! TCIA layout (`<CLASS>/**/*.jpg`). `--foreign` evaluates images the model was not made
//! for (e.g. the peripheral-blood sample): it reports how many are flagged "not sure".
//! `--groups` adds a report over the eight groups of Acevedo et al. (2020) (neutrophils and
//! immature granulocytes pooled), for peripheral-blood images such as pbc-sample, whose
//! `ig` images are of unspecified stage. Every image goes the app's single-cell way, through the
//! core's [`marrowscope::pipeline::read_file_as`] given that it is one cell (a dataset's crop):
//! where the manifest gives the model's scale (`input.cell_scale`), the central cell is found and
//! cut out at that scale first (`cells::crop::cut`). Whether the app's own decision takes
//! a crop for one cell is measured by `examples/field_shifts.rs`.
//! `--dump` writes every input tensor and tract's probabilities for the onnxruntime parity check.
//! `--json` also lists every classified image (`path`, `label`, tract's `probabilities` in the
//! manifest's class order): `training/calibrate.py --engine tract` calibrates the prediction sets
//! on exactly the numbers the app computes.

use marrowscope::cells::fields::Layout;
use marrowscope::eval::{dataset, metrics};
use marrowscope::pipeline;
use marrowscope::{Classifier, Manifest};
use std::path::PathBuf;
use std::time::Instant;

struct Args {
    model: PathBuf,
    data: PathBuf,
    split: String,
    foreign: bool,
    groups: bool,
    json: Option<PathBuf>,
    dump: Option<PathBuf>,
    limit: usize,
}

fn parse_args() -> Result<Args, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut a = Args {
        model: root.join("public/model"),
        data: std::env::var_os("MLL_DATA").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/data/mll-subset")),
        split: "test".into(),
        foreign: false,
        groups: false,
        json: None,
        dump: None,
        limit: usize::MAX,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => a.model = PathBuf::from(val()?),
            "--data" => a.data = PathBuf::from(val()?),
            "--split" => a.split = val()?,
            "--foreign" => a.foreign = true,
            "--groups" => a.groups = true,
            "--json" => a.json = Some(PathBuf::from(val()?)),
            "--dump" => a.dump = Some(PathBuf::from(val()?)),
            "--limit" => a.limit = val()?.parse().map_err(|_| "--limit needs a number")?,
            "-h" | "--help" => return Err(
                "usage: evaluate [--model DIR] [--data DIR|CSV] [--split test|val|all] [--foreign] [--groups] [--json FILE] [--dump FILE] [--limit N]"
                    .into(),
            ),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// Accuracy and F1 over the eight groups of Acevedo et al. (2020): the true group from the label,
/// the predicted group from the top class (a class outside the groups, e.g. BLA, counts wrong).
fn group_report(
    m: &Manifest,
    items: &[dataset::Item],
    probs: &[(usize, usize, Vec<f32>)],
    json: &mut serde_json::Value,
) -> Result<(), String> {
    let mut groups: Vec<String> = m.classes.iter().filter_map(|c| dataset::pbc_group(c)).map(str::to_string).collect();
    groups.sort();
    groups.dedup();
    groups.push("(other class)".into());
    let mut scored_probs = Vec::new();
    for (index, _, p) in probs {
        let Some(truth) = dataset::pbc_group(&items[*index].label).and_then(|g| groups.iter().position(|x| x == g)) else { continue };
        let top = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap_or(0);
        let pred = dataset::pbc_group(&m.classes[top]).and_then(|g| groups.iter().position(|x| x == g)).unwrap_or(groups.len() - 1);
        let mut one_hot = vec![0f32; groups.len()];
        one_hot[pred] = 1.0;
        scored_probs.push((truth, one_hot));
    }
    let scored: Vec<metrics::Scored> = scored_probs.iter().map(|(t, p)| metrics::Scored { truth: *t, probabilities: p }).collect();
    let report = metrics::evaluate(&groups, &scored, 15);
    println!("\nthe eight groups of Acevedo et al. 2020 (group of the top class; ECE not meaningful here)\n{}", report.to_text());
    json["group_report"] = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("evaluate: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let t0 = Instant::now();
    let mut clf = Classifier::from_dir(&args.model).map_err(|e| e.to_string())?;
    let m = clf.manifest().clone();
    println!(
        "model {} ({} classes, {}x{}) loaded and optimised in {:.2} s",
        m.model_id,
        m.classes.len(),
        m.input.width,
        m.input.height,
        t0.elapsed().as_secs_f64()
    );
    let items =
        if args.data.extension().is_some_and(|e| e == "csv") { dataset::from_csv(&args.data) } else { dataset::from_dir(&args.data) }
            .map_err(|e| format!("{}: {e}", args.data.display()))?;
    let items: Vec<_> = items
        .into_iter()
        .filter(|i| args.split == "all" || i.split.is_empty() || i.split == args.split)
        .filter(|i| args.foreign || m.knows(&i.label) || (args.groups && dataset::pbc_group(&i.label).is_some()))
        .take(args.limit)
        .collect();
    println!("{} images from {} (split {})", items.len(), args.data.display(), args.split);

    let mut dump = match &args.dump {
        Some(p) => {
            let f = std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| e.to_string())?);
            Some(marrowscope::eval::dump::DumpWriter::new(f, items.len(), &m.input, m.classes.len()).map_err(|e| e.to_string())?)
        }
        None => None,
    };

    // (index into items, true class index, probabilities) for every image that classified.
    let mut probs: Vec<(usize, usize, Vec<f32>)> = Vec::new();
    let (mut errors, mut flagged, mut times) = (0usize, 0usize, Vec::new());
    for (index, item) in items.iter().enumerate() {
        let bytes = match std::fs::read(&item.path) {
            Ok(b) => b,
            Err(e) => {
                errors += 1;
                eprintln!("{}: {e}", item.path.display());
                continue;
            }
        };
        let t = Instant::now();
        // The app's single-cell path (pipeline::read_file_as): a dataset's crop is one cell, whatever
        // its centre shows (the app's own decision is measured by examples/field_shifts.rs).
        let single = Some(Layout::Single);
        let result = pipeline::read_file_as(&mut clf, &bytes, &mut |_| {}, single).and_then(|outcome| {
            let n = outcome.cells.len() + outcome.skipped.len();
            match (outcome.layout, outcome.cells.into_iter().next()) {
                (Layout::Single, Some(cell)) => Ok(cell),
                _ => Err(marrowscope::Error::Inference(format!("read as a field of {n} white cells, not a single cell"))),
            }
        });
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if let (Some(d), Ok(cell)) = (dump.as_mut(), &result) {
            // The very tensor the model got: the crop it saw, preprocessed again.
            let _ = d.push(&marrowscope::image::preprocess::to_tensor(&cell.crop, &m.input), &cell.prediction.probabilities);
        }
        let result = result.map(|cell| cell.prediction);
        match result {
            Ok(p) => {
                flagged += p.low_confidence as usize;
                let truth = m.classes.iter().position(|c| *c == item.label).unwrap_or(usize::MAX);
                probs.push((index, truth, p.probabilities));
            }
            Err(e) => {
                errors += 1;
                eprintln!("{}: {e}", item.path.display());
            }
        }
    }
    if let Some(d) = dump {
        d.finish().map_err(|e| e.to_string())?;
    }
    times.sort_by(f64::total_cmp);
    let pct = |q: f64| times.get(((times.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    println!("per image (decode + preprocess + inference): p50 {:.1} ms, p95 {:.1} ms", pct(0.5), pct(0.95));
    println!(
        "errors: {errors}; flagged not sure (top probability < {:.2}): {flagged} of {} ({:.1} %)",
        m.low_confidence_threshold,
        probs.len(),
        100.0 * flagged as f64 / probs.len().max(1) as f64
    );

    let predictions: Vec<_> = probs
        .iter()
        .map(|(index, _, p)| serde_json::json!({"path": items[*index].path, "label": items[*index].label, "probabilities": p}))
        .collect();
    let mut report_json = serde_json::json!({"model_id": m.model_id, "images": items.len(), "errors": errors, "flagged": flagged, "threshold": m.low_confidence_threshold, "predictions": predictions});
    if args.foreign {
        // Foreign images: count the top predictions per source label.
        let mut by_label: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
        for (index, _, p) in &probs {
            let e = by_label.entry(items[*index].label.clone()).or_default();
            e.0 += 1;
            e.1 += (p.iter().copied().fold(0f32, f32::max) < m.low_confidence_threshold) as usize;
        }
        println!("\nsource label  images  flagged");
        for (l, (n, f)) in &by_label {
            println!("{l:<12}  {n:>6}  {f:>7}");
        }
    } else {
        if args.groups {
            group_report(&m, &items, &probs, &mut report_json)?;
        }
        let scored: Vec<metrics::Scored> =
            probs.iter().filter(|(_, t, _)| *t != usize::MAX).map(|(_, t, p)| metrics::Scored { truth: *t, probabilities: p }).collect();
        let report = metrics::evaluate(&m.classes, &scored, 15);
        println!("\n{}", report.to_text());
        // Answers in classes this data has no image of (for MLL marrow: the classes learned from
        // blood only): a cell pushed into a class by what surrounds it rather than by what it is.
        let outside: Vec<(&str, usize)> = (0..m.classes.len())
            .filter(|&k| report.per_class[k].support == 0)
            .map(|k| (m.classes[k].as_str(), report.confusion.iter().map(|row| row[k]).sum::<usize>()))
            .filter(|(_, n)| *n > 0)
            .collect();
        let total: usize = outside.iter().map(|(_, n)| n).sum();
        println!(
            "top class outside the classes of this data: {total} of {} ({:.1} %){}",
            scored.len(),
            100.0 * total as f64 / scored.len().max(1) as f64,
            if outside.is_empty() {
                String::new()
            } else {
                format!(": {}", outside.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", "))
            }
        );
        report_json["report"] = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    }
    if let Some(p) = args.json {
        std::fs::write(&p, serde_json::to_string_pretty(&report_json).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    Ok(())
}
