//! How small may a white cell be and still be classified? Measures the shipped model (or
//! `--model DIR`) on the **val** splits of the MLL marrow subset and the PBC blood set with every
//! image shrunk so that its central cell's nucleus is N pixels across, the way a field photographed
//! at a lower magnification shows it:
//!
//! ```sh
//! cargo run --release --example scale_limit               # 30 images per class and source
//! cargo run --release --example scale_limit -- --per-class 10 --model public/model
//! ```
//!
//! Per image: [`measure_central_cell`] gives the central cell (nucleus diameter d); the whole image
//! is reduced by f = d / N (area averaging, `image::imageops::thumbnail`; never enlarged: where
//! d ≤ N the image stays as it is) and the cell's box by the same factor
//! ([`fields::scale_cell`]); the cell then goes through [`pipeline::classify_cell`], exactly what a
//! field's cell goes through in the app (cut at the manifest's `input.cell_scale`, classified).
//! A second table keeps only the loss of detail: the reduced image enlarged back to the original's
//! size, the cell cut as unscaled (the first table also holds the model's answer to a cell shown
//! smaller than it learned it). Prints, per N and source, top-1 accuracy and macro-F1 (over the
//! classes present), and per table the smallest N whose macro-F1 is within 10 % (relative) of the
//! unscaled figure on both sources, for that N and every larger one.
//! `fields::MIN_CLASSIFIABLE_NUCLEUS_PX` is the detail-only figure (docs/finding-cells.md, "Too
//! small to classify", says why). Data: `MLL_DATA`, `PBC_DATA`, or `../shared/data/{mll-subset,pbc}`.

use marrowscope::cells::{fields, measure_central_cell};
use marrowscope::eval::{dataset, metrics};
use marrowscope::{pipeline, Classifier, Manifest};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The nucleus diameters (pixels) the cells are brought down to.
const SIZES: [f32; 8] = [8.0, 12.0, 16.0, 20.0, 24.0, 32.0, 48.0, 64.0];
/// How close to the unscaled macro-F1 a size must stay (relative).
const WITHIN: f64 = 0.10;

fn data(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir))
}

/// Up to `n` val images of each class the model knows, spread over the split.
fn sample(dir: &Path, m: &Manifest, n: usize) -> Result<Vec<dataset::Item>, String> {
    let items = dataset::from_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let val: Vec<_> = items.into_iter().filter(|i| i.split == "val" && m.knows(&i.label)).collect();
    let mut out = Vec::new();
    for code in &m.classes {
        let of: Vec<_> = val.iter().filter(|i| &i.label == code).collect();
        let step = (of.len() / n.max(1)).max(1);
        out.extend(of.into_iter().step_by(step).take(n).cloned());
    }
    Ok(out)
}

/// Per size (index 0: unscaled, then [`SIZES`]): (true class, predicted class) of every image.
type Runs = Vec<Vec<(usize, usize)>>;

/// Per size (as [`Runs`]): ((macro-F1, top-1 accuracy), images scored).
type Scores = Vec<((f64, f64), usize)>;

fn run_source(clf: &mut Classifier, items: &[dataset::Item]) -> (Runs, Runs, usize, Vec<f32>) {
    let classes = clf.manifest().classes.clone();
    let mut runs: Runs = vec![Vec::new(); SIZES.len() + 1];
    let mut detail_runs: Runs = vec![Vec::new(); SIZES.len() + 1];
    let (mut unmeasured, mut nuclei) = (0usize, Vec::new());
    for item in items {
        let Ok(img) = image::open(&item.path).map(|i| i.to_rgb8()) else {
            eprintln!("{}: cannot read", item.path.display());
            continue;
        };
        let Some(cell) = measure_central_cell(&img) else {
            unmeasured += 1;
            continue;
        };
        let truth = classes.iter().position(|c| *c == item.label).expect("a known class");
        let d = cell.nucleus_diameter_px;
        nuclei.push(d);
        let (w, h) = img.dimensions();
        for (k, target) in std::iter::once(None).chain(SIZES.iter().copied().map(Some)).enumerate() {
            let f = target.map_or(1.0, |n| (d / n).max(1.0));
            let (app, detail) = if f <= 1.0 {
                let c = pipeline::classify_cell(clf, &img, &cell);
                (c.clone(), c)
            } else {
                let (nw, nh) = (((w as f32 / f).round() as u32).max(1), ((h as f32 / f).round() as u32).max(1));
                let small = image::imageops::thumbnail(&img, nw, nh);
                let small_cell = fields::scale_cell(&cell, nw as f32 / w as f32, nw, nh);
                // Detail only: the small image enlarged back to the original's size, so that the
                // cell comes to the model at its usual size with only the detail of N pixels.
                let back = image::imageops::resize(&small, w, h, image::imageops::FilterType::Triangle);
                (pipeline::classify_cell(clf, &small, &small_cell), pipeline::classify_cell(clf, &back, &cell))
            };
            for (runs, top) in [(&mut runs, app), (&mut detail_runs, detail)] {
                match top {
                    Ok(c) => {
                        let code = c.prediction.top().code.clone();
                        runs[k].push((truth, classes.iter().position(|x| *x == code).unwrap_or(usize::MAX)));
                    }
                    Err(e) => eprintln!("{} at {target:?}: {e}", item.path.display()),
                }
            }
        }
    }
    (runs, detail_runs, unmeasured, nuclei)
}

