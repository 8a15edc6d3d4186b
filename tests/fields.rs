//! Single cell or field, on the real data (`../shared/data`, or `BCCD_DATA`, `MLL_DATA`,
//! `PBC_DATA`, `PBC_SAMPLE_DATA`): MLL crops and PBC crops and originals are single cells, BCCD
//! fields are fields; the white cells of BCCD test through the app's own path
//! ([`marrowscope::cells::fields::analyse`]); the crop scale constant against MLL train.
//!
//! ```sh
//! cargo test --release --no-default-features --test fields -- --nocapture   # prints the figures
//! ```

use marrowscope::cells::crop::{cut, Around};
use marrowscope::cells::fields::{analyse, Layout};
use marrowscope::cells::measure_central_cell;
use marrowscope::eval::dataset::match_to_boxes;
use marrowscope::image::cell_scale::{CellScale, CROP_SIDE, MLL_NUCLEUS_DIAMETER_PX};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The checkout under test (runtime CARGO_MANIFEST_DIR first: clones share one build directory).
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn data(var: &str, dir: &str) -> PathBuf {
    let p = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| root().join("../shared/data").join(dir));
    assert!(p.is_dir(), "the {dir} data must be at {} (or set {var})", p.display());
    p
}

fn open(path: &Path) -> image::RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

/// Every `step`-th image of `split` in a `path,label,…,split` CSV of `dir`.
fn split_images(dir: &Path, split: &str, step: usize) -> Vec<PathBuf> {
    marrowscope::eval::dataset::from_csv(&dir.join("splits.csv"))
        .expect("splits.csv")
        .into_iter()
        .filter(|i| i.split == split)
        .step_by(step)
        .map(|i| i.path)
        .collect()
}

