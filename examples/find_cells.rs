//! Finding and measuring cells on the real data (no model needed):
//!
//! ```sh
//! cargo run --release --no-default-features --example find_cells            # all of it
//! cargo run --release --no-default-features --example find_cells -- --split val   # one BCCD split
//! ```
//!
//! Prints, for BCCD splits: WBC recall, precision, F1 (a detection counts when its centre lies
//! inside a WBC box, one per box; the others are false positives) and ms per 640×480 field
//! (median, p95); then the per-class nucleus and whole-cell diameters of the central cell in
//! MLL train crops and PBC train crops (median and IQR, pixels of each image), and what a
//! PBC original measures after [`crop_to_scale`] to the MLL median. Data: `BCCD_DATA`,
//! `MLL_DATA`, `PBC_DATA`, `PBC_SAMPLE_DATA` or `../shared/data/…`. `--dump DIR` writes PNG
//! overlays of the BCCD fields (green: truth, red: found).

use image::{Rgb, RgbImage};
use marrowscope::cells::{crop_to_scale, find_cells, measure_central_cell, FindOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn data(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(dir))
}

#[derive(Default)]
struct Tally {
    tp: usize,
    fp: usize,
    boxes: usize,
    ms: Vec<f64>,
}

fn q(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[(((v.len() - 1) as f64) * p).round() as usize]
}

fn draw_box(img: &mut RgbImage, b: [f32; 4], c: Rgb<u8>) {
    let (w, h) = img.dimensions();
    let x0 = (b[0].max(0.0) as u32).min(w - 1);
    let y0 = (b[1].max(0.0) as u32).min(h - 1);
    let x1 = (b[2].max(0.0) as u32).min(w - 1);
    let y1 = (b[3].max(0.0) as u32).min(h - 1);
    for x in x0..=x1 {
        img.put_pixel(x, y0, c);
        img.put_pixel(x, y1, c);
    }
    for y in y0..=y1 {
        img.put_pixel(x0, y, c);
        img.put_pixel(x1, y, c);
    }
}

fn bccd(split: &str, dump: Option<&Path>) -> Tally {
    let dir = data("BCCD_DATA", "bccd");
    let ids = std::fs::read_to_string(dir.join(format!("ImageSets/{split}.txt"))).expect("BCCD ImageSets");
    let mut opts = FindOptions::default();
    // Tuning hooks (train/val only): CELLS_JOIN, CELLS_SPLIT, CELLS_MIN_AREA, CELLS_MIN_SCORE.
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f32>().ok());
    opts.join_radius = env("CELLS_JOIN").unwrap_or(opts.join_radius);
    opts.split_distance = env("CELLS_SPLIT").unwrap_or(opts.split_distance);
    opts.min_nucleus_area = env("CELLS_MIN_AREA").unwrap_or(opts.min_nucleus_area);
    opts.min_score = env("CELLS_MIN_SCORE").unwrap_or(opts.min_score);
    let mut t = Tally::default();
    for id in ids.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let img = image::open(dir.join(format!("JPEGImages/{id}.jpg"))).expect("a BCCD image").to_rgb8();
        let boxes = marrowscope::eval::dataset::voc_wbc_boxes(
            &std::fs::read_to_string(dir.join(format!("Annotations/{id}.xml"))).expect("a BCCD annotation"),
        );
        let start = Instant::now();
        let found = find_cells(&img, &opts);
        t.ms.push(start.elapsed().as_secs_f64() * 1e3);
        let matched = marrowscope::eval::dataset::match_to_boxes(found.iter().map(|c| c.centre), &boxes);
        let fp: Vec<&marrowscope::cells::FoundCell> = found.iter().zip(&matched).filter(|(_, m)| m.is_none()).map(|(c, _)| c).collect();
        t.tp += matched.len() - fp.len();
        t.fp += fp.len();
        t.boxes += boxes.len();
        let missed = boxes.len() - (matched.len() - fp.len());
        if missed > 0 || !fp.is_empty() {
            println!("  {split} {id}: {} box(es), {} found, {missed} missed, {} false", boxes.len(), found.len(), fp.len());
        }
        if let Some(d) = dump {
            let mut o = img.clone();
            for b in &boxes {
                draw_box(&mut o, *b, Rgb([0, 200, 0]));
            }
            for c in &found {
                draw_box(&mut o, [c.x as f32, c.y as f32, (c.x + c.w) as f32, (c.y + c.h) as f32], Rgb([230, 0, 0]));
                let (x, y) = c.centre;
                draw_box(&mut o, [x - 3.0, y - 3.0, x + 3.0, y + 3.0], Rgb([230, 0, 0]));
            }
            let _ = std::fs::create_dir_all(d);
            let _ = o.save(d.join(format!("{id}.png")));
        }
    }
    t
}