fn score(classes: &[String], run: &[(usize, usize)]) -> (f64, f64) {
    let one_hot: Vec<Vec<f32>> = run
        .iter()
        .map(|&(_, p)| {
            let mut v = vec![0f32; classes.len()];
            if p < v.len() {
                v[p] = 1.0;
            }
            v
        })
        .collect();
    let scored: Vec<metrics::Scored> =
        run.iter().zip(&one_hot).map(|(&(t, _), p)| metrics::Scored { truth: t, probabilities: p }).collect();
    let r = metrics::evaluate(classes, &scored, 15);
    (r.macro_f1, r.accuracy)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("scale_limit: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (mut model, mut per_class) = (root.join("public/model"), 30usize);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--model" => model = PathBuf::from(it.next().ok_or("--model needs a folder")?),
            "--per-class" => per_class = it.next().and_then(|v| v.parse().ok()).ok_or("--per-class needs a number")?,
            _ => return Err("usage: scale_limit [--model DIR] [--per-class N]".into()),
        }
    }
    let t0 = Instant::now();
    let mut clf = Classifier::from_dir(&model).map_err(|e| e.to_string())?;
    let m = clf.manifest().clone();
    println!("model {}; cell scale {:?}", m.model_id, m.input.cell_scale);
    let sources = [("marrow (MLL val)", data("MLL_DATA", "mll-subset")), ("blood (PBC val)", data("PBC_DATA", "pbc"))];
    // [app, detail] × source: per size ((macro-F1, accuracy), images).
    let mut tables: [Vec<Scores>; 2] = [Vec::new(), Vec::new()];
    for (name, dir) in &sources {
        let items = sample(dir, &m, per_class)?;
        let (runs, detail, unmeasured, mut nuclei) = run_source(&mut clf, &items);
        nuclei.sort_by(f32::total_cmp);
        let q = |p: f32| nuclei.get(((nuclei.len().max(1) - 1) as f32 * p).round() as usize).copied().unwrap_or(f32::NAN);
        println!(
            "{name}: {} images, {} without a measured central cell (left out); unscaled nucleus 10th/50th/90th percentile {:.0}/{:.0}/{:.0} px; {:.0} s so far",
            items.len(),
            unmeasured,
            q(0.1),
            q(0.5),
            q(0.9),
            t0.elapsed().as_secs_f64()
        );
        tables[0].push(runs.iter().map(|r| (score(&m.classes, r), r.len())).collect());
        tables[1].push(detail.iter().map(|r| (score(&m.classes, r), r.len())).collect());
    }
    let label = |k: usize| if k == 0 { "unscaled".to_string() } else { format!("{}", SIZES[k - 1]) };
    let titles = [
        "as the app cuts a field's cell (the small image, cell cut at the model's scale)",
        "detail only (the small image enlarged back to the original size, cell cut as unscaled)",
    ];
    for (title, table) in titles.iter().zip(&tables) {
        println!("\n{title}\n\n| nucleus (px) | marrow macro-F1 | marrow accuracy | blood macro-F1 | blood accuracy |");
        println!("|---|---|---|---|---|");
        for k in (1..=SIZES.len()).chain([0]) {
            let cells: Vec<String> = table
                .iter()
                .map(|t| {
                    let ((f1, acc), _) = t[k];
                    let ((f1_0, _), _) = t[0];
                    format!("{f1:.3} ({:+.0} %) | {acc:.3}", 100.0 * (f1 / f1_0 - 1.0))
                })
                .collect();
            println!("| {} | {} |", label(k), cells.join(" | "));
        }
        // The smallest size from which on (it and every larger one) each source keeps its
        // macro-F1 within WITHIN of the unscaled figure.
        let ok = |k: usize| table.iter().all(|t| t[k].0 .0 >= (1.0 - WITHIN) * t[0].0 .0);
        match (1..=SIZES.len()).rev().take_while(|&k| ok(k)).last().map(|k| SIZES[k - 1]) {
            Some(n) => println!(
                "\nsmallest nucleus from which on macro-F1 stays within {:.0} % of unscaled on both sources: {n} px",
                WITHIN * 100.0
            ),
            None => println!("\nno size keeps macro-F1 within {:.0} % of unscaled on both sources", WITHIN * 100.0),
        }
    }
    println!("(fields::MIN_CLASSIFIABLE_NUCLEUS_PX is {})", fields::MIN_CLASSIFIABLE_NUCLEUS_PX);
    println!("{:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}
