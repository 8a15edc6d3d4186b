//! The shift suite of issue 32: macro-F1 of a model on both test splits as they are and shifted
//! as images from elsewhere differ, through the app's own single-cell path (decode, find the
//! central cell, cut it at the model's scale, classify with tract).
//!
//! ```sh
//! cargo run --release --example cell_shifts -- [--model public/model]
//!     [--split test] [--only SUBSTR] [--limit N] [--json FILE]
//! ```
//!
//! Shifts: the cell off centre (a sixth and a third of the frame, glass beyond), a neighbour cut
//! by the frame's edge (another cell of the split laid over it), stain strength in
//! haematoxylin–eosin optical density, white balance (warm and cool light), background tint,
//! gamma, Gaussian blur and defocus (a disc), JPEG quality, scale ±25 %, and two combined
//! "other laboratory" proxies ([`marrowscope::eval::shift::laboratory_proxies`]). Directions and
//! neighbours are drawn per image from a fixed seed, so every run and every model sees the same
//! images. `--limit N` takes the first N images of each split (quick looks); the figures in
//! `docs/model-card.md` use whole splits. `CELL_SHIFTS_SAVE=DIR` writes every 97th shifted image
//! there, to look at.
//!
//! Data: `PBC_DATA` and `MLL_DATA` or `../shared/data/{pbc,mll-subset}`.

use image::RgbImage;
use marrowscope::cells::fields::Layout;
use marrowscope::eval::shift;
use marrowscope::eval::{dataset, metrics};
use marrowscope::pipeline;
use marrowscope::random::Rng;
use marrowscope::{Classifier, Manifest};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn data(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir))
}

/// What a shift is given per image besides the image: a random direction, another image of the
/// split and the "another laboratory" proxy of the split's source.
struct Draw<'a> {
    angle: f32,
    other: &'a RgbImage,
    laboratory: Option<fn(&RgbImage) -> RgbImage>,
}

type Apply = Box<dyn Fn(&RgbImage, &Draw) -> RgbImage>;

fn shifts() -> Vec<(&'static str, Option<Apply>)> {
    let s = |f: fn(&RgbImage, &Draw) -> RgbImage| Some(Box::new(f) as Apply);
    vec![
        ("as is", None),
        ("off centre by 1/6 of the frame", s(|i, d| shift::off_centre(i, 1.0 / 6.0, d.angle))),
        ("off centre by 1/3 of the frame", s(|i, d| shift::off_centre(i, 1.0 / 3.0, d.angle))),
        ("a neighbour cut by the frame's edge", s(|i, d| shift::neighbour(i, d.other, 0.8, d.angle))),
        ("stain H×1.4 E×0.7", s(|i, _| shift::stain(i, 1.4, 0.7))),
        ("stain H×0.7 E×1.4", s(|i, _| shift::stain(i, 0.7, 1.4))),
        ("stain H×0.6 E×0.6 (pale)", s(|i, _| shift::stain(i, 0.6, 0.6))),
        ("white balance warm (R 1, G 0.93, B 0.75)", s(|i, _| shift::white_balance(i, [1.0, 0.93, 0.75]))),
        ("white balance cool (R 0.8, G 0.93, B 1)", s(|i, _| shift::white_balance(i, [0.8, 0.93, 1.0]))),
        ("background tint grey-blue (glass R 0.85, G 0.9)", s(|i, _| shift::background_tint(i, [0.85, 0.9, 1.0]))),
        ("gamma 0.7", s(|i, _| shift::gamma(i, 0.7))),
        ("gamma 1.5", s(|i, _| shift::gamma(i, 1.5))),
        ("blur σ 1.5", s(|i, _| shift::blur(i, 1.5))),
        ("defocus (disc radius 4)", s(|i, _| shift::defocus(i, 4))),
        ("JPEG quality 30", s(|i, _| shift::jpeg(i, 30))),
        ("scale 0.75", s(|i, _| shift::scale(i, 0.75))),
        ("scale 1.25", s(|i, _| shift::scale(i, 1.25))),
        ("another laboratory (stain, blur, JPEG; per source)", s(|i, d| d.laboratory.map_or_else(|| i.clone(), |f| f(i)))),
        ("harsh: tungsten light, gamma 1.6, blur σ 2, JPEG 40", s(|i, _| shift::tungsten(i))),
    ]
}

/// The "another laboratory" proxy of `source` ([`shift::laboratory_proxies`]).
fn laboratory(source: &str) -> Option<fn(&RgbImage) -> RgbImage> {
    shift::laboratory_proxies().into_iter().find(|p| p.source == source && p.name.contains("another laboratory")).and_then(|p| p.apply)
}

struct Split {
    source: &'static str,
    laboratory: Option<fn(&RgbImage) -> RgbImage>,
    labels: Vec<usize>,
    images: Vec<RgbImage>,
}

fn load(m: &Manifest, csv: &Path, source: &'static str, split: &str, limit: usize) -> Result<Split, String> {
    let items: Vec<_> = dataset::from_csv(csv)
        .map_err(|e| format!("{}: {e}", csv.display()))?
        .into_iter()
        .filter(|i| i.split == split && m.knows(&i.label))
        .take(limit)
        .collect();
    let mut out = Split { source, laboratory: laboratory(source), labels: Vec::new(), images: Vec::new() };
    for item in items {
        let bytes = std::fs::read(&item.path).map_err(|e| format!("{}: {e}", item.path.display()))?;
        let image = image::load_from_memory(&bytes).map_err(|e| format!("{}: {e}", item.path.display()))?.to_rgb8();
        let Some(k) = m.classes.iter().position(|c| *c == item.label) else { continue };
        out.labels.push(k);
        out.images.push(image);
    }
    Ok(out)
}