fn report_bccd(split: &str, t: &mut Tally) {
    let recall = t.tp as f64 / t.boxes.max(1) as f64;
    let precision = t.tp as f64 / (t.tp + t.fp).max(1) as f64;
    let f1 = if recall + precision > 0.0 { 2.0 * recall * precision / (recall + precision) } else { 0.0 };
    let n = t.ms.len();
    println!(
        "BCCD {split}: {n} fields, {} WBC boxes, {} found in boxes, {} false: recall {recall:.3}, precision {precision:.3}, F1 {f1:.3}; ms/field median {:.1}, p95 {:.1}",
        t.boxes,
        t.tp,
        t.fp,
        q(&mut t.ms, 0.5),
        q(&mut t.ms, 0.95)
    );
}

/// (label, nucleus diameter, cell diameter) of the central cell of each `split` image of a
/// `path,label,…,split` CSV; counts the images without one.
/// Per class: nucleus and cell diameters.
type Sizes = BTreeMap<String, (Vec<f64>, Vec<f64>)>;

fn measure_split(dir: &Path, split: &str) -> (Sizes, BTreeMap<String, usize>) {
    let csv = std::fs::read_to_string(dir.join("splits.csv")).expect("splits.csv");
    let mut by: Sizes = BTreeMap::new();
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 3 || f[f.len() - 1].trim() != split {
            continue;
        }
        let Ok(img) = image::open(dir.join(f[0])) else { continue };
        match measure_central_cell(&img.to_rgb8()) {
            Some(c) => {
                let e = by.entry(f[1].to_string()).or_default();
                e.0.push(c.nucleus_diameter_px as f64);
                e.1.push(c.diameter_px as f64);
            }
            None => *missing.entry(f[1].to_string()).or_default() += 1,
        }
    }
    (by, missing)
}

fn report_sizes(name: &str, by: &mut Sizes, missing: &BTreeMap<String, usize>) -> f64 {
    println!("{name}: central cell, pixels of the image (median [IQR])");
    println!("  {:<9} {:>5} {:>8} {:>22} {:>22}", "class", "n", "no cell", "nucleus diameter", "cell diameter");
    let mut all_cells = Vec::new();
    for (label, (nuc, cell)) in by.iter_mut() {
        all_cells.extend_from_slice(cell);
        println!(
            "  {label:<9} {:>5} {:>8} {:>8.0} [{:>4.0}–{:>4.0}] {:>12.0} [{:>4.0}–{:>4.0}]",
            nuc.len(),
            missing.get(label).copied().unwrap_or(0),
            q(nuc, 0.5),
            q(nuc, 0.25),
            q(nuc, 0.75),
            q(cell, 0.5),
            q(cell, 0.25),
            q(cell, 0.75)
        );
    }
    q(&mut all_cells, 0.5)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let dump = arg("--dump").map(PathBuf::from);
    if let Some(split) = arg("--split") {
        let mut t = bccd(&split, dump.as_deref());
        report_bccd(&split, &mut t);
        return;
    }
    let mll = data("MLL_DATA", "mll-subset");
    let (mut by, missing) = measure_split(&mll, "train");
    let mll_median = report_sizes("MLL train (250×250 crops)", &mut by, &missing);
    let mll_ngs = by.get_mut("NGS").map(|e| q(&mut e.1, 0.5)).unwrap_or(mll_median);
    let (mut by, missing) = measure_split(&data("PBC_DATA", "pbc"), "train");
    let pbc_median = report_sizes("PBC train (224×224 central crops)", &mut by, &missing);
    println!(
        "cell diameter, all classes: MLL median {mll_median:.0} px, PBC median {pbc_median:.0} px, ratio {:.2}",
        mll_median / pbc_median
    );
    // PBC originals (360×363) rescaled so that the cell has the MLL median cell diameter.
    let sample = data("PBC_SAMPLE_DATA", "pbc-sample");
    let labels = std::fs::read_to_string(sample.join("labels.csv")).expect("pbc-sample labels.csv");
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for line in labels.lines().skip(1) {
        let Some(path) = line.split(',').next() else { continue };
        if !path.starts_with("neutrophil/") {
            continue;
        }
        let Ok(img) = image::open(sample.join(path)) else { continue };
        let img = img.to_rgb8();
        let Some(c) = measure_central_cell(&img) else { continue };
        let Ok(out) = crop_to_scale(&img, &c, mll_ngs as f32, 250) else { continue };
        if let Some(m) = measure_central_cell(&out) {
            before.push(c.diameter_px as f64);
            after.push(m.diameter_px as f64);
        }
    }
    println!(
        "PBC originals, neutrophils (n={}): cell diameter {:.0} px → {:.0} px after crop_to_scale to the MLL NGS median {mll_ngs:.0} px in 250×250",
        before.len(),
        q(&mut before, 0.5),
        q(&mut after, 0.5)
    );
    for split in ["train", "val", "test"] {
        let mut t = bccd(split, dump.as_deref());
        report_bccd(split, &mut t);
    }
}
