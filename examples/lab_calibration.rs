//! Calibration to your laboratory, measured on shifted sources made here (issue 33, item 2):
//!
//! ```sh
//! cargo run --release --example lab_calibration -- [--model public/model] [--rounds 200] [--confirm 60] [--limit 500]
//! ```
//!
//! Another laboratory's cells are not in this project; its proxies are the test splits with a
//! shift ([`marrowscope::eval::shift`]): another stain strength, focus and compression. For each
//! source the app's single-cell path classifies every image ([`pipeline::read_file_as`]); then:
//! - the manifest's sets (calibrated on the project's validation splits): coverage and size per
//!   level, the promise they break on a shifted source;
//! - [`LabProfile::calibrate`] on `--confirm` cells drawn at random (the cells a person would
//!   confirm), its sets on all the others: coverage (mean and the 5th–95th percentile over
//!   `--rounds` draws) and mean set size. Split conformal promises at least the level on average
//!   over draws, and at most about `level + 1/(n+1)`.
//!
//! Data: `PBC_DATA` and `MLL_DATA` or `../shared/data/{pbc,mll-subset}` (test splits only).

use marrowscope::cells::fields::Layout;
use marrowscope::eval::dataset;
use marrowscope::eval::shift::{self, Proxy};
use marrowscope::model::scores::Ranked;
use marrowscope::pipeline;
use marrowscope::random::Rng;
use marrowscope::uncertainty::conformal::{ConformalSpec, LEVELS};
use marrowscope::uncertainty::lab::{Confirmed, LabProfile};
use marrowscope::Classifier;
use std::path::{Path, PathBuf};

fn data(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir))
}

/// One classified image: the model's ranking, the set the manifest gives per level, the truth.
struct Scored {
    ranked: Vec<Ranked>,
    model_sets: Vec<Vec<String>>,
    label: String,
}

fn classify(clf: &mut Classifier, proxy: &Proxy, csv: &Path, limit: usize) -> Result<Vec<Scored>, String> {
    let m = clf.manifest().clone();
    let spec = m.conformal.clone().ok_or("the model has no conformal calibration")?;
    let mut items: Vec<_> = dataset::from_csv(csv)
        .map_err(|e| format!("{}: {e}", csv.display()))?
        .into_iter()
        .filter(|i| i.split == "test" && m.knows(&i.label))
        .collect();
    Rng::new(0x5EED_1AB5).shuffle(&mut items);
    items.truncate(limit);
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let bytes = std::fs::read(&item.path).map_err(|e| format!("{}: {e}", item.path.display()))?;
        let bytes = match proxy.apply {
            None => bytes,
            Some(f) => shift::png(&f(&image::load_from_memory(&bytes).map_err(|e| e.to_string())?.to_rgb8())),
        };
        let Ok(outcome) = pipeline::read_file_as(clf, &bytes, &mut |_| {}, Some(Layout::Single)) else { continue };
        let Some(cell) = outcome.cells.into_iter().next() else { continue };
        let p = cell.prediction;
        let model_sets = LEVELS
            .iter()
            .map(|&l| {
                spec.set_for_ranked(&p.ranked, l, p.source.as_ref())
                    .map(|s| p.ranked.iter().take(s.size).map(|r| r.code.clone()).collect())
                    .unwrap_or_default()
            })
            .collect();
        out.push(Scored { ranked: p.ranked, model_sets, label: item.label.clone() });
    }
    Ok(out)
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(f64::NAN)
}