/// Macro-F1 (over the split's classes) and accuracy of the model on `split` shifted by `apply`,
/// and the milliseconds per image of the app's path.
fn score(clf: &mut Classifier, split: &Split, name: &str, apply: Option<&Apply>, save: Option<&Path>) -> Result<(f64, f64, f64), String> {
    let classes = clf.manifest().classes.clone();
    let mut rng = Rng::new(0x5EED ^ name.len() as u64);
    let mut probs: Vec<(usize, Vec<f32>)> = Vec::with_capacity(split.images.len());
    let mut ms = 0.0;
    for (i, (image, &truth)) in split.images.iter().zip(&split.labels).enumerate() {
        let angle = (rng.next_f64() * std::f64::consts::TAU) as f32;
        let other = &split.images[(i + 1 + rng.below(split.images.len().max(2) - 1)) % split.images.len()];
        let shifted = match apply {
            None => image.clone(),
            Some(f) => f(image, &Draw { angle, other, laboratory: split.laboratory }),
        };
        let bytes = shift::png(&shifted);
        if let (Some(dir), true) = (save, i % 97 == 0) {
            let file = format!("{}-{i:04}-{}.png", split.source, name.split(' ').take(4).collect::<Vec<_>>().join("_"));
            std::fs::write(dir.join(file.replace(['/', '(', ')', ';', ','], "")), &bytes).map_err(|e| e.to_string())?;
        }
        let t = Instant::now();
        let outcome = pipeline::read_file_as(clf, &bytes, &mut |_| {}, Some(Layout::Single)).map_err(|e| format!("{name}: {e}"))?;
        ms += t.elapsed().as_secs_f64() * 1000.0;
        let p = outcome.cells.into_iter().next().map(|c| c.prediction.probabilities).unwrap_or_else(|| vec![0.0; classes.len()]);
        probs.push((truth, p));
    }
    let scored: Vec<metrics::Scored> = probs.iter().map(|(t, p)| metrics::Scored { truth: *t, probabilities: p }).collect();
    let report = metrics::evaluate(&classes, &scored, 15);
    Ok((report.macro_f1, report.accuracy, ms / split.images.len().max(1) as f64))
}

fn run() -> Result<(), String> {
    let (mut model, mut split, mut only, mut limit, mut json) = (PathBuf::from("public/model"), "test".to_string(), None, usize::MAX, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--model" => model = PathBuf::from(value()?),
            "--split" => split = value()?,
            "--only" => only = Some(value()?),
            "--limit" => limit = value()?.parse().map_err(|e| format!("--limit: {e}"))?,
            "--json" => json = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let mut clf = Classifier::from_dir(&model).map_err(|e| e.to_string())?;
    let m = clf.manifest().clone();
    let splits = [
        load(&m, &data("MLL_DATA", "mll-subset").join("splits.csv"), "marrow", &split, limit)?,
        load(&m, &data("PBC_DATA", "pbc").join("splits.csv"), "blood", &split, limit)?,
    ];
    println!(
        "model {}; {split} splits: marrow (MLL) {} cells, blood (PBC) {} cells; macro-F1 over each split's classes, through the app's single-cell path",
        m.model_id,
        splits[0].images.len(),
        splits[1].images.len()
    );
    println!("| shift | marrow macro-F1 | Δ | blood macro-F1 | Δ | ms per image |");
    println!("|---|---:|---:|---:|---:|---:|");
    let save = std::env::var_os("CELL_SHIFTS_SAVE").map(PathBuf::from);
    let mut base = [f64::NAN; 2];
    let mut rows = Vec::new();
    for (name, apply) in shifts() {
        if only.as_deref().is_some_and(|o| name != "as is" && !name.contains(o)) {
            continue;
        }
        let mut f1 = [0.0; 2];
        let mut acc = [0.0; 2];
        let mut ms = 0.0;
        for (k, s) in splits.iter().enumerate() {
            let (f, a, t) = score(&mut clf, s, name, apply.as_ref(), save.as_deref())?;
            (f1[k], acc[k], ms) = (f, a, ms + t / 2.0);
        }
        if apply.is_none() {
            base = f1;
        }
        let delta = |k: usize| if apply.is_none() { String::new() } else { format!("{:+.3}", f1[k] - base[k]) };
        println!("| {name} | {:.3} | {} | {:.3} | {} | {ms:.1} |", f1[0], delta(0), f1[1], delta(1));
        rows.push(serde_json::json!({"shift": name, "marrow_macro_f1": f1[0], "marrow_accuracy": acc[0], "blood_macro_f1": f1[1], "blood_accuracy": acc[1], "ms_per_image": ms}));
    }
    let shifted: Vec<&serde_json::Value> = rows.iter().skip(1).collect();
    if !shifted.is_empty() {
        let mean = |key: &str| shifted.iter().filter_map(|r| r[key].as_f64()).sum::<f64>() / shifted.len() as f64;
        let worst = |key: &str| shifted.iter().filter_map(|r| r[key].as_f64()).fold(f64::INFINITY, f64::min);
        println!(
            "mean over the {} shifts: marrow {:.3} (worst {:.3}), blood {:.3} (worst {:.3})",
            shifted.len(),
            mean("marrow_macro_f1"),
            worst("marrow_macro_f1"),
            mean("blood_macro_f1"),
            worst("blood_macro_f1")
        );
    }
    if let Some(p) = json {
        let out = serde_json::json!({"model_id": m.model_id, "split": split, "rows": rows});
        std::fs::write(&p, serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("cell_shifts: {e}");
        std::process::exit(1);
    }
}