fn bccd_ids(split: &str) -> Vec<String> {
    let dir = data("BCCD_DATA", "bccd");
    std::fs::read_to_string(dir.join(format!("ImageSets/{split}.txt")))
        .expect("BCCD ImageSets")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn wbc_boxes(id: &str) -> Vec<[f32; 4]> {
    let xml = std::fs::read_to_string(data("BCCD_DATA", "bccd").join(format!("Annotations/{id}.xml"))).expect("annotation");
    marrowscope::eval::dataset::voc_wbc_boxes(&xml)
}

fn quantile(v: &mut [f32], p: f32) -> f32 {
    v.sort_by(f32::total_cmp);
    v[((v.len() - 1) as f32 * p).round() as usize]
}

/// Layout decisions over `paths` (optionally cut to a centred square first): how many are `want`.
fn decide(paths: &[PathBuf], want: Layout, square: bool) -> usize {
    paths
        .iter()
        .filter(|p| {
            let mut img = open(p);
            if square {
                img = marrowscope::image::frame::center_square(&img);
            }
            analyse(&img).layout == want
        })
        .count()
}

#[test]
fn crops_are_single_cells_and_fields_are_fields() {
    let mll = data("MLL_DATA", "mll-subset");
    let pbc = data("PBC_DATA", "pbc");
    let sample = data("PBC_SAMPLE_DATA", "pbc-sample");
    let originals: Vec<PathBuf> = std::fs::read_dir(&sample)
        .expect("pbc-sample")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    let bccd = data("BCCD_DATA", "bccd");
    let fields: Vec<PathBuf> =
        ["train", "val", "test"].iter().flat_map(|s| bccd_ids(s)).map(|id| bccd.join(format!("JPEGImages/{id}.jpg"))).collect();
    let mut rows = Vec::new();
    for (name, paths, want, square, min_right) in [
        // Decided by content (issue 31): a crop whose centre shows no cell but a white cell at its
        // edge (an MLL crop of an artefact, a neutrophil cut off at the border) is a field: 97.2 %
        // single here, short of the issue's 99 % (docs/finding-cells.md).
        ("MLL test crops (1 in 4)", split_images(&mll, "test", 4), Layout::Single, false, 0.97),
        ("PBC test crops (1 in 4)", split_images(&pbc, "test", 4), Layout::Single, false, 0.99),
        ("PBC originals (pbc-sample)", originals, Layout::Single, false, 0.99),
        // A frame in which no white cell is found is classified whole (BCCD test 00088, train 00050/00070).
        ("BCCD fields (all splits)", fields.clone(), Layout::Field, false, 0.98),
        // Cut to a square: a field unless a white cell lies at the centre (then it is a crop of that
        // cell, rightly); about half of BCCD's squares have one there.
        ("BCCD fields cut square", fields, Layout::Field, true, 0.4),
    ] {
        let right = decide(&paths, want, square);
        let n = paths.len();
        println!("{name:<28} n={n:<4} decided {want:?}: {right:>4} ({:.1} %)", 100.0 * right as f64 / n as f64);
        rows.push((name, right as f64 / n as f64, min_right));
    }
    for (name, got, min) in rows {
        assert!(got >= min, "{name}: {got:.3} decided right, want >= {min}");
    }
    // The e2e helpers that pick single-cell crops skip the MLL test crops the app reads as fields:
    // every one of them (in this sample) must be on their list.
    let list = std::fs::read_to_string(root().join("tests/e2e/field-like-crops.txt")).expect("tests/e2e/field-like-crops.txt");
    let listed: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    for p in split_images(&mll, "test", 4) {
        if analyse(&open(&p)).layout == Layout::Field {
            assert!(listed.iter().any(|l| p.ends_with(l)), "{} is read as a field: add it to tests/e2e/field-like-crops.txt", p.display());
        }
    }
}

#[test]
fn bccd_test_white_cells_through_the_app_path() {
    let dir = data("BCCD_DATA", "bccd");
    let (mut tp, mut fp, mut boxes, mut fields) = (0usize, 0usize, 0usize, 0usize);
    let mut ms = Vec::new();
    for id in bccd_ids("test") {
        let img = open(&dir.join(format!("JPEGImages/{id}.jpg")));
        let truth = wbc_boxes(&id);
        let t = Instant::now();
        let a = analyse(&img);
        ms.push(t.elapsed().as_secs_f32() * 1e3);
        fields += usize::from(a.layout == Layout::Field);
        let matched = match_to_boxes(a.cells.iter().map(|c| c.centre), &truth);
        tp += matched.iter().flatten().count();
        fp += matched.iter().filter(|m| m.is_none()).count();
        for c in &a.cells {
            let crop = cut(&img, Around::Cell(c), &CellScale::default()).expect("a crop").image;
            assert_eq!(crop.dimensions(), (CROP_SIDE, CROP_SIDE));
        }
        boxes += truth.len();
    }
    let recall = tp as f64 / boxes as f64;
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let n = ms.len();
    println!(
        "BCCD test via fields::analyse: {n} images, {fields} decided field; {boxes} WBC boxes, {tp} found in boxes, {fp} false: recall {recall:.3}, precision {precision:.3}; ms/field (decision + detection, this build) median {:.1}, p95 {:.1}",
        quantile(&mut ms, 0.5),
        quantile(&mut ms, 0.95)
    );
    // Only a field in which no white cell is found is classified whole (BCCD test 00088).
    assert!(fields + 1 >= n, "{fields} of {n} BCCD test images decided fields");
    assert!(recall >= 0.95, "recall {recall:.3}");
    assert!(precision >= 0.90, "precision {precision:.3}");
}

#[test]
fn crop_scale_constant_matches_mll_train() {
    let mll = data("MLL_DATA", "mll-subset");
    let mut d: Vec<f32> =
        split_images(&mll, "train", 8).iter().filter_map(|p| measure_central_cell(&open(p))).map(|c| c.nucleus_diameter_px).collect();
    let n = d.len();
    let med = quantile(&mut d, 0.5);
    println!("MLL train (1 in 8, n={n}): nucleus diameter median {med:.1} px (constant {MLL_NUCLEUS_DIAMETER_PX})");
    assert!((med - MLL_NUCLEUS_DIAMETER_PX).abs() <= 0.08 * MLL_NUCLEUS_DIAMETER_PX, "median {med}");
}

/// Issue 12: a single-cell image of any framing is brought to the model's scale before it is
/// classified. A 360×363 PBC original (cell about half as large in the frame) and a 250×250 MLL
/// crop both come out as 250×250 crops whose central nucleus measures what the scale asks: 120 px
/// with full size normalisation, the geometric mean of 120 px and its own size with the shipped
/// exponent 0.5.
#[test]
fn single_cell_crops_bring_blood_originals_and_marrow_crops_to_one_scale() {
    let pbc = data("PBC_SAMPLE_DATA", "pbc-sample");
    // Platelets are the rows under platelet/ (label "platelet").
    let originals: Vec<PathBuf> = marrowscope::eval::dataset::from_csv(&pbc.join("labels.csv"))
        .expect("labels.csv")
        .into_iter()
        .filter(|i| !i.path.to_string_lossy().contains("platelet"))
        .step_by(4)
        .map(|i| i.path)
        .collect();
    let marrow = split_images(&data("MLL_DATA", "mll-subset"), "test", 12);
    for exponent in [1.0, 0.5] {
        let scale = CellScale { size_exponent: exponent, ..CellScale::default() };
        for (name, paths, min_found) in [("PBC originals", &originals, 0.95), ("MLL test crops", &marrow, 0.85)] {
            let (mut before, mut after, mut ratio, mut found) = (Vec::new(), Vec::new(), Vec::new(), 0);
            for p in paths.iter() {
                let img = open(p);
                let crop = cut(&img, Around::Centre, &scale).expect("a crop");
                assert_eq!(crop.image.dimensions(), (CROP_SIDE, CROP_SIDE), "{}", p.display());
                let Some(cell) = crop.cell else { continue };
                found += 1;
                before.push(cell.nucleus_diameter_px / img.width().min(img.height()) as f32 * CROP_SIDE as f32);
                let want = MLL_NUCLEUS_DIAMETER_PX.powf(exponent) * cell.nucleus_diameter_px.powf(1.0 - exponent);
                if let Some(again) = measure_central_cell(&crop.image) {
                    after.push(again.nucleus_diameter_px);
                    ratio.push(again.nucleus_diameter_px / want);
                }
            }
            let share = found as f32 / paths.len() as f32;
            let (b, a, r) = (quantile(&mut before, 0.5), quantile(&mut after, 0.5), quantile(&mut ratio, 0.5));
            println!(
                "exponent {exponent}: {name:<15} n={:>3}  central cell found {:.0} %  nucleus in a 250 px frame: as dropped {b:.0} px, in the model's crop {a:.0} px ({r:.2} of the aim)",
                paths.len(),
                share * 100.0
            );
            assert!(share >= min_found, "{name}: central cell found in only {:.0} %", share * 100.0);
            assert!((r - 1.0).abs() <= 0.1, "{name}, exponent {exponent}: nucleus {a} px in the crops, {r} of the aim");
        }
    }
}

/// A phone photo through an eyepiece at a low magnification (issue 31): BCCD val fields reduced
/// 5× and tiled in a dark round aperture (`eval::shift::eyepiece`). The lit field is measured
/// without its dark surround and looked at closely enough for its touching red cells to come
/// apart: before that, no white cell of these photos was found.
#[test]
fn eyepiece_photos_at_low_magnification() {
    let dir = data("BCCD_DATA", "bccd");
    let (mut tp, mut fp, mut boxes, mut fields, mut n) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for id in bccd_ids("val").iter().step_by(11) {
        let img = open(&dir.join(format!("JPEGImages/{id}.jpg")));
        let (photo, truth) = marrowscope::eval::shift::eyepiece(&img, &wbc_boxes(id), 0.2);
        let a = analyse(&photo);
        n += 1;
        fields += usize::from(a.layout == Layout::Field);
        let matched = match_to_boxes(a.cells.iter().map(|c| c.centre), &truth);
        tp += matched.iter().flatten().count();
        fp += matched.iter().filter(|m| m.is_none()).count();
        for c in &a.cells {
            // Nuclei of 15–25 px: found and counted, too small for the model.
            assert!(c.nucleus_diameter_px < marrowscope::cells::fields::MIN_CLASSIFIABLE_NUCLEUS_PX * 1.5, "{c:?}");
        }
        boxes += truth.len();
    }
    let recall = tp as f64 / boxes.max(1) as f64;
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    println!("eyepiece photos of BCCD val (1 in 11): {n} photos, {fields} decided field; {boxes} WBC boxes, {tp} found, {fp} false: recall {recall:.3}, precision {precision:.3}");
    assert!(fields + 1 >= n, "{fields} of {n} eyepiece photos decided fields");
    assert!(recall >= 0.6, "recall {recall:.3}");
    assert!(precision >= 0.85, "precision {precision:.3}");
}

/// Real phone photos through a microscope's eyepiece (issue 51): `eyepiece-phone` valid (416×416,
/// a round lit field in a dark surround, pig-blood white cells 15–30 px across among many red
/// cells, YOLO labels), every 4th photo. Each is a field searched inside its lit field
/// (`cells::eyepiece`); its white cells are found where the labels are, boxed and counted, too
/// small to classify. Before issue 51, 67 of the 98 valid photos were read as one image (their
/// colours turned away by the colour gate) and white cells found at recall 0.10. Skipped where the
/// data set is absent (it is never committed).
#[test]
fn phone_photos_through_an_eyepiece() {
    let dir = std::env::var_os("EYEPIECE_PHONE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data/eyepiece-phone"))
        .join("valid");
    let Ok(entries) = std::fs::read_dir(dir.join("images")) else {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let (mut tp, mut detections, mut boxes, mut fields, mut n, mut too_small) = (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    for p in paths.iter().step_by(4) {
        let img = open(p);
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let labels = std::fs::read_to_string(dir.join("labels").join(format!("{stem}.txt"))).unwrap_or_default();
        let truth = marrowscope::eval::dataset::yolo_boxes(&labels, img.width(), img.height());
        let a = analyse(&img);
        n += 1;
        fields += usize::from(a.layout == Layout::Field);
        assert!(a.content.eyepiece, "{stem}: its lit field not found");
        tp += match_to_boxes(a.cells.iter().map(|c| c.centre), &truth).iter().flatten().count();
        detections += a.cells.len();
        boxes += truth.len();
        too_small += a.cells.iter().filter(|c| c.nucleus_diameter_px < marrowscope::cells::fields::MIN_CLASSIFIABLE_NUCLEUS_PX).count();
    }
    let recall = tp as f64 / boxes.max(1) as f64;
    let precision = tp as f64 / detections.max(1) as f64;
    println!("eyepiece-phone valid (1 in 4): {n} photos, {fields} decided field; {boxes} white cells labelled, {detections} found, {tp} on a label: recall {recall:.3}, precision {precision:.3}");
    assert!(fields + 1 >= n, "{fields} of {n} photos decided fields");
    // Nuclei of 12–20 px: boxed and counted as white cells, too small for a differential.
    assert!(too_small * 10 >= detections * 9, "{too_small} of {detections} too small to classify");
    // Measured: recall 0.952, precision 0.833 (all 98 valid photos: 0.947 / 0.918).
    assert!(recall >= 0.85, "recall {recall:.3}");
    assert!(precision >= 0.8, "precision {precision:.3}");
}