fn report(source: &str, scored: &[Scored], spec: &ConformalSpec, model_id: &str, confirm: usize, rounds: usize) {
    let n = scored.len() as f64;
    let acc = scored.iter().filter(|s| s.ranked.first().is_some_and(|r| r.code == s.label)).count() as f64 / n;
    println!("\n{source}: {} cells, accuracy {acc:.3}", scored.len());
    for (k, level) in LEVELS.iter().enumerate() {
        let cov = scored.iter().filter(|s| s.model_sets[k].contains(&s.label)).count() as f64 / n;
        let size = scored.iter().map(|s| s.model_sets[k].len()).sum::<usize>() as f64 / n;
        println!("  model's sets    {:>2} %: coverage {cov:.3}, mean size {size:.2}", level.percent());
    }
    if scored.len() < confirm + 30 {
        println!("  too few cells to calibrate on {confirm} and test on the rest");
        return;
    }
    let mut rng = Rng::new(0xC0FF_EE00 ^ scored.len() as u64);
    let mut order: Vec<usize> = (0..scored.len()).collect();
    let mut stats: Vec<(Vec<f64>, Vec<f64>)> = LEVELS.iter().map(|_| (Vec::new(), Vec::new())).collect();
    let mut own_classes = Vec::new();
    for _ in 0..rounds {
        rng.shuffle(&mut order);
        let (cal, test) = order.split_at(confirm);
        let cells: Vec<Confirmed> =
            cal.iter().map(|&i| Confirmed { ranked: &scored[i].ranked, code: &scored[i].label, ood: None }).collect();
        let Ok(profile) = LabProfile::calibrate(spec, model_id, &cells, String::new(), 0.0) else { continue };
        own_classes.push(profile.per_class.len() as f64);
        for (k, &level) in LEVELS.iter().enumerate() {
            let (mut hit, mut size) = (0usize, 0usize);
            for &i in test {
                let set = profile.set(spec, &scored[i].ranked, level).unwrap_or_default();
                hit += set.contains(&scored[i].label) as usize;
                size += set.len();
            }
            stats[k].0.push(hit as f64 / test.len() as f64);
            stats[k].1.push(size as f64 / test.len() as f64);
        }
    }
    for (k, level) in LEVELS.iter().enumerate() {
        let (cov, size) = &mut stats[k];
        let mean = cov.iter().sum::<f64>() / cov.len().max(1) as f64;
        let msize = size.iter().sum::<f64>() / size.len().max(1) as f64;
        println!(
            "  lab-calibrated  {:>2} %: coverage {mean:.3} (5–95 %: {:.3}–{:.3}), mean size {msize:.2}  [{confirm} confirmed, {} draws]",
            level.percent(),
            pct(cov, 0.05),
            pct(cov, 0.95),
            cov.len()
        );
    }
    let own = own_classes.iter().sum::<f64>() / own_classes.len().max(1) as f64;
    println!("  classes with their own thresholds (≥ {} confirmed): {own:.1} on average", marrowscope::uncertainty::lab::MIN_PER_CLASS);
}

fn run() -> Result<(), String> {
    let mut model = PathBuf::from("public/model");
    let (mut rounds, mut confirm, mut limit) = (200usize, 60usize, 500usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--model" => model = PathBuf::from(value()?),
            "--rounds" => rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--confirm" => confirm = value()?.parse().map_err(|e| format!("--confirm: {e}"))?,
            "--limit" => limit = value()?.parse().map_err(|e| format!("--limit: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let mut clf = Classifier::from_dir(&model).map_err(|e| e.to_string())?;
    let m = clf.manifest().clone();
    let spec = m.conformal.clone().ok_or("the model has no conformal calibration")?;
    println!("model {}; {limit} test cells at most per source; calibration on {confirm} confirmed cells, {rounds} draws", m.model_id);
    let pbc = data("PBC_DATA", "pbc").join("splits.csv");
    let mll = data("MLL_DATA", "mll-subset").join("splits.csv");
    for proxy in shift::laboratory_proxies() {
        let csv = if proxy.source == "blood" { &pbc } else { &mll };
        let scored = classify(&mut clf, &proxy, csv, limit)?;
        report(proxy.name, &scored, &spec, &m.model_id, confirm, rounds);
    }
    Ok(())
}
fn main() {
    if let Err(e) = run() {
        eprintln!("lab_calibration: {e}");
        std::process::exit(1);
    }
}
